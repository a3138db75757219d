"""tree_splitter.py's parts, each shown to choose scikit-learn's split: the FriedmanMSE proxy
of 0.20.1, the presorted sample order, the rand_r stream with seed 0 and the kept orders of
tie-free features."""
from fractions import Fraction

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor
from tree_cases import FULL, assert_same_tree, assert_trees_equal, bootstrap_counts, target, tie_heavy_data

from naap.replica import trees


def test_kept_orders_mixed_ties_and_more_than_64_features():
    """Columns that are tie-free at the root, become tie-free deeper down, or keep ties, at full
    depth (tree_splitter.py keeps a tie-free column's order instead of sorting it again); and 65+
    columns, where it sorts every column as before."""
    rs = np.random.RandomState(12)
    for seed in range(40):
        n = rs.randint(20, 401)
        F = rs.randint(60, 80) if seed % 4 == 0 else rs.randint(2, 36)
        X = np.column_stack([rs.randn(n) if j % 3 == 0 else np.round(rs.randn(n), rs.randint(1, 3))
                             if j % 3 == 1 else tie_heavy_data(rs, n, 1)[:, 0] for j in range(F)])
        w = bootstrap_counts(rs, n) if seed % 2 else None
        assert_same_tree(X, target(rs, X), w, 2000 + seed, FULL)


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
