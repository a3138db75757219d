"""Arithmetic that gives the same bits on every CPU, for the protocol's few machine-dependent spots.

numpy 2 picks SIMD code for log, exp and pow at run time, and on AVX-512 CPUs it differs from the
C library in the last bit (~3 in 100,000 inputs for log, ~5% for pow); BLAS dot products change
with the OpenBLAS kernel. The protocol's results must not. So:
- c_log, c_exp, c_pow, c_logit, c_expit apply the C library's function (Python's math module)
  element by element, with numpy's conventions outside the domain (nan, +-inf) instead of errors;
- dot_rows, squared_norms and libsvm_kernel sum products left to right in plain loops, as libsvm's own dot
  product did (scikit-learn 0.20.1's sklearn/svm/src/libsvm/svm.cpp, Kernel::dot), so that the
  kernel matrix handed to libsvm as 'precomputed' is the same on every machine;
- libsvm_kernel(..., openblas=True) takes each dot product as scikit-learn 1.9.1's libsvm does, from
  BLAS's ddot, in the order of OpenBLAS's Haswell kernel (haswell_ddot), with its fused multiply-adds
  done by LLVM's llvm.fma (one rounding: the CPU's FMA instruction, or the C library's fma() where
  the CPU has none), so that the Haswell kernel's results come out on every CPU;
- pow_each is the C library's pow (math.pow's) in a compiled loop, for AdaBoost's reweighting.
numba compiles the loops without fast-math, so no other sum is reassociated or fused.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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
def _from_dot(code, s, gamma, coef0, degree, sq_a, sq_b):
    # libsvm's kernel of two rows from their dot product s (and, for the RBF, their squared norms)
    if code == 0:
        return s
    if code == 1:
        return _powi(gamma * s + coef0, degree)
    return math.exp(-gamma * (sq_a + sq_b - 2 * s))


@njit(cache=True)
def _kernel(code, A, B, gamma, coef0, degree, training):
    n, m, d = A.shape[0], B.shape[0], A.shape[1]
    out = np.empty((n, m))
    # Kernel::kernel_rbf: exp(-gamma * (|a|^2 + |b|^2 - 2 a.b)), squares by dot(); unused otherwise
    sq_a, sq_b = (squared_norms(A), squared_norms(B)) if code == 2 and training else (np.zeros(n), np.zeros(m))
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
            out[i, j] = _from_dot(code, s, gamma, coef0, degree, sq_a[i], sq_b[j])
    return out


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma: never split into a product and a sum)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(double, [double] * 3), "llvm.fma.f64")
        return builder.call(fn, args)
    return sig, codegen


@intrinsic
def _libm_pow(typingctx, base, exponent):
    """The C library's pow(base, exponent), the function Python's math.pow calls, as an opaque
    call (nobuiltin): LLVM may not fold, simplify or vectorize it (numba with Intel's SVML would
    otherwise put SVML's vector pow in a loop of these)."""
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(double, [double] * 2), "pow")
        fn.attributes.add("nobuiltin")
        return builder.call(fn, args)
    return sig, codegen


@njit(cache=True)
def pow_each(base, exponents):
    """[math.pow(base, e) for e in exponents] as an array, compiled: for a finite base > 0 and
    finite exponents whose powers are finite, where math.pow raises nothing (AdaBoost's
    beta ** (1 - error))."""
    out = np.empty(exponents.shape[0])
    for i in range(exponents.shape[0]):
        out[i] = _libm_pow(base, exponents[i])
    return out


@njit(cache=True)
def haswell_ddot(x, y):
    """ddot(n, x, 1, y, 1) as OpenBLAS's Haswell kernel sums it (kernel/x86_64/ddot.c with
    ddot_microk_haswell-2.c), for n up to 10,000 (above, OpenBLAS may split it among threads).
    The first n & -16 terms go to 16 accumulators (four AVX registers of four lanes; term t to
    accumulator t % 16) by fused multiply-adds; the registers' halves are added, then the
    registers pairwise, then the two lanes; the remaining terms are added one by one, each
    product rounded before the sum (the tail loop is compiled without FMA contraction)."""
    n = x.shape[0]
    blocked = n & -16
    acc = np.zeros(16)
    for start in range(0, blocked, 16):
        for t in range(16):
            acc[t] = _fma(x[start + t], y[start + t], acc[t])
    dot = 0.0
    if blocked:
        # register r holds acc[4r:4r+4]; lanes 0,1 take lanes 2,3 (vextractf128 + vaddpd)
        half = np.empty(8)
        for r in range(4):
            half[2 * r] = acc[4 * r] + acc[4 * r + 2]
            half[2 * r + 1] = acc[4 * r + 1] + acc[4 * r + 3]
        # (r0 + r1) + (r2 + r3) per lane, then lane 0 + lane 1 (vhaddpd)
        lane0 = (half[0] + half[2]) + (half[4] + half[6])
        lane1 = (half[1] + half[3]) + (half[5] + half[7])
        dot = lane0 + lane1
    for i in range(blocked, n):
        dot += x[i] * y[i]
    return dot


@njit(cache=True)
def _blas_kernel(code, A, B, gamma, coef0, degree, training):
    # scikit-learn 1.9.1's svm.cpp: the same kernels as _kernel, each dot product by BLAS
    n, m = A.shape[0], B.shape[0]
    out = np.empty((n, m))
    # x_square[i] = dot(x[i], x[i]) for the RBF while training; unused otherwise
    sq_a, sq_b = np.zeros(n), np.zeros(m)
    if code == 2 and training:
        sq_a = np.array([haswell_ddot(A[i], A[i]) for i in range(n)])
        sq_b = np.array([haswell_ddot(B[j], B[j]) for j in range(m)])
    for i in range(n):
        for j in range(m):
            if code == 2 and not training:
                # k_function's RBF: the differences into an array, then ddot of it with itself
                diff = A[i] - B[j]
                out[i, j] = math.exp(-gamma * haswell_ddot(diff, diff))
                continue
            s = haswell_ddot(A[i], B[j])
            out[i, j] = _from_dot(code, s, gamma, coef0, degree, sq_a[i], sq_b[j])
    return out


def libsvm_kernel(kind, A, B, gamma, coef0, degree, training, openblas=False):
    """The kernel matrix K[i, j] = k(A[i], B[j]) exactly as libsvm computes it: while training
    (training=True, A is B) through Kernel::kernel_*, at prediction through Kernel::k_function
    (whose RBF sums squared differences instead of expanding the square). Dot products summed
    left to right as 0.20.1's libsvm did, or with openblas=True as 1.9.1's takes them from
    OpenBLAS's Haswell ddot."""
    kernel = _blas_kernel if openblas else _kernel
    return kernel(KERNEL_CODES[kind], np.ascontiguousarray(A, dtype=np.float64),
                  np.ascontiguousarray(B, dtype=np.float64), float(gamma), float(coef0), int(degree),
                  bool(training))
