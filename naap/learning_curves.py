"""The learning-curve baselines: a model's first k training epochs, read as a prediction.

Library module (no command line, no work at import). baselines.py scores these methods against
paper 1's regressors; its docstring says what each is and where it comes from.

- Rankers (higher ranks higher; no accuracy predicted): early_stopping(table, k) (the accuracy
  after epoch k), sotl(table, k) (minus the sum of the mean training losses of epochs 1..k, Ru et
  al. 2020) and sotl_e(table, k) (minus the mean training loss of epoch k).
- LCE (Domhan et al. 2015 as a point fit): the curves of LCE_CURVES fitted to the accuracies at the
  learning-rate cycle ends (fit_curve) and extrapolated to the last epoch; lce for one model,
  lce_rows for many at several epoch counts.
- LcSVR (Baker et al. 2017): an SVR on the scheme features, the accuracies of epochs 1..k and their
  differences (lcsvr_features), predicting MaxAccuracy (lcsvr).
"""
import math
import warnings

import numpy as np
from scipy.optimize import curve_fit

from naap import protocol
from naap.data import NUM_EPOCHS_TOTAL, epoch_column
from naap.replica import fixedmath
from naap.training import recipe

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


# ----------------------------------------------------------------------------- rankers
def curve(table, feature, k):
    """(rows x k) array of one epoch feature for epochs 1..k."""
    return table[[epoch_column(e, feature) for e in range(1, k + 1)]].to_numpy(float)


def early_stopping(table, k):
    """The accuracy after epoch k: higher ranks higher."""
    return table[epoch_column(k, "Accuracy")].to_numpy(float)


def sotl(table, k):
    """Minus the sum of the mean training losses of epochs 1..k."""
    total = np.zeros(len(table))
    for e in range(1, k + 1):  # left to right: numpy's pairwise sums can differ in the last bit by CPU
        total = total + table[epoch_column(e, "LossMean")].to_numpy(float)
    return -total


def sotl_e(table, k):
    """Minus the mean training loss of epoch k."""
    return -table[epoch_column(k, "LossMean")].to_numpy(float)


# ----------------------------------------------------------------------------- LCE
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


def fit_curve(name, x, y, at=NUM_EPOCHS_TOTAL):
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


# ----------------------------------------------------------------------------- LcSVR
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
