"""trees.py grows the same trees as scikit-learn's DecisionTreeRegressor, bit for bit."""
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._sorting import _py_simultaneous_sort

import trees
from conftest import run_script

FULL = np.iinfo(np.int32).max  # what max_depth=None becomes
RAND_R_MAX = 0x7FFFFFFF


def assert_same_tree(X, y, sample_weight, seed, max_depth, criterion="squared_error"):
    """Fit both on float32 X (what sklearn's tree sees) and compare every array and prediction."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # friedman_mse is a deprecated alias
        ref = DecisionTreeRegressor(criterion=criterion, random_state=seed,
                                    max_depth=None if max_depth == FULL else max_depth)
        ref.fit(X32, y, sample_weight=sample_weight)
    rand_r_seed = np.random.RandomState(seed).randint(0, RAND_R_MAX)
    got = trees.fit_tree(X32, y, sample_weight, rand_r_seed, max_depth, criterion == "friedman_mse")
    t = ref.tree_
    for name, mine, theirs in zip(("children_left", "children_right", "feature", "threshold", "value"),
                                  got, (t.children_left, t.children_right, t.feature, t.threshold,
                                        t.value[:, 0, 0])):
        assert np.array_equal(mine, theirs), f"{name} differs (seed {seed}, n={len(y)}, F={X.shape[1]})"
    # unseen points too: thresholds lie between training values, so probe around them
    probe = np.vstack([X32, X32 + np.float32(1e-7), X32[::-1] * np.float32(0.999)]).astype(np.float32)
    assert np.array_equal(trees.predict_tree(*got, probe), ref.predict(probe))
    return len(got[0])


def tie_heavy_data(rs, n, n_features):
    """Columns of the kinds that make the sort's tie order matter: small integers, repeated rows,
    constant columns, columns constant within a block of rows, +-0.0, gaps below 1e-7, noise."""
    cols = []
    for j in range(n_features):
        kind = rs.randint(7)
        if kind == 0:
            c = rs.randint(0, rs.randint(1, 5), n).astype(float)
        elif kind == 1:
            c = np.full(n, rs.randn())
        elif kind == 2:  # constant on a block of rows, varying elsewhere
            c = rs.randn(n)
            c[: n // 2] = 1.5
        elif kind == 3:
            c = rs.choice([0.0, -0.0, 1.0], n)
        elif kind == 4:  # distinct float32 values closer than FEATURE_THRESHOLD
            c = rs.choice([0.0, 3e-8, 6e-8, 9e-8, 1.5e-7, 1.0], n)
        elif kind == 5:
            c = np.round(rs.randn(n), 1)
        else:
            c = rs.randn(n)
        cols.append(c)
    X = np.column_stack(cols)
    if n > 3 and rs.rand() < 0.5:  # repeated rows
        X[rs.randint(0, n, n // 3)] = X[rs.randint(0, n, n // 3)]
    return X


def target(rs, X):
    n = len(X)
    kind = rs.randint(3)
    if kind == 0:
        return rs.randint(0, 3, n).astype(float)  # ties in y: equal proxies
    if kind == 1:
        return X[:, 0] * 0.3 + rs.randn(n) * 0.01
    return rs.randn(n)


def bootstrap_counts(rs, n):
    return np.bincount(rs.randint(0, n, n), minlength=n).astype(np.float64)


def test_introsort_matches_sklearn_simultaneous_sort():
    rs = np.random.RandomState(0)
    stack = np.empty((500, 3), np.intp)
    for k in range(300):
        n = rs.randint(0, 400)
        vals = (rs.randint(0, rs.randint(1, 50), n) if k % 2 else rs.randn(n)).astype(np.float32)
        if k % 5 == 0:
            vals[rs.rand(n) < 0.3] = -0.0
        lo = rs.randint(0, 50)
        XT = np.concatenate([np.zeros(lo, np.float32), vals])[None, :]
        packed = trees._packed_keys(XT)[0]
        trees._sort(packed, lo, n, stack)
        ref_vals, ref_idx = vals.copy(), np.arange(lo, lo + n)
        _py_simultaneous_sort(ref_vals, ref_idx, n, use_three_way_partition=True)
        assert np.array_equal(packed[lo:] & 0xFFFFFFFF, ref_idx)


def antiqsort_input(n):
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
        while m > 15:
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
            packed = trees._packed_keys(v[None, :])[0]
            trees._sort(packed, 0, n, stack)
            ref_vals, ref_idx = v.copy(), np.arange(n)
            _py_simultaneous_sort(ref_vals, ref_idx, n, use_three_way_partition=True)
            assert np.array_equal(packed & 0xFFFFFFFF, ref_idx)
    assert reached == 4


def test_full_depth_bootstrap_weights_tie_heavy():
    """Random-Forest trees: full depth, bootstrap counts (zeros included) as sample_weight."""
    rs = np.random.RandomState(1)
    for seed in range(200):
        n = rs.randint(2, 401) if seed % 4 else rs.randint(2, 20)
        X = tie_heavy_data(rs, n, rs.randint(1, 36))
        assert_same_tree(X, target(rs, X), bootstrap_counts(rs, n), seed, FULL)


def test_full_depth_continuous():
    rs = np.random.RandomState(2)
    for seed in range(40):
        n = rs.randint(2, 401)
        X = rs.randn(n, rs.randint(1, 36))
        assert_same_tree(X, rs.randn(n), bootstrap_counts(rs, n), 1000 + seed, FULL)


def test_depth3_friedman_unit_weights():
    """Gradient-Boosting trees: depth 3, friedman_mse (= squared_error in 1.9.1), weights 1."""
    rs = np.random.RandomState(3)
    for seed in range(200):
        n = rs.randint(2, 401)
        X = tie_heavy_data(rs, n, rs.randint(1, 36)) if seed % 2 else rs.randn(n, rs.randint(1, 36))
        residual = target(rs, X) - rs.rand()
        assert_same_tree(X, residual, np.ones(n), seed, 3, "friedman_mse")


def test_depth3_no_weights_duplicated_rows():
    """AdaBoost trees: depth 3, squared_error, no sample_weight, rows drawn with replacement."""
    rs = np.random.RandomState(4)
    for seed in range(200):
        n = rs.randint(2, 401)
        X = tie_heavy_data(rs, n, rs.randint(1, 36)) if seed % 2 else rs.randn(n, rs.randint(1, 36))
        y = target(rs, X)
        rows = rs.randint(0, n, n)
        assert_same_tree(X[rows], y[rows], None, seed, 3)


def test_edge_cases():
    rs = np.random.RandomState(5)
    X = rs.randn(30, 4)
    assert assert_same_tree(X[:1], np.ones(1), None, 0, FULL) == 1  # one sample
    assert assert_same_tree(X, np.full(30, 0.5), None, 0, FULL) == 1  # pure node
    assert assert_same_tree(np.zeros((30, 3)), rs.randn(30), None, 0, FULL) == 1  # all constant
    w = np.zeros(30)
    w[[3, 17]] = [2.0, 1.0]
    assert_same_tree(X, rs.randn(30), w, 0, FULL)  # almost all weights zero
    assert_same_tree(X, rs.randn(30), rs.rand(30) * 3, 0, FULL)  # non-integer weights
    for depth in (1, 2, 5):
        assert_same_tree(X, rs.randn(30), None, 7, depth)


@pytest.fixture(scope="module")
def naap_data(ref_dir):
    import pandas as pd
    df = pd.read_csv(ref_dir / "naap440v2.csv")
    cols = ["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth",
            "NumSkipConnections", "NumPartialRFLayers"]
    cols += [f"e{e}{k}" for e in range(1, 10) for k in ("LossMean", "LossMedian", "Accuracy")]
    train = df[df["IsTest"] == 0]
    X = StandardScaler().fit_transform(train[cols].to_numpy(float))
    return X, train["MaxAccuracy"].to_numpy(float)


def test_real_data_all_three_kinds(naap_data):
    X, y = naap_data
    rs = np.random.RandomState(6)
    n = len(y)
    for seed in range(12):
        cols = np.sort(rs.choice(X.shape[1], rs.randint(8, X.shape[1] + 1), replace=False))
        Xs = X[:, cols]
        assert_same_tree(Xs, y, bootstrap_counts(rs, n), seed, FULL)
        assert_same_tree(Xs, y - y.mean() + rs.randn(n) * 0.01, np.ones(n), seed, 3, "friedman_mse")
        rows = rs.randint(0, n, n)
        assert_same_tree(Xs[rows], y[rows], None, seed, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_refused(bad):
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        trees.fit_tree(X, np.arange(6.0), None, 1, 3)
    if not np.isnan(bad):  # scikit-learn >= 1.3 grows NaN as a missing value; infinity it refuses
        with pytest.raises(ValueError):
            DecisionTreeRegressor(random_state=0).fit(X, np.arange(6.0))


def test_benchmark_script_checks_its_trees_against_sklearn(ref_dir):
    r = run_script("bench/bench_trees.py", ref_dir / "naap440v2.csv", "--subsets", "1", "--trees", "2")
    assert r.returncode == 0, r.stderr
    assert "trees equal scikit-learn's" in r.stdout and "floor:" in r.stdout
