"""numpy_1_15_quicksort reproduces numpy 1.15.4's argsort (kind='quicksort') bit for bit.

Expected values come from outside the module: hand traces of the old C code (written out in the
comments), numpy 2.4.6 with its SIMD dispatch switched off (which runs the C++ port of the same
scalar introsort) and the published table.
"""
import platform

import numpy as np
import pandas as pd
import pytest
from numpy_1_15_cases import heapsort_case, scalar_numpy_child

from naap.replica import numpy_1_15_quicksort as quicksort
from naap.replica.numpy_1_15_quicksort import argsort_1_15, argsort_1_15_columns, argsort_1_15_rows
from naap.replica.numpy_1_15_sort_common import sort_keys
from naap.replica.pandas_0_23_parser import read_csv_2022


def test_argsort_hand_traced_alternating_17():
    """v[i] = 1 for even i, 0 for odd i, n = 17: one partition, then insertion sorts.
    Median of 3 at positions 0, 8, 16: all 1, no swaps; pivot 1; index 8 swapped to position 15.
    Scans swap positions (2,14), (4,13), (6,12), (10,11), stop at pi = 11; pivot to position 11.
    Left part 0..10 holds indices 0 1 14 3 13 5 12 7 15 9 11 and is insertion-sorted (stable):
    zeros 1 3 13 5 7 15 9 11, ones 0 14 12; then pivot 8; right part 12..16 holds 6 4 2 10 16."""
    v = np.array([1.0 if i % 2 == 0 else 0.0 for i in range(17)])
    expected = [1, 3, 13, 5, 7, 15, 9, 11, 0, 14, 12, 8, 6, 4, 2, 10, 16]
    assert argsort_1_15(v).tolist() == expected
    assert np.argsort(v, kind="stable").tolist() != expected


def test_argsort_hand_traced_nan_in_median_of_three_18():
    """v = [NaN, 3, 1, 3, 1, ..., 3, 1, 2] (n = 18). Median of 3 at 0, 8, 17: 1 < NaN swaps
    positions 8 and 0, 2 < NaN swaps 17 and 8, so NaN ends at position 17 and the pivot is 2
    (index 17), parked at 16. Swaps (1,14), (3,12), (5,10), (7,8); pi = 8 takes the pivot.
    Left 0..7: all 1, indices 8 14 2 12 4 10 6 16. Right 9..17: the 3s as 9 5 11 3 13 1 15 7,
    then NaN."""
    v = np.array([np.nan] + [3.0, 1.0] * 8 + [2.0])
    expected = [8, 14, 2, 12, 4, 10, 6, 16, 17, 9, 5, 11, 3, 13, 1, 15, 7, 0]
    assert argsort_1_15(v).tolist() == expected
    assert argsort_1_15(v.astype(np.float32)).tolist() == expected


def test_argsort_hand_traced_descending_pairs_20():
    """v = [9, 9, 8, 8, ..., 0, 0] (n = 20). Median of 3 over indices 0 (9), 9 (5), 19 (0) leaves
    index 19 at 0, index 9 (pivot 5) in the middle, index 0 at 19; the pivot goes to 18. Every
    scan step swaps a mirror pair, which reverses the order of each tied pair; the insertion sorts
    then keep that order. Result: the indices fully reversed, where a stable sort gives
    18 19 16 17 ... 0 1."""
    v = np.array([9 - i // 2 for i in range(20)], dtype=np.float64)
    assert argsort_1_15(v).tolist() == list(range(19, -1, -1))
    assert np.argsort(v, kind="stable").tolist()[:4] == [18, 19, 16, 17]


def test_aheapsort_hand_traced():
    """aheapsort (heapsort.c.src 115-161) of keys [1, 1, 0, 1, 0]: heap building moves nothing;
    the extractions (heap sizes 5, 4, 3, 2) leave a[] = [1 3 2 4 0], [3 4 2 1 0], [2 4 3 1 0],
    [4 2 3 1 0]."""
    tosort = np.arange(5)
    quicksort._aheapsort(np.array([1, 1, 0, 1, 0], dtype=np.int64), tosort, 0, 5)
    assert tosort.tolist() == [4, 2, 3, 1, 0]


def test_depth_limit_hands_over_to_heapsort(monkeypatch):
    calls = []
    heapsort = quicksort._aheapsort

    def counting(v, tosort, start, n):
        calls.append((start, n, n - len(np.unique(v[tosort[start:start + n]]))))
        heapsort(v, tosort, start, n)

    values = heapsort_case()
    compiled = argsort_1_15(values)   # compile before the patch: numba would see the wrapper
    monkeypatch.setattr(quicksort, "_aheapsort", counting)
    tosort = np.arange(len(values))
    quicksort._aquicksort.py_func(sort_keys(values), tosort)   # the Python body calls the patched name
    assert len(calls) == 1 and calls[0][2] > 10                # one heapsorted range, with ties
    assert tosort.tolist() == compiled.tolist()
    assert np.all(np.diff(values[tosort]) >= 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_argsort_is_a_sorting_permutation(dtype):
    rs = np.random.RandomState(0)
    for n in (0, 1, 2, 15, 16, 17, 50, 333, 2000):
        v = rs.randint(0, max(2, n // 5), n).astype(dtype)
        v[rs.rand(n) < 0.05] = np.nan
        perm = argsort_1_15(v)
        assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(n))
        s = v[perm]
        finite = ~np.isnan(s)
        assert np.all(finite[:finite.sum()]) and np.all(np.diff(s[finite]) >= 0)   # NaN last


@pytest.mark.parametrize("n", [5, 16, 17, 100, 1000])
def test_argsort_without_ties_is_the_sort_order(n):
    v = np.random.RandomState(n).permutation(n).astype(np.float64) * 0.37 - 11.0
    assert np.array_equal(argsort_1_15(v), np.argsort(v, kind="stable"))


def test_argsort_up_to_16_elements_is_stable():
    """pr - pl <= SMALL_QUICKSORT: only the (stable) insertion sort runs."""
    rs = np.random.RandomState(1)
    for n in range(17):
        v = rs.randint(0, 3, n).astype(np.float64)
        assert np.array_equal(argsort_1_15(v), np.argsort(v, kind="stable"))


def test_argsort_rows_and_columns_are_lanewise():
    rs = np.random.RandomState(2)
    a = rs.randint(0, 6, (7, 40)).astype(np.float32)
    rows = argsort_1_15_rows(a)
    cols = argsort_1_15_columns(a.T.copy())
    for r in range(a.shape[0]):
        assert np.array_equal(rows[r], argsort_1_15(a[r]))
        assert np.array_equal(cols[:, r], rows[r])
    assert rows.dtype == cols.dtype == np.int64
    assert np.array_equal(argsort_1_15_columns(np.asfortranarray(a)), argsort_1_15_columns(a))


def test_argsort_rejects_other_input():
    with pytest.raises(ValueError):
        argsort_1_15(np.zeros((2, 2)))
    with pytest.raises(TypeError):
        argsort_1_15(np.array(["a", "b"]))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 dispatch names")
def test_same_on_every_cpu_and_equal_to_scalar_numpy(ref_dir):
    """A child with numpy's SIMD sorts switched off gives the same permutations (bytes) as this
    process, and numpy 2.4.6's own scalar argsort there (a separate, C++ implementation of
    1.15.4's algorithm) agrees with ours on tie-heavy input, NaN, -0.0, the heapsort fallback,
    and the real table."""
    table = ref_dir / "naap440.csv"
    sorts, _, child = scalar_numpy_child(str(table))
    assert child["dispatch_on"] == []        # the SIMD targets really were switched off
    acc = read_csv_2022(table)["MaxAccuracy"].to_numpy()
    assert child["table"] == argsort_1_15(acc).tobytes()
    for v, theirs, ours_there in zip(sorts, child["numpy_sorts"], child["our_sorts"]):
        ours = argsort_1_15(v)
        assert np.array_equal(ours, ours_there) and np.array_equal(ours, theirs)


def test_naap440_sorted_by_max_accuracy(ref_dir):
    """pandas 0.23.4's sort_values('MaxAccuracy') on the 2022 parse: the 40 test rows come in the
    order of their accuracies (they never tie with each other), which is the ground-truth rank.
    Rows with tied accuracies are not in row order (quicksort is not stable); a test row may swap
    places with a tied training row, but the test rows' own order cannot change."""
    df = read_csv_2022(ref_dir / "naap440.csv")
    acc = df["MaxAccuracy"].to_numpy()
    assert not np.isnan(acc).any()        # so nargsort is plain argsort of the column
    order = argsort_1_15(acc)
    assert np.all(np.diff(acc[order]) >= 0)
    is_test = df["IsTest"].to_numpy()[order] == 1
    test_rows = df[df["IsTest"] == 1]
    assert len(test_rows) == 40 and not test_rows["MaxAccuracy"].duplicated().any()
    expected_ids = test_rows.sort_values("MaxAccuracy", kind="stable")["ModelId"].tolist()
    assert df["ModelId"].to_numpy()[order][is_test].tolist() == expected_ids
    moved = order != np.argsort(acc, kind="stable")
    tied = pd.Series(acc).duplicated(keep=False).to_numpy()
    assert moved.any() and np.all(tied[order[moved]])
