"""naap/protocol/estimators.py: the protocol's own SVR equals libsvm with its own kernel."""
import numpy as np
import pytest
from sklearn.svm import SVR

from naap import protocol


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
