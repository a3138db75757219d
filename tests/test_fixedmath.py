"""naap/replica/fixedmath.py: the C library's functions element by element, and libsvm's kernels
without BLAS. (The protocol's SVR on these kernels against libsvm: test_protocol_estimators.py.)"""
import math

import numpy as np

from naap.replica import fixedmath


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
