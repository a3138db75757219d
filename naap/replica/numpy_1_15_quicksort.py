"""numpy 1.15.4's np.argsort(a, kind='quicksort'), bit for bit, in plain scalar code.

The paper's table was made with numpy 1.15.4. Its quicksort is not stable, so tied values (tied
accuracies of the table, tied features of a tree ensemble's training X, tied predictions of
AdaBoost's weighted median) come out in an order of its own; today's numpy sorts with SIMD
kernels chosen by the CPU, which order ties differently and differently on each CPU. This module
re-does the old C code (numba without fastmath), so its order is the 2022 order on every CPU.
The project uses it for the table order (naap.data.load), GradientBoosting 0.20.1's presort and
AdaBoost's weighted median (naap.replica.ensembles).

Written from numpy 1.15.4's `numpy/core/src/npysort/quicksort.c.src` 164-237 (`aquicksort`),
`heapsort.c.src` 115-161 (`aheapsort`) and `multiarray/item_selection.c` 932-1080 (each 1-D lane
gets a fresh index array 0..n-1; lanes of length <= 1 give zeros). The comparisons go through the
int64 keys of numpy_1_15_sort_common, which order exactly like 1.15.4's float less-than.
    argsort_1_15(a) -> int64 (n,)
    argsort_1_15_rows(a2d) -> int64 (m, n)        like np.argsort(a2d, axis=1)
    argsort_1_15_columns(a2d) -> int64 (m, n)     like np.argsort(a2d, axis=0)

NaN: the sorts put NaN last exactly as numpy 1.15.4 did. Note that pandas 0.23.4's sort_values
(`nargsort`, pandas/core/sorting.py 235-266) argsorts only the non-NaN values and appends the NaN
rows in row order, which is argsort_1_15 of the column only when the column has no NaN.
"""
import numpy as np
from numba import njit

from naap.replica import numpy_1_15_sort_common
from naap.replica.numba_cache import depends_on
from naap.replica.numpy_1_15_sort_common import get_msb, sort_keys

# quicksort.c.src: partitions of more than SMALL_QUICKSORT + 1 elements are split, smaller ones
# insertion-sorted; the explicit stack holds PYA_QS_STACK entries (NPY_BITSOF_INTP * 2)
SMALL_QUICKSORT = 15
PYA_QS_STACK = 128


@njit(cache=True, inline="always")
def _sift_down(v, tosort, base, tmp, i, n):
    """Put tmp into the heap tosort[base + 1:base + n + 1] at slot i, moving the larger children up
    until it fits (aheapsort's inner loop, the same in both of its phases)."""
    j = i << 1
    while j <= n:
        if j < n and v[tosort[base + j]] < v[tosort[base + j + 1]]:
            j += 1
        if v[tmp] < v[tosort[base + j]]:
            tosort[base + i] = tosort[base + j]
            i = j
            j += j
        else:
            break
    tosort[base + i] = tmp


@njit(cache=True)
def _aheapsort(v, tosort, start, n):
    """aheapsort on tosort[start:start + n] by the keys v; the C code indexes the heap from 1
    (a = tosort - 1)."""
    base = start - 1
    root = n >> 1
    while root > 0:
        _sift_down(v, tosort, base, tosort[base + root], root, n)
        root -= 1

    while n > 1:
        tmp = tosort[base + n]
        tosort[base + n] = tosort[base + 1]
        n -= 1
        _sift_down(v, tosort, base, tmp, 1, n)


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def _aquicksort(v, tosort):
    """aquicksort: reorder the indices in tosort so that the keys v[tosort] are sorted, exactly as
    numpy 1.15.4 does.

    The depth budget is checked only when a range is taken from the stack (or at the start); the
    loop itself always continues with the smaller side and pushes the larger one.
    """
    num = tosort.shape[0]
    if num <= 1:
        return
    stack = np.empty(PYA_QS_STACK, np.int64)   # pairs (pl, pr)
    depth = np.empty(PYA_QS_STACK, np.int64)
    sptr = 0
    psdepth = 0
    pl = 0
    pr = num - 1
    cdepth = get_msb(num) * 2

    while True:
        if cdepth < 0:
            _aheapsort(v, tosort, pl, pr - pl + 1)
        else:
            while pr - pl > SMALL_QUICKSORT:
                # median of three to pl, pm, pr; the pivot then waits at pr - 1
                pm = pl + ((pr - pl) >> 1)
                if v[tosort[pm]] < v[tosort[pl]]:
                    tosort[pm], tosort[pl] = tosort[pl], tosort[pm]
                if v[tosort[pr]] < v[tosort[pm]]:
                    tosort[pr], tosort[pm] = tosort[pm], tosort[pr]
                if v[tosort[pm]] < v[tosort[pl]]:
                    tosort[pm], tosort[pl] = tosort[pl], tosort[pm]
                vp = v[tosort[pm]]
                pi = pl
                pj = pr - 1
                tosort[pm], tosort[pj] = tosort[pj], tosort[pm]
                while True:
                    pi += 1
                    while v[tosort[pi]] < vp:
                        pi += 1
                    pj -= 1
                    while vp < v[tosort[pj]]:
                        pj -= 1
                    if pi >= pj:
                        break
                    tosort[pi], tosort[pj] = tosort[pj], tosort[pi]
                pk = pr - 1
                tosort[pi], tosort[pk] = tosort[pk], tosort[pi]
                if pi - pl < pr - pi:
                    stack[sptr] = pi + 1
                    stack[sptr + 1] = pr
                    pr = pi - 1
                else:
                    stack[sptr] = pl
                    stack[sptr + 1] = pi - 1
                    pl = pi + 1
                sptr += 2
                cdepth -= 1
                depth[psdepth] = cdepth
                psdepth += 1

            # insertion sort (stable) of the small range
            for pi in range(pl + 1, pr + 1):
                vi = tosort[pi]
                vp = v[vi]
                pj = pi
                pk = pi - 1
                while pj > pl and vp < v[tosort[pk]]:
                    tosort[pj] = tosort[pk]
                    pj -= 1
                    pk -= 1
                tosort[pj] = vi

        if sptr == 0:
            break
        sptr -= 2
        pl = stack[sptr]
        pr = stack[sptr + 1]
        psdepth -= 1
        cdepth = depth[psdepth]


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def _argsort_1d(keys):
    """One lane of np.argsort: the indices 0..n-1 sorted by aquicksort."""
    tosort = np.arange(keys.shape[0])
    _aquicksort(keys, tosort)
    return tosort


@depends_on(numpy_1_15_sort_common)  # get_msb
@njit(cache=True)
def argsort_key_rows(keys):
    """np.argsort(keys, axis=1) of 1.15.4 for a C-contiguous 2-D int64 key array (sort_keys). The
    one compiled entry of all three public argsorts and of knn_0_20_1's neighbour order (each numba
    entry point compiles its callees again)."""
    m, n = keys.shape
    out = np.empty((m, n), np.int64)
    for r in range(m):
        row = _argsort_1d(keys[r])
        for j in range(n):  # not out[r] = row: numba's broadcasting setitem takes seconds to compile
            out[r, j] = row[j]
    return out


def _check_ndim(a, ndim):
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"expected a {ndim}-D array, got shape {a.shape}")
    return a


def argsort_1_15(a):
    """numpy 1.15.4's np.argsort(a) (kind='quicksort') of a 1-D float32/float64 (or integer)
    array, as int64 indices. Ties end in 1.15.4's order; NaN sorts last."""
    keys = sort_keys(_check_ndim(a, 1))
    return argsort_key_rows(keys.reshape(1, -1))[0]


def argsort_1_15_rows(a2d):
    """numpy 1.15.4's np.argsort(a2d, axis=1): each row sorted on its own (AdaBoost's weighted
    median)."""
    return argsort_key_rows(sort_keys(_check_ndim(a2d, 2)))


def argsort_1_15_columns(a2d):
    """numpy 1.15.4's np.argsort(a2d, axis=0): each column sorted on its own (GradientBoosting
    0.20.1's presort of float32 X). Each column is copied out and sorted like a row, as
    item_selection.c copies a strided lane into a buffer."""
    keys_by_column = np.ascontiguousarray(sort_keys(_check_ndim(a2d, 2)).T)
    return np.ascontiguousarray(argsort_key_rows(keys_by_column).T)
