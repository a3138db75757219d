"""Shared helpers of the tree tests: the data kinds that make the sort's tie order matter, the
targets and weights the ensembles fit trees with, and the comparisons against scikit-learn."""
import warnings

import numpy as np
from sklearn.tree import DecisionTreeRegressor

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
    for _ in range(n_features):
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


def assert_trees_equal(got, expected, what=""):
    for name, a, b in zip(("children_left", "children_right", "feature", "threshold", "value"), got, expected):
        assert np.array_equal(a, b), f"{name} differs {what}"


def shuffled_ties_argsort(rs, X32):
    """A valid np.argsort(X32, axis=0) with the tied values of each column in random order."""
    order = np.empty(X32.shape, np.int64)
    for f in range(X32.shape[1]):
        order[:, f] = np.lexsort((rs.permutation(len(X32)), X32[:, f]))
    return order
