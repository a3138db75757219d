"""The baselines the field compares against, and prediction quality against training cost.

Which NAAP-440 test models end up most accurate? Paper 1's regressors answer from the scheme and
the first 3/6/9 of 90 epochs. NAS predictor benchmarks (White et al. 2021, "How powerful are
performance predictors in neural architecture search?"; NASLib's predictor evaluator;
NAS-Bench-Suite-Zero) measure such predictors against cheaper answers. This script scores those
answers on the official split (400 train / 40 test models) with the same metrics, at every number
of training epochs k:

  MACs, #params        rank by the scheme's MAC / parameter count (Epochs 0). Taken from the table's
                       NumMACs / NumParams: thop's counts, equal to zero_cost.py's MACs and #params.
  synflow, ...         with --zero-cost: every other proxy of zero_cost.py's CSV (synflow,
                       logsynflow, zen, l2_norm; nwot, jacov, snip, grad_norm, fisher, grasp when
                       computed), each ranking the models by its value (Epochs 0). A model where
                       a proxy is missing (NaN) ranks last, tied with the other missing ones.
  Early stopping       the test accuracy after epoch k (NASLib's early stopping), k = 1..90.
  SoTL                 minus the sum of the mean training losses of epochs 1..k (Ru et al. 2020).
  SoTL-E               minus the mean training loss of epoch k.
  LCE                  learning-curve extrapolation (Domhan et al. 2015 as a point fit): pow3
                       c - a x^-alpha, exponential c - a exp(-b x) and log-power a / (1 + (x/e^b)^c)
                       are each fitted (scipy's curve_fit, bounded, deterministic initial guesses)
                       to the accuracies at the learning-rate cycle ends 3, 6, 9, ... <= k (the
                       learning rate restarts every recipe.LR_CYCLE epochs; the cycle ends, at the
                       smallest rate, are the settled points of the curve) and extrapolated to epoch
                       90; LCE is the mean of the curves whose fit succeeded. Before epoch 3 (no
                       cycle end), with fewer cycle ends than a curve has parameters (3), or when
                       every fit fails, LCE is the last point (the accuracy at epoch k, or at the
                       last cycle end).
  LcSVR                an SVR (Baker et al. 2017; NASLib's LcSVR, with fixed hyper-parameters
                       instead of its random search) trained on the train models' accuracies of
                       epochs 1..k, their differences and the 6 scheme features, scaled by the
                       estimator set's scaler, predicting MaxAccuracy.
  <regressor>          paper 1's 24 regressors through protocol.evaluate (5 seeds, median run) at
                       k = 0..9, 12, 15, 18, 24, 30, 45, 60, 90 epochs, on Scheme + Quant.k
                       (protocol.FULL_SCHEME_FEATURES + the first k epochs' columns). At k = 0 the
                       set is paper 1's "Scheme" (NumParams, NumStages only), so that the 0/3/6/9
                       rows are the published table's.
  <regressor> [Scheme+ZC]   with --zero-cost: the same with every zero-cost proxy of the CSV as
                       extra features: "Scheme" + proxies at k = 0, Scheme + proxies + Quant.k after.
                       A missing proxy value is the proxy's median over all models (impute_proxies).

Each method is scored on the test rows in protocol.load_dataset's ground-truth order:
NumViolations and MaxViolations (metrics.monotonicity, the protocol's rule: equal predictions are
never a violation, so the paper's regressors score as in results.csv), TiedPairs (metrics.tied_pairs:
pairs with equal predictions and different MaxAccuracy, which that rule lets pass), KendallTau,
SpearmanRho, PrecisionAt5, PrecisionAt10 (metrics.worst_case_precision_at_k: equal predictions
ordered against the method, so that a constant predictor gets no hit it did not earn) and, for the
methods that predict accuracy (LCE, LcSVR and the regressors), MAE. The rankers' MAE is empty. --splits N scores everything again on N random
splits (uncertainty.split_table: one random test model per MaxAccuracy bin; each split costs as
much as the official one).

Inputs: a NAAP-440 CSV (naap440.csv); optionally zero_cost.py's CSV for the same ModelIds.
Outputs in OUT_DIR (built in a temp dir and renamed into place, so a failure leaves nothing):
  baselines.csv              Method, Epochs, MAE, NumViolations, TiedPairs, MaxViolations,
                             KendallTau, SpearmanRho, PrecisionAt5, PrecisionAt10 (4 decimals): one
                             row per method and epoch count
  baselines.md               the best method per epoch count, then the full table
  baselines_vs_epochs.png    Kendall tau, #violations and MAE against the epochs trained
  baselines_vs_compute.png   the same against the share of the full training's compute
  baselines_splits.csv       with --splits N: per method and epoch count, the mean, sd and 95%
                             interval over the N splits of each metric (<metric>_mean, _sd, _lo, _hi)
  baselines_splits_runs.csv  with --splits N: Split, then baselines.csv's columns, every split
--epochs K1,K2,... limits every method to those epoch counts (0 only applies to the regressors and
rankers): a quick run, as in the tests. The results do not depend on --jobs.

Example:
  python baselines.py naap440.csv baselines/ --zero-cost zero_cost.csv --jobs 2
"""
import os

if __name__ == "__main__":
    # GNU OpenMP threads (k-NN of --estimators sklearn) busy-wait after every call by default,
    # which steals the other worker's core; read once, when the runtime loads: set it first
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import math
import time
import warnings
from concurrent.futures import as_completed

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

import metrics
from naap import figures, protocol, uncertainty, workers
from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number
from naap.files import atomic_output_dir, atomic_write_text, check_outputs_not_inputs
from naap.replica import fixedmath
from naap.training import recipe
from naap.workers import process_pool

# ----------------------------------------------------------------------------- settings
REGRESSOR_EPOCHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 18, 24, 30, 45, 60, 90)
CURVE_EPOCHS = tuple(range(1, protocol.NUM_EPOCHS_TOTAL + 1))
PAPER_EPOCHS = (0,) + protocol.QUANT_EPOCHS  # paper 1's feature sets, marked in the figures
FIGURE_TICKS = (0, 1, 3, 9, 30, 90)  # epoch counts labelled on the figures' symlog axes
TABLE_RANKERS = {"MACs": "NumMACs", "#params": "NumParams"}  # method -> table column (log is monotone)
ZC_SUFFIX = " [Scheme+ZC]"  # regressors given the zero-cost proxies as extra features
COLUMNS = ["Method", "Epochs", "MAE", "NumViolations", "TiedPairs", "MaxViolations", "KendallTau", "SpearmanRho",
           *(f"PrecisionAt{k}" for k in protocol.PRECISION_KS)]
MAX_VALUE = 1e150  # as protocol.load_dataset: the scaler squares the features
SPLIT_METRICS = ("KendallTau", "SpearmanRho", "NumViolations", "PrecisionAt5", "PrecisionAt10", "MAE")  # --splits

# LCE (the curves, their bounds and initial guesses: LCE_CURVES)
LCE_MIN_POINTS = 3  # each curve has 3 parameters: fewer points leave it undetermined
LCE_MAXFEV = 2000  # curve_fit's limit on function evaluations: a fit that needs more has failed
LCE_HEADROOM = 0.05  # initial asymptote: the best accuracy seen plus this
LCE_ALPHA0, LCE_RATE0, LCE_POWER0 = 0.5, 0.1, -1.0  # initial pow3 exponent, exp rate, log-power exponent

# LcSVR: an RBF SVR on standardized features and a standardized target, fixed a priori (no tuning
# on the test models): scikit-learn's default C and epsilon, gamma = 1 / n_features
LCSVR_C = 1.0
LCSVR_EPSILON = 0.1  # in standard deviations of the train models' MaxAccuracy
LCSVR_KERNEL = "rbf"

LCE_CHUNKS_PER_JOB = 4  # test models split into jobs x this many tasks


# ----------------------------------------------------------------------------- learning-curve baselines
def curve(table, feature, k):
    """(rows x k) array of one epoch feature for epochs 1..k."""
    return table[[protocol.epoch_column(e, feature) for e in range(1, k + 1)]].to_numpy(float)


def early_stopping(table, k):
    """The accuracy after epoch k: higher ranks higher."""
    return table[protocol.epoch_column(k, "Accuracy")].to_numpy(float)


def sotl(table, k):
    """Minus the sum of the mean training losses of epochs 1..k."""
    total = np.zeros(len(table))
    for e in range(1, k + 1):  # left to right: numpy's pairwise sums can differ in the last bit by CPU
        total = total + table[protocol.epoch_column(e, "LossMean")].to_numpy(float)
    return -total


def sotl_e(table, k):
    """Minus the mean training loss of epoch k."""
    return -table[protocol.epoch_column(k, "LossMean")].to_numpy(float)


def pow3(x, c, a, alpha):
    return c - a * np.power(x, -alpha)


def exponential(x, c, a, b):
    return c - a * np.exp(-b * x)


def log_power(x, a, b, c):
    return a / (1.0 + np.power(x / np.exp(b), c))


def _start(y):
    """Initial asymptote: above every point seen, at most 1."""
    return min(float(np.max(y)) + LCE_HEADROOM, 1.0)


# Initial guesses: the asymptote at _start(y), a fixed shape, and the curve through the first point,
# so that they depend on the points alone
def _pow3_guess(x, y):
    c = _start(y)
    return c, (c - y[0]) * x[0] ** LCE_ALPHA0, LCE_ALPHA0


def _exponential_guess(x, y):
    c = _start(y)
    return c, (c - y[0]) * math.exp(LCE_RATE0 * x[0]), LCE_RATE0


def _log_power_guess(x, y):
    # y0 = a / (1 + (x0 / e^b)^c)  =>  b = log x0 - log(a / y0 - 1) / c
    a = _start(y)
    return a, math.log(x[0]) - math.log(max(a / max(y[0], 1e-6) - 1.0, 1e-6)) / LCE_POWER0, LCE_POWER0


# name -> (function, lower bounds, upper bounds, initial guess). The bounds keep every curve
# non-decreasing towards an asymptote that is an accuracy (<= 1).
LCE_CURVES = {
    "pow3": (pow3, (0.0, 0.0, 0.0), (1.0, np.inf, 10.0), _pow3_guess),
    "exponential": (exponential, (0.0, 0.0, 0.0), (1.0, np.inf, 10.0), _exponential_guess),
    "log-power": (log_power, (0.0, -20.0, -20.0), (1.0, 20.0, 0.0), _log_power_guess),
}


def fit_curve(name, x, y, at=protocol.NUM_EPOCHS_TOTAL):
    """The value at epoch `at` of LCE_CURVES[name] fitted to the points (x, y); None if the fit
    fails (no convergence within LCE_MAXFEV evaluations, or a value that is not finite)."""
    function, lower, upper, guess = LCE_CURVES[name]
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    p0 = np.clip(guess(x, y), lower, upper)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # OptimizeWarning: no covariance when there are as many points as parameters
            warnings.simplefilter("ignore")
            params, _ = curve_fit(function, x, y, p0=p0, bounds=(lower, upper), maxfev=LCE_MAXFEV)
            value = float(function(float(at), *params))
    except (RuntimeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def lce(accuracies, k):
    """LCE's prediction of the accuracy at epoch 90 from one model's accuracies of epochs 1..>=k."""
    accuracies = np.asarray(accuracies, dtype=float)
    ends = np.arange(recipe.LR_CYCLE, k + 1, recipe.LR_CYCLE)
    if len(ends) == 0:
        return float(accuracies[k - 1])
    y = accuracies[ends - 1]
    if len(ends) < LCE_MIN_POINTS:
        return float(y[-1])
    values = [v for v in (fit_curve(name, ends, y) for name in LCE_CURVES) if v is not None]
    return sum(values) / len(values) if values else float(y[-1])


def lce_rows(accuracies, ks):
    """(rows x len(ks)) LCE predictions; each fit is done once per number of cycle ends."""
    out = np.empty((len(accuracies), len(ks)))
    for i, row in enumerate(accuracies):
        done = {}  # LCE at k depends on k only through the cycle ends <= k (and below 3 on k)
        for j, k in enumerate(ks):
            key = k // recipe.LR_CYCLE if k >= recipe.LR_CYCLE else -k
            if key not in done:
                done[key] = lce(row, k)
            out[i, j] = done[key]
    return out


def lcsvr_features(accuracies, scheme, k):
    """LcSVR's inputs: the scheme features, accuracies of epochs 1..k and their differences."""
    acc = accuracies[:, :k]
    return np.hstack([scheme, acc, acc[:, 1:] - acc[:, :-1]])


def lcsvr(train, test, y_train, k, estimators):
    """LcSVR's predicted MaxAccuracy of the test rows; train/test: (accuracies, scheme) arrays."""
    from sklearn.svm import SVR
    X_train, X_test = protocol.scale(lcsvr_features(*train, k), lcsvr_features(*test, k), estimators)
    # the target's mean and deviation by exact sums: the same bits on every CPU
    mean = math.fsum(y_train) / len(y_train)
    std = math.sqrt(math.fsum((y - mean) ** 2 for y in y_train) / len(y_train)) or 1.0
    gamma = 1.0 / X_train.shape[1]
    # kernel matrices in libsvm's own order without BLAS (as protocol.ProtocolSVR): machine-independent
    K_train = fixedmath.libsvm_kernel(LCSVR_KERNEL, X_train, X_train, gamma, 0.0, 3, True)
    K_test = fixedmath.libsvm_kernel(LCSVR_KERNEL, X_test, X_train, gamma, 0.0, 3, False)
    svr = SVR(kernel="precomputed", C=LCSVR_C, epsilon=LCSVR_EPSILON).fit(K_train, (y_train - mean) / std)
    return svr.predict(K_test) * std + mean


# ----------------------------------------------------------------------------- scoring
def score(method, epochs, pred, y_test, with_mae):
    """One baselines.csv row (unrounded) of predictions for the test rows in ground-truth order."""
    pred = np.asarray(pred, dtype=float)
    violations, max_violations, _ = metrics.monotonicity(pred)  # the protocol's: ties are never violations
    row = {"Method": method, "Epochs": epochs, "MAE": metrics.mae(pred, y_test) if with_mae else math.nan,
           "NumViolations": violations, "TiedPairs": metrics.tied_pairs(pred, y_test), "MaxViolations": max_violations,
           "KendallTau": metrics.kendall_tau(pred, y_test), "SpearmanRho": metrics.spearman_rho(pred, y_test)}
    for k in protocol.PRECISION_KS:  # ties against the method: a tie at the top-k boundary earns no hit
        row[f"PrecisionAt{k}"] = metrics.worst_case_precision_at_k(pred, k) if len(pred) >= k else math.nan
    return row


def proxy_ranking(values):
    """A zero-cost proxy's values as a ranker's predictions. A model where the proxy is missing
    (NaN) ranks last, tied with the other missing ones: a proxy that cannot score a model says
    nothing for it, and TiedPairs and the worst-case P@k show what such ties cost."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), -np.inf, values)


def impute_proxies(df, proxies):
    """df with each proxy's missing values replaced by the median of its values over all of df's
    models, so that the regressors' features are finite. Train and test models both count: a proxy
    needs no training and no label, so every model's value is known before anything is fitted."""
    return df.assign(**{p: df[p].fillna(df[p].median()) for p in proxies})


def regressor_columns(k, zc=()):
    """Paper 1's feature set for k epochs, optionally with the zero-cost proxies after the scheme:
    "Scheme" (NumParams, NumStages) at k = 0 as in paper 1, else Scheme + Quant.k."""
    if k == 0:
        return protocol.FEATURE_SETS["Scheme"] + list(zc)
    return protocol.FULL_SCHEME_FEATURES + list(zc) + protocol.epoch_features(k)


def compute_share(epochs):
    """Share of the full training's compute that k epochs cost, averaged over the test models:
    MACs x k / (MACs x 90) per model. Every model trains the same epochs, so the MACs cancel and
    it is k / 90 for every method here."""
    return epochs / protocol.NUM_EPOCHS_TOTAL


# ----------------------------------------------------------------------------- tasks (run in workers)
def _regressor_task(names, data, estimators):
    return protocol.evaluate(names, *data, estimators=estimators)


TASKS = {"regressors": _regressor_task, "lce": lce_rows, "lcsvr": lcsvr}


def _run_task(task):
    kind, key, args = task
    return key, TASKS[kind](*args)


def run_tasks(tasks, jobs, progress):
    """{key: result} of (kind, key, args) tasks, in a pool of `jobs` forked workers when jobs > 1.
    Results do not depend on jobs or on the order of completion."""
    from tqdm import tqdm
    results = {}
    with (tqdm(total=len(tasks), desc="tasks", unit="task", disable=not progress) as bar,
          process_pool(min(jobs, len(tasks)) if jobs > 1 and len(tasks) > 1 else 0) as pool):
        done = map(_run_task, tasks) if pool is None else (
            f.result() for f in as_completed([pool.submit(_run_task, t) for t in tasks]))
        for key, value in done:
            results[key] = value
            bar.update()
    return results


def build_tasks(df, regressor_epochs, curve_epochs, zc, estimators, jobs, split=0):
    """[(cost, task)] of the long work on one split: the regressors per (feature set, family), LcSVR
    per epoch count, LCE per chunk of test models. Keys start with the split."""
    train, test = df[df[protocol.TEST_FLAG] == 0], df[df[protocol.TEST_FLAG] == 1]
    tasks = []
    variants = [("", ())] + ([(ZC_SUFFIX, zc)] if zc else [])
    features = impute_proxies(df, zc)
    for suffix, proxies in variants:
        feature_sets = {k: regressor_columns(k, proxies) for k in regressor_epochs}
        for cost, (k, family, names, data) in protocol.regressor_tasks(features, feature_sets, protocol.BASELINE_NAMES):
            tasks.append((cost, ("regressors", (split, suffix, k, family), (names, data, estimators))))
    if curve_epochs:
        k_max = max(curve_epochs)
        acc_train, acc_test = curve(train, "Accuracy", k_max), curve(test, "Accuracy", k_max)
        scheme_train = train[protocol.FULL_SCHEME_FEATURES].to_numpy(float)
        scheme_test = test[protocol.FULL_SCHEME_FEATURES].to_numpy(float)
        y_train = train[protocol.TARGET].to_numpy(float)
        for k in curve_epochs:
            tasks.append((10 + k, ("lcsvr", (split, "LcSVR", k), ((acc_train, scheme_train), (acc_test, scheme_test),
                                                                  y_train, k, estimators))))
        chunks = np.array_split(np.arange(len(acc_test)), min(len(acc_test), jobs * LCE_CHUNKS_PER_JOB))
        for i, rows in enumerate(chunks):
            tasks.append((1000, ("lce", (split, "LCE", i), (acc_test[rows], list(curve_epochs)))))
    return tasks


def split_rows(df, done, split, regressor_epochs, curve_epochs, zc):
    """The unrounded baselines.csv rows of one split, from the finished tasks `done`."""
    test = df[df[protocol.TEST_FLAG] == 1]
    y_test = test[protocol.TARGET].to_numpy(float)
    rows = []
    if 0 in regressor_epochs:
        for method, column in TABLE_RANKERS.items():
            rows.append(score(method, 0, test[column], y_test, False))
        for proxy in zc:
            if proxy not in TABLE_RANKERS:
                rows.append(score(proxy, 0, proxy_ranking(test[proxy]), y_test, False))
    rankers = {"Early stopping": early_stopping, "SoTL": sotl, "SoTL-E": sotl_e}  # rank only: no MAE
    for method, rank in rankers.items():
        rows += [score(method, k, rank(test, k), y_test, False) for k in curve_epochs]
    if curve_epochs:
        chunks = sum(key[:2] == (split, "LCE") for key in done)
        lce_pred = np.vstack([done[split, "LCE", i] for i in range(chunks)])
        rows += [score("LCE", k, lce_pred[:, j], y_test, True) for j, k in enumerate(curve_epochs)]
        rows += [score("LcSVR", k, done[split, "LcSVR", k], y_test, True) for k in curve_epochs]
    for suffix in ["", ZC_SUFFIX] if zc else [""]:
        for name in protocol.BASELINE_NAMES:
            for k in regressor_epochs:
                run = done[split, suffix, k, protocol.family_of(name)][name]
                rows.append(score(name + suffix, k, run["pred"], y_test, True))
    return rows


def splits_summary(runs):
    """Per method and epoch count (in the order of `runs`): the number of splits, and the mean, sd
    (ddof 1) and uncertainty.CONFIDENCE percentile interval of each SPLIT_METRICS column over them."""
    out = []
    for (method, epochs), group in runs.groupby(["Method", "Epochs"], sort=False):
        row = {"Method": method, "Epochs": epochs, "Splits": len(group)}
        for metric in SPLIT_METRICS:
            values = group[metric].to_numpy(float)
            finite = values[np.isfinite(values)]
            row[f"{metric}_mean"] = float(finite.mean()) if len(finite) else math.nan
            row[f"{metric}_sd"] = float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan
            row[f"{metric}_lo"], row[f"{metric}_hi"] = uncertainty.percentile_interval(values)
        out.append(row)
    return pd.DataFrame(out).round(protocol.OUTPUT_DECIMALS)


# ----------------------------------------------------------------------------- inputs
def parse_epochs(text):
    """(regressor epochs, curve epochs) of --epochs K1,K2,... (default: REGRESSOR_EPOCHS, CURVE_EPOCHS)."""
    if text is None:
        return REGRESSOR_EPOCHS, CURVE_EPOCHS
    ks = []
    for part in text.split(","):
        try:
            k = int(part)
        except ValueError:
            raise InputError(f"--epochs {text}: {part!r} is not a whole number") from None
        if not 0 <= k <= protocol.NUM_EPOCHS_TOTAL:
            raise InputError(f"--epochs {text}: {k} is not an epoch count from 0 to {protocol.NUM_EPOCHS_TOTAL}")
        ks.append(k)
    ks = sorted(set(ks))
    return tuple(ks), tuple(k for k in ks if k > 0)


def zero_cost_proxies():
    """(the proxies zero_cost.py always writes, those it adds with --data-root): its MACs column and
    zero_cost_proxies.py's DATA_FREE, then WITH_DATA. Imported here only: it loads PyTorch."""
    from naap import zero_cost_proxies as zcp
    return ["MACs", *zcp.DATA_FREE], list(zcp.WITH_DATA)


def load_zero_cost(path, df, dataset):
    """The proxy columns of zero_cost.py's CSV, in file order, and {proxy: values of df's rows}.

    A missing value (NaN: the proxy failed on that model, as jacov can) is kept: proxy_ranking and
    impute_proxies say how it is scored. InputError (one line naming the file) for a missing
    ModelId column or required proxy, duplicated ModelIds, ModelIds not in the dataset or dataset
    ModelIds without a row, non-numeric columns, infinite or too large values, and a proxy with no
    value at all.
    """
    required, optional = zero_cost_proxies()
    table = protocol.read_table(path)
    if protocol.MODEL_ID not in table.columns:
        raise InputError(f"{path}: missing column {protocol.MODEL_ID}")
    missing = [p for p in required if p not in table.columns]
    if missing:
        raise InputError(f"{path}: missing proxy column(s) {', '.join(missing)}")
    ids = table[protocol.MODEL_ID]
    if not pd.api.types.is_numeric_dtype(ids) or ids.isna().any():
        raise InputError(f"{path}: column {protocol.MODEL_ID} is not numeric or has missing values")
    if ids.duplicated().any():
        raise InputError(f"{path}: ModelId {ids[ids.duplicated()].iloc[0]:g} appears more than once")
    known = set(df[protocol.MODEL_ID].tolist())
    unknown = [i for i in ids.tolist() if i not in known]
    if unknown:
        raise InputError(f"{path}: ModelId {unknown[0]:g} is not in {dataset}")
    absent = sorted(known - set(ids.tolist()))
    if absent:
        raise InputError(f"{path}: no row for ModelId {absent[0]:g} of {dataset} ({len(absent)} missing)")
    proxies = [c for c in table.columns if c in required + optional]
    rows = table.set_index(protocol.MODEL_ID).loc[df[protocol.MODEL_ID]]
    values = {}
    for p in proxies:
        column = rows[p]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise InputError(f"{path}: column {p} is not numeric")
        v = column.to_numpy(float)
        bad = np.isinf(v) | (np.abs(v) > MAX_VALUE)  # NaN compares False: kept
        if bad.any():
            i = int(bad.argmax())
            raise InputError(f"{path}: column {p} has an infinite or too large value "
                             f"(ModelId {rows.index[i]:g}: {v[i]})")
        if np.isnan(v).all():
            raise InputError(f"{path}: column {p} has no value for any model of {dataset}")
        values[p] = v
    return proxies, values


# ----------------------------------------------------------------------------- tables
def rounded(frame):
    """The frame with its metric floats rounded to protocol.OUTPUT_DECIMALS, as written out."""
    floats = ("MAE", "KendallTau", "SpearmanRho", "PrecisionAt5", "PrecisionAt10")
    return frame.assign(**{c: frame[c].astype(float).round(protocol.OUTPUT_DECIMALS) for c in floats})


def baselines_frame(rows):
    """baselines.csv: COLUMNS, rounded."""
    return rounded(pd.DataFrame(rows, columns=COLUMNS))


def _interval(r, metric, decimals=protocol.TABLE_DECIMALS):
    """'mean [lo, hi]' of a splits_summary row."""
    mean, lo, hi = (getattr(r, f"{metric}_{s}") for s in ("mean", "lo", "hi"))
    return "" if pd.isna(mean) else f"{mean:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"


def splits_markdown(summary, num_splits):
    """The --splits section of baselines.md: per epoch count the method with the highest mean tau
    over the random splits, the best paper regressor's and early stopping's beside it."""
    pct = f"{uncertainty.CONFIDENCE:.0%}"
    lines = ["", f"## On {num_splits} random splits", "",
             f"Each split tests one random model per MaxAccuracy bin (uncertainty.py's rule). Cells: mean "
             f"[{pct} interval] over the splits; all methods in baselines_splits.csv.", "",
             "| Epochs | Best method (mean tau) | KendallTau | #Violations | MAE | Best paper regressor "
             "| its KendallTau | Early stopping KendallTau |",
             "| ---: | --- | --- | --- | --- | --- | --- | --- |"]
    ranked = summary.assign(_order=range(len(summary))).sort_values(
        ["Epochs", "KendallTau_mean", "_order"], ascending=[True, False, True], kind="stable")
    best = ranked.groupby("Epochs", sort=True).head(1)
    paper = ranked[ranked["Method"].isin(protocol.BASELINE_NAMES)].groupby("Epochs").head(1).set_index("Epochs")
    early = summary[summary["Method"] == "Early stopping"].set_index("Epochs")
    for r in best.itertuples(index=False):
        p = paper.loc[r.Epochs] if r.Epochs in paper.index else None
        e = early.loc[r.Epochs] if r.Epochs in early.index else None
        lines.append(f"| {r.Epochs} | {r.Method} | {_interval(r, 'KendallTau')} | {_interval(r, 'NumViolations', 1)} | "
                     f"{_interval(r, 'MAE')} | {p.Method if p is not None else ''} | "
                     f"{_interval(p, 'KendallTau') if p is not None else ''} | "
                     f"{_interval(e, 'KendallTau') if e is not None else ''} |")
    return "\n".join(lines) + "\n"


def _cell(value, decimals=protocol.TABLE_DECIMALS):
    return "" if pd.isna(value) else f"{value:.{decimals}f}"


def best_rows(frame):
    """Per epoch count the method with the highest Kendall tau (then fewest violations, then
    table order)."""
    ranked = frame.assign(_order=range(len(frame)), _tau=frame["KendallTau"].fillna(-np.inf))
    ranked = ranked.sort_values(["Epochs", "_tau", "NumViolations", "_order"], ascending=[True, False, True, True],
                                kind="stable")
    return ranked.groupby("Epochs", sort=True).head(1).drop(columns=["_order", "_tau"])


def markdown(frame, num_test, zc_note):
    """baselines.md: the best method per epoch count, the best paper regressor beside it, then
    every row."""
    paper = frame[frame["Method"].isin(protocol.BASELINE_NAMES)]
    best_paper = {r.Epochs: r for r in best_rows(paper).itertuples(index=False)}
    early = frame[frame["Method"] == "Early stopping"].set_index("Epochs")["KendallTau"]
    lines = ["# Baselines on the official NAAP-440 split", "",
             f"{num_test} test models in ground-truth order. KendallTau and SpearmanRho of the predictions "
             "against MaxAccuracy; #Violations of MaxViolations pairs out of order (metrics.monotonicity: pairs "
             "with equal predictions are never violations, the protocol's rule); Tied: pairs with equal "
             "predictions and different MaxAccuracy, which the method does not order; "
             "P@5, P@10: share of the true top 5 / 10 among the predicted top 5 / 10, equal predictions "
             "ordered against the method (the worst case). MAE only for the methods "
             "that predict accuracy (LCE, LcSVR, the regressors). Regressors: median of 5 seeds (protocol.py); "
             f"Epochs 0 = paper 1's Scheme set (NumParams, NumStages). {zc_note}", "",
             "## Best method per epoch count (highest Kendall tau)", "",
             f"The regressors run at {', '.join(map(str, sorted(set(paper['Epochs']))))} epochs; at the other epoch "
             "counts only the learning-curve methods compete. Picked on the test models: an optimistic envelope.", "",
             "| Epochs | Best method | KendallTau | SpearmanRho | #Violations | P@5 | P@10 | MAE "
             "| Best paper regressor | its KendallTau | Early stopping KendallTau |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for r in best_rows(frame).itertuples(index=False):
        p = best_paper.get(r.Epochs)
        lines.append(f"| {r.Epochs} | {r.Method} | {_cell(r.KendallTau)} | {_cell(r.SpearmanRho)} | "
                     f"{r.NumViolations} / {r.MaxViolations} | {_cell(r.PrecisionAt5, 1)} | "
                     f"{_cell(r.PrecisionAt10, 1)} | {_cell(r.MAE)} | {p.Method if p is not None else ''} | "
                     f"{_cell(p.KendallTau) if p is not None else ''} | {_cell(early.get(r.Epochs, math.nan))} |")
    lines += ["", "## All methods", "",
              "| Method | Epochs | MAE | #Violations | Tied | KendallTau | SpearmanRho | P@5 | P@10 |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in frame.itertuples(index=False):
        lines.append(f"| {r.Method} | {r.Epochs} | {_cell(r.MAE)} | {r.NumViolations} / {r.MaxViolations} | "
                     f"{r.TiedPairs} | {_cell(r.KendallTau)} | {_cell(r.SpearmanRho)} | {_cell(r.PrecisionAt5, 1)} | "
                     f"{_cell(r.PrecisionAt10, 1)} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- command line
def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV, e.g. naap440.csv")
    parser.add_argument("out_dir", help="output directory")
    parser.add_argument("--zero-cost", metavar="ZC.csv", help="zero_cost.py's CSV: score its proxies too")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    parser.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS, help="estimator set: "
                        f"{' or '.join(protocol.ESTIMATOR_SETS)} (default {protocol.DEFAULT_ESTIMATORS})")
    parser.add_argument("--epochs", metavar="K1,K2,...", help="only these epoch counts (default: regressors at "
                        f"{','.join(map(str, REGRESSOR_EPOCHS))}, learning curves at 1..{protocol.NUM_EPOCHS_TOTAL})")
    parser.add_argument("--splits", default="0", metavar="N", help="also score everything on N random splits "
                        "(uncertainty.py's rule: a random test model per MaxAccuracy bin; default 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(args):
    """Score every baseline; returns the baselines.csv table as a DataFrame."""
    started = time.perf_counter()
    jobs = whole_number("--jobs", args.jobs, 1)
    num_splits = whole_number("--splits", args.splits, 0, uncertainty.MAX_SPLITS)
    if args.estimators not in protocol.ESTIMATOR_SETS:
        raise InputError(f"--estimators {args.estimators}: choose from {', '.join(protocol.ESTIMATOR_SETS)}")
    regressor_epochs, curve_epochs = parse_epochs(args.epochs)
    inputs = [args.dataset] + ([args.zero_cost] if args.zero_cost else [])
    check_outputs_not_inputs([args.out_dir], inputs)
    columns = protocol.FULL_SCHEME_FEATURES + protocol.epoch_features(max(regressor_epochs))
    df = protocol.load_dataset(args.dataset, columns + ([protocol.MODEL_ID] if args.zero_cost else []))
    if num_splits:
        try:
            protocol.split_bins(len(df))
        except ValueError as e:
            raise InputError(f"--splits {num_splits}: {args.dataset}: {e}") from None
    zc, zc_values = load_zero_cost(args.zero_cost, df, args.dataset) if args.zero_cost else ([], {})
    df = pd.concat([df, pd.DataFrame(zc_values, index=df.index)], axis=1)  # one insert, not one per proxy
    tables = {split: uncertainty.split_table(df, split) for split in range(num_splits + 1)}  # 0: the official

    with atomic_output_dir(args.out_dir, args.force) as tmp:
        tasks = [task for split, table in tables.items()
                 for task in build_tasks(table, regressor_epochs, curve_epochs, zc, args.estimators, jobs, split)]
        done = run_tasks([task for _, task in sorted(tasks, key=lambda t: -t[0])], jobs, not args.no_progress)
        rows = {split: split_rows(table, done, split, regressor_epochs, curve_epochs, zc)
                for split, table in tables.items()}
        frame = baselines_frame(rows[0])
        zc_note = (f"Zero-cost proxies from {os.path.basename(args.zero_cost)}: {', '.join(zc)}; "
                   f"'{ZC_SUFFIX.strip()}' marks the regressors given them as extra features."
                   if zc else "No zero-cost proxies besides MACs and #params (no --zero-cost).")
        atomic_write_text(tmp / "baselines.csv", frame.to_csv(index=False, lineterminator="\n"))
        md = markdown(frame, int((df[protocol.TEST_FLAG] == 1).sum()), zc_note)
        if num_splits:
            runs = pd.concat([pd.DataFrame(rows[s], columns=COLUMNS).assign(Split=s) for s in range(1, num_splits + 1)])
            summary = splits_summary(runs)
            atomic_write_text(tmp / "baselines_splits.csv", summary.to_csv(index=False, lineterminator="\n"))
            atomic_write_text(tmp / "baselines_splits_runs.csv",
                              rounded(runs[["Split"] + COLUMNS]).to_csv(index=False, lineterminator="\n"))
            md += splits_markdown(summary, num_splits)
        atomic_write_text(tmp / "baselines.md", md)
        groups = {"paper regressors": list(protocol.BASELINE_NAMES)}
        if zc:
            groups["paper regressors + ZC"] = [name + ZC_SUFFIX for name in protocol.BASELINE_NAMES]
        cycle_ends = range(recipe.LR_CYCLE, protocol.NUM_EPOCHS_TOTAL + 1, recipe.LR_CYCLE)
        ticks = [k for k in FIGURE_TICKS if k <= max(regressor_epochs + curve_epochs)]
        figures.plot_baselines(frame, tmp / "baselines_vs_epochs.png", x_of=lambda k: k,
                               x_ticks={k: str(k) for k in ticks},
                               xlabel="epochs trained (symlog axis: 0 = no training, linear up to 1)",
                               groups=groups, marks=PAPER_EPOCHS, cycle_ends=cycle_ends)
        share = {k: 100.0 * compute_share(k) for k in ticks}
        figures.plot_baselines(frame, tmp / "baselines_vs_compute.png", x_of=lambda k: 100.0 * compute_share(k),
                               x_ticks={k: f"{share[k]:.3g}%" for k in ticks},
                               xlabel="share of the full training's compute (MACs x epochs / (MACs x 90), mean over "
                                      "the test models; symlog axis: 0 = no training)",
                               groups=groups, marks=PAPER_EPOCHS, cycle_ends=cycle_ends)
    regressor_runs = len(regressor_epochs) * len(protocol.BASELINE_NAMES) * (2 if zc else 1) * (num_splits + 1)
    print(f"{args.out_dir}: {len(frame)} rows ({regressor_runs} regressor runs, learning curves at "
          f"{len(curve_epochs)} epoch counts{f', {num_splits} random splits' if num_splits else ''}) "
          f"in {time.perf_counter() - started:.1f} s")
    return frame


if __name__ == "__main__":
    run_cli(main, parse_args())
