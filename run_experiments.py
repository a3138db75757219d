"""NAAP-440 baseline: 24 regressors x 4 feature sets predict a CNN's final CIFAR-10 accuracy.

Each regressor predicts MaxAccuracy of the 40 test models from the scheme alone (100%
acceleration) or with the first 3/6/9 of 90 epochs (96.7%, 93.3%, 90% acceleration), scored by
MAE and the monotonicity score (metrics.py). The protocol is reproduced exactly (see
PROTOCOL NOTES below); feature_selection.py (paper 2) reuses it from here.

PROTOCOL NOTES (what decides exactness)
- the table is sorted with pandas sort_values('MaxAccuracy') (default, unstable kind); that order
  is the ground-truth rank of the test rows (IsTest == 1);
- NumParams and NumMACs are replaced by their natural log before anything else;
- per (regressor, feature set) the estimator is built once; for each seed in SEEDS: random.seed,
  numpy.random.seed, StandardScaler fitted on the train rows, fit, predict; no random_state;
- of the 5 runs the one with the median violation count is kept (stable sort by violations,
  index 2); MAE and score are rounded to 4 decimals on output.
"""
import random

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor

import metrics
from common import InputError

# ----------------------------------------------------------------------------- protocol settings
SEEDS = tuple(range(20220905, 20220910))
MEDIAN_RUN = len(SEEDS) // 2
TARGET = "MaxAccuracy"
LOG_COLUMNS = ("NumParams", "NumMACs")
SCHEME_FEATURES = ["NumParams", "NumStages"]
FULL_SCHEME_FEATURES = ["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth"]
EPOCH_FEATURES = ("LossMean", "LossMedian", "Accuracy")
QUANT_EPOCHS = (3, 6, 9)
NUM_EPOCHS_TOTAL = 90
ENSEMBLE_SIZES = (25, 50, 100, 200)
KNN_KS = (1, 3, 5, 7, 9)
SVR_KERNELS = (("rbf", "RBF"), ("poly", "Polynomial"), ("linear", "Linear"))
SVR_SETTINGS = dict(epsilon=0.001, C=0.1)


def epoch_features(k):
    """e1LossMean, e1LossMedian, e1Accuracy, ... up to epoch k."""
    return [f"e{e}{f}" for e in range(1, k + 1) for f in EPOCH_FEATURES]


FEATURE_SETS = {"Scheme": SCHEME_FEATURES}
for _k in QUANT_EPOCHS:
    FEATURE_SETS[f"Scheme + Quantitative {_k} epochs"] = FULL_SCHEME_FEATURES + epoch_features(_k)


def power_regression(d):
    """Least squares on y^(1/d) - 1, predicting (y_hat + 1)^d: 'Linear Regression (D=d)'."""
    return TransformedTargetRegressor(LinearRegression(), func=lambda y: np.power(y, 1 / d) - 1,
                                      inverse_func=lambda y: np.power(y + 1, d), check_inverse=False)


# name -> factory of a fresh, unfitted estimator; the order is the order of the results table
REGRESSORS = {f"{k}-NN": (lambda k=k: KNeighborsRegressor(n_neighbors=k, algorithm="brute")) for k in KNN_KS}
REGRESSORS["Linear Regression"] = LinearRegression
REGRESSORS["Linear Regression (D=0.5)"] = lambda: power_regression(0.5)
REGRESSORS["Linear Regression (D=0.25)"] = lambda: power_regression(0.25)
REGRESSORS["Decision Tree"] = DecisionTreeRegressor
REGRESSORS.update({f"Gradient Boosting (N={n})": (lambda n=n: GradientBoostingRegressor(n_estimators=n))
                   for n in ENSEMBLE_SIZES})
REGRESSORS.update({f"AdaBoost (N={n})": (lambda n=n: AdaBoostRegressor(n_estimators=n)) for n in ENSEMBLE_SIZES})
REGRESSORS.update({f"SVR ({label} kernel)": (lambda k=k: SVR(kernel=k, **SVR_SETTINGS)) for k, label in SVR_KERNELS})
REGRESSORS.update({f"Random Forest (N={n})": (lambda n=n: RandomForestRegressor(n_estimators=n))
                   for n in ENSEMBLE_SIZES})


# ----------------------------------------------------------------------------- data
def load_dataset(path, columns):
    """Read a NAAP-440 CSV, check `columns` (+ IsTest, MaxAccuracy), log-transform, sort.

    Returns the table sorted by MaxAccuracy as the protocol sorts it. Raises InputError (one line
    naming the file) for a missing or unreadable file, missing, non-numeric or NaN columns, fewer
    than 2 test rows, or fewer train rows than the largest k of k-NN.
    """
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None
    needed = list(dict.fromkeys(["IsTest", TARGET, *columns]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in needed:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise InputError(f"{path}: column {c} is not numeric")
        if df[c].isna().any():
            raise InputError(f"{path}: column {c} has missing values (row {int(df[c].isna().to_numpy().argmax()) + 2})")
    for c in LOG_COLUMNS:
        if c in needed:
            if (df[c] <= 0).any():
                raise InputError(f"{path}: column {c} must be positive (its log is a feature)")
            df[c] = np.log(df[c])
    if not df["IsTest"].isin([0, 1]).all():
        raise InputError(f"{path}: column IsTest must be 0 or 1")
    num_test = int((df["IsTest"] == 1).sum())
    if num_test < 2:
        raise InputError(f"{path}: {num_test} test row(s); the monotonicity score needs at least 2")
    num_train = len(df) - num_test
    if num_train < max(KNN_KS):
        raise InputError(f"{path}: {num_train} train row(s); {max(KNN_KS)}-NN needs at least {max(KNN_KS)}")
    return df.sort_values(TARGET)


def split(df, columns):
    """(X_train, y_train, X_test, y_test) as float arrays, rows in the table's (sorted) order."""
    train, test = df[df["IsTest"] == 0], df[df["IsTest"] == 1]
    return (train[columns].to_numpy(float), train[TARGET].to_numpy(float),
            test[columns].to_numpy(float), test[TARGET].to_numpy(float))


# ----------------------------------------------------------------------------- protocol
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)


def score_run(pred, y_test, seed):
    violations, max_violations, score = metrics.monotonicity(pred)
    return dict(pred=pred, mae=metrics.mae(pred, y_test), violations=violations,
                max_violations=max_violations, score=score, seed=seed)


def median_run(runs):
    """The run whose violation count is the median: stable sort by violations, index 2 of 5."""
    return sorted(runs, key=lambda r: r["violations"])[MEDIAN_RUN]


def evaluate(names, X_train, y_train, X_test, y_test, noise_std=0.0, seeds=SEEDS):
    """Run the protocol for each regressor in `names` on one feature matrix.

    Test rows must be in ground-truth order. With noise_std > 0 (paper 2), Gaussian noise
    N(0, noise_std) is drawn from the global NumPy generator right after seeding, before the fit,
    and added to the predictions. Returns {name: result of the median run}, each result a dict
    with pred, mae, violations, max_violations, score (unrounded) and seed.
    """
    results = {}
    for name in names:
        estimator = REGRESSORS[name]()
        runs = []
        for seed in seeds:
            seed_everything(seed)
            noise = np.random.normal(0.0, noise_std, len(y_test)) if noise_std > 0 else 0.0
            scaler = StandardScaler().fit(X_train)
            estimator.fit(scaler.transform(X_train), y_train)
            pred = estimator.predict(scaler.transform(X_test)) + noise
            runs.append(score_run(pred, y_test, seed))
        results[name] = median_run(runs)
    return results
