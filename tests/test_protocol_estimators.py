"""naap/protocol/estimators.py: the protocol's own SVR equals libsvm with its own kernel."""
import numpy as np
import pytest
from sklearn.svm import SVR

from naap import protocol
from naap.replica.rules import PAPER_VERSION, REPLICA_VERSION


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf"])
def test_precomputed_kernel_svr_predicts_as_libsvm_with_its_own_kernel(kernel):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    Xt = rng.normal(size=(15, 4))
    settings = dict(epsilon=protocol.SVR_EPSILON, C=protocol.SVR_C)
    ours = protocol.ProtocolSVR(kernel, "auto").fit(X, y).predict(Xt)
    theirs = SVR(kernel=kernel, gamma=1 / 4, **settings).fit(X, y).predict(Xt)
    # the same model; only the last bits of BLAS's dot products may differ
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_paper_lstsq_keeps_the_small_singular_value_that_today_cuts_off():
    """The "lstsq" rule: 0.20.1 called scipy's lstsq with its default cutoff (machine epsilon times
    the largest singular value); scikit-learn 1.9.1 passes its tol=1e-6 as the cutoff. Columns a and
    a + d, d tiny and orthogonal to a (singular values about 2^-31 apart in ratio), and y = a + 4d =
    -3 * a + 4 * (a + d) exactly (dyadic values, zero means: the centring is exact): the paper's fit
    finds that exact solution; today's cutoff drops d's direction and misses y by about 2d."""
    a = np.tile([1.0, -1.0], 32)
    d = 2.0 ** -30 * np.tile([1.0, 1.0, -1.0, -1.0], 16)
    X, y = np.column_stack([a, a + d]), a + 4 * d
    paper = protocol.ProtocolLinear(PAPER_VERSION).fit(X, y)
    # coefficients to the condition number (~2^31) times epsilon; the fit itself to a few ulps
    assert np.allclose(paper.coef_, [-3.0, 4.0], rtol=1e-5, atol=0)
    assert np.abs(paper.predict(X) - y).max() < 1e-13
    today = protocol.ProtocolLinear(REPLICA_VERSION).fit(X, y)
    assert np.abs(today.predict(X) - y).max() > 1e-9
    # the estimator sets switch it by the "lstsq" part alone
    on = protocol.regressors(frozenset({"lstsq"}))["Linear Regression"]().fit(X, y).predict(X)
    off = protocol.regressors(frozenset())["Linear Regression"]().fit(X, y).predict(X)
    assert np.array_equal(on, paper.predict(X)) and np.array_equal(off, today.predict(X))
