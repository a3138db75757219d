"""The tree builder's sort: scikit-learn's introsort of a node's feature values, swap for swap.

simultaneous_sort(use_three_way_partition=True) of sklearn/utils/_sorting.pyx (1.9.1), and the
sort of sklearn/tree/_splitter.pyx 540-606 (0.20.1: the same partition and heapsort, down to 1
value, no insertion sort). The order of equal values in the output depends on every swap, and
that order feeds the criterion sums and the next feature's sort, so each swap is reproduced.

For speed a (value, sample) pair travels as one int64: an order-preserving integer key of the
float32 in the high 32 bits (so that `key_a < key_b` exactly when `value_a < value_b`, -0.0 and
+0.0 sharing a key) and the sample in the low 32 bits. Comparisons look at the high half only,
as scikit-learn's look at the value.
"""
import math

import numpy as np
from numba import njit


@njit(cache=True)
def packed_keys(XT):
    """(feature, sample) -> key << 32 | sample, for the float32 matrix XT (features, samples)."""
    n_features, n = XT.shape
    bits = XT.view(np.int32)
    K = np.empty((n_features, n), np.int64)
    for f in range(n_features):
        for i in range(n):
            b = np.int64(bits[f, i])
            if (b & 0x7FFFFFFF) >= 0x7F800000:
                raise ValueError("X contains NaN or infinity")  # the protocol never fits on them
            if b < 0:
                b ^= 0x7FFFFFFF  # negative floats: larger magnitude, smaller key
                if b == -1:
                    b = 0  # -0.0 == +0.0
            K[f, i] = (b << 32) | i
    return K


@njit(cache=True)
def insertion_sort(a, lo, n):
    """1.9.1's insertion sort of a[lo:lo+n] (stable: equal values keep their order)."""
    # Unsigned indices spare numba's negative-index wraparound on every access.
    one = np.uint64(1)
    ulo = np.uint64(lo)
    for i in range(ulo + one, ulo + np.uint64(n)):
        t = a[i]
        tk = t >> 32
        j = i
        while j > ulo and (a[j - one] >> 32) > tk:
            a[j] = a[j - one]
            j -= one
        a[j] = t


@njit(cache=True)
def _sift_down(a, lo, start, end):
    root = start
    while True:
        child = root * 2 + 1
        maxind = root
        if child < end and (a[lo + maxind] >> 32) < (a[lo + child] >> 32):
            maxind = child
        if child + 1 < end and (a[lo + maxind] >> 32) < (a[lo + child + 1] >> 32):
            maxind = child + 1
        if maxind == root:
            break
        t = a[lo + root]
        a[lo + root] = a[lo + maxind]
        a[lo + maxind] = t
        root = maxind


@njit(cache=True)
def heapsort(a, lo, n):
    """The introsort's fallback once a part has used up its depth budget (both releases)."""
    start = (n - 2) // 2
    while True:
        _sift_down(a, lo, start, n)
        if start == 0:
            break
        start -= 1
    end = n - 1
    while end > 0:
        t = a[lo]
        a[lo] = a[lo + end]
        a[lo + end] = t
        _sift_down(a, lo, 0, end)
        end -= 1


@njit(cache=True)
def maxd_0_20_1(n):
    """0.20.1's `2 * <int>log(n)` with _utils.log(x) = ln(x) / ln(2.0): numba's math.log is a
    call of the C library's log, as in 0.20.1. (It equals 2 * floor(log2(n)), 1.9.1's maxd, for
    every n below 2**40: tests/test_tree_sort.py checks it against Python's math.log.)"""
    return 2 * np.intp(math.log(n) / math.log(2.0))


@njit(cache=True, inline="always")
def _median3(a, lo, n):
    """The key of the pivot: the median of the first, middle and last values, as median3 picks it."""
    ka = a[lo] >> 32
    kb = a[lo + n // 2] >> 32
    kc = a[lo + n - 1] >> 32
    if ka < kb:
        if kb < kc:
            return kb
        if ka < kc:
            return kc
        return ka
    if kb < kc:
        if ka < kc:
            return ka
        return kc
    return kb


@njit(cache=True, inline="always")
def _partition_3way(a, lo, n, pivot):
    """The 3-way partition of a[lo:lo+n] around the pivot key: returns (left, r), the values below
    the pivot in [lo, left), equal in [left, r), above in [r, lo+n) (unsigned, as indices)."""
    below = pivot << 32  # packed < below  <=>  value < pivot
    above = (pivot + 1) << 32  # packed >= above  <=>  value > pivot
    one = np.uint64(1)
    i = np.uint64(lo)
    left = i
    r = i + np.uint64(n)
    while i < r:
        x = a[i]
        if x < below:
            a[i] = a[left]
            a[left] = x
            i += one
            left += one
        elif x >= above:
            r -= one
            a[i] = a[r]
            a[r] = x
        else:
            i += one
    return left, r


@njit(cache=True)
def introsort(a, lo, n, stack, full, pair_swap=True):
    """introsort_3way on the packed a[lo:lo+n]. The recursion on the left part becomes an
    explicit stack: parts are disjoint and each carries its own depth budget, so the order in
    which they are finished does not change the result.
    full=False: 1.9.1 (utils/_sorting.pyx): parts of 15 or fewer values are insertion-sorted.
    full=True: 0.20.1 (tree/_splitter.pyx 540-606): partitions down to 1 value, no insertion
    sort; only the cutoff and maxd's formula differ, the partition and heapsort are the same.
    pair_swap=False turns off the 2-value shortcut (the same result; to measure the shortcut)."""
    if n == 0:
        return
    if full:
        maxd = maxd_0_20_1(n)
        cutoff = 1
    else:
        maxd = 2 * np.intp(np.log2(n))
        cutoff = 15
    top = 0
    while True:
        while n > cutoff:
            if n == 2 and maxd > 0 and pair_swap:
                # median3 and the 3-way partition of 2 values come down to a compare-and-swap
                # that leaves equal values in place (the heapsort below would swap them)
                if (a[lo + 1] >> 32) < (a[lo] >> 32):
                    t = a[lo]
                    a[lo] = a[lo + 1]
                    a[lo + 1] = t
                n = 0
                break
            if maxd <= 0:
                heapsort(a, lo, n)
                n = 0
                break
            maxd -= 1
            left, r = _partition_3way(a, lo, n, _median3(a, lo, n))
            if np.intp(left) - lo > 1:
                stack[top, 0] = lo
                stack[top, 1] = np.intp(left) - lo
                stack[top, 2] = maxd
                top += 1
            n -= np.intp(r) - lo
            lo = np.intp(r)
        if n > 1:
            insertion_sort(a, lo, n)
        if top == 0:
            return
        top -= 1
        lo = stack[top, 0]
        n = stack[top, 1]
        maxd = stack[top, 2]
