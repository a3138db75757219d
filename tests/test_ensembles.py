"""ensembles.py: grown ensembles predict exactly what scikit-learn's fitted ensembles predict
(1.9.1 rules, against scikit-learn 1.9.1 itself), and what scikit-learn 0.20.1's fits predicted
(0.20.1 rules, against a transcription of 0.20.1's ensemble code over reference_tree.py's
transcription of its tree builder)."""
import math

import numpy as np
import pandas as pd
import pytest
from reference_tree import ref_fit_tree
from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from tree_cases import shuffled_ties_argsort, tie_heavy_data

from naap.replica import ensembles
from naap.replica import rules as replica_rules

ESTIMATORS = {"Random Forest": RandomForestRegressor, "Gradient Boosting": GradientBoostingRegressor,
              "AdaBoost": AdaBoostRegressor}
# Scheme+Quant.3 of naap440v2.csv
COLUMNS = (["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth",
            "NumSkipConnections", "NumPartialRFLayers"]
           + [f"e{e}{k}" for e in range(1, 4) for k in ("LossMean", "LossMedian", "Accuracy")])
TODAYS_ARGSORT = {"argsort_rows": lambda a: np.argsort(a, axis=1)}  # what scikit-learn 1.9.1 runs here


def sklearn_prediction(family, n, seed, X_train, y_train, X_test):
    np.random.seed(seed)
    return ESTIMATORS[family](n_estimators=n).fit(X_train, y_train).predict(X_test)


def grown_predictions(family, sizes, seed, X_train, y_train, X_test, rules="1.9.1", presort=None,
                      argsort_rows=None):
    """Grow one state through `sizes` in the given (any) order: {n: prediction}, the state."""
    np.random.seed(seed)
    draws = ensembles.draws(family, max(sizes), len(y_train))
    state = ensembles.new_state(family, y_train, len(X_test), sizes, rules)
    out = {}
    for n in sizes:
        ensembles.grow(state, n, X_train, y_train, X_test, draws, presort=presort)
        out[n] = ensembles.predict(state, n, argsort_rows=argsort_rows)
    return out, state


@pytest.fixture(scope="module")
def scaled(ref_dir):
    df = pd.read_csv(ref_dir / "naap440v2.csv")
    for c in ("NumParams", "NumMACs"):
        df[c] = [math.log(v) for v in df[c]]
    train, test = df[df["IsTest"] == 0], df[df["IsTest"] == 1]
    X_train, X_test = train[COLUMNS].to_numpy(float), test[COLUMNS].to_numpy(float)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), train["MaxAccuracy"].to_numpy(float), scaler.transform(X_test)


def test_replica_is_used_with_the_pinned_scikit_learn():
    assert ensembles.SUPPORTED  # requirements.txt pins the version it replicates


@pytest.mark.parametrize("family", ensembles.FAMILIES)
@pytest.mark.parametrize("columns", [list(range(17)), [0, 3, 9, 12], [2, 10, 13, 15, 16]])
def test_grown_ensembles_equal_sklearn_fits(scaled, family, columns):
    X_train, y_train, X_test = scaled
    X_train, X_test = X_train[:, columns], X_test[:, columns]
    sizes = [25, 100, 50] if len(columns) > 5 else [50, 25, 200, 100]  # grown forwards and read back
    got, _ = grown_predictions(family, sizes, 3, X_train, y_train, X_test, **TODAYS_ARGSORT)
    for n in sizes:
        assert np.array_equal(got[n], sklearn_prediction(family, n, 3, X_train, y_train, X_test)), (family, n)


@pytest.mark.parametrize("family", ensembles.FAMILIES)
def test_ties_duplicates_and_a_small_random_problem(family):
    rng = np.random.default_rng(7)
    X = rng.integers(0, 4, size=(60, 3)).astype(float)  # heavy ties, repeated rows
    X[:, 2] = 1.0  # a constant column
    y = X[:, 0] * 0.1 + rng.normal(0, 0.05, 60)
    got, _ = grown_predictions(family, [25, 50], 11, X[:45], y[:45], X[45:], **TODAYS_ARGSORT)
    for n in (25, 50):
        assert np.array_equal(got[n], sklearn_prediction(family, n, 11, X[:45], y[:45], X[45:])), (family, n)


def test_adaboost_that_stops_early():
    # y is a step function of x that a depth-3 tree can fit: boosting ends early (after 20
    # rounds with this seed), and every larger N keeps the same members
    X = np.repeat(np.arange(6.0), 5)[:, None]
    y = np.repeat([0.1, 0.5, 0.2, 0.9, 0.4, 0.7], 5)
    got, state = grown_predictions("AdaBoost", [25, 50], 0, X, y, X[::4], **TODAYS_ARGSORT)
    assert state["stopped"] and len(state["preds"]) < 25
    for n in (25, 50):
        assert np.array_equal(got[n], sklearn_prediction("AdaBoost", n, 0, X, y, X[::4]))
    # coin-flip targets: a round with error >= 0.5 ends boosting after a few rounds
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.where(rng.random(40) < 0.5, 0.0, 1.0)
    got, state = grown_predictions("AdaBoost", [25], 5, X, y, X[:7], **TODAYS_ARGSORT)
    assert state["stopped"] and len(state["preds"]) < 5
    assert np.array_equal(got[25], sklearn_prediction("AdaBoost", 25, 5, X, y, X[:7]))


def test_decision_tree_helper_equals_sklearn_and_draws_its_seed(scaled):
    """DecisionTreeRegressor() after the protocol's seeding: the splitter seed is the global
    generator's next randint(0, 2**31 - 1), one draw, as in the fit."""
    X_train, y_train, X_test = scaled
    for seed in (20220905, 20220906):
        np.random.seed(seed)
        expected = DecisionTreeRegressor().fit(X_train, y_train).predict(X_test)
        after_sklearn = np.random.random_sample()
        np.random.seed(seed)
        tree = ensembles.fit_decision_tree(X_train, y_train, "1.9.1")
        assert np.array_equal(ensembles.predict_decision_tree(tree, X_test), expected)
        assert np.random.random_sample() == after_sklearn
        np.random.seed(seed)
        tree = ensembles.fit_decision_tree(X_train, y_train, "0.20.1")
        assert np.random.random_sample() == after_sklearn
        seed_drawn = np.random.RandomState(seed).randint(0, ensembles.RAND_R_MAX)
        expected = ref_predict(ref_fit_tree(np.float32(X_train), y_train, None, seed_drawn,
                                            ensembles.FULL_DEPTH, "0.20.1"), np.float32(X_test))
        assert np.array_equal(ensembles.predict_decision_tree(tree, X_test), expected)


# ---- the 0.20.1 rules --------------------------------------------------------------------------

def pairwise_sum_1_15(a):
    """numpy 1.15.4's pairwise_sum_DOUBLE (umath/loops.c.src 1668-1728), transcribed."""
    n = len(a)
    if n < 8:
        res = 0.0
        for v in a:
            res += v
        return res
    if n <= 128:
        r = list(a[:8])
        i = 8
        while i < n - n % 8:
            for k in range(8):
                r[k] += a[i + k]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in a[i:]:
            res += v
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum_1_15(a[:n2]) + pairwise_sum_1_15(a[n2:])


def test_gradient_boosting_initial_mean_0_20_1():
    """MeanEstimator.fit with fit()'s float32 ones: np.average(y, weights=ones32) in numpy 1.15.4
    is (y * 1.0).sum() / 32-bit-ones.sum(float64): add.reduce fills with the identity 0.0
    (reduction.c 490-495) and runs pairwise_sum over all n values; the weights sum to n."""
    rs = np.random.RandomState(30)
    for n in (1, 5, 8, 9, 127, 128, 129, 300, 352, 1000):
        y = rs.randn(n) * 10 ** rs.randint(-3, 4) + rs.randn() * 100
        assert ensembles.gb_initial_mean(y, "0.20.1") == (0.0 + pairwise_sum_1_15([float(v) for v in y])) / n


def ref_predict(tree, X32):
    left, right, feature, threshold, value = tree
    out = []
    for row in X32:
        node = 0
        while left[node] != -1:
            node = left[node] if float(row[feature[node]]) <= threshold[node] else right[node]
        out.append(value[node])
    return np.array(out)


def ref_0_20_1(family, n_estimators, seed, X, y, X_test, presort=None, argsort_rows=None):
    """RandomForestRegressor / GradientBoostingRegressor / AdaBoostRegressor(n_estimators).fit
    (X, y).predict(X_test) of scikit-learn 0.20.1 after np.random.seed(seed), transcribed from
    forest.py, base.py, gradient_boosting.py and weight_boosting.py, with ref_fit_tree's trees."""
    np.random.seed(seed)
    rs = np.random.mtrand._rand
    X32, X32_test = np.float32(X), np.float32(X_test)
    n = len(y)
    if family == "Random Forest":
        seeds = [rs.randint(np.iinfo(np.int32).max) for _ in range(n_estimators)]  # _set_random_states
        total = np.zeros(len(X_test))
        for s in seeds:
            w = np.ones(n) * np.bincount(np.random.RandomState(s).randint(0, n, n), minlength=n)
            rand_r = np.random.RandomState(s).randint(0, 0x7FFFFFFF)  # the tree's own RandomState(s)
            total += ref_predict(ref_fit_tree(X32, y, w, rand_r, ensembles.FULL_DEPTH, "0.20.1"), X32_test)
        return total / n_estimators
    if family == "Gradient Boosting":
        sample_weight = np.ones(n, dtype=np.float32)
        mean = (0.0 + pairwise_sum_1_15([float(v) for v in y])) / n
        y_pred, score = np.full(n, mean), np.full(len(X_test), mean)
        for _ in range(n_estimators):
            residual = y - y_pred
            tree = ref_fit_tree(X32, residual, sample_weight.astype(np.float64), rs.randint(0, 0x7FFFFFFF),
                                3, "0.20.1", friedman=True, presort=presort)
            y_pred += 0.1 * ref_predict(tree, X32)
            score += 0.1 * ref_predict(tree, X32_test)
        return score
    sample_weight = np.empty(n)
    sample_weight[:] = 1.0 / n
    members, weights = [], np.zeros(n_estimators)
    for iboost in range(n_estimators):
        tree_seed = rs.randint(np.iinfo(np.int32).max)
        cdf = np.cumsum(sample_weight, dtype=np.float64)
        cdf /= cdf[-1]
        idx = cdf.searchsorted(rs.random_sample(n), side="right")
        tree = ref_fit_tree(X32[idx], y[idx], None, np.random.RandomState(tree_seed).randint(0, 0x7FFFFFFF),
                            3, "0.20.1")
        members.append(tree)
        error = np.abs(ref_predict(tree, X32) - y)
        if error.max() != 0.0:
            error /= error.max()
        estimator_error = (sample_weight * error).sum()
        if estimator_error <= 0:
            weights[iboost] = 1.0
            break
        if estimator_error >= 0.5:
            if len(members) > 1:
                members.pop()
            break
        beta = estimator_error / (1.0 - estimator_error)
        weights[iboost] = math.log(1.0 / beta)
        if iboost != n_estimators - 1:
            sample_weight *= np.array([math.pow(beta, 1.0 - e) for e in error])
        total = np.sum(sample_weight)
        if total <= 0:
            break
        if iboost < n_estimators - 1:
            sample_weight /= total
    predictions = np.array([ref_predict(t, X32_test) for t in members]).T
    sorted_idx = argsort_rows(predictions)
    cdf = np.cumsum(weights[sorted_idx], axis=1, dtype=np.float64)
    median_idx = (cdf >= 0.5 * cdf[:, -1][:, np.newaxis]).argmax(axis=1)
    rows = np.arange(len(X_test))
    return predictions[rows, sorted_idx[rows, median_idx]]


def small_tie_heavy_problem(seed):
    rs = np.random.RandomState(seed)
    X = tie_heavy_data(rs, 50, 4)
    X[:, 0] = rs.randint(0, 3, 50)  # ties in a column that matters
    # and groups whose variance (<= 0.25 * (3e-4)^2 = 2.25e-8, plus a little) is below 1e-7
    y = X[:, 0] * 0.1 + rs.randint(0, 2, 50) * 3e-4 + X[:, 1] * 1e-3
    return X[:40], y[:40], X[40:]


@pytest.mark.parametrize("family", ensembles.FAMILIES)
def test_0_20_1_ensembles_equal_the_transcription(family):
    X, y, X_test = small_tie_heavy_problem(35)
    presort = shuffled_ties_argsort(np.random.RandomState(1), np.float32(X)) if family == "Gradient Boosting" else None
    stable = {"argsort_rows": lambda a: np.argsort(a, axis=1, kind="stable")}
    got, state = grown_predictions(family, [3, 8], 5, X, y, X_test, "0.20.1", presort, **stable)
    assert state["rules"] == "0.20.1"
    for n in (3, 8):
        assert np.array_equal(got[n], ref_0_20_1(family, n, 5, X, y, X_test, presort, **stable)), (family, n)
    # the 0.20.1 trees do differ from 1.9.1's here
    today, _ = grown_predictions(family, [8], 5, X, y, X_test, **stable)
    assert not np.array_equal(today[8], got[8])


def test_gradient_boosting_0_20_1_presorts_with_numpy_1_15_order_by_default():
    from naap.replica import numpy_1_15_quicksort
    X, y, X_test = small_tie_heavy_problem(32)
    order = numpy_1_15_quicksort.argsort_1_15_columns(np.float32(X))
    default, _ = grown_predictions("Gradient Boosting", [5], 2, X, y, X_test, "0.20.1")
    given, _ = grown_predictions("Gradient Boosting", [5], 2, X, y, X_test, "0.20.1", order)
    assert np.array_equal(default[5], given[5])
    with pytest.raises(ValueError, match="presort"):
        grown_predictions("Random Forest", [2], 2, X, y, X_test, "0.20.1", order)


def test_adaboost_draw_without_clipping():
    """Weights 1e-20, 1e-20, 0.5, 0.5 (underflowed far below machine epsilon) and uniforms 1e-17,
    0.25, 0.75, 0.9999999.
    0.20.1: cdf = 1e-20, 2e-20, 0.5, 1 (2e-20 vanishes next to 1): 1e-17 falls after the
    first two -> rows 2, 2, 3, 3.
    1.9.1 clips them to eps = 2.2e-16: cdf = eps, 2eps, 0.5 + 2eps, 1 + 2eps over 1 + 2eps, so
    1e-17 < eps / (1 + 2eps) picks row 0 -> rows 0, 2, 3, 3."""
    weight = np.array([1e-20, 1e-20, 0.5, 0.5])
    u = np.array([1e-17, 0.25, 0.75, 0.9999999])
    w, rows = ensembles.adaboost_bootstrap(weight, u, "0.20.1")
    assert list(rows) == [2, 2, 3, 3] and np.array_equal(w, weight)
    w, rows = ensembles.adaboost_bootstrap(weight, u, "1.9.1")
    assert list(rows) == [0, 2, 3, 3] and list(w) == [np.finfo(float).eps] * 2 + [0.5, 0.5]
    # and numpy's own choice (what 1.9.1 calls) agrees
    rs = np.random.RandomState(0)
    u = rs.random_sample(4)
    assert list(ensembles.adaboost_bootstrap(weight, u, "1.9.1")[1]) == list(
        np.random.RandomState(0).choice(4, 4, p=w / w.sum()))


def test_adaboost_round_keeps_underflowed_weights_at_zero_in_0_20_1():
    """A weight that underflowed to 0 stays 0 in 0.20.1 (0 * beta^(1-e) = 0) and never enters a
    bootstrap; 1.9.1 clips it to eps first, so it comes back, multiplied by beta^(1-e) > 0."""
    X, y, X_test = small_tie_heavy_problem(33)
    np.random.seed(4)
    d = ensembles.draws("AdaBoost", 2, len(y))
    after = {}
    for rules in ("1.9.1", "0.20.1"):
        state = ensembles.new_state("AdaBoost", y, len(X_test), [2], rules)
        state["weight"][:5] = 0.0
        state["weight"] /= state["weight"].sum()
        ensembles.grow(state, 1, X, y, X_test, d)
        assert not state["stopped"]
        after[rules] = state["weight"]
    assert (after["0.20.1"][:5] == 0).all() and (after["1.9.1"][:5] > 0).all()


@pytest.mark.parametrize("rules", replica_rules.RULES)
def test_adaboost_uses_the_c_library_log_and_pow_and_a_pluggable_argsort(rules, monkeypatch):
    """log(1/beta) and beta^(1-e) come from math.log / math.pow (numpy's SIMD log and power differ
    in the last bit on AVX-512); the weighted median sorts with the argsort given, by default
    numpy 1.15.4's order (numpy_1_15_quicksort) when it can be imported."""
    X, y, X_test = small_tie_heavy_problem(34)
    np.random.seed(6)
    d = ensembles.draws("AdaBoost", 6, len(y))
    state = ensembles.new_state("AdaBoost", y, len(X_test), [6], rules)

    def refuse(*args, **kwargs):
        raise AssertionError("numpy's log/power used")
    monkeypatch.setattr(np, "log", refuse)
    monkeypatch.setattr(np, "power", refuse)
    ensembles.grow(state, 6, X, y, X_test, d)
    monkeypatch.undo()
    calls = []

    def argsort_rows(a):
        calls.append(a.shape)
        return np.argsort(a, axis=1, kind="stable")
    ensembles.predict(state, 6, argsort_rows=argsort_rows)
    assert calls == [(len(X_test), len(state["preds"]))]
    try:
        from naap.replica import numpy_1_15_quicksort
    except ImportError:
        return
    rows = numpy_1_15_quicksort.argsort_1_15_rows
    assert np.array_equal(ensembles.predict(state, 6), ensembles.predict(state, 6, argsort_rows=rows))


def test_rules_are_checked():
    with pytest.raises(ValueError, match="rules"):
        ensembles.new_state("Random Forest", np.zeros(3), 2, [1], "0.22")
