"""scikit-learn 0.20.1's brute-force k-NN regression, as numpy 1.15.4 computed it.

The paper's k-NN rows were made with scikit-learn 0.20.1 on numpy 1.15.4. Which training rows at
equal distance become neighbours, in which order their y are added, and how numpy adds them
decide the last bits of the predictions and, through ties, the neighbours themselves; today's
KNeighborsRegressor picks tied neighbours differently (and by its OpenMP thread count). This
module re-does the old choice and the old mean in plain scalar code (numba without fastmath, no
BLAS), the same on every CPU (naap.protocol.estimators' k-NN under the "knn" rule).

Written from scikit-learn 0.20.1's `sklearn/neighbors/base.py` 298-331 (`_kneighbors_reduce_func`:
argpartition at n_neighbors - 1, the first n_neighbors columns, reordered by argsort of their
distances), `neighbors/regression.py` 157-166 (uniform weights: `np.mean(_y[neigh_ind], axis=1)`
with _y of shape (n, 1)), `metrics/pairwise.py` 224-258 (`euclidean_distances(squared=True)`:
-2 * dot, + XX, + YY, then np.maximum with 0, numpy 1.15.4 `umath/loops.c.src` 1855-1885); the
mean is numpy 1.15.4's add-reduce (`umath/reduction.c` 490-495 fills the result with the identity
0, `umath/loops.c.src` 1668-1728 pairwise summation). The argpartition and argsort are
numpy_1_15_introselect's and numpy_1_15_quicksort's.
    knn_predict_0_20_1(X_train, y_train, X_test, k) -> float64 (n_test,)

Not reproduced: the order of the sums inside the distances. The dot products went through the
BLAS of 2022 (MKL's dgemm in Anaconda 2018.12), which cannot be replayed. The squared row norms
were `np.einsum('ij,ij->i', X, X)` (0.20.1 `utils/extmath.py` 88); numpy 1.15.4's einsum
(`multiarray/einsum.c.src` 569-665) adds the products from the last to the first below 8 features
and in two interleaved SSE2 lanes from 8 on. Here both are plain left-to-right sums in numba, the
same on every CPU. Exact duplicates of training rows get equal distances either way.

numpy's recursive pairwise sum runs on an explicit stack: numba's on-disk cache (cache=True)
crashed when loading a self-recursive function in this environment.
"""
import numpy as np
from numba import njit

from naap.replica import fixedmath
from naap.replica.fixedmath import squared_norms
from naap.replica.numba_cache import depends_on
from naap.replica.numpy_1_15_introselect import argpartition_key_rows
from naap.replica.numpy_1_15_quicksort import argsort_key_rows
from naap.replica.numpy_1_15_sort_common import sort_keys

# numpy 1.15.4 umath/loops.c.src 31: pairwise summation works in blocks of at most this many
PW_BLOCKSIZE = 128


@njit(cache=True)
def _pairwise_block(a, start, n):
    """pairwise_sum_DOUBLE of numpy 1.15.4 for n <= PW_BLOCKSIZE values a[start:start + n]: a
    plain loop below 8 values, else 8 running sums combined as a tree, then the rest in order."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    r = np.empty(8, np.float64)
    for j in range(8):
        r[j] = a[start + j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[start + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a, start, n):
    """pairwise_sum_DOUBLE of numpy 1.15.4 over a[start:start + n]. Above PW_BLOCKSIZE the C code
    recurses on two halves (the first cut to a multiple of 8) and adds their sums; here the same
    tree is walked with explicit stacks (numba's cache does not load recursive functions reliably).
    """
    if n <= PW_BLOCKSIZE:
        return _pairwise_block(a, start, n)
    # pending nodes (start, length, children done?) and finished sums, at most 2 per tree level
    node_start = np.empty(256, np.int64)
    node_len = np.empty(256, np.int64)
    node_done = np.empty(256, np.bool_)
    sums = np.empty(256, np.float64)
    nsums = 0
    node_start[0] = start
    node_len[0] = n
    node_done[0] = False
    top = 1
    while top > 0:
        top -= 1
        st = node_start[top]
        m = node_len[top]
        if m <= PW_BLOCKSIZE:
            sums[nsums] = _pairwise_block(a, st, m)
            nsums += 1
        elif node_done[top]:
            # both halves are the last two sums: left + right
            sums[nsums - 2] = sums[nsums - 2] + sums[nsums - 1]
            nsums -= 1
        else:
            n2 = m // 2
            n2 -= n2 % 8
            node_done[top] = True
            top += 1
            node_start[top] = st + n2   # right half, summed second
            node_len[top] = m - n2
            node_done[top] = False
            top += 1
            node_start[top] = st        # left half, summed first
            node_len[top] = n2
            node_done[top] = False
            top += 1
    return sums[0]


@depends_on(fixedmath)  # squared_norms
@njit(cache=True)
def _squared_distances(X_test, X_train):
    """euclidean_distances(X_test, X_train, squared=True) of 0.20.1, with fixed left-to-right sums
    in place of einsum (row norms) and BLAS (dot products)."""
    m, f = X_test.shape
    n = X_train.shape[0]
    xx = squared_norms(X_test)
    yy = squared_norms(X_train)
    dist = np.empty((m, n), np.float64)
    for i in range(m):
        for t in range(n):
            dot = 0.0
            for j in range(f):
                dot += X_test[i, j] * X_train[t, j]
            d = dot * -2.0
            d += xx[i]
            d += yy[t]
            # np.maximum(d, 0) of 1.15.4: keeps d when d >= 0 or d is NaN (so -0.0 stays)
            if not (d >= 0.0 or d != d):
                d = 0.0
            dist[i, t] = d
    return dist


@njit(cache=True)
def _mean_rows(values):
    """np.mean(values[:, :, None], axis=1)[:, 0] as numpy 1.15.4 computes it: add.reduce starts
    from the identity 0 (reduction.c 490-495) and adds the pairwise sum of the contiguous row
    (the reduced axis is the inner loop), then true_divide by the count."""
    m, k = values.shape
    flat = values.reshape(-1)
    out = np.empty(m, np.float64)
    for i in range(m):
        total = 0.0 + _pairwise_sum(flat, i * k, k)
        out[i] = total / k
    return out


def knn_predict_0_20_1(X_train, y_train, X_test, k):
    """scikit-learn 0.20.1's KNeighborsRegressor(n_neighbors=k, algorithm='brute')
    .fit(X_train, y_train).predict(X_test), uniform weights, Euclidean metric, one output.

    Neighbours: numpy 1.15.4's argpartition of each row of squared distances at k - 1, the first
    k of it, reordered by 1.15.4's argsort of their distances; the prediction is the mean of their
    y in that order. Among training rows at equal distance this is not "lowest row index first".
    """
    X_train = np.ascontiguousarray(X_train, dtype=np.float64)
    X_test = np.ascontiguousarray(X_test, dtype=np.float64)
    y_train = np.ascontiguousarray(y_train, dtype=np.float64)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train {X_train.shape} and X_test {X_test.shape} must be 2-D with the "
                         "same number of columns")
    if y_train.shape != (X_train.shape[0],):
        raise ValueError(f"y_train has shape {y_train.shape}, expected ({X_train.shape[0]},)")
    k = int(k)
    if k <= 0:
        raise ValueError(f"Expected n_neighbors > 0. Got {k}")
    if k > X_train.shape[0]:
        raise ValueError(f"Expected n_neighbors <= n_samples,  but n_samples = {X_train.shape[0]}, "
                         f"n_neighbors = {k}")
    dist = _squared_distances(X_test, X_train)
    keys = sort_keys(dist)
    # _kneighbors_reduce_func: argpartition at k - 1, keep the first k, reorder them by argsort of
    # their distances (compared through the same keys)
    part = argpartition_key_rows(keys, k - 1)[:, :k]
    order = argsort_key_rows(np.ascontiguousarray(np.take_along_axis(keys, part, axis=1)))
    neigh_ind = np.take_along_axis(part, order, axis=1)
    return _mean_rows(np.ascontiguousarray(y_train[neigh_ind]))
