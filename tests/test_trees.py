"""trees.py grows the same trees as scikit-learn's DecisionTreeRegressor, bit for bit (1.9.1
rules), and scikit-learn 0.20.1's trees under rules="0.20.1" (against reference_tree.py, a
transcription of 0.20.1's source, itself checked here against scikit-learn 1.9.1)."""
import numpy as np
import pytest
from reference_tree import ref_fit_tree
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from tree_cases import (
    FULL,
    RAND_R_MAX,
    assert_same_tree,
    assert_trees_equal,
    bootstrap_counts,
    shuffled_ties_argsort,
    target,
    tie_heavy_data,
)

from naap.replica import trees


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
