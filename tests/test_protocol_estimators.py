"""naap/protocol/estimators.py: the protocol's own SVR equals libsvm with its own kernel."""
import os
import subprocess
import sys

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


def svr_tables():
    """30 random (X, y, X_test) of 1 to 40 features, 60 training rows and 20 test rows."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        d = int(rng.integers(1, 41))
        yield rng.normal(size=(60, d)) * rng.uniform(0.1, 10, d), rng.normal(size=60), rng.normal(size=(20, d))


# scikit-learn's own SVR, its libsvm's dot products by OpenBLAS's Haswell kernel (needs AVX2 and FMA)
SKLEARN_SVR = """
import sys
import numpy as np
from sklearn.svm import SVR
from threadpoolctl import threadpool_info
tables, epsilon, C = np.load(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
predictions = []
for t in range(len(tables.files) // 3):
    X, y, Xt = (tables[f"{name}{t}"] for name in ("X", "y", "Xt"))
    for kernel in ("linear", "poly", "rbf"):
        predictions.append(SVR(kernel=kernel, gamma="scale", epsilon=epsilon, C=C).fit(X, y).predict(Xt))
np.save(sys.argv[4], predictions)
print(*{i["architecture"] for i in threadpool_info() if "scipy" in i["filepath"]})
"""


def test_sklearn_set_svr_predicts_as_scikit_learn_bit_for_bit(tmp_path):
    tables = list(svr_tables())
    np.savez(tmp_path / "tables.npz", **{f"{name}{t}": a for t, table in enumerate(tables)
                                          for name, a in zip(("X", "y", "Xt"), table)})
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell"}
    argv = [tmp_path / "tables.npz", protocol.SVR_EPSILON, protocol.SVR_C, tmp_path / "svr.npy"]
    arch = subprocess.run([sys.executable, "-c", SKLEARN_SVR, *map(str, argv)], env=env, capture_output=True,
                          text=True, check=True).stdout
    assert arch.split() == ["Haswell"]
    theirs = np.load(tmp_path / "svr.npy")
    svr = protocol.regressors("sklearn")
    ours = np.array([svr[f"SVR ({label} kernel)"]().fit(X, y).predict(Xt)
                     for X, y, Xt in tables for label in ("Linear", "Polynomial", "RBF")])
    assert ours.tobytes() == theirs.tobytes()
    assert not protocol.regressors("paper")["SVR (RBF kernel)"]().openblas
    # libsvm's own order (the "svr_dot" part, 0.20.1) is another model on these tables
    paper_order = protocol.regressors(frozenset({"svr_dot"}))["SVR (Linear kernel)"]
    differ = [not np.array_equal(paper_order().fit(X, y).predict(Xt), theirs[3 * i])
              for i, (X, y, Xt) in enumerate(tables)]
    assert sum(differ) > 5


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
