"""numpy_1_15_sort_common: int64 keys that order like numpy 1.15.4's float less-than, and
npy_get_msb."""
import math

import numpy as np
import pytest

from naap.replica.numpy_1_15_sort_common import get_msb, sort_keys


def test_sort_keys_compare_like_numpy_float_less_than():
    """key(a) < key(b) exactly when a < b or (b is NaN and a is not), for special values."""
    specials = [-math.inf, -1.7976931348623157e308, -1.0, -5e-324, -0.0, 0.0, 5e-324,
                2.2250738585072014e-308, 1.0, 1.7976931348623157e308, math.inf, math.nan,
                -math.nan, float.fromhex("0x1.8p-1")]
    keys = sort_keys(np.array(specials))
    for i, a in enumerate(specials):
        for j, b in enumerate(specials):
            assert (keys[i] < keys[j]) == (a < b or (b != b and a == a)), (a, b)


def test_sort_keys_of_integers_are_the_integers():
    assert sort_keys(np.array([3, -1, 7], dtype=np.int16)).tolist() == [3, -1, 7]
    assert sort_keys(np.array([[5, 0]], dtype=np.uint32)).dtype == np.int64
    with pytest.raises(TypeError):
        sort_keys(np.array([1], dtype=np.uint64))   # not every uint64 fits an int64 key


def test_get_msb_is_floor_log2():
    assert [get_msb(n) for n in (0, 1, 2, 3, 4, 7, 8, 200, 2**40 + 1)] == [0, 0, 1, 1, 2, 2, 3, 7, 40]
