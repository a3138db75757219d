"""The NAAP-440 protocol: one home for loading the table, feature sets, regressors, seeds, scoring.

Library module (no command line, no work at import). run_experiments.py (paper 1's table),
feature_selection.py (paper 2), bench/ and tests all import it; it imports no script.

THE PROTOCOL (what decides every published number)
- The CSV is parsed as pandas 0.23.4 parsed it (emulate2022.read_csv_2022: its xstrtod float
  parser differs from today's in the last bit of 2,875 cells of naap440.csv).
- NumParams and NumMACs are replaced by their natural log (the C library's log, math.log: numpy's
  SIMD log differs in the last bit on some CPUs).
- The table is sorted by MaxAccuracy in the order numpy 1.15.4's quicksort gave (pandas 0.23.4's
  sort_values); that order is the ground-truth rank of the test rows (IsTest == 1), and tied rows
  keep it on every CPU (emulate2022.argsort_1_15).
- Per (regressor, feature set) the estimator is built once. For each seed in SEEDS: random.seed
  and numpy.random.seed, a StandardScaler fitted on the train rows, fit on the scaled train rows,
  predict the scaled test rows. No estimator gets a random_state.
- Violations: test rows ordered by prediction with a stable sort, pairs out of ground-truth
  order counted (metrics.monotonicity). Of the 5 seeds the run with the median violation count
  is kept (stable sort by violations, index 2). MAE is summed left to right (metrics.mae); MAE
  and score are rounded with Python's round(x, 4) on output.

TWO ESTIMATOR SETS (ESTIMATOR_SETS), the same protocol around them:
- "paper" (default): the 24 regressors as scikit-learn 0.20.1 fitted them in 2022, emulated on
  today's libraries (FIDELITY notes below, docs/protocol.md). It reproduces the published table.
- "sklearn": the installed scikit-learn's estimators (on 1.9.1 the exact fast replicas of its
  trees and ensembles, trees.py and ensembles.py).
Both are made machine-independent: no result depends on numpy's SIMD dispatch, BLAS kernel,
thread count or --jobs. Where today's library would (numpy's log/pow, BLAS dot products in SVR
and LinearRegression, k-NN's OpenMP heaps, numpy's argsort), the same arithmetic is done in a
fixed order instead.

FIDELITY notes of the "paper" set (scikit-learn 0.20.1 against today, each a switch in
PAPER_RULES so that bench/bench_fidelity.py can measure what it changes):
  parser      CSV floats by pandas 0.23.4's xstrtod                       (both sets: data path)
  order       table order of numpy 1.15.4's quicksort                    (both sets: data path)
  leaf        a node with impurity <= 1e-7 is a leaf (min_impurity_split)
  sort        the splitter's introsort runs 3-way partitions all the way down
  rand_r      the splitter's generator has no seed-0 fix (a seed of 0 stays 0)
  gb          Gradient Boosting presorts X (numpy 1.15.4 argsort) and scores splits by FriedmanMSE
  ada_clip    AdaBoost does not clip sample weights at machine epsilon
  knn         k-NN picks neighbours by numpy 1.15.4's argpartition + argsort
  lstsq       LinearRegression's least squares with scipy's default singular-value cutoff
  scaler      StandardScaler's variance as (var * n) / n
  svr_gamma   SVR's default gamma 'auto' = 1 / n_features
  mae         MAE summed left to right (bottleneck's nanmean, as pandas used it)
An estimator set may also be given as a frozenset of these names (the paper set with some
switched off); ESTIMATOR_SETS are the two that users choose from.
"""
import functools
import math
import random
import re

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

import metrics
from naap.cli import InputError, check_terminated

# re-exported until every importer reads them from naap.data
from naap.data.columns import (  # noqa: F401
    EPOCH_FEATURES,
    FEATURE_SET_EPOCHS,
    FEATURE_SETS,
    FEATURE_SETS_V2,
    FULL_SCHEME_FEATURES,
    LOG_COLUMNS,
    MAX_VALUE,
    MODEL_ID,
    NUM_EPOCHS_TOTAL,
    QUANT_EPOCHS,
    SCHEME_FEATURES,
    SCHEME_V2_FEATURES,
    TARGET,
    TEST_FLAG,
    acceleration,
    epoch_column,
    epoch_features,
)
from naap.data.split import NUM_TEST_BINS, split_bins  # noqa: F401
from naap.replica import emulate2022, ensembles, fixedmath
from naap.replica.fixedmath import c_exp, c_expit, c_log, c_logit, c_pow
from naap.replica.rules import (
    DATA_PARTS,
    ENSEMBLE_PARTS,
    MODEL_PARTS,
    PAPER_VERSION,
    REPLICA_VERSION,
    as_release,
    parts_on,
)
from naap.workers import process_pool

# ----------------------------------------------------------------------------- settings
SEEDS = tuple(range(20220905, 20220910))
ENSEMBLE_SIZES = (25, 50, 100, 200)
KNN_KS = (1, 3, 5, 7, 9)
SVR_KERNELS = (("rbf", "RBF"), ("poly", "Polynomial"), ("linear", "Linear"))
SVR_EPSILON, SVR_C, SVR_DEGREE, SVR_COEF0 = 0.001, 0.1, 3, 0.0  # the paper sets kernel, epsilon, C
KNN_OMP_THREADS = 2  # scikit-learn >= 1.x k-NN ties depend on the OpenMP thread count: fix it
ESTIMATOR_SETS = ("paper", "sklearn")
DEFAULT_ESTIMATORS = "paper"
# what the "paper" set does as scikit-learn 0.20.1 did (each can be switched off: bench_fidelity)
PAPER_RULES = MODEL_PARTS  # the parts of 0.20.1's behaviour an estimator set may switch on
DATA_RULES = DATA_PARTS  # the 2022 data path, in both sets

# paper 2 (NAAP-440e feature selection)
NOISE_STD = 1e-5
MODES = ("interpolation", "left_extrapolation", "right_extrapolation", "dual_extrapolation")


def slug(text):
    """File-name form of a model or feature-set name: 'Random Forest (N=25)' -> 'random_forest_n_25'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# ----------------------------------------------------------------------------- data
def read_table(path, data_rules=DATA_RULES):
    """The CSV parsed as pandas 0.23.4 parsed it (today's pandas parser without the "parser"
    rule), with a missing, unreadable or non-CSV file as one InputError line."""
    try:
        return emulate2022.read_csv_2022(path) if "parser" in data_rules else pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV file") from None
    except PermissionError:
        raise InputError(f"{path}: not readable (permission denied)") from None
    except OSError as e:  # a symlink loop, a path under a regular file, an I/O error
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None


def sort_table(df, data_rules=DATA_RULES):
    """The table in the order pandas 0.23.4's sort_values(TARGET) gave with numpy 1.15.4
    (without the "order" rule: today's sort_values, whose tie order depends on the CPU)."""
    if "order" not in data_rules:
        return df.sort_values(TARGET)
    order = emulate2022.argsort_1_15(df[TARGET].to_numpy(np.float64))
    return df.iloc[order]


def load_dataset(path, columns, data_rules=DATA_RULES):
    """Read a NAAP-440 CSV, check `columns` (+ IsTest, MaxAccuracy), log-transform, sort.

    Returns the table sorted as the protocol sorts it. Raises InputError (one line naming the
    file) for a missing or unreadable file, missing, non-numeric, NaN or too large values,
    duplicated ModelIds, a bad IsTest, fewer than 2 test rows, or fewer train rows than the
    largest k of k-NN.
    """
    df = read_table(path, data_rules)
    needed = list(dict.fromkeys([TEST_FLAG, TARGET, *columns]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    if MODEL_ID in df.columns and df[MODEL_ID].duplicated().any():
        dup = df[MODEL_ID][df[MODEL_ID].duplicated()].iloc[0]
        raise InputError(f"{path}: ModelId {dup} appears more than once")
    for c in needed:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise InputError(f"{path}: column {c} is not numeric")
        if df[c].isna().any():
            raise InputError(f"{path}: column {c} has missing values (row {int(df[c].isna().to_numpy().argmax()) + 2})")
        values = df[c].to_numpy(float)
        if not np.isfinite(values).all():
            raise InputError(f"{path}: column {c} has infinite values")
        # squares of the scaled values and the scaler's sums must stay finite
        if np.abs(values).max(initial=0.0) > MAX_VALUE:
            raise InputError(f"{path}: column {c} has values too large to scale (|x| > {MAX_VALUE:g})")
    for c in LOG_COLUMNS:
        if c in needed:
            if (df[c] <= 0).any():
                raise InputError(f"{path}: column {c} must be positive (its log is a feature)")
            df[c] = c_log(df[c].to_numpy(float))
    if not df[TEST_FLAG].isin([0, 1]).all():
        raise InputError(f"{path}: column {TEST_FLAG} must be 0 or 1")
    num_test = int((df[TEST_FLAG] == 1).sum())
    if num_test < 2:
        raise InputError(f"{path}: {num_test} test row(s); the monotonicity score needs at least 2")
    num_train = len(df) - num_test
    if num_train < max(KNN_KS):
        raise InputError(f"{path}: {num_train} train row(s); {max(KNN_KS)}-NN needs at least {max(KNN_KS)}")
    return sort_table(df, data_rules)


def split(df, columns):
    """(X_train, y_train, X_test, y_test) as float arrays, rows in the table's (sorted) order."""
    train, test = df[df[TEST_FLAG] == 0], df[df[TEST_FLAG] == 1]
    return (train[columns].to_numpy(float), train[TARGET].to_numpy(float),
            test[columns].to_numpy(float), test[TARGET].to_numpy(float))


# ----------------------------------------------------------------------------- paper 2's splits
def mode_rows(mode, num_train, num_test):
    """(train row indices, test row indices) of a paper-2 mode, counted in the sorted order.

      interpolation        all train rows / all test rows (the baseline split)
      left_extrapolation   upper half of the train rows / lower half of the test rows
      right_extrapolation  lower half of the train rows / upper half of the test rows
      dual_extrapolation   middle half of the train rows / lowest and highest test quarters
    """
    half_tr, half_te, q_tr, q_te = num_train // 2, num_test // 2, num_train // 4, num_test // 4
    if mode == "interpolation":
        return np.arange(num_train), np.arange(num_test)
    if mode == "left_extrapolation":
        return np.arange(half_tr, num_train), np.arange(half_te)
    if mode == "right_extrapolation":
        return np.arange(half_tr), np.arange(half_te, num_test)
    if mode == "dual_extrapolation":
        return (np.arange(q_tr, num_train - q_tr),
                np.concatenate([np.arange(q_te), np.arange(num_test - q_te, num_test)]))
    raise ValueError(mode)


def mode_split(df, columns, mode):
    """(X_train, y_train, X_test, y_test) of a mode; test rows stay in ground-truth order."""
    X_train, y_train, X_test, y_test = split(df, columns)
    tr, te = mode_rows(mode, len(y_train), len(y_test))
    return X_train[tr], y_train[tr], X_test[te], y_test[te]


def final_score(mae, monotonicity_score):
    """Paper 2: round(MAE, 3) * sqrt(1 - monotonicity score); +inf if not a finite number."""
    value = round(mae, 3) * math.sqrt(max(0.0, 1.0 - monotonicity_score)) if math.isfinite(mae) else math.inf
    return value if math.isfinite(value) else math.inf


def best_key(result):
    """Sort key of a scored subset: the lowest final score wins; a tie goes to the subset visited
    first (sort and min are stable), as the authors' `min(results.values(), key=...)` did."""
    return result["final"]


# ----------------------------------------------------------------------------- estimators
class ProtocolLinear:
    """Least squares (LinearRegression), optionally on a transformed target: fit on func(y),
    predict inverse(X @ coef + intercept). The intercept and predictions are computed without
    BLAS; the coefficients come from LAPACK's least squares as in both scikit-learn versions.
    rules='0.20.1' calls scipy's lstsq with its default cutoff as 0.20.1 did; else the installed
    scikit-learn fits."""

    def __init__(self, rules, func=None, inverse=None):
        self.rules, self.func, self.inverse = rules, func, inverse

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        if self.func is not None:
            y = self.func(y)
        if self.rules == PAPER_VERSION:
            from scipy import linalg
            X_offset, y_offset = np.average(X, axis=0), np.average(y, axis=0)
            self.coef_ = linalg.lstsq(X - X_offset, y - y_offset)[0]
        else:
            fitted = LinearRegression().fit(X, y)
            X_offset, y_offset = np.average(X, axis=0), np.average(y, axis=0)
            self.coef_ = fitted.coef_
        self.intercept_ = y_offset - float(fixedmath.dot_rows(X_offset[None, :], self.coef_[None, :])[0, 0])
        return self

    def predict(self, X):
        pred = fixedmath.dot_rows(X, self.coef_[None, :])[:, 0] + self.intercept_
        return pred if self.inverse is None else self.inverse(pred)


class ProtocolSVR:
    """libsvm's epsilon-SVR on a kernel matrix computed here in libsvm's own order, without BLAS
    (today's libsvm takes BLAS dot products, which change with the CPU's BLAS kernel).
    gamma: 'auto' (1 / n_features, scikit-learn 0.20.1's default) or 'scale' (1.9.1's)."""

    def __init__(self, kernel, gamma):
        self.kernel, self.gamma = kernel, gamma

    def fit(self, X, y):
        X = np.ascontiguousarray(X, dtype=float)
        if self.gamma == "auto":
            self.gamma_ = 1.0 / X.shape[1]
        else:
            variance = X.var()
            self.gamma_ = 1.0 / (X.shape[1] * variance) if variance != 0 else 1.0
        self.X_ = X
        K = fixedmath.libsvm_kernel(self.kernel, X, X, self.gamma_, SVR_COEF0, SVR_DEGREE, True)
        self.svr_ = SVR(kernel="precomputed", epsilon=SVR_EPSILON, C=SVR_C).fit(K, y)
        return self

    def predict(self, X):
        K = fixedmath.libsvm_kernel(self.kernel, np.ascontiguousarray(X, dtype=float), self.X_, self.gamma_,
                                      SVR_COEF0, SVR_DEGREE, False)
        return self.svr_.predict(K)


class PaperKNN:
    """scikit-learn 0.20.1's brute k-NN (uniform weights), neighbours chosen as numpy 1.15.4 did."""

    def __init__(self, k):
        self.k = k

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        return self

    def predict(self, X):
        return emulate2022.knn_predict_0_20_1(self.X_, self.y_, np.asarray(X, dtype=float), self.k)


class SklearnKNN:
    """Today's KNeighborsRegressor(algorithm='brute') with KNN_OMP_THREADS OpenMP threads, whatever
    the caller's thread limit or core count: its tie-breaking depends on the thread count."""

    def __init__(self, k):
        self.knn = KNeighborsRegressor(n_neighbors=k, algorithm="brute")

    def fit(self, X, y):
        self.knn.fit(X, y)
        return self

    def predict(self, X):
        import os

        from threadpoolctl import threadpool_limits
        saved = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(KNN_OMP_THREADS)  # else capped at the core count
        try:
            with threadpool_limits(limits=KNN_OMP_THREADS, user_api="openmp"):
                return self.knn.predict(X)
        finally:
            if saved is None:
                del os.environ["OMP_NUM_THREADS"]
            else:
                os.environ["OMP_NUM_THREADS"] = saved


class ProtocolTree:
    """DecisionTreeRegressor() (random_state=None): its splitter seed comes from the global NumPy
    generator at fit time; fitted by the replica of the given scikit-learn rules."""

    def __init__(self, rules):
        self.rules = rules

    def fit(self, X, y):
        self.tree_ = ensembles.fit_decision_tree(X, y, self.rules)
        return self

    def predict(self, X):
        return ensembles.predict_decision_tree(self.tree_, X)


class ProtocolEnsemble:
    """An ensemble of the protocol (family, n) fitted by ensembles.py's replica: draws at fit time
    from the global NumPy generator as scikit-learn would, members fitted at predict time. The
    plain, literal form of what evaluate() grows and shares."""

    def __init__(self, family, n, rules):
        self.family, self.n, self.rules = family, n, rules

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        before = np.random.get_state()
        self.draws_ = ensembles.draws(self.family, self.n, len(self.y_))
        if self.family == "AdaBoost":
            # scikit-learn draws round by round and stops drawing where boosting stops early:
            # leave the global generator there (paper 2's noise is drawn after the fit)
            state = ensembles.new_state(self.family, self.y_, 1, (self.n,), self.rules)
            ensembles.grow(state, self.n, self.X_, self.y_, self.X_[:1], self.draws_)
            np.random.set_state(before)
            ensembles.draws(self.family, ensembles.rounds_drawn(state, self.n), len(self.y_))
        return self

    def predict(self, X):
        state = ensembles.new_state(self.family, self.y_, len(X), (self.n,), self.rules)
        ensembles.grow(state, self.n, self.X_, self.y_, np.asarray(X, dtype=float), self.draws_)
        return ensembles.predict(state, self.n)


def power_target(d):
    """(func, inverse) of 'Linear Regression (D=d)': fit on y^(1/d) - 1, predict (y_hat + 1)^d."""
    return (lambda y: c_pow(y, 1 / d) - 1), (lambda p: c_pow(p + 1, d))


# paper 2's activations on the target (fit on f(y), predict f^-1(y_hat)), in the C library's math
TARGET_TRANSFORMS = {
    "Linear Regression": (None, None),
    "Linear Regression (D=0.5)": power_target(0.5),
    "Linear Regression (D=0.25)": power_target(0.25),
    "Linear Regression (D=2)": power_target(2),
    "Linear Regression (Exp)": (c_log, c_exp),
    "Linear Regression (Log)": (c_exp, c_log),
    "Linear Regression (Sigmoid)": (c_logit, c_expit),
}
PAPER2_EXTRA = ("Linear Regression (D=2)", "Linear Regression (Exp)", "Linear Regression (Log)",
                "Linear Regression (Sigmoid)")
FAMILIES = {"k-NN": [f"{k}-NN" for k in KNN_KS],
            "Linear Regression": [n for n in TARGET_TRANSFORMS if n not in PAPER2_EXTRA],
            "Decision Tree": ["Decision Tree"],
            "Gradient Boosting": [f"Gradient Boosting (N={n})" for n in ENSEMBLE_SIZES],
            "AdaBoost": [f"AdaBoost (N={n})" for n in ENSEMBLE_SIZES],
            "SVR": [f"SVR ({label} kernel)" for _, label in SVR_KERNELS],
            "Random Forest": [f"Random Forest (N={n})" for n in ENSEMBLE_SIZES]}
BASELINE_NAMES = [name for names in FAMILIES.values() for name in names]  # results.csv order
# paper 2's 28: the baseline's, with the extra linear regressions after its linear ones
PAPER2_NAMES = []
for _name in BASELINE_NAMES:
    PAPER2_NAMES.append(_name)
    if _name == "Linear Regression (D=0.25)":
        PAPER2_NAMES += list(PAPER2_EXTRA)
FAMILIES["Linear Regression"] += list(PAPER2_EXTRA)
FAMILY_OF_NAME = {name: family for family, names in FAMILIES.items() for name in names}
ENSEMBLE_OF = {f"{family} (N={n})": (family, n) for family in ensembles.FAMILIES for n in ENSEMBLE_SIZES}
EXTRAPOLATING = frozenset(FAMILIES["Linear Regression"] + ["SVR (Linear kernel)", "SVR (Polynomial kernel)"])
# fits that never read the global random state, so one fit serves every seed
DETERMINISTIC = frozenset(FAMILIES["k-NN"] + FAMILIES["Linear Regression"] + FAMILIES["SVR"])


def family_of(name):
    """The regressor family of a protocol name; any other name (a plug-in) is its own family."""
    return FAMILY_OF_NAME.get(name, name)


def paper_rules(estimators):
    """The 0.20.1 rules (PAPER_RULES) an estimator set follows: all for "paper", none for
    "sklearn", or the frozenset given."""
    return parts_on(estimators, MODEL_PARTS, every="paper", none="sklearn")


def tree_rules(estimators):
    """The rules handed to the ensembles: PAPER_VERSION, REPLICA_VERSION, or the parts on."""
    return as_release(paper_rules(estimators) & frozenset(ENSEMBLE_PARTS))


def regressors(estimators=DEFAULT_ESTIMATORS):
    """{name: factory of a fresh, unfitted estimator} of all 28 protocol regressors (paper 1's 24
    and paper 2's 4 extra linear ones) in one estimator set."""
    on, rules = paper_rules(estimators), tree_rules(estimators)
    out = {}
    for k in KNN_KS:
        out[f"{k}-NN"] = (lambda k=k: PaperKNN(k)) if "knn" in on else (lambda k=k: SklearnKNN(k))
    lstsq = PAPER_VERSION if "lstsq" in on else REPLICA_VERSION
    for name, (func, inverse) in TARGET_TRANSFORMS.items():
        out[name] = lambda func=func, inverse=inverse: ProtocolLinear(lstsq, func, inverse)
    out["Decision Tree"] = lambda: ProtocolTree(rules)
    gamma = "auto" if "svr_gamma" in on else "scale"
    for kernel, label in SVR_KERNELS:
        out[f"SVR ({label} kernel)"] = lambda kernel=kernel: ProtocolSVR(kernel, gamma)
    for name, (family, n) in ENSEMBLE_OF.items():
        out[name] = lambda family=family, n=n: ProtocolEnsemble(family, n, rules)
    if rules == REPLICA_VERSION and not ensembles.SUPPORTED:
        # another scikit-learn: its own trees and ensembles, fitted plainly
        from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor
        from sklearn.tree import DecisionTreeRegressor
        classes = {"Random Forest": RandomForestRegressor, "Gradient Boosting": GradientBoostingRegressor,
                   "AdaBoost": AdaBoostRegressor}
        out["Decision Tree"] = DecisionTreeRegressor
        for name, (family, n) in ENSEMBLE_OF.items():
            out[name] = lambda cls=classes[family], n=n: cls(n_estimators=n)
    return {name: out[name] for name in PAPER2_NAMES}


REGRESSORS = {estimators: regressors(estimators) for estimators in ESTIMATOR_SETS}


def own_regressors(estimators):
    """regressors(estimators), built once per estimator set."""
    if estimators not in REGRESSORS:
        REGRESSORS[estimators] = regressors(estimators)
    return REGRESSORS[estimators]


def scale(X_train, X_test, estimators=DEFAULT_ESTIMATORS):
    """(X_train, X_test) standardised by the train rows' mean and standard deviation, as the
    estimator set's StandardScaler computes them."""
    if "scaler" in paper_rules(estimators):
        # scikit-learn 0.20.1's _incremental_mean_and_var from zero: var = (nanvar * n) / n
        n = X_train.shape[0]
        mean = X_train.sum(axis=0) / n
        deviation = X_train - mean
        variance = (deviation * deviation).sum(axis=0) / n
        variance = (variance * n) / n
        std = np.sqrt(variance)
        std[std == 0.0] = 1.0
        return (X_train - mean) / std, (X_test - mean) / std
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


# ----------------------------------------------------------------------------- running the protocol
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)


def score_run(pred, y_test, seed, estimators=DEFAULT_ESTIMATORS):
    """A run's scores; the MAE summed left to right under the paper's "mae" rule."""
    violations, max_violations, score = metrics.monotonicity(pred)
    mae = metrics.mae(pred, y_test, sequential="mae" in paper_rules(estimators))
    return dict(pred=pred, mae=mae, violations=violations, max_violations=max_violations, score=score, seed=seed)


def median_run(runs):
    """The run whose violation count is the median: stable sort by violations, index 2 of 5."""
    return sorted(runs, key=lambda r: r["violations"])[len(runs) // 2]


def prediction_noise(noise_std, n):
    """Paper 2's noise on a run's predictions, N(0, noise_std) from the global NumPy generator,
    drawn where the authors drew it: after the fit and the predict (their run_experiment adds
    np.random.normal(0, 1e-5, size=Y_test.shape) to model.predict's output), so it comes after
    whatever the fit drew. 0.0 without noise."""
    return np.random.normal(0.0, noise_std, n) if noise_std > 0 else 0.0


def _libsvm_seed_draw():
    # BaseLibSVM.fit draws libsvm's seed from the global generator whether libsvm uses it or not
    # (0.20.1 svm/base.py 211, 1.9.1 svm/_base.py 289): a cached SVR prediction must draw it too
    np.random.randint(np.iinfo("i").max)


# what each deterministic family's fit draws from the global generator (k-NN and the linear
# regressions draw nothing): replayed when evaluate() reuses a prediction instead of refitting
FIT_DRAWS = {"SVR": _libsvm_seed_draw}


@functools.lru_cache(maxsize=64)
def _family_draws(family, seed, n_train):
    """What a fit of `family` draws after seeding (ensembles.draws), for the largest size: a
    smaller size draws the same numbers, fewer of them."""
    seed_everything(seed)
    return ensembles.draws(family, max(ENSEMBLE_SIZES), n_train)


@functools.lru_cache(maxsize=1024)
def _ensemble_noise(family, seed, noise_std, n_train, n_test, rounds):
    """prediction_noise after seeding and the draws of a fit of `rounds` members (AdaBoost may
    stop early: ensembles.rounds_drawn)."""
    seed_everything(seed)
    ensembles.draws(family, rounds, n_train)
    return prediction_noise(noise_std, n_test)


def _check_arrays(X_train, y_train, X_test, y_test):
    X_train, X_test = np.asarray(X_train, dtype=float), np.asarray(X_test, dtype=float)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise ValueError("evaluate: features must be finite")
    return X_train, np.asarray(y_train, dtype=float), X_test, np.asarray(y_test, dtype=float)


def evaluate_plain(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, noise_std=0.0,
                   seeds=SEEDS, regressors=None):
    """The protocol written out literally: one estimator per name, refitted for every seed.

    Same contract and results as evaluate(); kept as the definition that evaluate() is tested
    against, and as the straightforward baseline of bench/bench_experiments.py.
    """
    regressors = own_regressors(estimators) if regressors is None else regressors
    X_train, y_train, X_test, y_test = _check_arrays(X_train, y_train, X_test, y_test)
    results = {}
    for name in names:
        estimator = regressors[name]()
        runs = []
        for seed in seeds:
            check_terminated()  # a SIGTERM noted inside numba (emulated estimators) stops the run here
            seed_everything(seed)
            X_train_s, X_test_s = scale(X_train, X_test, estimators)
            estimator.fit(X_train_s, y_train)
            pred = np.asarray(estimator.predict(X_test_s), dtype=float) + prediction_noise(noise_std, len(y_test))
            runs.append(score_run(pred, y_test, seed, estimators))
        results[name] = median_run(runs)
    return results


def evaluate(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, noise_std=0.0,
             seeds=SEEDS, regressors=None, states=None):
    """Run the protocol for each regressor in `names` on one feature matrix.

    Test rows must be in ground-truth order. With noise_std > 0 (paper 2), Gaussian noise
    N(0, noise_std) is added to the predictions, drawn from the global NumPy generator after the
    fit (prediction_noise), as the authors drew it. Returns {name: result of the median run},
    each result a dict with pred, mae, violations, max_violations, score (unrounded) and seed.

    `regressors` maps names to factories (default: the estimator set's own). `states` (optional,
    a dict the caller keeps between calls on the SAME arrays) holds the grown ensembles per
    (family, seed): a later call asking for a larger N grows them on (paper 2).
    Identical to evaluate_plain(), faster: the scaling is done once (it is deterministic), the
    deterministic regressors are fitted once for all seeds (what their fit draws from the global
    generator is drawn again, FIT_DRAWS, so the noise after it is the same), and the ensembles of
    one family share their fits (the first n members of an N-member fit are the n-member fit).
    """
    own = own_regressors(estimators)
    regressors = own if regressors is None else regressors
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in regressors]
    if unknown:
        raise KeyError(f"unknown regressor(s): {', '.join(unknown)}")
    X_train, y_train, X_test, y_test = _check_arrays(X_train, y_train, X_test, y_test)
    X_train_s, X_test_s = scale(X_train, X_test, estimators)
    rules = tree_rules(estimators)
    families = {}  # the protocol's own ensembles, grown by the replica
    for name in names:
        if name in ENSEMBLE_OF and regressors[name] is own.get(name) and (rules != REPLICA_VERSION or ensembles.SUPPORTED):
            family, n = ENSEMBLE_OF[name]
            families.setdefault(family, {})[n] = name
    grown = {name for members in families.values() for name in members.values()}
    singles = [n for n in names if n not in grown]
    fixed = {}  # deterministic name -> its one prediction
    states = {} if states is None else states
    X32_train, X32_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train_s, X_test_s))
    runs = {name: [] for name in names}
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for seed in seeds:
            check_terminated()  # a SIGTERM noted inside numba (trees, emulated estimators) stops the run here
            for family, members in families.items():
                draws = _family_draws(family, seed, len(y_train))
                state = states.get((family, seed))
                if state is None:
                    state = states[(family, seed)] = ensembles.new_state(
                        family, y_train, len(y_test), ENSEMBLE_SIZES, rules)
                ensembles.grow(state, max(members), X32_train, y_train, X32_test, draws)
                for n, name in members.items():
                    noise = 0.0 if noise_std <= 0 else _ensemble_noise(
                        family, seed, noise_std, len(y_train), len(y_test), ensembles.rounds_drawn(state, n))
                    runs[name].append(score_run(ensembles.predict(state, n) + noise, y_test, seed, estimators))
            for name in singles:
                seed_everything(seed)
                if name in fixed:
                    pred = fixed[name]
                    FIT_DRAWS.get(family_of(name), lambda: None)()
                else:
                    pred = np.asarray(regressors[name]().fit(X_train_s, y_train).predict(X_test_s), dtype=float)
                    if name in DETERMINISTIC and regressors[name] is own.get(name):
                        fixed[name] = pred
                runs[name].append(score_run(pred + prediction_noise(noise_std, len(y_test)), y_test, seed, estimators))
    return {name: median_run(runs[name]) for name in names}


def evaluate_paper2(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, plain=False,
                    states=None):
    """The protocol with paper 2's noise: {name: median run + "final" (the final score)}.
    plain=True uses evaluate_plain (the literal protocol), else evaluate (with `states`)."""
    with np.errstate(all="ignore"):  # Log/Exp may leave their domain; such a subset scores inf
        if plain:
            results = evaluate_plain(names, X_train, y_train, X_test, y_test, estimators, noise_std=NOISE_STD)
        else:
            results = evaluate(names, X_train, y_train, X_test, y_test, estimators, noise_std=NOISE_STD,
                               states=states)
    for r in results.values():
        r["final"] = final_score(r["mae"], r["score"])
    return results


def evaluate_predictor(factory, table, feature_set, estimators=DEFAULT_ESTIMATORS, seeds=SEEDS):
    """Any predictor under the protocol on one of paper 1's feature sets, every seed's run kept.

    factory() returns a fresh object with fit(X, y) (returning itself) and predict(X), as in
    scikit-learn; it is called after each seed is set, and sees what the baselines see: the
    StandardScaler-scaled features of FEATURE_SETS[feature_set]. table: the sorted table of
    load_dataset (test rows IsTest == 1). Returns {"runs": one run per seed (dicts as evaluate()
    gives: pred, mae, violations, max_violations, score, seed), "median": the kept run (the
    protocol's median by violations), "y_test": the test rows' MaxAccuracy in ground-truth order}.
    """
    if feature_set not in FEATURE_SETS:
        raise KeyError(f"unknown feature set {feature_set!r} (choose from {', '.join(FEATURE_SETS)})")
    data = split(table, FEATURE_SETS[feature_set])
    own = {"predictor": factory}
    # evaluate() with one seed at a time is the protocol's own loop, and keeps every seed's run
    runs = [evaluate(list(own), *data, estimators=estimators, seeds=(seed,), regressors=own)["predictor"]
            for seed in seeds]
    return {"runs": runs, "median": median_run(runs), "y_test": data[3]}


# ----------------------------------------------------------------------------- the whole table
# relative cost of one fit per family, by which work is dealt to workers (the most costly first)
FIT_COST = {"Random Forest": 5.0, "AdaBoost": 3.0, "Gradient Boosting": 3.0, "SVR (Linear kernel)": 0.6}
DEFAULT_FIT_COST = 0.2


def regressor_tasks(df, feature_sets, names):
    """The protocol's units of work: [(cost, (feature set key, family, names, data))], one per
    feature set of feature_sets ({key: columns}) and regressor family, longest first (cost:
    FIT_COST x the number of columns; ties in the given order). names: in table order, grouped by
    family_of; data: split(df, columns), shared by the family's regressors. run_table runs
    FEATURE_SETS' tasks, baselines.py those of its epoch counts."""
    groups = {}
    for name in names:
        groups.setdefault(family_of(name), []).append(name)
    tasks = []
    for key, columns in feature_sets.items():
        data = split(df, columns)
        for family, group in groups.items():
            tasks.append((FIT_COST.get(family, 1) * len(columns), (key, family, group, data)))
    return sorted(tasks, key=lambda t: -t[0])


_TABLE_TASKS = []  # run_table's tasks, inherited by forked workers (factories need not pickle)


def _run_table_task(index):
    features, names, data, estimators, regressors, on_result = _TABLE_TASKS[index]
    results = evaluate(names, *data, estimators=estimators, regressors=regressors)
    if on_result is not None:
        on_result(features, results, data[3])
    return features, results


def run_table(df, estimators=DEFAULT_ESTIMATORS, jobs=1, names=None, regressors=None, on_result=None,
              progress=True):
    """Every regressor on every paper-1 feature set: {features: {name: median run}}.

    names: the regressors, in table order (default the 24 baselines); regressors: {name: factory}
    for names that are not the protocol's own. on_result(features, results, y_test) is called in
    the worker once per finished task (figures). With jobs > 1 the tasks run in forked worker
    processes; results do not depend on jobs.
    """
    from tqdm import tqdm
    names = list(BASELINE_NAMES if names is None else names)
    table = dict(own_regressors(estimators))
    table.update(regressors or {})
    _TABLE_TASKS[:] = [(features, group, data, estimators, table, on_result)
                       for _, (features, _, group, data) in regressor_tasks(df, FEATURE_SETS, names)]
    tasks = range(len(_TABLE_TASKS))
    results = {}
    with (tqdm(total=len(FEATURE_SETS) * len(names), desc="runs", unit="run", disable=not progress) as bar,
          process_pool(min(jobs, len(tasks)) if jobs > 1 and len(tasks) > 1 else 0) as pool):
        for features, runs in (pool.map if pool else map)(_run_table_task, tasks):
            results.setdefault(features, {}).update(runs)
            bar.update(len(runs))
    return {features: {name: results[features][name] for name in names} for features in FEATURE_SETS}


# ----------------------------------------------------------------------------- tables
RESULT_COLUMNS = ["Model", "Features", "MeanAbsoluteError", "NumViolations", "MaxViolations", "MonotonicityScore"]
PRECISION_KS = (5, 10)  # PrecisionAt5, PrecisionAt10: how many of the true top k the predicted top k hold
RANK_COLUMNS = ["KendallTau", "SpearmanRho"] + [f"PrecisionAt{k}" for k in PRECISION_KS]  # as NAS benchmarks report
# 95% bootstrap intervals of the kept run over its test models (uncertainty.py): MAE, Kendall's
# tau and the violation count (per max_violations pairs)
INTERVAL_METRICS = ("MAE", "KendallTau", "NumViolations")
INTERVAL_COLUMNS = [f"{metric}_{end}" for metric in INTERVAL_METRICS for end in ("lo", "hi")]
EXTRA_COLUMNS = RANK_COLUMNS + INTERVAL_COLUMNS  # results_extended.csv: RESULT_COLUMNS + these
OUTPUT_DECIMALS = 4  # results.csv, as published
TABLE_DECIMALS = 3  # results.md, as in the README


def precision_or_nan(pred, k):
    """metrics.precision_at_k, NaN where the test set has fewer than k rows (no top k to find)."""
    return metrics.precision_at_k(pred, k) if k <= len(pred) else math.nan


def results_frame(results, y_tests=None, intervals=None):
    """results.csv rows in table order (names x FEATURE_SETS), values rounded as published.

    y_tests ({features: y_test}) adds RANK_COLUMNS of the kept run; intervals ({(name, features):
    {column: value}} of uncertainty.bootstrap_table) adds INTERVAL_COLUMNS.
    """
    rows = []
    names = list(dict.fromkeys(name for runs in results.values() for name in runs))
    for name in names:
        for features in results:
            run = results[features][name]
            row = [name, features, round(run["mae"], OUTPUT_DECIMALS), run["violations"], run["max_violations"],
                   round(run["score"], OUTPUT_DECIMALS)]
            if y_tests is not None:
                row += [round(metrics.kendall_tau(run["pred"], y_tests[features]), OUTPUT_DECIMALS),
                        round(metrics.spearman_rho(run["pred"], y_tests[features]), OUTPUT_DECIMALS)]
                row += [round(precision_or_nan(run["pred"], k), OUTPUT_DECIMALS) for k in PRECISION_KS]
            if intervals is not None:
                row += [round(intervals[name, features][c], OUTPUT_DECIMALS) for c in INTERVAL_COLUMNS]
            rows.append(row)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS + (RANK_COLUMNS if y_tests is not None else [])
                        + (INTERVAL_COLUMNS if intervals is not None else []))


def grid_table(frame, cell, note):
    """Markdown: one row per model, one column per acceleration, cell(row of frame) in each."""
    columns = list(dict.fromkeys(frame["Features"]))
    lines = [note, "", "| Model | " + " | ".join(f"{acceleration(f)} Acceleration" for f in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    by_cell = {(r.Model, r.Features): r for r in frame.itertuples(index=False)}
    for name in dict.fromkeys(frame["Model"]):
        lines.append(f"| {name} | " + " | ".join(cell(by_cell[name, f]) for f in columns) + " |")
    return "\n".join(lines) + "\n"


def cell_text(mae, score, violations):
    """A README table cell: MAE / Monotonicity Score / #Violations."""
    d = TABLE_DECIMALS
    return f"{mae:.{d}f} / {score:.{d}f} / {violations}"


def markdown_table(frame):
    """results.md: the README table, 'MAE / Monotonicity Score / #Violations', 3 decimals."""
    max_violations = sorted(set(frame["MaxViolations"]))
    note = ("Each cell: MAE / Monotonicity Score / #Violations (of "
            f"{', '.join(map(str, max_violations))} test pairs), median of {len(SEEDS)} seeds.")
    return grid_table(frame, lambda r: cell_text(r.MeanAbsoluteError, r.MonotonicityScore, r.NumViolations), note)


def model_key(name):
    """Model name without parentheses: the published table writes 'Linear Regression D=0.5'."""
    return " ".join(name.replace("(", " ").replace(")", " ").split())


def load_published(path):
    """{(model_key, features): (MAE, #violations, max violations, score)} of a published results CSV."""
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as e:  # no permission, a symlink loop, a path under a regular file
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    missing = [c for c in RESULT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in RESULT_COLUMNS[2:]:
        if not pd.api.types.is_numeric_dtype(table[c]) or table[c].isna().any():
            raise InputError(f"{path}: column {c} is not numeric")
    published = {}
    for r in table.itertuples(index=False):
        key = (model_key(str(r.Model)), str(r.Features))
        if key in published:
            raise InputError(f"{path}: duplicate row for {r.Model}, {r.Features}")
        published[key] = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
    return published


def compare_frame(frame, published):
    """Per (model, features): ours, published, difference (ours - published) and exact Match."""
    rows = []
    for r in frame.itertuples(index=False):
        ours = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
        theirs = published.get((model_key(r.Model), r.Features))
        row = [r.Model, r.Features]
        for i in (0, 1, 3):
            row += [ours[i], np.nan, np.nan] if theirs is None else [ours[i], theirs[i], ours[i] - theirs[i]]
        rows.append(row + [theirs is not None and tuple(ours) == tuple(theirs)])
    columns = ["Model", "Features"]
    for metric in ("MeanAbsoluteError", "NumViolations", "MonotonicityScore"):
        columns += [metric, f"Published{metric}", f"Diff{metric}"]
    out = pd.DataFrame(rows, columns=columns + ["Match"])
    for c in ("DiffMeanAbsoluteError", "DiffMonotonicityScore"):
        out[c] = out[c].round(OUTPUT_DECIMALS)
    return out


def compare_markdown(comparison):
    """comparison.md: which cells match the published table, and by how much the others differ."""
    matches = int(comparison["Match"].sum())
    note = (f"{matches} of {len(comparison)} rows match the published results exactly. Each other cell: "
            "difference ours - published in MAE / Monotonicity Score / #Violations.")

    def cell(r):
        if r.Match:
            return "="
        if pd.isna(r.PublishedNumViolations):
            return "missing"
        return (f"{r.DiffMeanAbsoluteError:+.4f} / {r.DiffMonotonicityScore:+.4f} / "
                f"{int(r.DiffNumViolations):+d}")
    return grid_table(comparison, cell, note)
