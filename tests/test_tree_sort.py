"""tree_sort.py sorts swap for swap as scikit-learn: 1.9.1's introsort_3way against
sklearn.utils._sorting itself, 0.20.1's full introsort against the transcription of its source
(reference_tree.py), heapsort fallbacks included, and 0.20.1's maxd from the C library's log."""
import math

import numpy as np
from reference_tree import ref_sort
from sklearn.utils._sorting import _py_simultaneous_sort

from naap.replica import tree_sort


def random_sorts(seed, max_n, max_levels, max_lo, full):
    """300 random sorts by tree_sort.introsort: (values, lo, the order it left at lo:). Odd ones of
    float32 integers below a random level count (many ties), even ones of normals; every fifth has
    -0.0 mixed in; lo zeros stand before the sorted range."""
    rs = np.random.RandomState(seed)
    stack = np.empty((500, 3), np.intp)
    for k in range(300):
        n = rs.randint(0, max_n)
        vals = (rs.randint(0, rs.randint(1, max_levels), n) if k % 2 else rs.randn(n)).astype(np.float32)
        if k % 5 == 0:
            vals[rs.rand(n) < 0.3] = -0.0
        lo = rs.randint(0, max_lo)
        packed = tree_sort.packed_keys(np.concatenate([np.zeros(lo, np.float32), vals])[None, :])[0]
        tree_sort.introsort(packed, lo, len(vals), stack, full)
        yield vals, lo, packed[lo:] & 0xFFFFFFFF


def test_introsort_matches_sklearn_simultaneous_sort():
    for vals, lo, order in random_sorts(0, max_n=400, max_levels=50, max_lo=50, full=False):
        n = len(vals)
        ref_vals, ref_idx = vals.copy(), np.arange(lo, lo + n)
        _py_simultaneous_sort(ref_vals, ref_idx, n, use_three_way_partition=True)
        assert np.array_equal(order, ref_idx)


def antiqsort_input(n, cutoff=15):
    """McIlroy's adversary ("A killer adversary for quicksort") run against introsort_3way's
    median-of-3 and 3-way partition: values for which the quicksort exceeds its depth limit, so
    the heapsort fallback runs. Returns (values, whether the fallback was reached)."""
    gas = n
    val = [gas] * n
    state = {"solid": 0, "candidate": 0, "heap": False}

    def less(x, y):
        if val[x] == gas and val[y] == gas:
            val[x if x == state["candidate"] else y] = state["solid"]
            state["solid"] += 1
        if val[x] == gas:
            state["candidate"] = x
        elif val[y] == gas:
            state["candidate"] = y
        return val[x] < val[y]

    items = list(range(n))

    def sort(lo, m, maxd):
        while m > cutoff:
            if maxd <= 0:
                state["heap"] = True
                return
            maxd -= 1
            a, b, c = items[lo], items[lo + m // 2], items[lo + m - 1]
            if less(a, b):
                p = b if less(b, c) else (c if less(a, c) else a)
            elif less(b, c):
                p = a if less(a, c) else c
            else:
                p = b
            i = left = 0
            r = m
            while i < r:
                x = items[lo + i]
                if less(x, p):
                    items[lo + i], items[lo + left] = items[lo + left], items[lo + i]
                    i += 1
                    left += 1
                elif less(p, x):
                    r -= 1
                    items[lo + i], items[lo + r] = items[lo + r], items[lo + i]
                else:
                    i += 1
            sort(lo, left, maxd)
            lo, m = lo + r, m - r

    sort(0, n, 2 * int(np.log2(n)))
    for x in range(n):
        if val[x] == gas:
            val[x] = state["solid"]
            state["solid"] += 1
    return np.array(val, dtype=np.float32), state["heap"]


def test_heapsort_fallback_matches_sklearn():
    stack = np.empty((300, 3), np.intp)
    reached = 0
    for n in (40, 64, 100, 257):
        vals, heap = antiqsort_input(n)
        reached += heap
        for v in (vals, np.floor(vals / 3)):  # distinct values, then ties
            packed = tree_sort.packed_keys(v[None, :])[0]
            tree_sort.introsort(packed, 0, n, stack, False)
            ref_vals, ref_idx = v.copy(), np.arange(n)
            _py_simultaneous_sort(ref_vals, ref_idx, n, use_three_way_partition=True)
            assert np.array_equal(packed & 0xFFFFFFFF, ref_idx)
    assert reached == 4


def test_full_introsort_and_the_insertion_cutoff_order_16_tied_values_differently():
    """values 2, 1, 1, then thirteen 5s (samples 0..15). Both sorts: median3(2, 5, 5) = 5 (2 < 5,
    not 5 < 5, 2 < 5: c); the 3-way partition moves 2, 1, 1 to the front in place (each
    `< pivot` swaps i with itself) and leaves the 5s: left part [2, 1(s1), 1(s2)], nothing
    right of the 5s.
    1.9.1: 3 <= 15, insertion sort (stable): 1(s1), 1(s2), 2 -> 1, 2, 0, 3, ..., 15.
    0.20.1: introsort again on [2, 1(s1), 1(s2)]: median3(2, 1, 1) = b = 1 (not 2 < 1, not
    1 < 1); i=0: 2 > 1, r=2, swap(0, 2) -> [1(s2), 1(s1), 2]; i=0, i=1 equal; l=0, r=2; the
    parts left have 0 and 1 values -> 2, 1, 0, 3, ..., 15."""
    vals = np.array([2, 1, 1] + [5] * 13, np.float32)
    stack = np.empty((20, 3), np.intp)
    orders = {}
    for full in (False, True):
        packed = tree_sort.packed_keys(vals[None, :])[0]
        tree_sort.introsort(packed, 0, 16, stack, full)
        orders[full] = list(packed & 0xFFFFFFFF)
    assert orders[False] == [1, 2, 0] + list(range(3, 16))
    assert orders[True] == [2, 1, 0] + list(range(3, 16))
    ref_vals, ref_idx = vals.copy(), np.arange(16)
    _py_simultaneous_sort(ref_vals, ref_idx, 16, use_three_way_partition=True)
    assert list(ref_idx) == orders[False]  # scikit-learn 1.9.1's own sort


def test_full_introsort_matches_the_transcription():
    for vals, lo, order in random_sorts(23, max_n=300, max_levels=20, max_lo=9, full=True):
        n = len(vals)
        ref_vals, ref_idx = list(vals), list(range(lo, lo + n))
        ref_sort(ref_vals, ref_idx, 0, n, "0.20.1")
        assert list(order) == ref_idx


def test_full_introsort_heapsort_fallback():
    """McIlroy's adversary against the full introsort (no cutoff) reaches its heapsort. With
    ties (values // k) some parts of 2 equal values reach it (n=14 and 18 with k=2): there the
    heapsort swaps them, where a 2-value partition step would not."""
    stack = np.empty((300, 3), np.intp)
    reached = 0
    for n in range(3, 130):
        vals, heap = antiqsort_input(n, cutoff=1)
        reached += heap
        for k in (1, 2, 3, 5):
            v = np.floor(vals / k)
            packed = tree_sort.packed_keys(v[None, :])[0]
            tree_sort.introsort(packed, 0, n, stack, True)
            ref_vals, ref_idx = list(v), list(range(n))
            ref_sort(ref_vals, ref_idx, 0, n, "0.20.1")
            assert list(packed & 0xFFFFFFFF) == ref_idx, (n, k)
    assert reached > 50


def test_maxd_is_the_c_library_log():
    """0.20.1's maxd = 2 * (int)(log(n) / log(2)) with libm's log. Only powers of two could
    truncate differently from floor(log2(n)) (elsewhere log2(n) is at least ~1/(n ln 2) from an
    integer, far above the rounding error for n < 2**40); Python's math.log is the same libm call."""
    ns = list(range(1, 1 << 16)) + [(1 << k) + d for k in range(16, 62) for d in (-1, 0, 1)]
    got = [tree_sort.maxd_0_20_1(n) for n in ns]
    assert got == [2 * int(math.log(n) / math.log(2.0)) for n in ns]
    # = 1.9.1's 2 * floor(log2(n)) below 2**40 (not above: 2**48 - 1 gives 96)
    assert [g for g, n in zip(got, ns) if n < 1 << 40] == [2 * (n.bit_length() - 1) for n in ns if n < 1 << 40]
