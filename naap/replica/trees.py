"""Exact numba replica of scikit-learn's dense regression tree fit, for speed.

The feature-selection search fits millions of small trees (a few hundred rows, 8-35 features).
This module re-implements `DecisionTreeRegressor(splitter="best").fit` of scikit-learn
REPLICA_VERSION (BestSplitter, DensePartitioner, the MSE criterion, DepthFirstTreeBuilder) and
returns the same tree bit for bit, about twice as fast as scikit-learn's own `_fit`. Exactness
rests on doing what scikit-learn does in the same order on the same types: float32 feature
values, float64 sums accumulated in the current order of the samples array, that order produced
by the same introsort and the same swap partition, and the Fisher-Yates feature draw consuming
the same rand_r stream. Any of these may change between versions, so callers must check
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
  fit_tree_arguments(same arguments) -> what fit_tree hands the compiled builder _fit_tree,
     checked and converted (to time the builder alone).
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

fit_tree is a thin Python front over one compiled function (_fit_tree) with a single
signature: flags and arrays are always passed (an empty weight array for None, an empty order
for no presort), so numba compiles it once for both rule sets.
"""
import math

import numpy as np
from numba import njit

from naap.cli import check_terminated
from naap.replica.rules import REPLICA_VERSION, parts_on

_EPSILON = np.finfo(np.float64).eps  # _tree.pyx's EPSILON (not _criterion.pyx's 10 * eps)
MIN_IMPURITY_SPLIT_0_20_1 = 1e-7
# the parts of 0.20.1's behaviour, each a switch: the builder's leaf rule, its full introsort and
# its rand_r without the seed-0 fix; then the ensembles' (ensembles.py): Gradient Boosting's
# presort + FriedmanMSE + mean, AdaBoost's unclipped weights
_TREE_LEAF = -1
_TREE_UNDEFINED = -2
_NO_WEIGHTS = np.empty(0, np.float64)  # sample_weight=None
_NO_PRESORT = np.empty((0, 0), np.int64)  # no presort


@njit(cache=True)
def _rand_int(low, high, state):
    """sklearn's rand_int over our_rand_r (32-bit xorshift); state is a 1-element int64 array
    holding the uint32 seed (int64 so numba does no unsigned/signed promotion surprises).
    1.9.1's our_rand_r turns a state of 0 into 1 before each step; xorshift maps nonzero states
    to nonzero states (each of its three steps is an invertible linear map), so only an initial
    seed of 0 can be 0, and fit_tree applies that fix once, at the start, under the 1.9.1 rules.
    0.20.1 has no fix: a state of 0 stays 0 and every draw returns `low`."""
    s = state[0]
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    return low + (s % 2147483648) % (high - low)


# ---------------------------------------------------------------------------------------------
# simultaneous_sort(use_three_way_partition=True) of sklearn/utils/_sorting.pyx. The order of
# equal values in the output depends on every swap, and that order feeds the criterion sums and
# the next feature's sort, so each swap is reproduced. For speed a (value, sample) pair travels
# as one int64: an order-preserving integer key of the float32 in the high 32 bits (so that
# `key_a < key_b` exactly when `value_a < value_b`, -0.0 and +0.0 sharing a key) and the sample
# in the low 32 bits. Comparisons look at the high half only, as sklearn's look at the value.

@njit(cache=True)
def _packed_keys(XT):
    """(feature, sample) -> key << 32 | sample, for the float32 matrix XT (features, samples)."""
    n_features, n = XT.shape
    bits = XT.view(np.int32)
    K = np.empty((n_features, n), np.int64)
    for f in range(n_features):
        for i in range(n):
            b = np.int64(bits[f, i])
            if (b & 0x7FFFFFFF) >= 0x7F800000:
                raise ValueError("X contains NaN or infinity")  # the protocol never fits on them
            if b < 0:
                b ^= 0x7FFFFFFF  # negative floats: larger magnitude, smaller key
                if b == -1:
                    b = 0  # -0.0 == +0.0
            K[f, i] = (b << 32) | i
    return K


@njit(cache=True)
def _insertion_sort(a, lo, n):
    # Unsigned indices spare numba's negative-index wraparound on every access.
    one = np.uint64(1)
    ulo = np.uint64(lo)
    for i in range(ulo + one, ulo + np.uint64(n)):
        t = a[i]
        tk = t >> 32
        j = i
        while j > ulo and (a[j - one] >> 32) > tk:
            a[j] = a[j - one]
            j -= one
        a[j] = t


@njit(cache=True)
def _sift_down(a, lo, start, end):
    root = start
    while True:
        child = root * 2 + 1
        maxind = root
        if child < end and (a[lo + maxind] >> 32) < (a[lo + child] >> 32):
            maxind = child
        if child + 1 < end and (a[lo + maxind] >> 32) < (a[lo + child + 1] >> 32):
            maxind = child + 1
        if maxind == root:
            break
        t = a[lo + root]
        a[lo + root] = a[lo + maxind]
        a[lo + maxind] = t
        root = maxind


@njit(cache=True)
def _heapsort(a, lo, n):
    start = (n - 2) // 2
    while True:
        _sift_down(a, lo, start, n)
        if start == 0:
            break
        start -= 1
    end = n - 1
    while end > 0:
        t = a[lo]
        a[lo] = a[lo + end]
        a[lo + end] = t
        _sift_down(a, lo, 0, end)
        end -= 1


@njit(cache=True)
def _maxd_0_20_1(n):
    """0.20.1's `2 * <int>log(n)` with _utils.log(x) = ln(x) / ln(2.0): numba's math.log is a
    call of the C library's log, as in 0.20.1. (It equals 2 * floor(log2(n)), 1.9.1's maxd, for
    every n below 2**40: tests/test_trees.py checks it against Python's math.log.)"""
    return 2 * np.intp(math.log(n) / math.log(2.0))


@njit(cache=True)
def _sort(a, lo, n, stack, full, pair_swap=True):
    """introsort_3way on the packed a[lo:lo+n]. The recursion on the left part becomes an
    explicit stack: parts are disjoint and each carries its own depth budget, so the order in
    which they are finished does not change the result.
    full=False: 1.9.1 (utils/_sorting.pyx): parts of 15 or fewer values are insertion-sorted.
    full=True: 0.20.1 (tree/_splitter.pyx 540-606): partitions down to 1 value, no insertion
    sort; only the cutoff and maxd's formula differ, the partition and heapsort are the same.
    pair_swap=False turns off the 2-value shortcut (the same result; to measure the shortcut)."""
    if n == 0:
        return
    if full:
        maxd = _maxd_0_20_1(n)
        cutoff = 1
    else:
        maxd = 2 * np.intp(np.log2(n))
        cutoff = 15
    top = 0
    while True:
        while n > cutoff:
            if n == 2 and maxd > 0 and pair_swap:
                # median3 and the 3-way partition of 2 values come down to a compare-and-swap
                # that leaves equal values in place (the heapsort below would swap them)
                if (a[lo + 1] >> 32) < (a[lo] >> 32):
                    t = a[lo]
                    a[lo] = a[lo + 1]
                    a[lo + 1] = t
                n = 0
                break
            if maxd <= 0:
                _heapsort(a, lo, n)
                n = 0
                break
            maxd -= 1
            # median3
            ka = a[lo] >> 32
            kb = a[lo + n // 2] >> 32
            kc = a[lo + n - 1] >> 32
            if ka < kb:
                if kb < kc:
                    pivot = kb
                elif ka < kc:
                    pivot = kc
                else:
                    pivot = ka
            elif kb < kc:
                if ka < kc:
                    pivot = ka
                else:
                    pivot = kc
            else:
                pivot = kb
            below = pivot << 32  # packed < below  <=>  value < pivot
            above = (pivot + 1) << 32  # packed >= above  <=>  value > pivot
            one = np.uint64(1)
            i = np.uint64(lo)
            left = i
            r = i + np.uint64(n)
            while i < r:
                x = a[i]
                if x < below:
                    a[i] = a[left]
                    a[left] = x
                    i += one
                    left += one
                elif x >= above:
                    r -= one
                    a[i] = a[r]
                    a[r] = x
                else:
                    i += one
            if np.intp(left) - lo > 1:
                stack[top, 0] = lo
                stack[top, 1] = np.intp(left) - lo
                stack[top, 2] = maxd
                top += 1
            n -= np.intp(r) - lo
            lo = np.intp(r)
        if n > 1:
            _insertion_sort(a, lo, n)
        if top == 0:
            return
        top -= 1
        lo = stack[top, 0]
        n = stack[top, 1]
        maxd = stack[top, 2]


# ---------------------------------------------------------------------------------------------

@njit(cache=True)
def _push(st_int, st_imp, top, start, end, depth, parent, is_left, n_constant_features, impurity):
    """One DepthFirstTreeBuilder stack record at index top."""
    st_int[top, 0] = start
    st_int[top, 1] = end
    st_int[top, 2] = depth
    st_int[top, 3] = parent
    st_int[top, 4] = is_left
    st_int[top, 5] = n_constant_features
    st_imp[top] = impurity


@njit(cache=True)
def _fit_tree(X32, y, sample_weight, rand_r_seed, max_depth, friedman, min_impurity_split,
              full_sort, seed0_fix, presort, shortcuts):
    """The compiled builder behind fit_tree (see the module docstring), one signature for all
    rule sets: X32 float32 (n, F) C-contiguous, y float64 (n,), sample_weight float64 (n,) or
    empty for None, rand_r_seed and max_depth int64, friedman / full_sort / seed0_fix bools,
    min_impurity_split float64, presort int64 (F, n) C-contiguous (row f: the samples in the
    order of feature f) or empty (0, 0) for the per-node sort; shortcuts: keep tie-free orders
    and swap 2-value parts (the module docstring), False only to measure them."""
    n_total, n_features = X32.shape
    has_weights = sample_weight.shape[0] > 0
    has_presort = presort.shape[0] > 0
    # Feature-major copy: the splitter reads one feature across the node's samples.
    XT = np.ascontiguousarray(X32.T)
    K = _packed_keys(XT)

    # Splitter.init: zero-weight samples never enter `samples`, but their weight (0) is summed.
    # Unsigned where used as indices: spares numba's negative-index wraparound.
    samples = np.empty(n_total, np.uint64)
    w = np.ones(n_total)
    weighted_n_samples = 0.0
    n_samples = 0
    for i in range(n_total):
        if not has_weights:
            samples[n_samples] = i
            n_samples += 1
            weighted_n_samples += 1.0
        else:
            w[i] = sample_weight[i]
            if w[i] != 0.0:
                samples[n_samples] = i
                n_samples += 1
            weighted_n_samples += w[i]
    # w * y and w * y * y are recomputed identically by sklearn at every use; do it once.
    wy = np.empty(n_total)
    wyy = np.empty(n_total)
    for i in range(n_total):
        wy[i] = w[i] * y[i]
        wyy[i] = wy[i] * y[i]

    features = np.arange(n_features)
    constant_features = np.empty(n_features, np.intp)
    packed = np.empty(n_total, np.int64)
    # the kept orders of tie-free features (module docstring): a bit per feature in each
    # node's int64 mask, hence at most 64 features
    keep_orders = shortcuts and n_features <= 64 and not has_presort
    orders = np.empty((n_features if keep_orders else 0, n_total), np.int64)
    right_buf = np.empty(n_total if keep_orders else 0, np.int64)
    goes_left = np.zeros(n_total if keep_orders else 0, np.uint8)
    sort_stack = np.empty((n_total + 2, 3), np.intp)
    # 0.20.1's presort: sample_mask marks the node's samples while its split is searched.
    sample_mask = np.zeros(n_total if has_presort else 0, np.uint8)
    if has_presort:  # every row of presort must be a permutation of 0..n-1 (memory safety)
        seen = np.zeros(n_total, np.int64)
        for f in range(n_features):
            for q in range(n_total):
                j = np.uint64(presort[f, q])
                if j >= n_total or seen[j] == f + 1:
                    raise ValueError("presort: every column must be a permutation of the rows")
                seen[j] = f + 1
    rng = np.empty(1, np.int64)
    rng[0] = rand_r_seed
    if seed0_fix and rng[0] == 0:
        rng[0] = 1  # 1.9.1's our_rand_r: DEFAULT_SEED (see _rand_int)
    feature_threshold = np.float32(1e-7)

    # Every leaf holds a sample, so 2 * n_samples - 1 nodes suffice.
    cap = max(2 * n_samples - 1, 1)
    if max_depth < 30:
        cap = min(cap, 2 ** (max_depth + 1) - 1)
    left_child = np.empty(cap, np.intp)
    right_child = np.empty(cap, np.intp)
    node_feature = np.empty(cap, np.intp)
    node_threshold = np.empty(cap)
    node_value = np.empty(cap)
    node_count = 0

    # DepthFirstTreeBuilder's stack; records hold start, end, depth, parent, is_left,
    # n_constant_features (impurity in st_imp).
    st_int = np.empty((cap + 2, 6), np.intp)
    st_imp = np.empty(cap + 2)
    st_tf = np.zeros(cap + 2, np.int64)
    _push(st_int, st_imp, 0, 0, n_samples, 0, _TREE_UNDEFINED, 0, 0, np.inf)
    top = 1
    first = True

    while top > 0:
        top -= 1
        start = st_int[top, 0]
        end = st_int[top, 1]
        depth = st_int[top, 2]
        parent = st_int[top, 3]
        is_left = st_int[top, 4]
        n_known_constants = st_int[top, 5]
        impurity = st_imp[top]
        node_tf = st_tf[top]
        new_tf = node_tf
        n_node_samples = end - start
        ustart = np.uint64(start)
        uend = np.uint64(end)

        # Criterion.init over samples[start:end] in their current order.
        sum_total = 0.0
        sq_sum_total = 0.0
        wn_node = 0.0
        for p in range(start, end):
            i = samples[p]
            sum_total += wy[i]
            sq_sum_total += wyy[i]
            wn_node += w[i]

        is_leaf = depth >= max_depth or n_node_samples < 2 or wn_node < 0.0
        if first:
            m = sum_total / wn_node
            impurity = sq_sum_total / wn_node - m * m
            first = False
        # 1.9.1: impurity <= EPSILON; 0.20.1: impurity <= min_impurity_split (1e-7)
        is_leaf = is_leaf or impurity <= min_impurity_split

        best_pos = end
        best_feature = 0
        best_threshold = 0.0
        imp_left = np.inf
        imp_right = np.inf
        n_total_constants = n_known_constants
        if not is_leaf:
            # ---- node_split_best -----------------------------------------------------------
            best_proxy = -np.inf
            first_sort = True
            one = np.uint64(1)
            if has_presort:
                for p in range(ustart, uend):
                    sample_mask[samples[p]] = 1
            f_i = n_features
            n_visited = 0
            n_found_constants = 0
            n_drawn_constants = 0
            while f_i > n_total_constants and (
                    n_visited < n_features
                    or n_visited <= n_found_constants + n_drawn_constants):
                n_visited += 1
                f_j = _rand_int(n_drawn_constants, f_i - n_found_constants, rng)
                if f_j < n_known_constants:
                    t = features[n_drawn_constants]
                    features[n_drawn_constants] = features[f_j]
                    features[f_j] = t
                    n_drawn_constants += 1
                    continue
                f_j += n_found_constants
                feat = features[f_j]

                # The previous sort's order lives in `packed` (samples is only brought up to
                # date before the final partition), so the gather can be done in place.
                kcol = K[feat]
                inherited = keep_orders and ((node_tf >> feat) & 1) == 1
                if inherited:
                    ocol = orders[feat]
                    for p in range(ustart, uend):
                        packed[p] = ocol[p]
                    first_sort = False
                elif has_presort:
                    # 0.20.1 presort: the node's samples in the feature's given order
                    order = presort[feat]
                    p = ustart
                    for q in range(n_total):
                        j = np.uint64(order[q])  # checked above: a permutation
                        if sample_mask[j]:
                            packed[p] = kcol[j]
                            p += one
                    first_sort = False
                else:
                    if first_sort:
                        for p in range(ustart, uend):
                            packed[p] = kcol[samples[p]]
                        first_sort = False
                    else:
                        for p in range(ustart, uend):
                            packed[p] = kcol[packed[p] & 0xFFFFFFFF]
                    if full_sort or n_node_samples > 15:
                        _sort(packed, start, n_node_samples, sort_stack, full_sort, shortcuts)
                    else:  # introsort_3way is an insertion sort below 16 values: skip its set-up
                        _insertion_sort(packed, start, n_node_samples)
                xcol = XT[feat]

                x_prev = xcol[packed[start] & 0xFFFFFFFF]
                if xcol[packed[end - 1] & 0xFFFFFFFF] <= x_prev + feature_threshold:
                    features[f_j] = features[n_total_constants]
                    features[n_total_constants] = feat
                    n_found_constants += 1
                    n_total_constants += 1
                    continue

                f_i -= 1
                features[f_j] = features[f_i]
                features[f_i] = feat

                # criterion.reset(), then update(p) at each candidate p. sklearn updates forward
                # from the previous candidate, or backward from `end` when that is shorter; the
                # two give different last bits. The running forward sum below stands exactly
                # where sklearn's forward update would, and is redone backward when sklearn would.
                pos = ustart
                sum_left = 0.0
                wn_left = 0.0
                tie = False
                for p in range(ustart + one, uend):
                    i = packed[p - one] & 0xFFFFFFFF
                    sum_left += wy[i]
                    wn_left += w[i]
                    x = xcol[packed[p] & 0xFFFFFFFF]
                    if x <= x_prev + feature_threshold:
                        if (packed[p] >> 32) == (packed[p - one] >> 32):
                            tie = True
                        x_prev = x
                        continue
                    if (p - pos) > (uend - p):
                        sum_left = sum_total
                        wn_left = wn_node
                        q = uend
                        while q > p:
                            q -= one
                            i = packed[q] & 0xFFFFFFFF
                            sum_left -= wy[i]
                            wn_left -= w[i]
                    pos = p
                    wn_right = wn_node - wn_left
                    sum_right = sum_total - sum_left
                    if friedman:  # 0.20.1 FriedmanMSE.proxy_impurity_improvement
                        diff = wn_right * sum_left - wn_left * sum_right
                        proxy = diff * diff / (wn_left * wn_right)
                    else:  # MSE.proxy_impurity_improvement
                        proxy = (sum_left * sum_left) / wn_left + (sum_right * sum_right) / wn_right
                    if proxy > best_proxy:
                        best_proxy = proxy
                        best_pos = np.intp(p)
                        best_feature = feat
                        best_threshold = x_prev / 2.0 + x / 2.0
                    x_prev = x
                if keep_orders and not tie and not inherited:
                    ocol = orders[feat]
                    for p in range(ustart, uend):
                        ocol[p] = packed[p]
                    new_tf |= np.int64(1) << feat

            if not first_sort:
                for p in range(ustart, uend):
                    samples[p] = packed[p] & 0xFFFFFFFF

            if best_pos < end:
                # partition_samples_final: swap partition of the current samples order.
                xcol = XT[best_feature]
                ps = start
                pe = end
                while ps < pe:
                    if xcol[samples[ps]] <= best_threshold:
                        ps += 1
                    else:
                        pe -= 1
                        t = samples[ps]
                        samples[ps] = samples[pe]
                        samples[pe] = t
                # criterion.reset(); update(best_pos); children_impurity()
                sum_left = 0.0
                wn_left = 0.0
                if (best_pos - start) <= (end - best_pos):
                    for q in range(start, best_pos):
                        i = samples[q]
                        sum_left += wy[i]
                        wn_left += w[i]
                else:
                    sum_left = sum_total
                    wn_left = wn_node
                    for q in range(end - 1, best_pos - 1, -1):
                        i = samples[q]
                        sum_left -= wy[i]
                        wn_left -= w[i]
                wn_right = wn_node - wn_left
                sum_right = sum_total - sum_left
                sq_left = 0.0
                for q in range(start, best_pos):
                    sq_left += wyy[samples[q]]
                sq_right = sq_sum_total - sq_left
                ml = sum_left / wn_left
                mr = sum_right / wn_right
                imp_left = sq_left / wn_left - ml * ml
                imp_right = sq_right / wn_right - mr * mr
                if friedman:  # 0.20.1 FriedmanMSE.impurity_improvement (n_outputs = 1)
                    diff = wn_right * sum_left - wn_left * sum_right
                    improvement = diff * diff / (wn_left * wn_right * wn_node)
                else:  # Criterion.impurity_improvement
                    improvement = (wn_node / weighted_n_samples) * (
                        impurity - (wn_right / wn_node * imp_right)
                        - (wn_left / wn_node * imp_left))
                if improvement + _EPSILON < 0.0:  # min_impurity_decrease = 0
                    is_leaf = True
                elif new_tf != 0 and depth + 1 < max_depth:
                    # the children's sorted orders: a stable partition of each kept order
                    for q in range(start, best_pos):
                        goes_left[samples[q]] = 1
                    for g in range(n_features):
                        if (new_tf >> g) & 1:
                            ocol = orders[g]
                            nl = start
                            nr = 0
                            for q in range(start, end):
                                v = ocol[q]
                                if goes_left[v & 0xFFFFFFFF]:
                                    ocol[nl] = v
                                    nl += 1
                                else:
                                    right_buf[nr] = v
                                    nr += 1
                            for q in range(nr):
                                ocol[nl + q] = right_buf[q]
                    for q in range(start, best_pos):
                        goes_left[samples[q]] = 0
            else:
                is_leaf = True

            if has_presort:  # the partition moved the samples, not the set: clear the mask
                for p in range(start, end):
                    sample_mask[samples[p]] = 0

            # Known constants keep their order for descendants; append the new ones.
            for k in range(n_known_constants):
                features[k] = constant_features[k]
            for k in range(n_known_constants, n_total_constants):
                constant_features[k] = features[k]

        # ---- Tree._add_node --------------------------------------------------------------
        node_id = node_count
        node_count += 1
        if parent != _TREE_UNDEFINED:
            if is_left:
                left_child[parent] = node_id
            else:
                right_child[parent] = node_id
        if is_leaf:
            left_child[node_id] = _TREE_LEAF
            right_child[node_id] = _TREE_LEAF
            node_feature[node_id] = _TREE_UNDEFINED
            node_threshold[node_id] = _TREE_UNDEFINED
        else:
            node_feature[node_id] = best_feature
            node_threshold[node_id] = best_threshold
        node_value[node_id] = sum_total / wn_node

        if not is_leaf:
            # right pushed first so the left child is grown (and numbered) first
            _push(st_int, st_imp, top, best_pos, end, depth + 1, node_id, 0, n_total_constants, imp_right)
            _push(st_int, st_imp, top + 1, start, best_pos, depth + 1, node_id, 1, n_total_constants, imp_left)
            st_tf[top] = new_tf
            st_tf[top + 1] = new_tf
            top += 2

    return (left_child[:node_count].copy(), right_child[:node_count].copy(),
            node_feature[:node_count].copy(), node_threshold[:node_count].copy(),
            node_value[:node_count].copy())


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
    return _fit_tree(*fit_tree_arguments(X32, y, sample_weight, rand_r_seed, max_depth, friedman, rules=rules,
                                         presort=presort, shortcuts=shortcuts))


def fit_tree_arguments(X32, y, sample_weight, rand_r_seed, max_depth, friedman=False, *, rules=REPLICA_VERSION,
                       presort=None, shortcuts=True):
    """The checked and converted arguments fit_tree passes to the compiled builder:
    fit_tree(...) is _fit_tree(*fit_tree_arguments(...)) (bench/bench_trees.py times the two
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
        return (X32, y, sample_weight, int(rand_r_seed), int(max_depth), False, _EPSILON, False, True,
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
            MIN_IMPURITY_SPLIT_0_20_1 if "leaf" in parts else _EPSILON, "sort" in parts, "rand_r" not in parts, order,
            bool(shortcuts))


@njit(cache=True)
def predict_tree(children_left, children_right, feature, threshold, value, X32):
    """Tree.apply + value: the float32 feature is promoted to float64 for the comparison."""
    m = X32.shape[0]
    out = np.empty(m)
    for r in range(m):
        node = 0
        while children_left[node] != _TREE_LEAF:
            if np.float64(X32[r, feature[node]]) <= threshold[node]:
                node = children_left[node]
            else:
                node = children_right[node]
        out[r] = value[node]
    return out
