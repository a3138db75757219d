"""naap/replica/fixedmath.py: the C library's functions element by element, and libsvm's kernels
without BLAS or in OpenBLAS Haswell's order. (The protocol's SVR on these kernels against libsvm:
test_protocol_estimators.py.)"""
import math
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

from naap.replica import fixedmath

ROOT = Path(__file__).resolve().parent.parent


def test_c_functions_follow_numpy_conventions_outside_the_domain():
    with np.errstate(all="ignore"):
        values = np.array([0.0, -1.0, 1.0, np.e, np.inf, np.nan, 1e-300])
        assert np.array_equal(fixedmath.c_log(values), np.log(values), equal_nan=True)
        big = np.array([-1000.0, 0.0, 1.0, 710.0, np.nan])
        assert np.array_equal(fixedmath.c_exp(big), np.exp(big), equal_nan=True)
        bases = np.array([4.0, -4.0, 0.0, 2.0])
        assert np.array_equal(fixedmath.c_pow(bases, 0.5), np.power(bases, 0.5), equal_nan=True)
        assert fixedmath.c_pow(np.array([0.0]), -1.0)[0] == math.inf
        assert np.array_equal(fixedmath.c_logit(np.array([0.5, 1.0, 0.0, 2.0])), [0.0, math.inf, -math.inf, math.nan],
                              equal_nan=True)
        assert np.array_equal(fixedmath.c_expit(np.array([0.0, -800.0, 800.0])), [0.5, 0.0, 1.0])


def test_c_functions_are_the_c_library_value_by_value():
    x = np.random.default_rng(0).uniform(0.01, 5.0, 500)
    assert fixedmath.c_log(x).tolist() == [math.log(v) for v in x]
    assert fixedmath.c_pow(x, 0.25).tolist() == [math.pow(v, 0.25) for v in x]
    assert fixedmath.c_exp(x).tolist() == [math.exp(v) for v in x]



def test_pow_each_is_the_c_library_pow_value_by_value():
    rng = np.random.default_rng(3)
    exponents = np.concatenate([[0.0, 1.0, 0.5, 5e-324], rng.uniform(0.0, 1.0, 2000)])
    for base in [1e-300, 1e-9, 0.37, 0.5, 0.999999, *rng.uniform(0.0, 1.0, 20)]:
        ours = fixedmath.pow_each(float(base), exponents)
        assert ours.tolist() == [math.pow(base, e) for e in exponents.tolist()], base
    # one opaque call of the C library's pow per value: no LLVM pow that a vector library
    # (numba with SVML) could replace
    fresh = numba.njit(fixedmath.pow_each.py_func)  # uncached, so its code can be shown
    fresh(0.5, exponents)
    ir = "\n".join(fresh.inspect_llvm().values())
    assert "call double @pow(" in ir and "llvm.pow" not in ir

def test_dot_rows_sums_left_to_right():
    # 1e16 + 1 - 1e16: left to right loses the 1 (1e16 + 1 rounds to 1e16); a pairwise or
    # reordered sum (1 - 1e16 first, or 1e16 - 1e16 first) would not give the same
    a = np.array([[1e16, 1.0, -1e16]])
    b = np.array([[1.0, 1.0, 1.0]])
    assert fixedmath.dot_rows(a, b)[0, 0] == 0.0
    a2 = np.array([[1e16, -1e16, 1.0]])
    assert fixedmath.dot_rows(a2, b)[0, 0] == 1.0


def test_poly_kernel_is_libsvm_powi():
    # powi(2.5, 3) by square-and-multiply: ret = 2.5, tmp = 6.25, ret = 2.5 * 6.25 = 15.625
    A = np.array([[1.0, 2.0]])
    K = fixedmath.libsvm_kernel("poly", A, A, 0.5, 0.0, 3, True)  # gamma * dot = 0.5 * 5 = 2.5
    assert K[0, 0] == 15.625


def test_rbf_kernel_training_expands_the_square_prediction_does_not():
    A = np.array([[0.1, 0.2], [0.3, 0.7]])
    train = fixedmath.libsvm_kernel("rbf", A, A, 0.5, 0.0, 3, True)
    pred = fixedmath.libsvm_kernel("rbf", A, A, 0.5, 0.0, 3, False)
    sq = [a @ a for a in A]
    dot = A[0, 0] * A[1, 0] + A[0, 1] * A[1, 1]
    assert train[0, 1] == math.exp(-0.5 * (sq[0] + sq[1] - 2 * dot))
    d = (A[0, 0] - A[1, 0]) ** 2 + (A[0, 1] - A[1, 1]) ** 2
    assert pred[0, 1] == math.exp(-0.5 * d)
    assert pred[0, 0] == 1.0


def test_haswell_ddot_fuses_the_blocks_but_not_the_tail():
    # a = 1 + 2^-30: a * a = 1 + 2^-29 + 2^-60, whose 2^-60 a rounded product loses. Terms 0 and 16
    # share an accumulator: fma(a, a, c) with c = -(1 + 2^-29) leaves exactly 2^-60, where a
    # sequential sum (c + round(a * a)) gives 0. Past the blocks of 16 the products are rounded.
    a, c = 1 + 2.0 ** -30, -(1 + 2.0 ** -29)
    x, y = np.zeros(32), np.zeros(32)
    x[0], y[0], x[16], y[16] = c, 1.0, a, a
    assert fixedmath.haswell_ddot(x, y) == 2.0 ** -60
    assert fixedmath.dot_rows(x[None, :], y[None, :])[0, 0] == 0.0
    tail = np.array([c, a]), np.array([1.0, a])
    assert fixedmath.haswell_ddot(*tail) == 0.0


def vector_pairs():
    """x, y of 1 to 69 terms (none, some or several blocks of 16), magnitudes from 1e-4 to 1e4."""
    rng = np.random.default_rng(7)
    for n in list(range(1, 70)) * 4:
        yield rng.normal(size=n) * 10.0 ** rng.uniform(-4, 4, n), rng.normal(size=n)


def run_child(code, out, **env):
    """Run code in a fresh interpreter (sys.argv[1] = out) with env added; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout


# scipy's BLAS, which scikit-learn's libsvm calls, with OpenBLAS's Haswell kernel (needs AVX2 and FMA)
OPENBLAS_DDOT = """
import sys
import numpy as np
import scipy.linalg.blas
from threadpoolctl import threadpool_info
from tests.test_fixedmath import vector_pairs
np.save(sys.argv[1], [scipy.linalg.blas.ddot(x, y) for x, y in vector_pairs()])
print(*{i["architecture"] for i in threadpool_info() if "scipy" in i["filepath"]})
"""


def test_haswell_ddot_is_openblas_haswell_ddot(tmp_path):
    out = tmp_path / "ddot.npy"
    assert run_child(OPENBLAS_DDOT, out, OPENBLAS_CORETYPE="Haswell").split() == ["Haswell"]
    theirs = np.load(out)
    ours = np.array([fixedmath.haswell_ddot(x, y) for x, y in vector_pairs()])
    assert ours.tobytes() == theirs.tobytes()
    sequential = np.array([fixedmath.dot_rows(x[None, :], y[None, :])[0, 0] for x, y in vector_pairs()])
    assert (sequential != theirs).sum() > 10  # the order matters on these vectors


# haswell_ddot compiled for a CPU without FMA: llvm.fma becomes a call of the C library's fma()
NO_FMA_DDOT = """
import sys
import numpy as np
from numba.core import config
from naap.replica import fixedmath
from tests.test_fixedmath import vector_pairs
assert config.CPU_NAME == "generic" and config.CPU_FEATURES == ""
np.save(sys.argv[1], [fixedmath.haswell_ddot(x, y) for x, y in vector_pairs()])
asm = fixedmath.haswell_ddot.inspect_asm(fixedmath.haswell_ddot.signatures[0])
print("vfmadd" in asm, "$fma" in asm)
"""


def test_haswell_ddot_is_the_same_bytes_without_fma(tmp_path):
    out = tmp_path / "ddot.npy"
    # a cache of its own: the child compiles (and can show its code) rather than load
    flags = run_child(NO_FMA_DDOT, out, NUMBA_CPU_NAME="generic", NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    assert flags.split() == ["False", "True"]  # no FMA instruction; a call of fma()
    ours = np.array([fixedmath.haswell_ddot(x, y) for x, y in vector_pairs()])
    assert np.load(out).tobytes() == ours.tobytes()
