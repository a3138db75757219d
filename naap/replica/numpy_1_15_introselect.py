"""numpy 1.15.4's np.argpartition(a, kth, axis=1), bit for bit, in plain scalar code.

scikit-learn 0.20.1's k-NN picked each test row's neighbours with np.argpartition of its distances
(knn_0_20_1). Which of several training rows at the same distance made it into the k nearest
is decided by numpy 1.15.4's introselect, whose order of ties today's numpy (SIMD select kernels
chosen by the CPU) does not keep. This module re-does the old C code (numba without fastmath),
so the neighbours are the 2022 neighbours on every CPU.

Written from numpy 1.15.4's `numpy/core/src/npysort/selection.c.src` 35-405 (`aintroselect`:
dumb_select for kth - low < 3, the max scan for kth == n - 1, median-of-3 with unguarded
partition, median of medians of 5 once the depth limit is spent, the pivots stack of
`store_pivot`) and `multiarray/item_selection.c` 1051-1056 (a fresh pivot stack per lane). The
comparisons go through the int64 keys of numpy_1_15_sort_common.
    argpartition_1_15_rows(a2d, kth) -> int64 (m, n)

The C introselect calls itself (from median_of_median5); here that recursion runs on an explicit
stack: numba's on-disk cache (cache=True) crashed when loading a self-recursive function in this
environment.
"""
import numpy as np
from numba import njit

from naap.replica import numpy_1_15_sort_common
from naap.replica.numba_cache import depends_on
from naap.replica.numpy_1_15_sort_common import get_msb, sort_keys

# npy_partition.h.src 29
NPY_MAX_PIVOT_STACK = 50
# introselect nests through median of medians on at most a fifth of the range, and only for more
# than 2 medians, so 2**63 elements need fewer than 28 levels
MAX_SELECT_LEVELS = 32
# what the start of a level of aintroselect leaves to do
_PARTITION, _LEVEL_DONE, _KTH_IS_A_PIVOT = 0, 1, 2


@njit(cache=True)
def _store_pivot(pivot, kth, pivots, npiv):
    """store_pivot: keep pivots at or above kth (for later, larger kth of the same call)."""
    if pivot == kth and npiv[0] == NPY_MAX_PIVOT_STACK:
        pivots[npiv[0] - 1] = pivot
    elif pivot >= kth and npiv[0] < NPY_MAX_PIVOT_STACK:
        pivots[npiv[0]] = pivot
        npiv[0] += 1


@njit(cache=True)
def _amedian5(v, t, s):
    """amedian5 on t[s:s + 5]: a few swaps, then the offset (1, 2 or 3) of the median."""
    if v[t[s + 1]] < v[t[s]]:
        t[s + 1], t[s] = t[s], t[s + 1]
    if v[t[s + 4]] < v[t[s + 3]]:
        t[s + 4], t[s + 3] = t[s + 3], t[s + 4]
    if v[t[s + 3]] < v[t[s]]:
        t[s + 3], t[s] = t[s], t[s + 3]
    if v[t[s + 4]] < v[t[s + 1]]:
        t[s + 4], t[s + 1] = t[s + 1], t[s + 4]
    if v[t[s + 2]] < v[t[s + 1]]:
        t[s + 2], t[s + 1] = t[s + 1], t[s + 2]
    if v[t[s + 3]] < v[t[s + 2]]:
        if v[t[s + 3]] < v[t[s + 1]]:
            return 1
        return 3
    return 2


@njit(cache=True)
def _adumb_select(v, t, s, num, kth):
    """adumb_select on t[s:s + num]: selection sort of the first kth + 1 places (first minimum
    wins, and each pick is a swap, so the displaced entry moves far back)."""
    for i in range(kth + 1):
        minidx = i
        minval = v[t[s + i]]
        for k in range(i + 1, num):
            if v[t[s + k]] < minval:
                minidx = k
                minval = v[t[s + k]]
        t[s + i], t[s + minidx] = t[s + minidx], t[s + i]


@njit(cache=True)
def _last_max_to_kth(v, t, s, low, num, kth):
    """kth == num - 1, taken for float types only (@inexact@), the only input
    argpartition_1_15_rows accepts: the last maximum (">=", so ties and NaN go to the end) swaps to
    kth; the scan runs to num, not high + 1 (selection.c.src 331); no pivot is stored."""
    maxidx = low
    maxval = v[t[s + low]]
    for k in range(low + 1, num):
        if not (v[t[s + k]] < maxval):
            maxidx = k
            maxval = v[t[s + k]]
    t[s + kth], t[s + maxidx] = t[s + maxidx], t[s + kth]


@njit(cache=True)
def _enter_level(v, t, s, num, kth, pivots, npiv, piv):
    """The start of aintroselect on t[s:s + num]: narrow [low, high] by the stored pivots (piv),
    then finish at once by dumb_select or the max scan where the C code does.

    Returns (low, high, what is left): _PARTITION, _LEVEL_DONE, or _KTH_IS_A_PIVOT (kth is
    already in place: the whole call returns).
    """
    low = 0
    high = num - 1
    if piv:
        while npiv[0] > 0:
            top = pivots[npiv[0] - 1]
            if top > kth:
                high = top - 1
                break
            elif top == kth:
                return low, high, _KTH_IS_A_PIVOT
            low = top + 1
            npiv[0] -= 1

    if kth - low < 3:
        _adumb_select(v, t, s + low, high - low + 1, kth - low)
        if piv:
            _store_pivot(kth, kth, pivots, npiv)
        return low, high, _LEVEL_DONE
    if kth == num - 1:
        _last_max_to_kth(v, t, s, low, num, kth)
        return low, high, _LEVEL_DONE
    return low, high, _PARTITION


@njit(cache=True)
def _amedian3_swap(v, t, s, low, high):
    """amedian3_swap: of low, mid and high, the median to low, the smallest of the three to
    low + 1."""
    mid = low + (high - low) // 2
    if v[t[s + high]] < v[t[s + mid]]:
        t[s + high], t[s + mid] = t[s + mid], t[s + high]
    if v[t[s + high]] < v[t[s + low]]:
        t[s + high], t[s + low] = t[s + low], t[s + high]
    if v[t[s + low]] < v[t[s + mid]]:
        t[s + low], t[s + mid] = t[s + mid], t[s + low]
    t[s + mid], t[s + low + 1] = t[s + low + 1], t[s + mid]


@njit(cache=True)
def _medians5_to_front(v, t, sub, n):
    """The first half of amedian_of_median5 on t[sub:sub + n]: the median of each group of 5 moves
    to the front, in group order. Returns the number of medians, n // 5."""
    nmed = n // 5
    for i in range(nmed):
        m = _amedian5(v, t, sub + 5 * i)
        t[sub + 5 * i + m], t[sub + i] = t[sub + i], t[sub + 5 * i + m]
    return nmed


@njit(cache=True)
def _median_of_medians_to_low(t, s, low, ll, hh):
    """Once the nmed medians at ll.. are selected, their median (at ll + nmed // 2) becomes the
    pivot at low; returns the bounds the unguarded partition starts from (ll - 1, hh + 1)."""
    nmed = (hh - ll) // 5
    mid = ll + nmed // 2
    t[s + mid], t[s + low] = t[s + low], t[s + mid]
    return ll - 1, hh + 1


@njit(cache=True)
def _aunguarded_partition(v, t, s, low, ll, hh):
    """aunguarded_partition around the pivot at low; returns (ll, hh) where the scans stopped."""
    pivot = v[t[s + low]]
    while True:
        ll += 1
        while v[t[s + ll]] < pivot:
            ll += 1
        hh -= 1
        while pivot < v[t[s + hh]]:
            hh -= 1
        if hh < ll:
            break
        t[s + ll], t[s + hh] = t[s + hh], t[s + ll]
    return ll, hh


@njit(cache=True)
def _finish_level(v, t, s, low, high, kth, pivots, npiv, piv):
    """The end of aintroselect once low + 1 >= high: order the last pair, store kth (piv)."""
    if high == low + 1:
        if v[t[s + high]] < v[t[s + low]]:
            t[s + high], t[s + low] = t[s + low], t[s + high]
    if piv:
        _store_pivot(kth, kth, pivots, npiv)


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def _aintroselect(v, t, s0, num0, kth0, pivots, npiv, use_pivots):
    """aintroselect on t[s0:s0 + num0] (the C pointer tosort + s0) for kth0.

    use_pivots=False is the C code's pivots == NULL. The C function calls itself from
    median_of_median5 (on the medians, without pivots); here that call is a level of an explicit
    stack, because numba's on-disk cache does not load self-recursive functions reliably. A level
    stores (s, num, kth, low, high, depth_limit); the nested call's only return point is right
    after the medians were selected, so that is where a resumed level continues.
    """
    frames = np.empty((MAX_SELECT_LEVELS, 6), np.int64)
    level = 0
    frames[0, 0] = s0
    frames[0, 1] = num0
    frames[0, 2] = kth0
    entering = True

    while True:
        s = frames[level, 0]
        num = frames[level, 1]
        kth = frames[level, 2]
        piv = use_pivots and level == 0
        if entering:
            low, high, left = _enter_level(v, t, s, num, kth, pivots, npiv, piv)
            if left == _KTH_IS_A_PIVOT:
                return 0
            finished = left == _LEVEL_DONE   # the level ended before its partition loop
            resume = False
            depth_limit = get_msb(num) * 2
        else:
            low = frames[level, 3]
            high = frames[level, 4]
            depth_limit = frames[level, 5]
            finished = False
            resume = True

        descended = False
        while not finished and low + 1 < high:
            ll = low + 1
            hh = high
            if resume:
                # back from selecting the median of the medians
                resume = False
                ll, hh = _median_of_medians_to_low(t, s, low, ll, hh)
            elif depth_limit > 0 or hh - ll < 5:
                _amedian3_swap(v, t, s, low, high)
            else:
                # amedian_of_median5 over t[s + ll : s + hh]: hh - ll elements, so the element
                # at high is left out (selection.c.src 363)
                nmed = _medians5_to_front(v, t, s + ll, hh - ll)
                if nmed > 2:
                    # the nested aintroselect(medians, nmed, nmed / 2, NULL, NULL)
                    frames[level, 3] = low
                    frames[level, 4] = high
                    frames[level, 5] = depth_limit
                    level += 1
                    frames[level, 0] = s + ll
                    frames[level, 1] = nmed
                    frames[level, 2] = nmed // 2
                    descended = True
                    break
                ll, hh = _median_of_medians_to_low(t, s, low, ll, hh)

            depth_limit -= 1
            ll, hh = _aunguarded_partition(v, t, s, low, ll, hh)
            t[s + low], t[s + hh] = t[s + hh], t[s + low]

            if hh != kth and piv:
                _store_pivot(hh, kth, pivots, npiv)
            if hh >= kth:
                high = hh - 1
            if hh <= kth:
                low = ll

        if descended:
            entering = True
            continue
        if not finished:
            _finish_level(v, t, s, low, high, kth, pivots, npiv, piv)
        if level == 0:
            return 0
        level -= 1
        entering = False


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def _argpartition_1d(keys, kth):
    """One lane of np.argpartition: indices 0..n-1, a fresh pivot stack, one kth."""
    n = keys.shape[0]
    tosort = np.arange(n)
    if n <= 1:
        return np.zeros(n, np.int64)
    pivots = np.empty(NPY_MAX_PIVOT_STACK, np.int64)
    npiv = np.zeros(1, np.int64)
    _aintroselect(keys, tosort, 0, n, kth, pivots, npiv, True)
    return tosort


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def argpartition_key_rows(keys, kth):
    """np.argpartition(keys, kth, axis=1) of 1.15.4 for a 2-D int64 key array (sort_keys); the one
    compiled entry of argpartition_1_15_rows and of knn_0_20_1's neighbour choice."""
    m, n = keys.shape
    out = np.empty((m, n), np.int64)
    for r in range(m):
        row = _argpartition_1d(np.ascontiguousarray(keys[r]), kth)
        for j in range(n):  # not out[r] = row: numba's broadcasting setitem takes seconds to compile
            out[r, j] = row[j]
    return out


def argpartition_1_15_rows(a2d, kth):
    """numpy 1.15.4's np.argpartition(a2d, kth, axis=1) for a 2-D float64 (or float32) array and
    one integer kth (negative counts from the end, as numpy does)."""
    a2d = np.asarray(a2d)
    if a2d.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {a2d.shape}")
    if a2d.dtype not in (np.float64, np.float32):
        raise TypeError(f"unsupported dtype {a2d.dtype} (float64 or float32)")
    n = a2d.shape[1]
    kth = int(kth)
    if kth < 0:
        kth += n
    if a2d.size != 0 and not 0 <= kth < n:
        raise ValueError(f"kth(={kth}) out of bounds ({n})")
    return argpartition_key_rows(sort_keys(a2d), kth)
