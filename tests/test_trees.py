"""trees.py grows the same trees as scikit-learn's DecisionTreeRegressor, bit for bit (1.9.1 rules),
and scikit-learn 0.20.1's trees under rules="0.20.1" (against a transcription of 0.20.1's source)."""
import math
import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from conftest import run_script
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._sorting import _py_simultaneous_sort

from naap.replica import trees

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
        trees._sort(packed, lo, n, stack, False)
        ref_vals, ref_idx = vals.copy(), np.arange(lo, lo + n)
        _py_simultaneous_sort(ref_vals, ref_idx, n, use_three_way_partition=True)
        assert np.array_equal(packed[lo:] & 0xFFFFFFFF, ref_idx)


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
            packed = trees._packed_keys(v[None, :])[0]
            trees._sort(packed, 0, n, stack, False)
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


def test_kept_orders_mixed_ties_and_more_than_64_features():
    """Columns that are tie-free at the root, become tie-free deeper down, or keep ties, at full
    depth (trees.py keeps a tie-free column's order instead of sorting it again); and 65+
    columns, where it sorts every column as before."""
    rs = np.random.RandomState(12)
    for seed in range(40):
        n = rs.randint(20, 401)
        F = rs.randint(60, 80) if seed % 4 == 0 else rs.randint(2, 36)
        X = np.column_stack([rs.randn(n) if j % 3 == 0 else np.round(rs.randn(n), rs.randint(1, 3))
                             if j % 3 == 1 else tie_heavy_data(rs, n, 1)[:, 0] for j in range(F)])
        w = bootstrap_counts(rs, n) if seed % 2 else None
        assert_same_tree(X, target(rs, X), w, 2000 + seed, FULL)


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


def test_benchmark_script_counts_visits_and_checks_its_trees_against_sklearn(ref_dir, tmp_path):
    # a results.csv whose only N=200 visits are three Random Forest subsets of Scheme+Quant.9;
    # the N=25 search, another mode and a held-out refit are no N=200 visits
    flags = ["1" * 20 + "0" * 15, "1" * 21 + "0" * 14, "1" * 25 + "0" * 10]
    rows = [("interpolation", "Random Forest (N=200)", "Scheme+Quant.9", f, "validation") for f in flags]
    rows += [("interpolation", "Random Forest (N=25)", "Scheme+Quant.9", flags[0], "validation"),
             ("left_extrapolation", "Random Forest (N=200)", "Scheme+Quant.9", flags[0], "validation"),
             ("interpolation", "Random Forest (N=200)", "Scheme+Quant.9", flags[0], "test")]
    visits = tmp_path / "results.csv"
    visits.write_text("Mode,Model,FeatureSetName,Flags,ScoredOn\n" + "".join(",".join(r) + "\n" for r in rows))
    r = run_script("bench/bench_trees.py", ref_dir / "naap440v2.csv", "--subsets", "1", "--trees", "2",
                   "--repeats", "1", "--visits", visits)
    assert r.returncode == 0, r.stderr
    assert "all 12 trees equal scikit-learn's" in r.stdout, r.stdout
    row = re.search(r"^Scheme\+Quant\.9 +Random Forest +(\d+) \(mean\) +[\d.]+ +[\d.]+ +[\d.]+x +[\d.]+ +[\d.]+ +"
                    r"[\d.]+x +([\d.]+) +[\d.]+x +\d+% +(\d+) +([\d,]+)$", r.stdout, re.M)
    assert row, r.stdout
    assert int(row[1]) == round((20 + 21 + 25) / 3) and int(row[3]) == 3
    paper_ms, cpu = float(row[2]), float(row[4].replace(",", ""))  # the floor is the default run's
    assert abs(cpu - 3 * 5 * 200 * paper_ms / 1e3) <= 0.5 + 3 * 5 * 200 * 0.0005e-3  # printed roundings
    assert len(re.findall(r"\(setting\) .* not found +-$", r.stdout, re.M)) == 5
    assert re.search(r"^floor: the N=200 trees of the 1 searches counted in .* take [\d,]+ CPU-s", r.stdout, re.M)
    assert "not found there, left out: Scheme+Quant.9 Gradient Boosting" in r.stdout


def load_bench_trees():
    from bench import bench_trees
    return bench_trees


def test_benchmark_counts_the_visits_in_a_resume_journal(tmp_path):
    from naap.cli import InputError
    from naap.paper2 import selection
    bench = load_bench_trees()
    with pytest.raises(InputError, match="holds no journal"):
        bench.count_visits(tmp_path)
    masks = [(1,) * 26, (0,) + (1,) * 25, (0, 0) + (1,) * 24]
    journal = tmp_path / selection.journal_name(("interpolation", "Scheme+Quant.6", ("Random Forest (N=25)",)))
    selection.append_journal(journal, {(m, "Random Forest (N=25)"): {} for m in masks})
    selection.append_journal(journal, {(m, "Random Forest (N=200)"): {} for m in masks[1:]})
    assert bench.count_visits(tmp_path) == {("Scheme+Quant.6", "Random Forest"): [25, 24]}


def off_by_one_ulp(tree):
    left, right, feature, threshold, value = tree
    return left, right, feature, np.nextafter(threshold, np.inf), value


@pytest.mark.parametrize("changed, message", [
    (lambda args: True, "differ from scikit-learn's"),  # every tree a ulp off
    (lambda args: not args[-1], "with and without trees.py's shortcuts differ"),  # shortcuts=False only
])
def test_benchmark_script_fails_when_the_trees_differ(ref_dir, monkeypatch, capsys, changed, message):
    bench = load_bench_trees()
    real = trees._fit_tree
    monkeypatch.setattr(trees, "_fit_tree", lambda *args: off_by_one_ulp(real(*args)) if changed(args) else real(*args))
    with pytest.raises(SystemExit) as e:
        bench.main(bench.parse_args([str(ref_dir / "naap440v2.csv"), "--subsets", "1", "--trees", "1",
                                     "--repeats", "1"]))
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


# =============================================================================================
# The 0.20.1 rules (scikit-learn 0.20.1, the library of the paper's table; not installable on
# Python 3.11, so its source is the reference). First a plain-Python transcription of 0.20.1's
# builder, written from tree/_splitter.pyx, _criterion.pyx, _tree.pyx and _utils.pyx with
# lists and Python floats, no packed keys and no shortcuts. Its 1.9.1 switch (insertion sort at
# 15, maxd from log2, the rand_r seed-0 fix, the EPSILON leaf rule) is checked against real
# scikit-learn 1.9.1 below, which checks the transcription; its 0.20.1 switch is then the
# reference for trees.fit_tree(rules="0.20.1").

F32_THRESHOLD = np.float32(1e-7)  # _splitter.pyx FEATURE_THRESHOLD, a DTYPE_t (float32)
EPS = np.finfo(np.float64).eps


def ref_rand_int(low, high, state, seed0_fix):
    """_utils.pyx rand_int / our_rand_r (1.9.1 adds the `if seed == 0: seed = 1` fix)."""
    s = state[0]
    if seed0_fix and s == 0:
        s = 1
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    return low + (s % (RAND_R_MAX + 1)) % (high - low)


def ref_sort(Xf, samples, lo, n, rules):
    """_splitter.pyx sort/introsort/median3/heapsort (0.20.1) or utils/_sorting.pyx
    introsort_3way + insertion_sort (1.9.1) on Xf[lo:lo+n], samples[lo:lo+n] (lists)."""
    if n == 0:
        return
    maxd = 2 * int(math.log(n) / math.log(2.0)) if rules == "0.20.1" else 2 * int(np.log2(n))
    cutoff = 1 if rules == "0.20.1" else 15

    def swap(i, j):
        Xf[i], Xf[j] = Xf[j], Xf[i]
        samples[i], samples[j] = samples[j], samples[i]

    def sift_down(lo, start, end):
        root = start
        while True:
            child = root * 2 + 1
            maxind = root
            if child < end and Xf[lo + maxind] < Xf[lo + child]:
                maxind = child
            if child + 1 < end and Xf[lo + maxind] < Xf[lo + child + 1]:
                maxind = child + 1
            if maxind == root:
                break
            swap(lo + root, lo + maxind)
            root = maxind

    def heapsort(lo, n):
        start = (n - 2) // 2
        while True:
            sift_down(lo, start, n)
            if start == 0:
                break
            start -= 1
        end = n - 1
        while end > 0:
            swap(lo, lo + end)
            sift_down(lo, 0, end)
            end -= 1

    def introsort(lo, n, maxd):
        while n > cutoff:
            if maxd <= 0:
                heapsort(lo, n)
                return
            maxd -= 1
            a, b, c = Xf[lo], Xf[lo + n // 2], Xf[lo + n - 1]
            if a < b:
                pivot = b if b < c else (c if a < c else a)
            elif b < c:
                pivot = a if a < c else c
            else:
                pivot = b
            i = left = 0
            r = n
            while i < r:
                if Xf[lo + i] < pivot:
                    swap(lo + i, lo + left)
                    i += 1
                    left += 1
                elif Xf[lo + i] > pivot:
                    r -= 1
                    swap(lo + i, lo + r)
                else:
                    i += 1
            introsort(lo, left, maxd)
            lo += r
            n -= r
        for i in range(lo + 1, lo + n):  # 1.9.1's insertion sort (never runs under 0.20.1)
            t, ts = Xf[i], samples[i]
            j = i
            while j > lo and Xf[j - 1] > t:
                Xf[j], samples[j] = Xf[j - 1], samples[j - 1]
                j -= 1
            Xf[j], samples[j] = t, ts

    introsort(lo, n, maxd)


def ref_fit_tree(X32, y, sample_weight, seed, max_depth, rules, friedman=False, presort=None):
    """DecisionTreeRegressor(splitter='best').fit of scikit-learn `rules`, transcribed (one
    output, max_features = n_features, min_samples_leaf 1, min_weight_leaf 0)."""
    n_total, n_features = X32.shape
    X = [[float(v) for v in row] for row in X32]  # exact: float32 -> double
    Xf32 = [[np.float32(v) for v in row] for row in X32]
    y = [float(v) for v in y]
    sw = None if sample_weight is None else [float(v) for v in sample_weight]
    # Splitter.init
    samples = [i for i in range(n_total) if sw is None or sw[i] != 0.0]
    weighted_n_samples = 0.0
    for i in range(n_total):
        weighted_n_samples += 1.0 if sw is None else sw[i]
    samples += [0] * (n_total - len(samples))
    n_samples = n_total if sw is None else sum(1 for v in sw if v != 0.0)
    features = list(range(n_features))
    constant_features = [0] * n_features
    Xf = [np.float32(0)] * n_total
    state = [seed]
    sample_mask = [0] * n_total
    min_impurity_split = 1e-7 if rules == "0.20.1" else EPS
    C = {}  # the criterion's fields

    def wt(i):
        return 1.0 if sw is None else sw[i]

    def crit_init(start, end):
        C.update(start=start, end=end, sum_total=0.0, sq_sum_total=0.0, wn=0.0)
        for p in range(start, end):
            i = samples[p]
            w_y = wt(i) * y[i]
            C["sum_total"] += w_y
            C["sq_sum_total"] += w_y * y[i]
            C["wn"] += wt(i)
        crit_reset()

    def crit_reset():
        C.update(sum_left=0.0, sum_right=C["sum_total"], wl=0.0, wr=C["wn"], pos=C["start"])

    def crit_update(new_pos):
        pos, end = C["pos"], C["end"]
        if (new_pos - pos) <= (end - new_pos):
            for p in range(pos, new_pos):
                i = samples[p]
                C["sum_left"] += wt(i) * y[i]
                C["wl"] += wt(i)
        else:  # reverse_reset, then down from end
            C.update(sum_right=0.0, sum_left=C["sum_total"], wr=0.0, wl=C["wn"], pos=end)
            for p in range(end - 1, new_pos - 1, -1):
                i = samples[p]
                C["sum_left"] -= wt(i) * y[i]
                C["wl"] -= wt(i)
        C["wr"] = C["wn"] - C["wl"]
        C["sum_right"] = C["sum_total"] - C["sum_left"]
        C["pos"] = new_pos

    def node_impurity():
        # `x ** 2.0` is pow(x, 2.0) in the generated C, which GCC turns into x * x
        m = C["sum_total"] / C["wn"]
        return C["sq_sum_total"] / C["wn"] - m * m

    def proxy():
        sl, sr, wl, wr = 0.0 + C["sum_left"], 0.0 + C["sum_right"], C["wl"], C["wr"]
        if friedman and rules == "0.20.1":
            diff = wr * sl - wl * sr
            return diff * diff / (wl * wr)
        return sl * sl / wl + sr * sr / wr

    def children_impurity():
        sq_left = 0.0
        for p in range(C["start"], C["pos"]):
            i = samples[p]
            sq_left += wt(i) * y[i] * y[i]
        sq_right = C["sq_sum_total"] - sq_left
        ml, mr = C["sum_left"] / C["wl"], C["sum_right"] / C["wr"]
        return sq_left / C["wl"] - ml * ml, sq_right / C["wr"] - mr * mr

    def improvement(impurity):
        il, ir = children_impurity()
        wl, wr, wn = C["wl"], C["wr"], C["wn"]
        if friedman and rules == "0.20.1":
            diff = (wr * C["sum_left"] - wl * C["sum_right"]) / 1.0
            return diff * diff / (wl * wr * wn)
        return (wn / weighted_n_samples) * (impurity - (wr / wn * ir) - (wl / wn * il))

    def node_split(start, end, impurity, n_known_constants):
        best = dict(pos=end, feature=0, threshold=0.0, improvement=-np.inf,
                    impurity_left=np.inf, impurity_right=np.inf)
        best_proxy = -np.inf
        f_i = n_features
        n_visited = n_found = n_drawn = 0
        n_total_constants = n_known_constants
        if presort is not None:
            for p in range(start, end):
                sample_mask[samples[p]] = 1
        while f_i > n_total_constants and (n_visited < n_features or n_visited <= n_found + n_drawn):
            n_visited += 1
            f_j = ref_rand_int(n_drawn, f_i - n_found, state, rules == "1.9.1")
            if f_j < n_known_constants:
                features[f_j], features[n_drawn] = features[n_drawn], features[f_j]
                n_drawn += 1
                continue
            f_j += n_found
            feature = features[f_j]
            if presort is not None:
                p = start
                for i in range(n_total):
                    j = int(presort[i, feature])
                    if sample_mask[j] == 1:
                        samples[p] = j
                        Xf[p] = Xf32[j][feature]
                        p += 1
            else:
                for i in range(start, end):
                    Xf[i] = Xf32[samples[i]][feature]
                ref_sort(Xf, samples, start, end - start, rules)
            if Xf[end - 1] <= Xf[start] + F32_THRESHOLD:
                features[f_j] = features[n_total_constants]
                features[n_total_constants] = feature
                n_found += 1
                n_total_constants += 1
                continue
            f_i -= 1
            features[f_i], features[f_j] = features[f_j], features[f_i]
            crit_reset()
            p = start
            while p < end:
                while p + 1 < end and Xf[p + 1] <= Xf[p] + F32_THRESHOLD:
                    p += 1
                p += 1
                if p < end:
                    crit_update(p)
                    current = proxy()
                    if current > best_proxy:
                        best_proxy = current
                        threshold = float(Xf[p - 1]) / 2.0 + float(Xf[p]) / 2.0
                        if threshold == float(Xf[p]) or abs(threshold) == np.inf:
                            threshold = float(Xf[p - 1])
                        best.update(pos=p, feature=feature, threshold=threshold)
        if best["pos"] < end:
            partition_end, p = end, start
            while p < partition_end:
                if X[samples[p]][best["feature"]] <= best["threshold"]:
                    p += 1
                else:
                    partition_end -= 1
                    samples[p], samples[partition_end] = samples[partition_end], samples[p]
            crit_reset()
            crit_update(best["pos"])
            best["improvement"] = improvement(impurity)
            best["impurity_left"], best["impurity_right"] = children_impurity()
        if presort is not None:
            for p in range(start, end):
                sample_mask[samples[p]] = 0
        features[:n_known_constants] = constant_features[:n_known_constants]
        constant_features[n_known_constants:n_total_constants] = features[n_known_constants:n_total_constants]
        return best, n_total_constants

    left, right, feat, thr, val = [], [], [], [], []
    stack = [(0, n_samples, 0, -2, 0, np.inf, 0)]
    first = True
    while stack:
        start, end, depth, parent, is_left, impurity, n_constant = stack.pop()
        crit_init(start, end)
        n_node = end - start
        is_leaf = depth >= max_depth or n_node < 2 or C["wn"] < 0.0
        if first:
            impurity = node_impurity()
            first = False
        is_leaf = is_leaf or impurity <= min_impurity_split
        if not is_leaf:
            split, n_constant = node_split(start, end, impurity, n_constant)
            is_leaf = split["pos"] >= end or split["improvement"] + EPS < 0.0
        node_id = len(left)
        if parent != -2:
            (left if is_left else right)[parent] = node_id
        left.append(-1)
        right.append(-1)
        feat.append(-2 if is_leaf else split["feature"])
        thr.append(-2.0 if is_leaf else split["threshold"])
        val.append(C["sum_total"] / C["wn"])
        if not is_leaf:
            stack.append((split["pos"], end, depth + 1, node_id, 0, split["impurity_right"], n_constant))
            stack.append((start, split["pos"], depth + 1, node_id, 1, split["impurity_left"], n_constant))
    return (np.array(left), np.array(right), np.array(feat), np.array(thr), np.array(val))


def assert_trees_equal(got, expected, what=""):
    for name, a, b in zip(("children_left", "children_right", "feature", "threshold", "value"), got, expected):
        assert np.array_equal(a, b), f"{name} differs {what}"


def shuffled_ties_argsort(rs, X32):
    """A valid np.argsort(X32, axis=0) with the tied values of each column in random order."""
    order = np.empty(X32.shape, np.int64)
    for f in range(X32.shape[1]):
        order[:, f] = np.lexsort((rs.permutation(len(X32)), X32[:, f]))
    return order


def test_transcription_with_the_1_9_1_switch_equals_scikit_learn():
    """The plain-Python transcription, run with 1.9.1's rules, grows scikit-learn 1.9.1's trees
    (tie-heavy data, weights with zeros, depth 3 and full): the shared parts of the
    transcription are right, so its 0.20.1 switch can serve as the reference."""
    rs = np.random.RandomState(20)
    for seed in range(60):
        n = rs.randint(2, 70)
        X32 = np.ascontiguousarray(tie_heavy_data(rs, n, rs.randint(1, 6)), dtype=np.float32)
        y = target(rs, X32)
        w = bootstrap_counts(rs, n) if seed % 3 == 0 else (None if seed % 3 == 1 else rs.rand(n) * 2)
        depth = FULL if seed % 2 else 3
        ref = DecisionTreeRegressor(random_state=seed, max_depth=None if depth == FULL else depth)
        ref.fit(X32, y, sample_weight=w)
        t = ref.tree_
        rand_r_seed = np.random.RandomState(seed).randint(0, RAND_R_MAX)
        assert_trees_equal(ref_fit_tree(X32, y, w, rand_r_seed, depth, "1.9.1"),
                           (t.children_left, t.children_right, t.feature, t.threshold, t.value[:, 0, 0]),
                           f"(seed {seed})")


def test_0_20_1_rules_equal_the_transcription():
    """fit_tree(rules="0.20.1") against the transcription: plain (Random Forest, AdaBoost,
    Decision Tree trees) and FriedmanMSE with presort (Gradient Boosting trees), tie-heavy
    data, weights with zeros, splitter seed 0 included."""
    rs = np.random.RandomState(21)
    for k in range(160):
        n = rs.randint(2, 80)
        X32 = np.ascontiguousarray(tie_heavy_data(rs, n, rs.randint(1, 6)), dtype=np.float32)
        y = target(rs, X32) if k % 4 else rs.randint(0, 3, n) * 1e-5  # small impurities too
        w = [None, bootstrap_counts(rs, n), np.ones(n), rs.rand(n) * 2][k % 4]
        depth = FULL if k % 2 else 3
        seed = 0 if k % 10 == 0 else rs.randint(0, RAND_R_MAX)
        friedman = k % 3 == 0
        presort = shuffled_ties_argsort(rs, X32) if k % 5 < 2 else None
        got = trees.fit_tree(X32, y, w, seed, depth, friedman, rules="0.20.1", presort=presort)
        assert_trees_equal(got, ref_fit_tree(X32, y, w, seed, depth, "0.20.1", friedman, presort), f"(case {k})")


def test_0_20_1_rules_on_the_real_data(naap_data):
    X, y = naap_data
    rs = np.random.RandomState(22)
    n = len(y)
    X32 = np.ascontiguousarray(X[:, :10], dtype=np.float32)
    presort = shuffled_ties_argsort(rs, X32)
    for seed in (3, 4):
        w = bootstrap_counts(rs, n)
        assert_trees_equal(trees.fit_tree(X32, y, w, seed, FULL, rules="0.20.1"),
                           ref_fit_tree(X32, y, w, seed, FULL, "0.20.1"))
        r = y - y.mean()
        assert_trees_equal(trees.fit_tree(X32, r, np.ones(n), seed, 3, True, rules="0.20.1", presort=presort),
                           ref_fit_tree(X32, r, np.ones(n), seed, 3, "0.20.1", True, presort))


def test_leaf_rule_1e_7_stops_a_node_1_9_1_splits():
    """y = 0, 0, 0, 1e-4 | 10, 10, 10, 11 on x = 0..7. The left half's impurity (variance) is
    mean(y^2) - mean(y)^2 = 2.5e-9 - 6.25e-10 = 1.875e-9: above machine epsilon (2.2e-16), so
    1.9.1 splits it, and at or below 0.20.1's min_impurity_split 1e-7, so 0.20.1 makes it a
    leaf. The root (x <= 3.5) and the right half (x <= 6.5 isolates the 11: proxy
    30^2/3 + 11^2 = 421 against 400/2 + 21^2/2 = 420.5 and 10^2 + 31^2/3 = 420.33) split in
    both."""
    left = [Fraction(0), Fraction(0), Fraction(0), Fraction(1, 10 ** 4)]
    exact = sum(v * v for v in left) / 4 - (sum(left) / 4) ** 2
    assert exact == Fraction(1875, 10 ** 12) and EPS < exact <= Fraction(1, 10 ** 7)
    X32 = np.arange(8, dtype=np.float32)[:, None]
    y = np.array([0, 0, 0, 1e-4, 10, 10, 10, 11])
    # 1.9.1: the left half splits (and the tree is scikit-learn's)
    got = trees.fit_tree(X32, y, None, 1, FULL)
    assert len(got[0]) == 7 and got[3][1] == 2.5
    assert_same_tree(X32, y, None, 0, FULL)
    # 0.20.1: the left half is a leaf
    root = (((((((0.0 + 0) + 0) + 0) + 1e-4) + 10) + 10) + 10) + 11  # Criterion.init's sum
    expected = ([1, -1, 3, -1, -1], [2, -1, 4, -1, -1], [0, -2, 0, -2, -2], [3.5, -2.0, 6.5, -2.0, -2.0],
                [root / 8, 1e-4 / 4, 41 / 4, 10.0, 11.0])
    assert_trees_equal(trees.fit_tree(X32, y, None, 1, FULL, rules="0.20.1"), expected)


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
        packed = trees._packed_keys(vals[None, :])[0]
        trees._sort(packed, 0, 16, stack, full)
        orders[full] = list(packed & 0xFFFFFFFF)
    assert orders[False] == [1, 2, 0] + list(range(3, 16))
    assert orders[True] == [2, 1, 0] + list(range(3, 16))
    ref_vals, ref_idx = vals.copy(), np.arange(16)
    _py_simultaneous_sort(ref_vals, ref_idx, 16, use_three_way_partition=True)
    assert list(ref_idx) == orders[False]  # scikit-learn 1.9.1's own sort


def test_full_introsort_matches_the_transcription():
    rs = np.random.RandomState(23)
    stack = np.empty((500, 3), np.intp)
    for k in range(300):
        n = rs.randint(0, 300)
        vals = (rs.randint(0, rs.randint(1, 20), n) if k % 2 else rs.randn(n)).astype(np.float32)
        if k % 5 == 0:
            vals[rs.rand(n) < 0.3] = -0.0
        lo = rs.randint(0, 9)
        packed = trees._packed_keys(np.concatenate([np.zeros(lo, np.float32), vals])[None, :])[0]
        trees._sort(packed, lo, n, stack, True)
        ref_vals, ref_idx = list(vals), list(range(lo, lo + n))
        ref_sort(ref_vals, ref_idx, 0, n, "0.20.1")
        assert list(packed[lo:] & 0xFFFFFFFF) == ref_idx


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
            packed = trees._packed_keys(v[None, :])[0]
            trees._sort(packed, 0, n, stack, True)
            ref_vals, ref_idx = list(v), list(range(n))
            ref_sort(ref_vals, ref_idx, 0, n, "0.20.1")
            assert list(packed & 0xFFFFFFFF) == ref_idx, (n, k)
    assert reached > 50


def test_maxd_is_the_c_library_log():
    """0.20.1's maxd = 2 * (int)(log(n) / log(2)) with libm's log. Only powers of two could
    truncate differently from floor(log2(n)) (elsewhere log2(n) is at least ~1/(n ln 2) from an
    integer, far above the rounding error for n < 2**40); Python's math.log is the same libm call."""
    ns = list(range(1, 1 << 16)) + [(1 << k) + d for k in range(16, 62) for d in (-1, 0, 1)]
    got = [trees._maxd_0_20_1(n) for n in ns]
    assert got == [2 * int(math.log(n) / math.log(2.0)) for n in ns]
    # = 1.9.1's 2 * floor(log2(n)) below 2**40 (not above: 2**48 - 1 gives 96)
    assert [g for g, n in zip(got, ns) if n < 1 << 40] == [2 * (n.bit_length() - 1) for n in ns if n < 1 << 40]


def test_friedman_mse_chooses_another_split_than_mse():
    """y = 2, 5, 3, 6 on x = 0, 1, 2, 3. Exactly (fractions), the best splits tie:
    MSE proxy S_L^2/n_L + S_R^2/n_R: x<=0.5 -> 4 + 196/3 = 208/3, x<=1.5 -> 49/2 + 81/2 = 65,
    x<=2.5 -> 100/3 + 36 = 208/3. FriedmanMSE (n_R S_L - n_L S_R)^2 / (n_L n_R) = n * (MSE
    gain), the same ranking: 64/3, 4, 64/3. In doubles the MSE proxies round differently
    (4 + fl(196/3) = 69.33333333333333 < fl(100/3) + 36 = 69.33333333333334), so MSE takes the
    later split, x <= 2.5; FriedmanMSE computes 64/3 from -8 * -8 both times, equal doubles,
    and keeps the first, x <= 0.5 (a later candidate must be strictly better)."""
    y = [2.0, 5.0, 3.0, 6.0]
    exact_mse, exact_fr, float_mse, float_fr = [], [], [], []
    for p in (1, 2, 3):
        sl, sr, wl, wr = sum(y[:p]), sum(y[p:]), float(p), float(4 - p)
        exact_mse.append(Fraction(sl) ** 2 / p + Fraction(sr) ** 2 / (4 - p))
        exact_fr.append((Fraction(wr * sl - wl * sr)) ** 2 / (p * (4 - p)))
        float_mse.append(sl * sl / wl + sr * sr / wr)
        diff = wr * sl - wl * sr
        float_fr.append(diff * diff / (wl * wr))
    assert exact_mse == [Fraction(208, 3), 65, Fraction(208, 3)]
    assert exact_fr == [Fraction(64, 3), 4, Fraction(64, 3)]
    assert float_mse[2] > float_mse[0] > float_mse[1] and float_fr[0] == float_fr[2] > float_fr[1]
    X32 = np.arange(4, dtype=np.float32)[:, None]
    y = np.array(y)
    assert trees.fit_tree(X32, y, None, 1, 1, False, rules="0.20.1")[3][0] == 2.5
    assert trees.fit_tree(X32, y, None, 1, 1, True, rules="0.20.1")[3][0] == 0.5
    # 1.9.1: friedman_mse is squared_error
    assert trees.fit_tree(X32, y, None, 1, 1, True)[3][0] == 2.5
    assert_same_tree(X32, y, None, 0, 1, "friedman_mse")


def test_presort_changes_the_tie_order():
    """x = 0, 0, 0, 1 and y = 1, 1e16, -1e16, 1e17. The root splits at x <= 0.5; the left
    child's value is the sum of its y in the order its samples are left in, over 3.
    Per-node sort (both rules): the full introsort of 0, 0, 0, 1 keeps the order (median3(0,
    0, 1) = a = 0; the three 0s stay, 1 swaps with itself), so the left child sums
    (1 + 1e16) - 1e16 = 0 (1e16 + 1 rounds to 1e16): value 0.
    Presort [2, 1, 0, 3] (a valid argsort: the tied 0s in another order): the samples are taken
    in that order, the partition keeps it, and the left child sums (-1e16 + 1e16) + 1 = 1:
    value 1/3."""
    X32 = np.array([[0], [0], [0], [1]], np.float32)
    y = np.array([1.0, 1e16, -1e16, 1e17])
    for rules in ("1.9.1", "0.20.1"):
        plain = trees.fit_tree(X32, y, None, 7, FULL, rules=rules)
        assert list(plain[0]) == [1, -1, -1] and plain[3][0] == 0.5 and plain[4][1] == 0.0
    assert_same_tree(X32, y, None, 7, FULL)
    presorted = trees.fit_tree(X32, y, None, 7, FULL, rules="0.20.1", presort=np.array([[2], [1], [0], [3]]))
    assert list(presorted[0]) == [1, -1, -1] and presorted[4][1] == 1 / 3
    assert presorted[4][0] == plain[4][0] == 1e17 / 4 and presorted[4][2] == 1e17
    # without ties the presorted order is the sorted order: the same tree
    rs = np.random.RandomState(24)
    X32 = rs.randn(60, 4).astype(np.float32)
    y = rs.randn(60)
    assert_trees_equal(trees.fit_tree(X32, y, None, 5, FULL, True, rules="0.20.1",
                                      presort=np.argsort(X32, axis=0, kind="stable")),
                       trees.fit_tree(X32, y, None, 5, FULL, True, rules="0.20.1"))
    with pytest.raises(ValueError, match="presort"):
        trees.fit_tree(X32, y, None, 5, 3, rules="1.9.1", presort=np.argsort(X32, axis=0))
    with pytest.raises(ValueError, match="presort"):
        trees.fit_tree(X32, y, None, 5, 3, rules="0.20.1", presort=np.zeros((60, 4), np.int64))
    with pytest.raises(ValueError, match="presort"):
        trees.fit_tree(X32, y, None, 5, 3, rules="0.20.1", presort=np.argsort(X32[:, :3], axis=0))


class ConstantSeed(np.random.RandomState):
    """A RandomState whose randint gives 0: the splitter's rand_r seed becomes 0."""

    def randint(self, *args, **kwargs):
        return 0


def test_rand_r_seed_0():
    """Two equal columns, x = 0..5, y = 0, 0, 1, 1, 5, 5: both features propose the same splits
    with the same (exact) sums, so the feature drawn first wins the root (a later one must be
    strictly better).
    0.20.1, seed 0: the xorshift stays 0 and rand_int(low, high) = low: draw rand_int(0, 2) = 0
    -> feature 0, then rand_int(0, 1) = 0 -> features[0], now 1: feature 0 wins.
    1.9.1, seed 0 -> 1: 1 ^ 1 << 13 = 8193; 8193 ^ 8193 >> 17 = 8193; 8193 ^ 8193 << 5 =
    270369, odd: rand_int(0, 2) = 1 -> feature 1 first, and it wins. 0.20.1 with seed 1 draws
    the same."""
    x = np.arange(6, dtype=np.float32)
    X32 = np.column_stack([x, x])
    y = np.array([0.0, 0, 1, 1, 5, 5])
    assert (((1 ^ (1 << 13)) ^ ((1 ^ (1 << 13)) >> 17)) ^ (8193 << 5)) == 270369
    assert trees.fit_tree(X32, y, None, 0, FULL, rules="0.20.1")[2][0] == 0
    assert trees.fit_tree(X32, y, None, 1, FULL, rules="0.20.1")[2][0] == 1
    assert trees.fit_tree(X32, y, None, 0, FULL)[2][0] == 1
    assert_trees_equal(trees.fit_tree(X32, y, None, 0, FULL), trees.fit_tree(X32, y, None, 1, FULL))
    ref = DecisionTreeRegressor(random_state=ConstantSeed(0)).fit(X32, y)  # scikit-learn, seed 0
    t = ref.tree_
    assert_trees_equal(trees.fit_tree(X32, y, None, 0, FULL),
                       (t.children_left, t.children_right, t.feature, t.threshold, t.value[:, 0, 0]))


def test_one_compiled_signature_for_every_rule_set():
    X32 = np.random.RandomState(0).randn(20, 3).astype(np.float32)
    y = np.arange(20.0)
    trees.fit_tree(X32, y, None, 3, 3)
    trees.fit_tree(X32, y, np.ones(20), 3, FULL, True)
    trees.fit_tree(X32.astype(np.float64), list(y), None, np.int64(3), np.int32(2), rules="0.20.1")
    trees.fit_tree(X32[:, ::2], y, None, 3, 3, True, rules="0.20.1", presort=np.argsort(X32[:, ::2], axis=0))
    readonly = y.copy()
    readonly.flags.writeable = False
    trees.fit_tree(X32, readonly, readonly, 3, 3)
    assert len(trees._fit_tree.signatures) == 1
    with pytest.raises(ValueError, match="rules"):
        trees.fit_tree(X32, y, None, 3, 3, rules="0.21")
