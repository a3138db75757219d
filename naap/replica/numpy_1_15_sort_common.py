"""What numpy 1.15.4's quicksort and introselect share: its float less-than, as int64 keys, and
npy_get_msb.

The paper's table was made with numpy 1.15.4; its argsort and argpartition put tied values (and
NaN) in an order that today's numpy, with its SIMD sorts, does not keep. numpy_1_15_quicksort and
numpy_1_15_introselect re-do the old C code, and compare through the keys made here.

Written from numpy 1.15.4's `numpy/core/src/npysort/npysort_common.h` 121-131 (the float
less-than that sorts NaN last: a < b || (b != b && a == a)) and `private/npy_sort.h` 12-19
(`npy_get_msb`).

The sorts compare int64 keys with a plain "<" instead of calling numpy's float less-than. The
keys are built so that key(a) < key(b) exactly when that less-than holds, for every pair of
doubles: NaN (any sign or payload) gets the largest key, so it is above everything and equal to
other NaN; -0.0 and 0.0 get the same key; other values keep their IEEE order. The sorts see the
same answer to every comparison, so they produce the same permutation, and one compiled kernel
serves float32, float64 and integer input.

get_msb is compiled into the kernels of both modules that call it: they declare that with
numba_cache.depends_on, so that an edit here also renews their numba cache.
"""
import numpy as np
from numba import njit

_NAN_KEY = np.iinfo(np.int64).max
_LOW_63_BITS = 0x7FFFFFFFFFFFFFFF


@njit(cache=True)
def _order_keys(a):
    """int64 sort keys of a C-contiguous 1-D float64 array (see the module docstring)."""
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


def sort_keys(a):
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
def get_msb(num):
    """npy_get_msb: floor(log2(num)) for num >= 1, 0 for num 0."""
    depth = 0
    num >>= 1
    while num:
        depth += 1
        num >>= 1
    return depth
