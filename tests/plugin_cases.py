"""Plug-in predictors for the tests: one that works (cheap) and one per way a plug-in can fail.

Loaded by path (`NAME=tests/plugin_cases.py:FACTORY`), as a user's plug-in would be. The
failures that only happen in the real run are keyed to the train set being larger than the
smoke check's slice (plugins.SMOKE_TRAIN_ROWS rows), so that the smoke check passes them.
"""
import numpy as np
from sklearn.linear_model import Ridge

SMOKE_LIMIT = 40  # plugins.SMOKE_TRAIN_ROWS; not imported: a plug-in file knows nothing of the project


def make():
    """The cheap working plug-in: ridge regression."""
    return Ridge(alpha=1.0)


class Seeded:
    """Reads the global NumPy generator at fit time, as the protocol's unseeded baselines do:
    each seed gives a different fit."""

    def fit(self, X, y):
        self.w = np.random.normal(size=X.shape[1])
        self.b = float(np.mean(y))
        return self

    def predict(self, X):
        return self.b + 1e-3 * (X @ self.w)


def make_seeded():
    return Seeded()


class Broken:
    """fail: where it goes wrong ('fit', 'predict', 'length', 'nan', 'inf', 'exit', 'complex', 'bool'); late: only on
    the real run's train set, not on the smoke check's slice."""

    def __init__(self, fail, late=False):
        self.fail, self.late = fail, late

    def _now(self, n_train):
        return not self.late or n_train > SMOKE_LIMIT

    def fit(self, X, y):
        self.n_train = len(X)
        if self.fail == "fit" and self._now(self.n_train):
            raise ValueError("this plug-in cannot fit\nsecond line of the message")
        if self.fail == "exit" and self._now(self.n_train):
            raise SystemExit(3)
        return None  # not self: the protocol must not rely on it

    def predict(self, X):
        pred = np.full(len(X), 0.7)
        if not self._now(self.n_train):
            return pred
        if self.fail == "predict":
            raise RuntimeError("this plug-in cannot predict")
        if self.fail == "length":
            return pred[:-1]
        if self.fail == "nan":
            pred[1] = np.nan
        if self.fail == "inf":
            pred[0] = np.inf
        if self.fail == "complex":  # a cast to float would keep 0.7 and drop the 1j
            return pred + 1j
        if self.fail == "bool":
            return pred > 0.5
        return pred


def raises_in_fit():
    return Broken("fit")


def raises_in_fit_late():
    return Broken("fit", late=True)


def raises_in_predict():
    return Broken("predict")


def exits_in_fit_late():
    return Broken("exit", late=True)


def wrong_length():
    return Broken("length")


def wrong_length_late():
    return Broken("length", late=True)


def nan_predictions():
    return Broken("nan")


def inf_predictions_late():
    return Broken("inf", late=True)


def complex_predictions_late():
    return Broken("complex", late=True)


def bool_predictions():
    return Broken("bool")


class PredictOnly:
    def predict(self, X):
        return np.zeros(len(X))


def no_fit():
    return PredictOnly()


def factory_raises():
    raise RuntimeError("no model today")


not_callable = 42
