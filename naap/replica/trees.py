"""Exact numba replica of scikit-learn's dense regression tree fit, for speed.

The feature-selection search fits millions of small trees (a few hundred rows, 8-35 features).
This module, with the three it is built of (below), re-implements
`DecisionTreeRegressor(splitter="best").fit` of scikit-learn REPLICA_VERSION (BestSplitter,
DensePartitioner, the MSE criterion, DepthFirstTreeBuilder) and returns the same tree bit for
bit, about twice as fast as scikit-learn's own `_fit`. Exactness rests on doing what
scikit-learn does in the same order on the same types: float32 feature values, float64 sums
accumulated in the current order of the samples array, that order produced by the same
introsort and the same swap partition, and the Fisher-Yates feature draw consuming the same
rand_r stream. Any of these may change between versions, so callers must check
`sklearn.__version__ == REPLICA_VERSION` and otherwise use scikit-learn itself.

A second rule set, rules="0.20.1", grows the tree scikit-learn 0.20.1 grew (the library of the
published NAAP-440 table; it cannot be installed on Python 3.11, so it is emulated here from its
source, sklearn/tree/_splitter.pyx, _criterion.pyx, _tree.pyx, _utils.pyx, tree.py):
  - leaf rule: a node whose impurity is <= min_impurity_split = 1e-7 is a leaf (tree.py 278-286
    default, _tree.pyx 232-233); 1.9.1 uses machine epsilon;
  - sort: introsort with median-of-3 and 3-way partition all the way down to 1 element, no
    insertion sort (_splitter.pyx 540-606), maxd = 2 * (int)(log(n) / log(2)) with the C
    library's log (_utils.pyx 85-86; computed here with math.log, the same libm call);
  - rand_r: no "seed 0 -> 1" fix (_utils.pyx 57-62): a splitter seed of 0 stays 0 and every
    draw returns its lower bound;
  - friedman=True is FriedmanMSE (_criterion.pyx 1311-1368): split proxy
    (wR*sumL - wL*sumR)^2 / (wL*wR), improvement (wR*sumL - wL*sumR)^2 / (wL*wR*w_node)
    (never negative with positive weights, so the "improvement + EPSILON < 0" leaf test does
    not fire); the children's impurities are MSE's;
  - presort: an optional sample order per feature, argsort of the float32 X along axis 0 (what
    GradientBoostingRegressor passes as X_idx_sorted, gradient_boosting.py 1451-1460), replaces
    the per-node sort: the node's samples are taken in that order through a sample mask
    (_splitter.pyx 368-370, 423-432, 517-520).
Everything else (the draws, the criterion sums and their update direction, the thresholds, the
constant-feature bookkeeping, the final partition, the node values) is the same code in both.

Covered: scikit-learn's defaults min_samples_split=2, min_samples_leaf=1,
min_weight_fraction_leaf=0, min_impurity_decrease=0, max_features=None (all features),
max_leaf_nodes=None, ccp_alpha=0, no monotonic constraints, one output, any max_depth.
Not covered: NaN in X (the splitter's missing-value branches are left out: NaN or infinity
raises ValueError), more than 2**31 rows.

In 1.9.1 criterion="friedman_mse" is a deprecated alias of "squared_error" (the FriedmanMSE
class is gone and GradientBoostingRegressor grows squared-error trees), so under the 1.9.1 rules
the `friedman` flag is accepted for the callers' convenience and changes nothing.

API
  fit_tree(X32, y, sample_weight, rand_r_seed, max_depth, friedman=False, *,
           rules=REPLICA_VERSION, presort=None, shortcuts=True)
      -> (children_left, children_right, feature, threshold, value)
     the arrays of sklearn's tree_ (value = tree_.value[:, 0, 0]; leaves have children -1,
     feature -2, threshold -2.0).
  fit_tree_arguments(same arguments) -> what fit_tree hands the compiled builder
     (tree_builder.build_tree), checked and converted (to time the builder alone).
  predict_tree(children_left, children_right, feature, threshold, value, X32) -> float64 (m,)
  presort_order(order) -> the int64 feature-major copy fit_tree reads (pass it as `presort` to
     skip the per-call conversion when many trees share one order).
X32: the float32 matrix scikit-learn's tree sees (np.float32 copy of X), shape (n, F).
y: float64 (n,). sample_weight: float64 (n,) or None. None is scikit-learn's sample_weight=None;
it multiplies by w = 1.0, so None and np.ones(n) give the same bits. Rows of weight 0 take no
part in the splits, as in Splitter.init. rand_r_seed: the splitter's first draw,
`random_state.randint(0, 0x7FFFFFFF)`; for DecisionTreeRegressor(random_state=s) that is
`np.random.RandomState(s).randint(0, 0x7FFFFFFF)`. max_depth: an int; scikit-learn's None is
np.iinfo(np.int32).max (2**31 - 1 in 0.20.1 too). rules: "1.9.1" or "0.20.1". presort
(0.20.1 only): None, or the (n, F) integer array np.argsort(X32, axis=0) would give in the
order wanted (numpy 1.15.4's quicksort order to reproduce 0.20.1's GradientBoosting), or the
result of presort_order().

Two shortcuts give the same trees with less sorting. A feature whose values at a node are all
distinct has only one sorted order, whatever the sort's tie handling, and so has every subset of
that node: the builder keeps that order (for up to 64 features) and splits it with the node by a
stable partition, instead of gathering and sorting the feature again in the descendants. And
under 0.20.1's full introsort a part of 2 values with depth budget left is a compare-and-swap
(median3 and the 3-way partition of 2 values do no more; equal values stay in place).

fit_tree is a thin Python front over one compiled function with a single signature (flags and
arrays are always passed, an empty weight array for None, an empty order for no presort), so
numba compiles it once for both rule sets. It is built of three modules, each scikit-learn's
counterpart: tree_builder.py (build_tree: DepthFirstTreeBuilder and Tree, the stack and the
nodes), tree_splitter.py (BestSplitter, the partition of the samples and the MSE criterion) and
tree_sort.py (the introsort of both rule sets, on packed keys).
"""
import numpy as np
from numba import njit

from naap.cli import check_terminated
from naap.replica.rules import REPLICA_VERSION, parts_on
from naap.replica.tree_builder import EPSILON, TREE_LEAF, build_tree

MIN_IMPURITY_SPLIT_0_20_1 = 1e-7
_NO_WEIGHTS = np.empty(0, np.float64)  # sample_weight=None
_NO_PRESORT = np.empty((0, 0), np.int64)  # no presort


def _c_array(a, dtype):
    """a as a writeable C-contiguous array of dtype (numba types read-only arrays apart: one
    compiled signature needs them all alike); no copy when it already is one."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def presort_order(order):
    """The presort argument of fit_tree in the form the compiled builder reads: an (n, F)
    integer array (as np.argsort(X32, axis=0) returns it) becomes its int64 feature-major copy,
    returned as the (n, F) transposed view, so that fit_tree passes it on without copying."""
    order = np.asarray(order)
    if order.ndim != 2 or order.dtype.kind not in "iu":
        raise ValueError("presort must be an (n_samples, n_features) integer array")
    return _c_array(order.T, np.int64).T


def fit_tree(X32, y, sample_weight, rand_r_seed, max_depth, friedman=False, *, rules=REPLICA_VERSION,
             presort=None, shortcuts=True):
    """Fit like DecisionTreeRegressor(random_state=s, max_depth=...).fit(X32, y, sample_weight)
    of scikit-learn `rules` ("1.9.1" or "0.20.1"; criterion="friedman_mse" when friedman, and
    0.20.1's presort when presort is given) and return the tree arrays (see the module
    docstring)."""
    check_terminated()  # between trees: a SIGTERM noted inside the compiled code stops the run here
    return build_tree(*fit_tree_arguments(X32, y, sample_weight, rand_r_seed, max_depth, friedman, rules=rules,
                                          presort=presort, shortcuts=shortcuts))


def fit_tree_arguments(X32, y, sample_weight, rand_r_seed, max_depth, friedman=False, *, rules=REPLICA_VERSION,
                       presort=None, shortcuts=True):
    """The checked and converted arguments fit_tree passes to the compiled builder:
    fit_tree(...) is build_tree(*fit_tree_arguments(...)) (bench/bench_trees.py times the two
    apart). shortcuts=False: the same tree without the two shortcuts of the module docstring
    (bench/bench_trees.py measures them)."""
    X32 = _c_array(X32, np.float32)
    y = _c_array(y, np.float64)
    if X32.ndim != 2 or y.shape != (X32.shape[0],):
        raise ValueError("X32 must be (n, F) and y (n,)")
    if sample_weight is None:
        sample_weight = _NO_WEIGHTS
    else:
        sample_weight = _c_array(sample_weight, np.float64)
        if sample_weight.shape != y.shape:
            raise ValueError("sample_weight must be (n,)")
    parts = parts_on(rules)
    if not parts:
        if presort is not None:
            raise ValueError("scikit-learn 1.9.1 has no presort")
        return (X32, y, sample_weight, int(rand_r_seed), int(max_depth), False, EPSILON, False, True,
                _NO_PRESORT, bool(shortcuts))
    if presort is None:
        order = _NO_PRESORT
    else:
        order = presort_order(presort).T
        if order.shape != (X32.shape[1], X32.shape[0]):
            raise ValueError("presort must have the shape of X32")
        if order.shape[0] == 0:
            order = _NO_PRESORT  # no features: nothing to presort
    return (X32, y, sample_weight, int(rand_r_seed), int(max_depth), bool(friedman),
            MIN_IMPURITY_SPLIT_0_20_1 if "leaf" in parts else EPSILON, "sort" in parts, "rand_r" not in parts, order,
            bool(shortcuts))


@njit(cache=True)
def predict_tree(children_left, children_right, feature, threshold, value, X32):
    """Tree.apply + value: the float32 feature is promoted to float64 for the comparison."""
    m = X32.shape[0]
    out = np.empty(m)
    for r in range(m):
        node = 0
        while children_left[node] != TREE_LEAF:
            if np.float64(X32[r, feature[node]]) <= threshold[node]:
                node = children_left[node]
            else:
                node = children_right[node]
        out[r] = value[node]
    return out
