"""numpy_1_15_introselect reproduces numpy 1.15.4's argpartition bit for bit.

Expected values come from outside the module: hand traces of the old C code (written out in the
comments) and numpy 2.4.6 with its SIMD dispatch switched off (which runs the C++ port of the
same scalar introselect).
"""
import platform

import numpy as np
import pytest
from numpy_1_15_cases import median_of_3_killer, scalar_numpy_child

from naap.replica import numpy_1_15_introselect as introselect
from naap.replica.numpy_1_15_introselect import argpartition_1_15_rows
from naap.replica.numpy_1_15_sort_common import sort_keys


def test_median_of_medians_after_depth_limit(monkeypatch):
    calls = []
    median5 = introselect._amedian5

    def counting(v, t, s):
        calls.append(s)
        return median5(v, t, s)

    values = (median_of_3_killer(200) // 2).astype(np.float64)
    compiled = argpartition_1_15_rows(values[None, :], 66)[0]   # compile before the patch
    monkeypatch.setattr(introselect, "_amedian5", counting)
    # the Python bodies of the select and of its medians' loop call the patched name
    monkeypatch.setattr(introselect, "_medians5_to_front", introselect._medians5_to_front.py_func)
    tosort = np.arange(200)
    pivots, npiv = np.empty(introselect.NPY_MAX_PIVOT_STACK, np.int64), np.zeros(1, np.int64)
    introselect._aintroselect.py_func(sort_keys(values), tosort, 0, 200, 66, pivots, npiv, True)
    assert len(calls) > 20
    assert tosort.tolist() == compiled.tolist()


def test_argpartition_dumb_select_hand_traced():
    """kth - low < 3: selection sort of the first kth + 1 places. [2, 2, 1], kth 1: the minimum
    (index 2) swaps with place 0, sending index 0 to place 2; place 1 (index 1) is then a first
    minimum among 2, 2 and stays. Lowest-index-first would have chosen index 0."""
    assert argpartition_1_15_rows(np.array([[2.0, 2.0, 1.0]]), 1).tolist() == [[2, 1, 0]]


def test_argpartition_last_maximum_hand_traced():
    """kth == n - 1 (for floats): scan for the last maximum ('>='), swap it to the end."""
    v = np.array([[2.0, 5.0, 5.0, 1.0]])
    assert argpartition_1_15_rows(v, 3).tolist() == [[0, 1, 3, 2]]
    assert argpartition_1_15_rows(v, -1).tolist() == [[0, 1, 3, 2]]


def test_argpartition_median_of_3_hand_traced():
    """[3, 1, 3, 1, 3, 1, 3, 1], kth 4. Round 1: low 0, mid 3, high 7: 1 < 3 swaps 7 and 0; the
    pivot (1) stays at low, mid goes to low + 1. Unguarded partition swaps places 2 and 5 (and 3
    with itself), ends at hh = 2: t = 5 3 7 1 | 4 2 6 0 after moving the pivot. Round 2 on places
    4..7 (all 3): hh ends at 5, which is stored and becomes high = 4. Place 4 holds index 2."""
    v = np.array([[3.0, 1.0, 3.0, 1.0, 3.0, 1.0, 3.0, 1.0]])
    assert argpartition_1_15_rows(v, 4).tolist() == [[5, 3, 7, 1, 2, 4, 6, 0]]


def test_argpartition_partitions():
    rs = np.random.RandomState(3)
    a = rs.randint(0, 9, (20, 57)).astype(np.float64)
    a[rs.rand(*a.shape) < 0.03] = np.nan
    for kth in (0, 1, 2, 3, 10, 28, 55, 56):
        part = argpartition_1_15_rows(a, kth)
        for r in range(a.shape[0]):
            assert sorted(part[r].tolist()) == list(range(57))
            keys = sort_keys(a[r][part[r]])
            pivot = keys[kth]
            assert keys[:kth].max(initial=pivot) <= pivot <= keys[kth + 1:].min(initial=pivot)
    with pytest.raises(ValueError):
        argpartition_1_15_rows(a, 57)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 dispatch names")
def test_same_on_every_cpu_and_equal_to_scalar_numpy(ref_dir):
    """A child with numpy's SIMD selects switched off gives the same partitions as this process,
    and numpy 2.4.6's own scalar argpartition there agrees with ours on tie-heavy input, NaN,
    -0.0 and the median-of-medians fallback."""
    _, parts, child = scalar_numpy_child(str(ref_dir / "naap440.csv"))
    assert child["dispatch_on"] == []        # the SIMD targets really were switched off
    for (v, k), theirs, ours_there in zip(parts, child["numpy_parts"], child["our_parts"]):
        ours = argpartition_1_15_rows(v[None, :], k)[0]
        assert np.array_equal(ours, ours_there) and np.array_equal(ours, theirs)
