"""Bit-exact re-implementations of the 2022 library pieces that decide the published NAAP-440 table.

The paper's table was made with Python 3.7.1, numpy 1.15.4, pandas 0.23.4 and scikit-learn 0.20.1
(see FIDELITY_2022.md beside the published data). Today's libraries differ from those in a few
places that change results in the last bit or in the order of tied values, and some of today's
code paths depend on the CPU (SIMD dispatch, BLAS kernels). This module re-does the old
arithmetic and the old orders in plain scalar code (numba without fastmath, no BLAS, no OpenMP,
no numpy sort/log/pow), so its results are the 2022 results and the same on every CPU.

Written from reading these files of the source distributions (line numbers in those trees):

* pandas 0.23.4, `pandas/_libs/src/parser/tokenizer.c` 1501-1620: `xstrtod`, the default float
  parser of read_csv (chosen in `pandas/_libs/parsers.pyx` 477; called with skip_trailing=1 and
  its failure test, errno or characters left over, at parsers.pyx 1750-1761).
    xstrtod(text) -> float
    read_csv_2022(path) -> DataFrame
* numpy 1.15.4, `numpy/core/src/npysort/quicksort.c.src` 164-237 (`aquicksort`), `heapsort.c.src`
  115-161 (`aheapsort`), `npysort_common.h` 121-131 (the float less-than that sorts NaN last),
  `private/npy_sort.h` 12-19 (`npy_get_msb`), and `multiarray/item_selection.c` 932-1080 (each
  1-D lane gets a fresh index array 0..n-1; lanes of length <= 1 give zeros):
  `np.argsort(a, kind='quicksort')`.
    argsort_1_15(a) -> int64 (n,)
    argsort_1_15_rows(a2d) -> int64 (m, n)        like np.argsort(a2d, axis=1)
    argsort_1_15_columns(a2d) -> int64 (m, n)     like np.argsort(a2d, axis=0)
* numpy 1.15.4, `numpy/core/src/npysort/selection.c.src` 35-405 (`aintroselect`: dumb_select for
  kth - low < 3, the max scan for kth == n - 1, median-of-3 with unguarded partition, median of
  medians of 5 once the depth limit is spent, the pivots stack of `store_pivot`) and
  `item_selection.c` 1051-1056 (a fresh pivot stack per lane): `np.argpartition(a, kth, axis=1)`.
    argpartition_1_15_rows(a2d, kth) -> int64 (m, n)
* scikit-learn 0.20.1, `sklearn/neighbors/base.py` 298-331 (`_kneighbors_reduce_func`: argpartition
  at n_neighbors - 1, the first n_neighbors columns, reordered by argsort of their distances),
  `neighbors/regression.py` 157-166 (uniform weights: `np.mean(_y[neigh_ind], axis=1)` with _y of
  shape (n, 1)), `metrics/pairwise.py` 224-258 (`euclidean_distances(squared=True)`: -2 * dot, + XX,
  + YY, then np.maximum with 0, numpy 1.15.4 `umath/loops.c.src` 1855-1885); the mean is numpy
  1.15.4's add-reduce (`umath/reduction.c` 490-495 fills the result with the identity 0,
  `umath/loops.c.src` 1668-1728 pairwise summation).
    knn_predict_0_20_1(X_train, y_train, X_test, k) -> float64 (n_test,)

Not reproduced: the order of the sums inside the distances. The dot products went through the
BLAS of 2022 (MKL's dgemm in Anaconda 2018.12), which cannot be replayed. The squared row norms
were `np.einsum('ij,ij->i', X, X)` (0.20.1 `utils/extmath.py` 88); numpy 1.15.4's einsum
(`multiarray/einsum.c.src` 569-665) adds the products from the last to the first below 8 features
and in two interleaved SSE2 lanes from 8 on. Here both are plain left-to-right sums in numba, the
same on every CPU. Exact duplicates of training rows get equal distances either way.

NaN: the sorts put NaN last exactly as numpy 1.15.4 did. Note that pandas 0.23.4's sort_values
(`nargsort`, pandas/core/sorting.py 235-266) argsorts only the non-NaN values and appends the NaN
rows in row order, which is argsort_1_15 of the column only when the column has no NaN.

Implementation notes: the sorts compare int64 keys that order exactly like numpy's float
less-than (see _order_keys), so one compiled kernel serves every dtype. The C introselect's
recursion (and numpy's recursive pairwise sum) run on explicit stacks: numba's on-disk cache
(cache=True) crashed when loading a self-recursive function in this environment.
"""
import numpy as np
import pandas as pd
from numba import njit

# ---- pandas 0.23.4 xstrtod ------------------------------------------------------------------

# <float.h> values for IEEE double: xstrtod rejects decimal exponents outside [DBL_MIN_EXP,
# DBL_MAX_EXP] (the binary-exponent limits, used by the old code as if they were decimal ones).
DBL_MIN_EXP = -1021
DBL_MAX_EXP = 1024
# read_csv's defaults as passed to xstrtod: decimal='.', sci='E' (compared case-blind),
# thousands=None (tsep '\0', so never skipped)
DECIMAL_POINT = ord(".")
EXPONENT_CHAR = ord("E")

_SPACE, _TAB, _NEWLINE, _VTAB, _FORMFEED, _CR = 32, 9, 10, 11, 12, 13
_ZERO, _NINE = ord("0"), ord("9")
_PLUS, _MINUS = ord("+"), ord("-")
_INT32_WRAP = 1 << 32


@njit(cache=True)
def _is_c_space(c):
    """C isspace() in the "C" locale."""
    return c == _SPACE or c == _TAB or c == _NEWLINE or c == _VTAB or c == _FORMFEED or c == _CR


@njit(cache=True)
def _is_c_digit(c):
    return _ZERO <= c <= _NINE


@njit(cache=True)
def _to_int32(n):
    """C int arithmetic wraps at 32 bits (formally undefined, in practice two's complement)."""
    n = n % _INT32_WRAP
    if n >= _INT32_WRAP // 2:
        n -= _INT32_WRAP
    return n


@njit(cache=True)
def _xstrtod_span(buf, start, stop):
    """xstrtod on the bytes buf[start:stop] (stop plays the C string's terminating NUL).

    Returns (value, ok); ok is False where pandas 0.23.4's caller saw a failure: errno set (no
    digits, exponent out of range, +HUGE_VAL) or characters left after the number and its trailing
    spaces. The arithmetic is the C code's, operation for operation, in double precision.
    """
    p = start
    while p < stop and _is_c_space(buf[p]):
        p += 1

    negative = False
    if p < stop and buf[p] == _MINUS:
        negative = True
        p += 1
    elif p < stop and buf[p] == _PLUS:
        p += 1

    number = 0.0
    exponent = 0
    num_digits = 0
    num_decimals = 0

    # every digit, before and after the point, goes through number * 10 + digit (rounded twice)
    while p < stop and _is_c_digit(buf[p]):
        number = number * 10.0 + float(buf[p] - _ZERO)
        p += 1
        num_digits += 1

    if p < stop and buf[p] == DECIMAL_POINT:
        p += 1
        while p < stop and _is_c_digit(buf[p]):
            number = number * 10.0 + float(buf[p] - _ZERO)
            p += 1
            num_digits += 1
            num_decimals += 1
        exponent -= num_decimals

    if num_digits == 0:
        return 0.0, False

    if negative:
        number = -number

    if p < stop and (buf[p] == EXPONENT_CHAR or buf[p] == EXPONENT_CHAR + 32):
        p += 1
        exp_negative = False
        if p < stop and buf[p] == _MINUS:
            exp_negative = True
            p += 1
        elif p < stop and buf[p] == _PLUS:
            p += 1
        exp_digits = 0
        n = 0
        while p < stop and _is_c_digit(buf[p]):
            n = _to_int32(n * 10 + (buf[p] - _ZERO))
            exp_digits += 1
            p += 1
        if exp_negative:
            exponent = _to_int32(exponent - n)
        else:
            exponent = _to_int32(exponent + n)
        # the C code steps back one character only, so after "e+" or "e-" it is left on the sign:
        # either way a character remains and the caller rejects the cell
        if exp_digits == 0:
            p -= 1

    if exponent < DBL_MIN_EXP or exponent > DBL_MAX_EXP:
        return np.inf, False

    # scale by 10**|exponent| through binary powers 10, 1e2, 1e4, 1e8, 1e16, 1e32 (inexact), ...
    # dividing for negative exponents: this, not the digit loop, is where most last-bit
    # differences from a correctly rounded parse come from
    p10 = 10.0
    n = exponent
    if n < 0:
        n = -n
    while n:
        if n & 1:
            if exponent < 0:
                number /= p10
            else:
                number *= p10
        n >>= 1
        p10 *= p10

    ok = True
    if number == np.inf:  # only +HUGE_VAL sets errno; -inf passes
        ok = False

    while p < stop and _is_c_space(buf[p]):
        p += 1
    if p != stop:
        ok = False
    return number, ok


@njit(cache=True)
def _xstrtod_many(buf, starts, stops):
    """_xstrtod_span for each (start, stop) pair; returns (values, ok)."""
    n = starts.shape[0]
    values = np.empty(n, np.float64)
    ok = np.empty(n, np.bool_)
    for i in range(n):
        values[i], ok[i] = _xstrtod_span(buf, starts[i], stops[i])
    return values, ok


def xstrtod(text):
    """pandas 0.23.4's default read_csv float parser applied to one cell's text.

    Leading and trailing C whitespace is skipped, then [+-]digits[.digits][(e|E)[+-]digits].
    Raises ValueError where pandas 0.23.4 would not have taken the cell as this float (no digits,
    trailing characters, decimal exponent outside [-1021, 1024], overflow to +inf); read_csv then
    fell back to "inf"/"-inf" spellings or to a non-float column.
    """
    buf, starts, stops = _pack_cells([text])
    values, ok = _xstrtod_many(buf, starts, stops)
    if not ok[0]:
        raise ValueError(f"xstrtod (pandas 0.23.4) cannot parse {text!r}")
    return float(values[0])


def read_csv_2022(path):
    """pd.read_csv(path) with every float64 column's cells re-parsed from the file's text by
    xstrtod, as pandas 0.23.4 parsed them.

    Column types, names, int and string columns and NaN cells are today's read_csv's (the same as
    0.23.4's for a numeric CSV). Cells that xstrtod rejects but today's parser accepts ("inf",
    "1e400") keep today's value; in 0.23.4 a cell like "1e400" made the whole column non-float,
    which is not reproduced. Errors for missing or unreadable files are pd.read_csv's own.
    """
    frame = pd.read_csv(path)
    float_positions = [j for j, dtype in enumerate(frame.dtypes) if dtype == np.float64]
    if not float_positions or len(frame) == 0:
        return frame
    # the same tokenizer on the same file, keeping every cell's text as it was
    text = pd.read_csv(path, dtype=object, na_filter=False)
    if text.shape != frame.shape:
        raise ValueError(f"{path}: raw text has shape {text.shape}, parsed table {frame.shape}")
    cells = text.iloc[:, float_positions].to_numpy(dtype=object).ravel()
    buf, starts, stops = _pack_cells(cells)
    values, ok = _xstrtod_many(buf, starts, stops)
    values = values.reshape(len(frame), len(float_positions))
    ok = ok.reshape(values.shape)
    parsed = frame.iloc[:, float_positions].to_numpy(dtype=np.float64, copy=True)
    # NaN cells (empty, "NA", ...) stay NaN; cells xstrtod rejects keep today's value
    use = ok & ~np.isnan(parsed)
    parsed[use] = values[use]
    frame.iloc[:, float_positions] = parsed
    return frame


def _pack_cells(cells):
    """All cells' UTF-8 bytes in one buffer, with each cell's (start, stop) in it."""
    try:
        joined = "\x00".join(cells).encode("utf-8")
    except TypeError:  # not all str (read with dtype=object they are; stay safe)
        cells = [str(c) for c in cells]
        joined = "\x00".join(cells).encode("utf-8")
    buf = np.frombuffer(joined, dtype=np.uint8)
    seps = np.flatnonzero(buf == 0)
    if len(seps) == len(cells) - 1:
        starts = np.concatenate(([0], seps + 1)).astype(np.int64)
        stops = np.concatenate((seps, [len(buf)])).astype(np.int64)
        return buf, starts, stops
    # a cell holds a NUL character itself: lay the cells out one by one instead
    encoded = [c.encode("utf-8") for c in cells]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    stops = np.cumsum(lengths)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), stops - lengths, stops


# ---- numpy 1.15.4 quicksort argsort ---------------------------------------------------------

# quicksort.c.src: partitions of more than SMALL_QUICKSORT + 1 elements are split, smaller ones
# insertion-sorted; the explicit stack holds PYA_QS_STACK entries (NPY_BITSOF_INTP * 2)
SMALL_QUICKSORT = 15
PYA_QS_STACK = 128
# npy_partition.h.src 29
NPY_MAX_PIVOT_STACK = 50
# introselect nests through median of medians on at most a fifth of the range, and only for more
# than 2 medians, so 2**63 elements need fewer than 28 levels
MAX_SELECT_LEVELS = 32


# The sorts below compare int64 keys with a plain "<" instead of calling numpy's float less-than
# (npysort_common.h 121-131: a < b || (b != b && a == a)). The keys are built so that
# key(a) < key(b) exactly when that less-than holds, for every pair of doubles: NaN (any sign or
# payload) gets the largest key, so it is above everything and equal to other NaN; -0.0 and 0.0 get
# the same key; other values keep their IEEE order. The sorts see the same answer to every
# comparison, so they produce the same permutation, and one compiled kernel serves float32,
# float64 and integer input.
_NAN_KEY = np.iinfo(np.int64).max
_LOW_63_BITS = 0x7FFFFFFFFFFFFFFF


@njit(cache=True)
def _order_keys(a):
    """int64 sort keys of a C-contiguous 1-D float64 array (see above)."""
    bits = a.view(np.int64)
    keys = np.empty(a.shape[0], np.int64)
    for i in range(a.shape[0]):
        x = a[i]
        if x != x:
            keys[i] = _NAN_KEY
        elif x == 0.0:
            keys[i] = 0
        elif bits[i] < 0:
            # sign bit set: flipping the other 63 bits makes larger magnitudes smaller keys,
            # all below 0
            keys[i] = bits[i] ^ _LOW_63_BITS
        else:
            keys[i] = bits[i]
    return keys


def _sort_keys(a):
    """The int64 keys of a float (float64 or narrower) or integer array, any shape."""
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype.itemsize <= 8:
        # widening to float64 is exact and keeps the order and NaN
        flat = np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
        return _order_keys(flat).reshape(a.shape)
    if a.dtype.kind == "i" or (a.dtype.kind == "u" and a.dtype.itemsize < 8):
        return np.ascontiguousarray(a, dtype=np.int64)
    raise TypeError(f"unsupported dtype {a.dtype} (float32/float64, or integers up to int64)")


@njit(cache=True)
def _get_msb(num):
    """npy_get_msb: floor(log2(num)) for num >= 1, 0 for num 0."""
    depth = 0
    num >>= 1
    while num:
        depth += 1
        num >>= 1
    return depth


@njit(cache=True)
def _aheapsort(v, tosort, start, n):
    """aheapsort on tosort[start:start + n] by the keys v; the C code indexes the heap from 1
    (a = tosort - 1)."""
    base = start - 1
    l = n >> 1
    while l > 0:
        tmp = tosort[base + l]
        i = l
        j = l << 1
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
        l -= 1

    while n > 1:
        tmp = tosort[base + n]
        tosort[base + n] = tosort[base + 1]
        n -= 1
        i = 1
        j = 2
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
    cdepth = _get_msb(num) * 2

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


@njit(cache=True)
def _argsort_1d(keys):
    """One lane of np.argsort: the indices 0..n-1 sorted by aquicksort."""
    tosort = np.arange(keys.shape[0])
    _aquicksort(keys, tosort)
    return tosort


@njit(cache=True)
def _argsort_rows(keys):
    """np.argsort(keys, axis=1) of 1.15.4 for a C-contiguous 2-D int64 key array. The one compiled
    entry of all three public argsorts (each numba entry point compiles its callees again)."""
    m, n = keys.shape
    out = np.empty((m, n), np.int64)
    for r in range(m):
        out[r] = _argsort_1d(keys[r])
    return out


def _check_ndim(a, ndim):
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"expected a {ndim}-D array, got shape {a.shape}")
    return a


def argsort_1_15(a):
    """numpy 1.15.4's np.argsort(a) (kind='quicksort') of a 1-D float32/float64 (or integer)
    array, as int64 indices. Ties end in 1.15.4's order; NaN sorts last."""
    keys = _sort_keys(_check_ndim(a, 1))
    return _argsort_rows(keys.reshape(1, -1))[0]


def argsort_1_15_rows(a2d):
    """numpy 1.15.4's np.argsort(a2d, axis=1): each row sorted on its own (AdaBoost's weighted
    median)."""
    return _argsort_rows(_sort_keys(_check_ndim(a2d, 2)))


def argsort_1_15_columns(a2d):
    """numpy 1.15.4's np.argsort(a2d, axis=0): each column sorted on its own (GradientBoosting
    0.20.1's presort of float32 X). Each column is copied out and sorted like a row, as
    item_selection.c copies a strided lane into a buffer."""
    keys_by_column = np.ascontiguousarray(_sort_keys(_check_ndim(a2d, 2)).T)
    return np.ascontiguousarray(_argsort_rows(keys_by_column).T)


# ---- numpy 1.15.4 introselect argpartition --------------------------------------------------

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
        resume = False
        finished = False   # the level ended before its partition loop

        if entering:
            low = 0
            high = num - 1
            if piv:
                while npiv[0] > 0:
                    top = pivots[npiv[0] - 1]
                    if top > kth:
                        high = top - 1
                        break
                    elif top == kth:
                        return 0
                    low = top + 1
                    npiv[0] -= 1

            if kth - low < 3:
                _adumb_select(v, t, s + low, high - low + 1, kth - low)
                if piv:
                    _store_pivot(kth, kth, pivots, npiv)
                finished = True
            elif kth == num - 1:
                # taken for float types only (@inexact@), the only input argpartition_1_15_rows
                # accepts: the last maximum (">=", so ties and NaN go to the end); the scan runs
                # to num, not high + 1 (selection.c.src 331); no pivot is stored
                maxidx = low
                maxval = v[t[s + low]]
                for k in range(low + 1, num):
                    if not (v[t[s + k]] < maxval):
                        maxidx = k
                        maxval = v[t[s + k]]
                t[s + kth], t[s + maxidx] = t[s + maxidx], t[s + kth]
                finished = True
            depth_limit = _get_msb(num) * 2
        else:
            low = frames[level, 3]
            high = frames[level, 4]
            depth_limit = frames[level, 5]
            resume = True

        descended = False
        while not finished and low + 1 < high:
            ll = low + 1
            hh = high
            if resume:
                # back from selecting the median of the medians: it sits at ll + nmed // 2
                resume = False
                nmed = (hh - ll) // 5
                mid = ll + nmed // 2
                t[s + mid], t[s + low] = t[s + low], t[s + mid]
                ll -= 1
                hh += 1
            elif depth_limit > 0 or hh - ll < 5:
                mid = low + (high - low) // 2
                # amedian3_swap: median to low, smallest of the three to low + 1
                if v[t[s + high]] < v[t[s + mid]]:
                    t[s + high], t[s + mid] = t[s + mid], t[s + high]
                if v[t[s + high]] < v[t[s + low]]:
                    t[s + high], t[s + low] = t[s + low], t[s + high]
                if v[t[s + low]] < v[t[s + mid]]:
                    t[s + low], t[s + mid] = t[s + mid], t[s + low]
                t[s + mid], t[s + low + 1] = t[s + low + 1], t[s + mid]
            else:
                # amedian_of_median5 over t[s + ll : s + hh]: hh - ll elements, so the element
                # at high is left out (selection.c.src 363); medians move to the front
                sub = s + ll
                nmed = (hh - ll) // 5
                for i in range(nmed):
                    m = _amedian5(v, t, sub + 5 * i)
                    t[sub + 5 * i + m], t[sub + i] = t[sub + i], t[sub + 5 * i + m]
                if nmed > 2:
                    # the nested aintroselect(medians, nmed, nmed / 2, NULL, NULL)
                    frames[level, 3] = low
                    frames[level, 4] = high
                    frames[level, 5] = depth_limit
                    level += 1
                    frames[level, 0] = sub
                    frames[level, 1] = nmed
                    frames[level, 2] = nmed // 2
                    descended = True
                    break
                mid = ll + nmed // 2
                t[s + mid], t[s + low] = t[s + low], t[s + mid]
                ll -= 1
                hh += 1

            depth_limit -= 1

            # aunguarded_partition around the pivot now at low
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
            if high == low + 1:
                if v[t[s + high]] < v[t[s + low]]:
                    t[s + high], t[s + low] = t[s + low], t[s + high]
            if piv:
                _store_pivot(kth, kth, pivots, npiv)

        if level == 0:
            return 0
        level -= 1
        entering = False


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


@njit(cache=True)
def _argpartition_rows(keys, kth):
    m, n = keys.shape
    out = np.empty((m, n), np.int64)
    for r in range(m):
        out[r] = _argpartition_1d(np.ascontiguousarray(keys[r]), kth)
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
    return _argpartition_rows(_sort_keys(a2d), kth)


# ---- scikit-learn 0.20.1 brute-force k-NN regression ----------------------------------------

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


@njit(cache=True)
def _squared_distances(X_test, X_train):
    """euclidean_distances(X_test, X_train, squared=True) of 0.20.1, with fixed left-to-right sums
    in place of einsum (row norms) and BLAS (dot products)."""
    m, f = X_test.shape
    n = X_train.shape[0]
    xx = np.empty(m, np.float64)
    for i in range(m):
        acc = 0.0
        for j in range(f):
            acc += X_test[i, j] * X_test[i, j]
        xx[i] = acc
    yy = np.empty(n, np.float64)
    for t in range(n):
        acc = 0.0
        for j in range(f):
            acc += X_train[t, j] * X_train[t, j]
        yy[t] = acc
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
    keys = _sort_keys(dist)
    # _kneighbors_reduce_func: argpartition at k - 1, keep the first k, reorder them by argsort of
    # their distances (compared through the same keys)
    part = _argpartition_rows(keys, k - 1)[:, :k]
    order = _argsort_rows(np.ascontiguousarray(np.take_along_axis(keys, part, axis=1)))
    neigh_ind = np.take_along_axis(part, order, axis=1)
    return _mean_rows(np.ascontiguousarray(y_train[neigh_ind]))


# ---- CPython 3.7.1: the iteration order of a set of tuples ------------------------------------
# Paper 2's search de-duplicated each round's subsets through a set comprehension and scored them
# in the set's iteration order (then shuffled and cut that list when it was too long), so the
# order of the visits, and with it the first-visited winner of a tie, is this order. It depends on
# the tuple hash, which CPython 3.8 changed, and on the set's open-addressing table, which has not
# changed since 3.7 (the 60% load factor dates from 2017). Both are re-done here in plain integer
# arithmetic, so no running interpreter's hash or set decides it.
#   Objects/tupleobject.c (3.7) tuplehash; Objects/setobject.c (3.7) set_add_entry,
#   set_insert_clean, set_table_resize; Include/pyhash.h _PyHASH_MULTIPLIER.
_U64 = (1 << 64) - 1
_HASH_MULTIPLIER = 1000003
SET_MINSIZE = 8
LINEAR_PROBES = 9
PERTURB_SHIFT = 5


def int_hash_py37(v):
    """hash(v) of a small Python int (|v| < 2**61 - 1), as CPython 3.7 computes it: v, but -2 for -1."""
    v = int(v)
    if not abs(v) < (1 << 61) - 1:
        raise ValueError(f"int_hash_py37 handles |v| < 2**61 - 1, got {v}")
    return -2 if v == -1 else v


def tuple_hash_py37(items):
    """hash(tuple(items)) of CPython <= 3.7 on a 64-bit build, for a tuple of small ints."""
    x, mult, left = 0x345678, _HASH_MULTIPLIER, len(items)
    for v in items:
        left -= 1
        x = ((x ^ (int_hash_py37(v) & _U64)) * mult) & _U64
        mult = (mult + 82520 + left + left) & _U64
    x = (x + 97531) & _U64
    if x == _U64:  # -1 is the error value
        x = _U64 - 1
    return x - (1 << 64) if x >> 63 else x


def _probe(h, mask):
    """Slot indices in the order CPython's set probes them for a hash h (unsigned)."""
    i, perturb = h & mask, h
    while True:
        yield i
        if i + LINEAR_PROBES <= mask:
            yield from range(i + 1, i + LINEAR_PROBES + 1)
        perturb >>= PERTURB_SHIFT
        i = (i * 5 + 1 + perturb) & mask


def set_order_py37(keys, hash_fn=tuple_hash_py37):
    """list({k for k in keys}) as CPython 3.7 orders it: keys added one by one to an empty set
    (set_add_entry; the table grows to the next power of two above 4 x used once 60% full,
    set_table_resize re-inserting in slot order), then read in slot order. Equal keys keep the
    first. hash_fn(key) gives the hash (default: 3.7's tuple hash of small ints)."""
    table, mask, fill = [None] * SET_MINSIZE, SET_MINSIZE - 1, 0
    for key in keys:
        h = hash_fn(key)
        for i in _probe(h & _U64, mask):
            if table[i] is None or (table[i][0] == h and table[i][1] == key):
                break
        if table[i] is not None:
            continue  # already in the set: the first stays
        table[i] = (h, key)
        fill += 1
        if not fill * 5 < mask * 3:
            minused = fill * 4 if fill <= 50000 else fill * 2  # no deletions: used == fill
            size = SET_MINSIZE
            while size <= minused:
                size <<= 1
            old, table, mask = table, [None] * size, size - 1
            for entry in old:
                if entry is not None:
                    table[next(j for j in _probe(entry[0] & _U64, mask) if table[j] is None)] = entry
    return [entry[1] for entry in table if entry is not None]
