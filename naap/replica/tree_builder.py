"""The depth-first tree builder: scikit-learn's DepthFirstTreeBuilder.build and Tree._add_node.

build_tree is the compiled function behind trees.fit_tree (see trees.py for the rules it follows
and its exactness): it pops the nodes from the builder's stack, tests the leaf rules, has the
splitter (tree_splitter.py) find and apply each node's split, numbers the nodes as Tree does
and returns the tree's arrays. One signature serves every rule set: flags and arrays are always
passed (an empty weight array for None, an empty order for no presort), so that numba compiles
it once. build_tree makes the arrays; _grow, the loop over the nodes, runs without numba's
reference counting (see there).
"""
import numpy as np
from numba import njit

from naap.replica import tree_sort, tree_splitter
from naap.replica.numba_cache import depends_on
from naap.replica.tree_splitter import node_split_best, node_sums, partition_kept_orders, splitter_init

EPSILON = np.finfo(np.float64).eps  # _tree.pyx's EPSILON (not _criterion.pyx's 10 * eps)
TREE_LEAF = -1
TREE_UNDEFINED = -2


@njit(cache=True, inline="always")
def _push(st_int, st_imp, top, start, end, depth, parent, is_left, n_constant_features, impurity):
    """One DepthFirstTreeBuilder stack record at index top."""
    st_int[top, 0] = start
    st_int[top, 1] = end
    st_int[top, 2] = depth
    st_int[top, 3] = parent
    st_int[top, 4] = is_left
    st_int[top, 5] = n_constant_features
    st_imp[top] = impurity


@njit(cache=True, inline="always")
def _add_node(nodes, node_id, parent, is_left, is_leaf, feature, threshold, value):
    """Tree._add_node into nodes = (children_left, children_right, feature, threshold, value)."""
    left_child, right_child, node_feature, node_threshold, node_value = nodes
    if parent != TREE_UNDEFINED:
        if is_left:
            left_child[parent] = node_id
        else:
            right_child[parent] = node_id
    if is_leaf:
        left_child[node_id] = TREE_LEAF
        right_child[node_id] = TREE_LEAF
        node_feature[node_id] = TREE_UNDEFINED
        node_threshold[node_id] = TREE_UNDEFINED
    else:
        node_feature[node_id] = feature
        node_threshold[node_id] = threshold
    node_value[node_id] = value


@depends_on(tree_sort, tree_splitter)
@njit(cache=True)
def build_tree(X32, y, sample_weight, rand_r_seed, max_depth, friedman, min_impurity_split,
               full_sort, seed0_fix, presort, shortcuts):
    """The tree of trees.fit_tree, one signature for all rule sets: X32 float32 (n, F)
    C-contiguous, y float64 (n,), sample_weight float64 (n,) or empty for None, rand_r_seed and
    max_depth int64, friedman / full_sort / seed0_fix bools, min_impurity_split float64, presort
    int64 (F, n) C-contiguous (row f: the samples in the order of feature f) or empty (0, 0) for
    the per-node sort; shortcuts: keep tie-free orders and swap 2-value parts (trees.py), False
    only to measure them. Returns (children_left, children_right, feature, threshold, value)."""
    sp, n_samples = splitter_init(X32, y, sample_weight, rand_r_seed, friedman, full_sort, seed0_fix, presort,
                                  shortcuts)
    # Every leaf holds a sample, so 2 * n_samples - 1 nodes suffice.
    cap = max(2 * n_samples - 1, 1)
    if max_depth < 30:
        cap = min(cap, 2 ** (max_depth + 1) - 1)
    nodes = (np.empty(cap, np.intp), np.empty(cap, np.intp), np.empty(cap, np.intp), np.empty(cap),
             np.empty(cap))
    # DepthFirstTreeBuilder's stack; records hold start, end, depth, parent, is_left,
    # n_constant_features (impurity in st_imp, the bits of the kept orders in st_tf).
    stack = (np.empty((cap + 2, 6), np.intp), np.empty(cap + 2), np.zeros(cap + 2, np.int64))
    node_count = _grow(sp, nodes, stack, n_samples, max_depth, min_impurity_split)
    return (nodes[0][:node_count].copy(), nodes[1][:node_count].copy(), nodes[2][:node_count].copy(),
            nodes[3][:node_count].copy(), nodes[4][:node_count].copy())


# _nrt=False: _grow allocates nothing (its arrays live in build_tree, which outlives it), so it
# runs without numba's reference counting. The splitter's functions inlined into it hand arrays
# to one another; with reference counting each hand-over is an atomic increment and decrement
# that numba's pruning pass fails to remove in a function this size, which made the split-up
# builder up to twice as slow as the single function it replaced.
@depends_on(tree_sort, tree_splitter)
@njit(cache=True, _nrt=False)
def _grow(sp, nodes, stack, n_samples, max_depth, min_impurity_split):
    """DepthFirstTreeBuilder.build's loop: grows the tree into nodes from the root of the
    n_samples samples, depth first, left child first; returns the number of nodes."""
    st_int, st_imp, st_tf = stack
    _push(st_int, st_imp, 0, 0, n_samples, 0, TREE_UNDEFINED, 0, 0, np.inf)
    st_tf[0] = 0
    top = 1
    node_count = 0
    first = True
    while top > 0:
        top -= 1
        start = st_int[top, 0]
        end = st_int[top, 1]
        depth = st_int[top, 2]
        parent = st_int[top, 3]
        is_left = st_int[top, 4]
        n_constants = st_int[top, 5]
        impurity = st_imp[top]
        new_tf = st_tf[top]

        sum_total, sq_sum_total, wn_node = node_sums(sp, start, end)
        is_leaf = depth >= max_depth or end - start < 2 or wn_node < 0.0
        if first:
            m = sum_total / wn_node
            impurity = sq_sum_total / wn_node - m * m
            first = False
        # 1.9.1: impurity <= EPSILON; 0.20.1: impurity <= min_impurity_split (1e-7)
        is_leaf = is_leaf or impurity <= min_impurity_split

        pos = end
        feature = 0
        threshold = 0.0
        imp_left = np.inf
        imp_right = np.inf
        if not is_leaf:
            pos, feature, threshold, imp_left, imp_right, improvement, n_constants, new_tf = node_split_best(
                sp, start, end, impurity, n_constants, new_tf, sum_total, sq_sum_total, wn_node)
            is_leaf = pos >= end or improvement + EPSILON < 0.0  # min_impurity_decrease = 0
            if not is_leaf and new_tf != 0 and depth + 1 < max_depth:
                partition_kept_orders(sp, start, pos, end, new_tf)

        _add_node(nodes, node_count, parent, is_left, is_leaf, feature, threshold, sum_total / wn_node)
        node_count += 1
        if not is_leaf:
            # right pushed first so the left child is grown (and numbered) first
            _push(st_int, st_imp, top, pos, end, depth + 1, node_count - 1, 0, n_constants, imp_right)
            _push(st_int, st_imp, top + 1, start, pos, depth + 1, node_count - 1, 1, n_constants, imp_left)
            st_tf[top] = new_tf
            st_tf[top + 1] = new_tf
            top += 2
    return node_count
