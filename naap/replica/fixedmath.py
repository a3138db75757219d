"""Arithmetic that gives the same bits on every CPU, for the protocol's few machine-dependent spots.

numpy 2 picks SIMD code for log, exp and pow at run time, and on AVX-512 CPUs it differs from the
C library in the last bit (~3 in 100,000 inputs for log, ~5% for pow); BLAS dot products change
with the OpenBLAS kernel. The protocol's results must not. So:
- c_log, c_exp, c_pow, c_logit, c_expit apply the C library's function (Python's math module)
  element by element, with numpy's conventions outside the domain (nan, +-inf) instead of errors;
- dot_rows, squared_norms and libsvm_kernel sum products left to right in plain loops, as libsvm's own dot
  product did (scikit-learn 0.20.1's sklearn/svm/src/libsvm/svm.cpp, Kernel::dot), so that the
  kernel matrix handed to libsvm as 'precomputed' is the same on every machine.
numba compiles the loops without fast-math, so no sum is reassociated or fused.
"""
import math

import numpy as np
from numba import njit

KERNEL_CODES = {"linear": 0, "poly": 1, "rbf": 2}


def _elementwise(fn, values, *args):
    values = np.asarray(values, dtype=float)
    out = np.empty(values.shape)
    flat = out.reshape(-1)
    for i, v in enumerate(values.reshape(-1).tolist()):
        try:
            flat[i] = fn(v, *args)
        except OverflowError:
            flat[i] = math.inf
        except (ValueError, ZeroDivisionError):
            flat[i] = math.nan
    return out


def _log(v):
    if v == 0.0:
        return -math.inf
    return math.log(v) if v > 0 or math.isnan(v) else math.nan


def _pow(base, exponent):
    if base == 0.0 and exponent < 0:
        return math.inf
    return math.pow(base, exponent)


def _logit(p):
    return _log(p / (1.0 - p)) if p != 1.0 else math.inf


def _expit(x):
    # exp(-x) overflows below x = -709.78; the limit there is 0
    return 1.0 / (1.0 + math.exp(-x)) if x > -709.0 else 0.0


def c_log(values):
    """Natural log, element by element, by the C library; 0 -> -inf, negative -> nan."""
    return _elementwise(_log, values)


def c_exp(values):
    """exp, element by element, by the C library; overflow -> inf."""
    return _elementwise(math.exp, values)


def c_pow(values, exponent):
    """values ** exponent, element by element, by the C library; no real result -> nan."""
    return _elementwise(_pow, values, float(exponent))


def c_logit(values):
    """log(p / (1 - p)), element by element."""
    return _elementwise(_logit, values)


def c_expit(values):
    """1 / (1 + exp(-x)), element by element."""
    return _elementwise(_expit, values)


@njit(cache=True)
def dot_rows(A, B):
    """out[i, j] = sum over k of A[i, k] * B[j, k], summed left to right (no BLAS)."""
    n, m, d = A.shape[0], B.shape[0], A.shape[1]
    out = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            s = 0.0
            for k in range(d):
                s += A[i, k] * B[j, k]
            out[i, j] = s
    return out


@njit(cache=True)
def squared_norms(A):
    """out[i] = sum over k of A[i, k] * A[i, k], summed left to right (no einsum, no BLAS)."""
    out = np.empty(A.shape[0])
    for i in range(A.shape[0]):
        s = 0.0
        for k in range(A.shape[1]):
            s += A[i, k] * A[i, k]
        out[i] = s
    return out


@njit(cache=True)
def _powi(base, times):
    # libsvm's powi: square-and-multiply, in this order
    tmp = base
    ret = 1.0
    t = times
    while t > 0:
        if t % 2 == 1:
            ret *= tmp
        tmp = tmp * tmp
        t //= 2
    return ret


@njit(cache=True)
def _kernel(code, A, B, gamma, coef0, degree, training):
    n, m, d = A.shape[0], B.shape[0], A.shape[1]
    out = np.empty((n, m))
    if code == 2 and training:
        # Kernel::kernel_rbf: exp(-gamma * (|a|^2 + |b|^2 - 2 a.b)), squares by dot()
        sq_a = squared_norms(A)
        sq_b = squared_norms(B)
    for i in range(n):
        for j in range(m):
            if code == 2 and not training:
                # Kernel::k_function's RBF (prediction): sum of squared differences
                s = 0.0
                for k in range(d):
                    diff = A[i, k] - B[j, k]
                    s += diff * diff
                out[i, j] = math.exp(-gamma * s)
                continue
            s = 0.0
            for k in range(d):
                s += A[i, k] * B[j, k]
            if code == 0:
                out[i, j] = s
            elif code == 1:
                out[i, j] = _powi(gamma * s + coef0, degree)
            else:
                out[i, j] = math.exp(-gamma * (sq_a[i] + sq_b[j] - 2 * s))
    return out


def libsvm_kernel(kind, A, B, gamma, coef0, degree, training):
    """The kernel matrix K[i, j] = k(A[i], B[j]) exactly as libsvm computes it: while training
    (training=True, A is B) through Kernel::kernel_*, at prediction through Kernel::k_function
    (whose RBF sums squared differences instead of expanding the square)."""
    return _kernel(KERNEL_CODES[kind], np.ascontiguousarray(A, dtype=np.float64),
                   np.ascontiguousarray(B, dtype=np.float64), float(gamma), float(coef0), int(degree),
                   bool(training))
