"""tree_builder.py's rules: the leaf rules of both releases, the edge cases where the root is a
leaf, one compiled signature for every rule set, and a numba cache that follows the modules the
builder inlines."""
from fractions import Fraction

import numpy as np
import pytest
from reference_tree import EPS
from tree_cases import FULL, assert_same_tree, assert_trees_equal

from naap.replica import tree_builder, tree_sort, tree_splitter, trees
from naap.replica.numba_cache import source_stamp


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
    assert len(tree_builder.build_tree.signatures) == 1
    with pytest.raises(ValueError, match="rules"):
        trees.fit_tree(X32, y, None, 3, 3, rules="0.21")


def test_the_cached_builder_depends_on_the_modules_it_inlines():
    """numba stamps a cache with its function's own file only: build_tree, _grow and
    splitter_init carry compiled code of tree_sort.py and tree_splitter.py, so their stamps
    hold those modules' too (see numba_cache.py)."""
    for dispatcher, modules in ((tree_builder.build_tree, (tree_sort, tree_splitter)),
                                (tree_builder._grow, (tree_sort, tree_splitter)),
                                (tree_splitter.splitter_init, (tree_sort,))):
        stamp = dispatcher._cache._cache_file._source_stamp
        assert stamp[1] == tuple(source_stamp(m) for m in modules), dispatcher
