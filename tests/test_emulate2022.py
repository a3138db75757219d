"""emulate2022 reproduces pandas 0.23.4's float parse, numpy 1.15.4's argsort and argpartition and
scikit-learn 0.20.1's brute k-NN bit for bit.

Expected values come from outside the module: hand traces of the old C code (written out in the
comments), exact rational arithmetic, counts measured independently (FIDELITY_2022.md), numpy
2.4.6 with its SIMD dispatch switched off (which runs the C++ port of the same scalar introsort
and introselect), and scikit-learn 1.9.1 where the two versions must agree.
"""
import math
import os
import pickle
import platform
import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from sklearn.neighbors import KNeighborsRegressor

from naap.replica import emulate2022 as em

# numpy 2.4.6 reduced to its baseline: no AVX2/AVX-512 sort or select kernels
NO_SIMD_SORT = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"


def nearest_double(q):
    """The double nearest to the rational q (ties to even): int / int true division in CPython is
    correctly rounded, so this is exact reasoning, not float arithmetic on q's parts."""
    return q.numerator / q.denominator


# ---- xstrtod ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, digits, divisors", [
    # "0.694": digits 6, 69, 694 (exact), exponent -3 = -(1 + 2): divide by 10, then by 100
    ("0.694", 694, (10, 100)),
    ("0.646", 646, (10, 100)),
    ("-0.694", -694, (10, 100)),     # the sign is applied before the scaling
    # "3.14159": exponent -5 = -(1 + 4): divide by 10, then by 1e4 (p10 squared twice)
    ("3.14159", 314159, (10, 10_000)),
])
def test_xstrtod_two_roundings_in_the_scaling(text, digits, divisors):
    """The scaling loop divides once per set bit of the exponent, rounding each time."""
    by_floats = float(digits)
    for d in divisors:
        by_floats /= float(d)
    by_fractions = Fraction(digits)
    for d in divisors:
        by_fractions = Fraction(nearest_double(by_fractions / d))
    correct = nearest_double(Fraction(digits, math.prod(divisors)))
    assert by_floats == float(by_fractions)
    assert correct == float(text)
    assert by_floats != correct
    assert abs(by_floats - correct) == math.ulp(correct)   # one unit in the last place
    assert em.xstrtod(text) == by_floats


def test_xstrtod_rounds_while_accumulating_digits():
    """Each digit is number * 10 + d in doubles. In "9007199254740993.5" the 16th digit makes
    9007199254740993 = 2**53 + 1, which rounds (tie, to even) to 2**53; the '5' then gives
    2**53 * 10 + 5, which rounds to 2**53 * 10 (spacing 16 there); exponent -1 divides by 10."""
    assert 900719925474099 * 10 + 3 == 2**53 + 1
    step16 = nearest_double(Fraction(2**53 + 1))
    assert step16 == 2.0**53
    step17 = nearest_double(Fraction(int(step16)) * 10 + 5)
    assert step17 == 2.0**53 * 10
    expected = nearest_double(Fraction(int(step17)) / 10)
    assert expected == 9007199254740992.0
    assert float("9007199254740993.5") == 9007199254740994.0
    assert em.xstrtod("9007199254740993.5") == expected


@pytest.mark.parametrize("text, expected", [
    ("0.6521", 6521 / 1e4),      # one division (exponent -4 has one bit set): correctly rounded
    ("0.1", 1 / 10.0),
    ("12", 12.0),
    (" -2.5\t", -2.5),           # C isspace skipped on both sides; 25 / 10 is exact
    ("+7", 7.0),
    ("5.", 5.0),
    (".5", 0.5),
    ("1E5", 1e5),
    ("1e+5", 1e5),
    ("1e23", 1e23),              # 1 * 10 * 100 * 1e4 * 1e16: only the last product rounds
    ("1.5e-3", 15 / 1e4),        # exponent -1 - 3 = -4: one division
])
def test_xstrtod_agrees_with_a_correct_parse(text, expected):
    assert em.xstrtod(text) == expected == float(text)


@pytest.mark.parametrize("text", [
    "", " ", "abc", ".", "-", "+-1", "1.5x", "1 2",
    "1e", "1e+",        # no exponent digits: the C code steps back onto 'e'/'+', which remains
    "1e400",            # decimal exponent 400 <= 1024 but the product overflows to +inf (errno)
    "1e1025",           # exponent above DBL_MAX_EXP
    "1e-1022",          # exponent below DBL_MIN_EXP (-1021), although 1e-1022 is a double
    "inf", "nan",
])
def test_xstrtod_rejects_what_pandas_0_23_4_did_not_parse(text):
    with pytest.raises(ValueError):
        em.xstrtod(text)


def test_read_csv_2022_naap440_differs_in_the_measured_cells(ref_dir):
    """FIDELITY_2022.md item 1: 2,875 cells of naap440.csv differ in the last bit from today's
    parse, 12 of them MaxAccuracy."""
    path = ref_dir / "naap440.csv"
    old, new = em.read_csv_2022(path), pd.read_csv(path)
    assert old.columns.equals(new.columns) and old.dtypes.equals(new.dtypes)
    assert old.index.equals(new.index)
    floats = [c for c in new.columns if new[c].dtype == np.float64]
    others = [c for c in new.columns if c not in floats]
    assert old[others].equals(new[others])
    a, b = old[floats].to_numpy(), new[floats].to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    differs = (a != b) & ~np.isnan(b)
    assert int(differs.sum()) == 2875
    assert int((old["MaxAccuracy"] != new["MaxAccuracy"]).sum()) == 12
    # every difference is one unit in the last place
    assert np.all(np.abs(a - b)[differs] == np.spacing(np.abs(b))[differs])


def test_read_csv_2022_small_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'id,name,x,y\r\n1,a,0.694,1.5\r\n2,b,,2\r\n'
                     b'3,c,"0.646",inf\r\n4,d,NA,-0.0\r\n')
    got, today = em.read_csv_2022(path), pd.read_csv(path)
    assert got.dtypes.equals(today.dtypes)
    assert got[["id", "name"]].equals(today[["id", "name"]])
    x = got["x"].to_numpy()
    assert x[0] == (694.0 / 10.0) / 100.0 != float("0.694")
    assert math.isnan(x[1]) and math.isnan(x[3])
    assert x[2] == (646.0 / 10.0) / 100.0
    y = got["y"].to_numpy()
    assert y[0] == 1.5 and y[1] == 2.0 and y[2] == math.inf     # "inf" keeps today's value
    assert y[3] == 0.0 and math.copysign(1.0, y[3]) == -1.0


@pytest.mark.parametrize("make", [lambda d: d / "missing.csv", lambda d: d])
def test_read_csv_2022_raises_what_read_csv_raises(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(Exception) as theirs:
        pd.read_csv(path)
    with pytest.raises(theirs.type):
        em.read_csv_2022(path)


# ---- argsort: hand traces of aquicksort (quicksort.c.src 164-237) -----------------------------

def test_argsort_hand_traced_alternating_17():
    """v[i] = 1 for even i, 0 for odd i, n = 17: one partition, then insertion sorts.
    Median of 3 at positions 0, 8, 16: all 1, no swaps; pivot 1; index 8 swapped to position 15.
    Scans swap positions (2,14), (4,13), (6,12), (10,11), stop at pi = 11; pivot to position 11.
    Left part 0..10 holds indices 0 1 14 3 13 5 12 7 15 9 11 and is insertion-sorted (stable):
    zeros 1 3 13 5 7 15 9 11, ones 0 14 12; then pivot 8; right part 12..16 holds 6 4 2 10 16."""
    v = np.array([1.0 if i % 2 == 0 else 0.0 for i in range(17)])
    expected = [1, 3, 13, 5, 7, 15, 9, 11, 0, 14, 12, 8, 6, 4, 2, 10, 16]
    assert em.argsort_1_15(v).tolist() == expected
    assert np.argsort(v, kind="stable").tolist() != expected


def test_argsort_hand_traced_nan_in_median_of_three_18():
    """v = [NaN, 3, 1, 3, 1, ..., 3, 1, 2] (n = 18). Median of 3 at 0, 8, 17: 1 < NaN swaps
    positions 8 and 0, 2 < NaN swaps 17 and 8, so NaN ends at position 17 and the pivot is 2
    (index 17), parked at 16. Swaps (1,14), (3,12), (5,10), (7,8); pi = 8 takes the pivot.
    Left 0..7: all 1, indices 8 14 2 12 4 10 6 16. Right 9..17: the 3s as 9 5 11 3 13 1 15 7,
    then NaN."""
    v = np.array([np.nan] + [3.0, 1.0] * 8 + [2.0])
    expected = [8, 14, 2, 12, 4, 10, 6, 16, 17, 9, 5, 11, 3, 13, 1, 15, 7, 0]
    assert em.argsort_1_15(v).tolist() == expected
    assert em.argsort_1_15(v.astype(np.float32)).tolist() == expected


def test_argsort_hand_traced_descending_pairs_20():
    """v = [9, 9, 8, 8, ..., 0, 0] (n = 20). Median of 3 over indices 0 (9), 9 (5), 19 (0) leaves
    index 19 at 0, index 9 (pivot 5) in the middle, index 0 at 19; the pivot goes to 18. Every
    scan step swaps a mirror pair, which reverses the order of each tied pair; the insertion sorts
    then keep that order. Result: the indices fully reversed, where a stable sort gives
    18 19 16 17 ... 0 1."""
    v = np.array([9 - i // 2 for i in range(20)], dtype=np.float64)
    assert em.argsort_1_15(v).tolist() == list(range(19, -1, -1))
    assert np.argsort(v, kind="stable").tolist()[:4] == [18, 19, 16, 17]


def test_aheapsort_hand_traced():
    """aheapsort (heapsort.c.src 115-161) of keys [1, 1, 0, 1, 0]: heap building moves nothing;
    the extractions (heap sizes 5, 4, 3, 2) leave a[] = [1 3 2 4 0], [3 4 2 1 0], [2 4 3 1 0],
    [4 2 3 1 0]."""
    tosort = np.arange(5)
    em._aheapsort(np.array([1, 1, 0, 1, 0], dtype=np.int64), tosort, 0, 5)
    assert tosort.tolist() == [4, 2, 3, 1, 0]


def median_of_3_killer(n):
    """A permutation of 0..n-1 on which median-of-3 quicksort peels off two elements per
    partition: going from the whole array inwards, swap the middle element with the second last,
    then drop the last two."""
    d = np.arange(n)
    size = n
    while size > 3:
        mid = size // 2
        d[mid], d[size - 2] = d[size - 2], d[mid]
        size -= 2
    return d


def heapsort_case():
    """The killer with values below 40 merged in threes: still deep enough that heapsort takes over
    (on positions 0..46), with ties inside the heapsorted range."""
    base = median_of_3_killer(100)
    return np.where(base < 40, base // 3 * 3, base).astype(np.float64)


def test_depth_limit_hands_over_to_heapsort(monkeypatch):
    calls = []
    heapsort = em._aheapsort

    def counting(v, tosort, start, n):
        calls.append((start, n, n - len(np.unique(v[tosort[start:start + n]]))))
        heapsort(v, tosort, start, n)

    values = heapsort_case()
    compiled = em.argsort_1_15(values)   # compile before the patch: numba would see the wrapper
    monkeypatch.setattr(em, "_aheapsort", counting)
    tosort = np.arange(len(values))
    em._aquicksort.py_func(em._sort_keys(values), tosort)   # the Python body calls the patched name
    assert len(calls) == 1 and calls[0][2] > 10                # one heapsorted range, with ties
    assert tosort.tolist() == compiled.tolist()
    assert np.all(np.diff(values[tosort]) >= 0)


def test_median_of_medians_after_depth_limit(monkeypatch):
    calls = []
    median5 = em._amedian5

    def counting(v, t, s):
        calls.append(s)
        return median5(v, t, s)

    values = (median_of_3_killer(200) // 2).astype(np.float64)
    compiled = em.argpartition_1_15_rows(values[None, :], 66)[0]   # compile before the patch
    monkeypatch.setattr(em, "_amedian5", counting)
    tosort = np.arange(200)
    pivots, npiv = np.empty(em.NPY_MAX_PIVOT_STACK, np.int64), np.zeros(1, np.int64)
    em._aintroselect.py_func(em._sort_keys(values), tosort, 0, 200, 66, pivots, npiv, True)
    assert len(calls) > 20
    assert tosort.tolist() == compiled.tolist()


# ---- argsort: properties ----------------------------------------------------------------------

def test_sort_keys_compare_like_numpy_float_less_than():
    """key(a) < key(b) exactly when a < b or (b is NaN and a is not), for special values."""
    specials = [-math.inf, -1.7976931348623157e308, -1.0, -5e-324, -0.0, 0.0, 5e-324,
                2.2250738585072014e-308, 1.0, 1.7976931348623157e308, math.inf, math.nan,
                -math.nan, float.fromhex("0x1.8p-1")]
    keys = em._sort_keys(np.array(specials))
    for i, a in enumerate(specials):
        for j, b in enumerate(specials):
            assert (keys[i] < keys[j]) == (a < b or (b != b and a == a)), (a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_argsort_is_a_sorting_permutation(dtype):
    rs = np.random.RandomState(0)
    for n in (0, 1, 2, 15, 16, 17, 50, 333, 2000):
        v = rs.randint(0, max(2, n // 5), n).astype(dtype)
        v[rs.rand(n) < 0.05] = np.nan
        perm = em.argsort_1_15(v)
        assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(n))
        s = v[perm]
        finite = ~np.isnan(s)
        assert np.all(finite[:finite.sum()]) and np.all(np.diff(s[finite]) >= 0)   # NaN last


@pytest.mark.parametrize("n", [5, 16, 17, 100, 1000])
def test_argsort_without_ties_is_the_sort_order(n):
    v = np.random.RandomState(n).permutation(n).astype(np.float64) * 0.37 - 11.0
    assert np.array_equal(em.argsort_1_15(v), np.argsort(v, kind="stable"))


def test_argsort_up_to_16_elements_is_stable():
    """pr - pl <= SMALL_QUICKSORT: only the (stable) insertion sort runs."""
    rs = np.random.RandomState(1)
    for n in range(17):
        v = rs.randint(0, 3, n).astype(np.float64)
        assert np.array_equal(em.argsort_1_15(v), np.argsort(v, kind="stable"))


def test_argsort_rows_and_columns_are_lanewise():
    rs = np.random.RandomState(2)
    a = rs.randint(0, 6, (7, 40)).astype(np.float32)
    rows = em.argsort_1_15_rows(a)
    cols = em.argsort_1_15_columns(a.T.copy())
    for r in range(a.shape[0]):
        assert np.array_equal(rows[r], em.argsort_1_15(a[r]))
        assert np.array_equal(cols[:, r], rows[r])
    assert rows.dtype == cols.dtype == np.int64
    assert np.array_equal(em.argsort_1_15_columns(np.asfortranarray(a)), em.argsort_1_15_columns(a))


def test_argsort_rejects_other_input():
    with pytest.raises(ValueError):
        em.argsort_1_15(np.zeros((2, 2)))
    with pytest.raises(TypeError):
        em.argsort_1_15(np.array(["a", "b"]))


# ---- argpartition: hand traces of aintroselect (selection.c.src 283-405) ----------------------

def test_argpartition_dumb_select_hand_traced():
    """kth - low < 3: selection sort of the first kth + 1 places. [2, 2, 1], kth 1: the minimum
    (index 2) swaps with place 0, sending index 0 to place 2; place 1 (index 1) is then a first
    minimum among 2, 2 and stays. Lowest-index-first would have chosen index 0."""
    assert em.argpartition_1_15_rows(np.array([[2.0, 2.0, 1.0]]), 1).tolist() == [[2, 1, 0]]


def test_argpartition_last_maximum_hand_traced():
    """kth == n - 1 (for floats): scan for the last maximum ('>='), swap it to the end."""
    v = np.array([[2.0, 5.0, 5.0, 1.0]])
    assert em.argpartition_1_15_rows(v, 3).tolist() == [[0, 1, 3, 2]]
    assert em.argpartition_1_15_rows(v, -1).tolist() == [[0, 1, 3, 2]]


def test_argpartition_median_of_3_hand_traced():
    """[3, 1, 3, 1, 3, 1, 3, 1], kth 4. Round 1: low 0, mid 3, high 7: 1 < 3 swaps 7 and 0; the
    pivot (1) stays at low, mid goes to low + 1. Unguarded partition swaps places 2 and 5 (and 3
    with itself), ends at hh = 2: t = 5 3 7 1 | 4 2 6 0 after moving the pivot. Round 2 on places
    4..7 (all 3): hh ends at 5, which is stored and becomes high = 4. Place 4 holds index 2."""
    v = np.array([[3.0, 1.0, 3.0, 1.0, 3.0, 1.0, 3.0, 1.0]])
    assert em.argpartition_1_15_rows(v, 4).tolist() == [[5, 3, 7, 1, 2, 4, 6, 0]]


def test_argpartition_partitions():
    rs = np.random.RandomState(3)
    a = rs.randint(0, 9, (20, 57)).astype(np.float64)
    a[rs.rand(*a.shape) < 0.03] = np.nan
    for kth in (0, 1, 2, 3, 10, 28, 55, 56):
        part = em.argpartition_1_15_rows(a, kth)
        for r in range(a.shape[0]):
            assert sorted(part[r].tolist()) == list(range(57))
            keys = em._sort_keys(a[r][part[r]])
            pivot = keys[kth]
            assert keys[:kth].max(initial=pivot) <= pivot <= keys[kth + 1:].min(initial=pivot)
    with pytest.raises(ValueError):
        em.argpartition_1_15_rows(a, 57)


# ---- the real table, and every CPU ------------------------------------------------------------

def oracle_cases():
    """Tie-heavy arrays for numpy 2.4.6's scalar sort and select, incl. both fallbacks."""
    rs = np.random.RandomState(2022)
    sorts, parts = [heapsort_case(), median_of_3_killer(300).astype(np.float64)], []
    for t in range(120):
        n = rs.randint(2, 400)
        v = rs.randint(0, n // 4 + 2, n).astype(np.float32 if t % 3 == 0 else np.float64)
        if t % 4 == 0:
            v[rs.randint(0, n, n // 10 + 1)] = np.nan
        if t % 5 == 0:
            v[v == 0] = -0.0
        sorts.append(v)
        parts.append((v.astype(np.float64), int(rs.randint(0, n))))
    killer = (median_of_3_killer(200) // 2).astype(np.float64)
    parts += [(killer, kth) for kth in (5, 66, 100, 150, 199)]
    return sorts, parts


CHILD = r"""
import pickle, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from numpy._core._multiarray_umath import __cpu_features__
from naap.replica import emulate2022 as em
sorts, parts, table = pickle.load(sys.stdin.buffer)
acc = em.read_csv_2022(table)["MaxAccuracy"].to_numpy()
pickle.dump({
    "dispatch_on": [f for f in sys.argv[2].split() if __cpu_features__.get(f)],
    "numpy_sorts": [np.argsort(v, kind="quicksort") for v in sorts],
    "numpy_parts": [np.argpartition(v[None, :], k, axis=1)[0] for v, k in parts],
    "our_sorts": [em.argsort_1_15(v) for v in sorts],
    "our_parts": [em.argpartition_1_15_rows(v[None, :], k)[0] for v, k in parts],
    "table": em.argsort_1_15(acc).tobytes(),
}, sys.stdout.buffer)
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 dispatch names")
def test_same_on_every_cpu_and_equal_to_scalar_numpy(ref_dir):
    """A child with numpy's SIMD sorts switched off gives the same permutations (bytes) as this
    process, and numpy 2.4.6's own scalar argsort / argpartition there (a separate, C++
    implementation of 1.15.4's algorithms) agrees with ours on tie-heavy input, NaN, -0.0, the
    heapsort and median-of-medians fallbacks, and the real table."""
    sorts, parts = oracle_cases()
    table = ref_dir / "naap440.csv"
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=NO_SIMD_SORT)
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), NO_SIMD_SORT], env=env,
                          capture_output=True,
                          input=pickle.dumps((sorts, parts, str(table))), timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    child = pickle.loads(done.stdout)
    assert child["dispatch_on"] == []        # the SIMD targets really were switched off
    acc = em.read_csv_2022(table)["MaxAccuracy"].to_numpy()
    assert child["table"] == em.argsort_1_15(acc).tobytes()
    for v, theirs, ours_there in zip(sorts, child["numpy_sorts"], child["our_sorts"]):
        ours = em.argsort_1_15(v)
        assert np.array_equal(ours, ours_there) and np.array_equal(ours, theirs)
    for (v, k), theirs, ours_there in zip(parts, child["numpy_parts"], child["our_parts"]):
        ours = em.argpartition_1_15_rows(v[None, :], k)[0]
        assert np.array_equal(ours, ours_there) and np.array_equal(ours, theirs)


def test_naap440_sorted_by_max_accuracy(ref_dir):
    """pandas 0.23.4's sort_values('MaxAccuracy') on the 2022 parse: the 40 test rows come in the
    order of their accuracies (they never tie with each other), which is the ground-truth rank.
    Rows with tied accuracies are not in row order (quicksort is not stable); a test row may swap
    places with a tied training row, but the test rows' own order cannot change."""
    df = em.read_csv_2022(ref_dir / "naap440.csv")
    acc = df["MaxAccuracy"].to_numpy()
    assert not np.isnan(acc).any()        # so nargsort is plain argsort of the column
    order = em.argsort_1_15(acc)
    assert np.all(np.diff(acc[order]) >= 0)
    is_test = df["IsTest"].to_numpy()[order] == 1
    test_rows = df[df["IsTest"] == 1]
    assert len(test_rows) == 40 and not test_rows["MaxAccuracy"].duplicated().any()
    expected_ids = test_rows.sort_values("MaxAccuracy", kind="stable")["ModelId"].tolist()
    assert df["ModelId"].to_numpy()[order][is_test].tolist() == expected_ids
    moved = order != np.argsort(acc, kind="stable")
    tied = pd.Series(acc).duplicated(keep=False).to_numpy()
    assert moved.any() and np.all(tied[order[moved]])


# ---- k-NN --------------------------------------------------------------------------------------

def sklearn_1_9_1(X_train, y_train, X_test, k):
    model = KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
    return model.predict(X_test)


def test_knn_tie_at_k2_goes_to_the_later_row():
    """Rows 0 and 1 tie at squared distance 4, row 2 is at 1. dumb_select (see the argpartition
    trace above) keeps rows 2 and 1: mean(0, 20) = 10. scikit-learn 1.9.1 keeps rows 2 and 0."""
    X_train, y = np.array([[2.0], [2.0], [1.0]]), np.array([10.0, 20.0, 0.0])
    X_test = np.array([[0.0]])
    assert em.knn_predict_0_20_1(X_train, y, X_test, 2).tolist() == [10.0]
    assert sklearn_1_9_1(X_train, y, X_test, 2).tolist() == [5.0]


def test_knn_tie_at_k5_median_of_3():
    """Squared distances 9, 1, 9, 1, ... (the median-of-3 trace above, kth 4): 0.20.1 keeps the
    four rows at 1 and row 2 of the rows at 9; 1.9.1 takes row 0. y is 0 except y0 = 100 and
    y2 = 200."""
    X_train = np.array([[3.0], [1.0]] * 4)
    y = np.zeros(8)
    y[0], y[2] = 100.0, 200.0
    X_test = np.array([[0.0]])
    assert em.knn_predict_0_20_1(X_train, y, X_test, 5).tolist() == [40.0]
    assert sklearn_1_9_1(X_train, y, X_test, 5).tolist() == [20.0]


def test_knn_mean_of_9_is_pairwise():
    """9 neighbours at distances 0..8 with y = 1, 2**-53 x 8 in that order. numpy's add-reduce
    from 0 with pairwise summation: ((1 + e) + (e + e)) + ((e + e) + (e + e)) = 1 + 3 * 2**-52,
    then + e is a tie that rounds to even: 1 + 2**-50. Left to right would stay at 1."""
    e = 2.0**-53
    X_train = np.arange(9.0)[:, None]
    y = np.array([1.0] + [e] * 8)
    got = em.knn_predict_0_20_1(X_train, y, np.array([[0.0]]), 9)
    assert got.tolist() == [(1.0 + 2.0**-50) / 9]
    assert got[0] != 1.0 / 9


@pytest.mark.parametrize("k", [1, 3, 5, 7, 9])
def test_knn_agrees_with_sklearn_without_ties(k):
    rs = np.random.RandomState(k)
    X_train, X_test = rs.randn(80, 6), rs.randn(25, 6)
    y = rs.randn(80)
    assert np.array_equal(em.knn_predict_0_20_1(X_train, y, X_test, k),
                          sklearn_1_9_1(X_train, y, X_test, k))


def test_knn_rejects_bad_k():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError):
        em.knn_predict_0_20_1(X, np.zeros(3), X, 4)
    with pytest.raises(ValueError):
        em.knn_predict_0_20_1(X, np.zeros(3), X, 0)


# ----------------------------------------------------------------------------- Python 3.7.1 set order
def test_tuple_hash_is_cpython_37s():
    # hash(()) and hash((1, 2)) of CPython <= 3.7 on 64-bit (3.8 changed the tuple hash)
    assert em.tuple_hash_py37(()) == 3527539
    assert em.tuple_hash_py37((1, 2)) == 3713081631934410656
    assert em.tuple_hash_py37((-1,)) == em.tuple_hash_py37((-2,))  # hash(-1) is -2


def test_set_order_is_cpythons_set_table():
    # CPython's own set (its table has not changed since 3.7) with today's hash is the reference:
    # collisions, the linear probes, the perturbed jumps and each resize on the way to 600 keys
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randrange(1, 40)
        keys = [tuple(rng.randrange(2) for _ in range(n)) for _ in range(rng.randrange(1, 600))]
        assert em.set_order_py37(keys, hash) == list(set(keys))
        ints = [rng.randrange(-2 ** 40, 2 ** 40) for _ in range(rng.randrange(1, 300))]
        assert em.set_order_py37(ints, hash) == list(set(ints))


def test_set_order_by_hand():
    # 3.7 hashes mod 8 (table of 8): 011 -> 1, 101 -> 7, 110 -> 1 (taken; 1 + 9 > 7, so it jumps
    # to (1 * 5 + 1 + (hash >> 5)) & 7)
    h = em.tuple_hash_py37((1, 1, 0))
    jump = (1 * 5 + 1 + (h >> 5)) & 7
    order = em.set_order_py37([(0, 1, 1), (1, 0, 1), (1, 1, 0), (0, 1, 1)])
    expected = sorted([(1, (0, 1, 1)), (7, (1, 0, 1)), (jump, (1, 1, 0))])
    assert jump not in (1, 7) and order == [k for _, k in expected]
