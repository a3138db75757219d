"""NGBoost with a Normal distribution: a predictor of the mean and of its uncertainty.

Library module (no command line, no work at import: ngboost loads when the factory is first
called). make_ngboost() returns a fresh NGBoostNormal whose predict(X) gives the predicted
mean, and predict(X, return_std=True) (mean, standard deviation), as scikit-learn's
GaussianProcessRegressor does. Its fit draws nothing (every row in every round, a fixed tree
seed): make_ngboost.seed_free tells the protocol that one fit serves every seed.
"""
import functools

import numpy as np

from naap.predictors.gbdt import MAX_DEPTH

N_ESTIMATORS = 100  # boosting rounds: each fits a tree per parameter and runs a line search (slow in Python)
LEARNING_RATE = 0.1  # NGBoost's default 0.01 needs its default 500 rounds
# every row in every round and a fixed seed for the trees' tie-breaks: the fit draws nothing, so one
# fit serves all the protocol's seeds (make_ngboost.seed_free), a fifth of the time of five fits
TREE_SEED = 0


@functools.lru_cache(maxsize=1)
def _normal_distribution():
    """NGBoost's Normal with its log score in closed form. ngboost's Normal builds a frozen
    scipy.stats.norm for every evaluation of the line search (about half of a fit's time, most of
    it scipy's docstring formatting); this one builds it only when something asks for it."""
    from ngboost.distns import Normal
    from ngboost.distns.normal import NormalCRPScore, NormalLogScore
    from ngboost.scores import LogScore

    class ClosedFormLogScore(NormalLogScore, LogScore):  # LogScore last: ngboost finds a score by its last base
        def score(self, Y):
            z = (Y - self.loc) / self.scale
            return 0.5 * z * z + np.log(self.scale) + HALF_LOG_TWO_PI

    class LazyNormal(Normal):
        scores = [ClosedFormLogScore, NormalCRPScore]

        def __init__(self, params):
            self._params = params
            self.loc = params[0]
            self.scale = np.exp(params[1])
            self.var = self.scale ** 2

        @property
        def dist(self):
            from scipy.stats import norm
            return norm(loc=self.loc, scale=self.scale)

    return LazyNormal


HALF_LOG_TWO_PI = 0.5 * np.log(2 * np.pi)  # the normal density's constant, log sqrt(2 pi)


class NGBoostNormal:
    """NGBRegressor (Normal, log score, natural gradient) with a predict that also gives the std."""

    def __init__(self):
        from ngboost import NGBRegressor
        from sklearn.tree import DecisionTreeRegressor
        base = DecisionTreeRegressor(criterion="squared_error", max_depth=MAX_DEPTH, random_state=TREE_SEED)
        self.model = NGBRegressor(Dist=_normal_distribution(), Base=base, n_estimators=N_ESTIMATORS,
                                  learning_rate=LEARNING_RATE, minibatch_frac=1.0, col_sample=1.0,
                                  natural_gradient=True, random_state=TREE_SEED, verbose=False)

    def fit(self, X, y):
        self.model.fit(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
        return self

    def predict(self, X, return_std=False):
        """The predicted mean of each row, or (mean, std) with return_std."""
        dist = self.model.pred_dist(np.asarray(X, dtype=float))
        mean = np.asarray(dist.loc, dtype=float)
        return (mean, np.asarray(dist.scale, dtype=float)) if return_std else mean


def make_ngboost():
    """A fresh NGBoostNormal; its fit draws nothing (seed_free)."""
    return NGBoostNormal()


make_ngboost.seed_free = True
