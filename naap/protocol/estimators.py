"""The protocol's estimators: the regressors of both estimator sets that scikit-learn does not
give as they are, made machine-independent (no BLAS dot products, fixed OpenMP threads, the
replica's trees and ensembles), and paper 2's transforms of the linear regressions' target.
naap.protocol.registry builds them by name."""
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import SVR

from naap.protocol.settings import KNN_OMP_THREADS, SVR_C, SVR_COEF0, SVR_DEGREE, SVR_EPSILON
from naap.replica import ensembles, fixedmath
from naap.replica.fixedmath import c_exp, c_expit, c_log, c_logit, c_pow
from naap.replica.knn_0_20_1 import knn_predict_0_20_1
from naap.replica.rules import PAPER_VERSION


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
    """libsvm's epsilon-SVR on a kernel matrix computed here, the same on every CPU: dot products
    summed in libsvm's own order (openblas=False, scikit-learn 0.20.1) or in the order of OpenBLAS's
    Haswell ddot, which 1.9.1's libsvm calls (openblas=True), fused multiply-adds included.
    gamma: 'auto' (1 / n_features, scikit-learn 0.20.1's default) or 'scale' (1.9.1's)."""

    def __init__(self, kernel, gamma, openblas=False):
        self.kernel, self.gamma, self.openblas = kernel, gamma, openblas

    def fit(self, X, y):
        X = np.ascontiguousarray(X, dtype=float)
        if self.gamma == "auto":
            self.gamma_ = 1.0 / X.shape[1]
        else:
            variance = X.var()
            self.gamma_ = 1.0 / (X.shape[1] * variance) if variance != 0 else 1.0
        self.X_ = X
        K = fixedmath.libsvm_kernel(self.kernel, X, X, self.gamma_, SVR_COEF0, SVR_DEGREE, True, self.openblas)
        self.svr_ = SVR(kernel="precomputed", epsilon=SVR_EPSILON, C=SVR_C).fit(K, y)
        return self

    def predict(self, X):
        K = fixedmath.libsvm_kernel(self.kernel, np.ascontiguousarray(X, dtype=float), self.X_, self.gamma_,
                                    SVR_COEF0, SVR_DEGREE, False, self.openblas)
        return self.svr_.predict(K)


class PaperKNN:
    """scikit-learn 0.20.1's brute k-NN (uniform weights), neighbours chosen as numpy 1.15.4 did."""

    def __init__(self, k):
        self.k = k

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        return self

    def predict(self, X):
        return knn_predict_0_20_1(self.X_, self.y_, np.asarray(X, dtype=float), self.k)


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
