"""The splitter of the tree builder: the best split of one node and the partition of its samples.

scikit-learn's BestSplitter.node_split over the DensePartitioner with the MSE criterion
(FriedmanMSE under 0.20.1's friedman=True): the Fisher-Yates draw of the features on the rand_r
stream, each drawn feature's values in sorted order (tree_sort.py; or 0.20.1's presorted order,
or the order kept from the parent), the scan of the candidate positions with the criterion's
running sums, the swap partition of the samples at the best threshold, and the children's
impurities and the improvement. Every float sum runs over the samples in the order scikit-learn
sums them, so that the last bits agree (see trees.py).

The fit's arrays and flags travel as one Splitter (a namedtuple, which numba passes as plain
values). The per-node functions are inlined (inline="always") into tree_builder._grow, which runs
without numba's reference counting (see there), so that the split costs neither calls nor
reference-count updates.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from naap.replica import tree_sort
from naap.replica.numba_cache import depends_on
from naap.replica.tree_sort import insertion_sort, introsort, packed_keys

FEATURE_THRESHOLD = np.float32(1e-7)  # _splitter.pyx's FEATURE_THRESHOLD, a float32

Splitter = namedtuple("Splitter", [
    "XT",  # float32 (F, n): X feature-major, as the splitter reads one feature across samples
    "K",  # int64 (F, n): the packed keys of tree_sort.py
    "presort",  # int64 (F, n): row f the samples in the order of feature f; (0, 0) for none
    "samples",  # uint64 (n,): Splitter.samples, the nonzero-weight ones first
    "w", "wy", "wyy",  # float64 (n,): the weights, w * y and w * y * y
    "weighted_n_samples",
    "features", "constant_features",  # intp (F,): the draw's permutation, the known constants
    "packed",  # int64 (n,): the drawn feature's keys of the node, sorted
    "orders", "right_buf", "goes_left",  # the kept orders of tie-free features (trees.py)
    "sort_stack", "sample_mask", "rng",
    "friedman", "full_sort", "shortcuts", "keep_orders", "has_presort"])


@njit(cache=True, inline="always")
def rand_int(low, high, state):
    """sklearn's rand_int over our_rand_r (32-bit xorshift); state is a 1-element int64 array
    holding the uint32 seed (int64 so numba does no unsigned/signed promotion surprises).
    1.9.1's our_rand_r turns a state of 0 into 1 before each step; xorshift maps nonzero states
    to nonzero states (each of its three steps is an invertible linear map), so only an initial
    seed of 0 can be 0, and splitter_init applies that fix once, at the start, under the 1.9.1
    rules. 0.20.1 has no fix: a state of 0 stays 0 and every draw returns `low`."""
    s = state[0]
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    return low + (s % 2147483648) % (high - low)


@njit(cache=True)
def _weighted_samples(y, sample_weight):
    """Splitter.init: zero-weight samples never enter `samples`, but their weight (0) is summed.
    Returns (samples, n_samples, w, w * y, w * y * y, weighted_n_samples)."""
    n_total = y.shape[0]
    has_weights = sample_weight.shape[0] > 0
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
    return samples, n_samples, w, wy, wyy, weighted_n_samples


@njit(cache=True)
def _check_presort(presort, n_total):
    """Every row of presort must be a permutation of 0..n-1 (memory safety)."""
    seen = np.zeros(n_total, np.int64)
    for f in range(presort.shape[0]):
        for q in range(n_total):
            j = np.uint64(presort[f, q])
            if j >= n_total or seen[j] == f + 1:
                raise ValueError("presort: every column must be a permutation of the rows")
            seen[j] = f + 1


@depends_on(tree_sort)
@njit(cache=True)
def splitter_init(X32, y, sample_weight, rand_r_seed, friedman, full_sort, seed0_fix, presort, shortcuts):
    """The Splitter of one fit (arguments as tree_builder.build_tree's) and n_samples, the
    number of samples of nonzero weight."""
    n_total, n_features = X32.shape
    has_presort = presort.shape[0] > 0
    XT = np.ascontiguousarray(X32.T)
    K = packed_keys(XT)
    samples, n_samples, w, wy, wyy, weighted_n_samples = _weighted_samples(y, sample_weight)
    features = np.arange(n_features)
    constant_features = np.empty(n_features, np.intp)
    packed = np.empty(n_total, np.int64)
    # the kept orders of tie-free features (trees.py): a bit per feature in each node's int64
    # mask, hence at most 64 features
    keep_orders = shortcuts and n_features <= 64 and not has_presort
    orders = np.empty((n_features if keep_orders else 0, n_total), np.int64)
    right_buf = np.empty(n_total if keep_orders else 0, np.int64)
    goes_left = np.zeros(n_total if keep_orders else 0, np.uint8)
    sort_stack = np.empty((n_total + 2, 3), np.intp)
    # 0.20.1's presort: sample_mask marks the node's samples while its split is searched.
    sample_mask = np.zeros(n_total if has_presort else 0, np.uint8)
    if has_presort:
        _check_presort(presort, n_total)
    rng = np.empty(1, np.int64)
    rng[0] = rand_r_seed
    if seed0_fix and rng[0] == 0:
        rng[0] = 1  # 1.9.1's our_rand_r: DEFAULT_SEED (see rand_int)
    splitter = Splitter(XT, K, presort, samples, w, wy, wyy, weighted_n_samples, features, constant_features,
                        packed, orders, right_buf, goes_left, sort_stack, sample_mask, rng,
                        friedman, full_sort, shortcuts, keep_orders, has_presort)
    return splitter, n_samples


@njit(cache=True, inline="always")
def node_sums(sp, start, end):
    """Criterion.init over samples[start:end] in their current order: the sums of w * y, of
    w * y * y and of w."""
    samples, w, wy, wyy = sp.samples, sp.w, sp.wy, sp.wyy
    sum_total = 0.0
    sq_sum_total = 0.0
    wn_node = 0.0
    for p in range(start, end):
        i = samples[p]
        sum_total += wy[i]
        sq_sum_total += wyy[i]
        wn_node += w[i]
    return sum_total, sq_sum_total, wn_node


@depends_on(tree_sort)
@njit(cache=True, inline="always")
def _sorted_keys(sp, feat, start, end, inherited, first_sort):
    """Leave the node's packed keys of feature feat sorted in packed[start:end]: copied from the
    kept order (inherited), gathered in the presorted order (0.20.1's presort), or gathered and
    sorted. The previous sort's order lives in packed (samples is only brought up to date
    before the final partition), so after the node's first sort the gather is done in place."""
    packed, K, orders, presort, sample_mask, samples = (sp.packed, sp.K, sp.orders, sp.presort, sp.sample_mask,
                                                        sp.samples)
    ustart = np.uint64(start)
    uend = np.uint64(end)
    if inherited:
        for p in range(ustart, uend):
            packed[p] = orders[feat, p]
    elif sp.has_presort:
        one = np.uint64(1)
        p = ustart
        for q in range(samples.shape[0]):
            j = np.uint64(presort[feat, q])  # checked by splitter_init: a permutation
            if sample_mask[j]:
                packed[p] = K[feat, j]
                p += one
    else:
        if first_sort:
            for p in range(ustart, uend):
                packed[p] = K[feat, samples[p]]
        else:
            for p in range(ustart, uend):
                packed[p] = K[feat, packed[p] & 0xFFFFFFFF]
        if sp.full_sort or end - start > 15:
            introsort(packed, start, end - start, sp.sort_stack, sp.full_sort, sp.shortcuts)
        else:  # introsort_3way is an insertion sort below 16 values: skip its set-up
            insertion_sort(packed, start, end - start)


@njit(cache=True, inline="always")
def _scan_feature(sp, x_prev, start, end, sum_total, wn_node, feat, best):
    """The candidate positions of the sorted feature feat (the first value x_prev), each
    scored by the criterion's proxy against best = (proxy, pos, feature, threshold); returns the
    updated best and whether the node holds tied values of the feature.
    criterion.reset(), then update(p) at each candidate p: sklearn updates forward from the
    previous candidate, or backward from `end` when that is shorter; the two give different last
    bits. The running forward sum below stands exactly where sklearn's forward update would, and
    is redone backward when sklearn would."""
    best_proxy, best_pos, best_feature, best_threshold = best
    packed, w, wy, XT = sp.packed, sp.w, sp.wy, sp.XT
    one = np.uint64(1)
    ustart = np.uint64(start)
    uend = np.uint64(end)
    pos = ustart
    sum_left = 0.0
    wn_left = 0.0
    tie = False
    for p in range(ustart + one, uend):
        i = packed[p - one] & 0xFFFFFFFF
        sum_left += wy[i]
        wn_left += w[i]
        x = XT[feat, packed[p] & 0xFFFFFFFF]
        if x <= x_prev + FEATURE_THRESHOLD:
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
        if sp.friedman:  # 0.20.1 FriedmanMSE.proxy_impurity_improvement
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
    return (best_proxy, best_pos, best_feature, best_threshold), tie


@depends_on(tree_sort)
@njit(cache=True, inline="always")
def node_split_best(sp, start, end, impurity, n_known_constants, node_tf, sum_total, sq_sum_total, wn_node):
    """node_split_best of the node samples[start:end] (its sums from node_sums, node_tf the bits
    of the features whose order it inherits). Returns (pos, feature, threshold, impurity_left,
    impurity_right, improvement, n_constant_features, the bits of the orders its children
    inherit); pos = end when no split was found. The samples are left partitioned at pos."""
    features, constant_features, packed, XT = sp.features, sp.constant_features, sp.packed, sp.XT
    samples, sample_mask = sp.samples, sp.sample_mask
    n_features = features.shape[0]
    best = (-np.inf, end, 0, 0.0)  # proxy, pos, feature, threshold
    new_tf = node_tf
    first_sort = True
    if sp.has_presort:
        for p in range(np.uint64(start), np.uint64(end)):
            sample_mask[samples[p]] = 1
    f_i = n_features
    n_visited = 0
    n_found_constants = 0
    n_drawn_constants = 0
    n_total_constants = n_known_constants
    while f_i > n_total_constants and (
            n_visited < n_features
            or n_visited <= n_found_constants + n_drawn_constants):
        n_visited += 1
        f_j = rand_int(n_drawn_constants, f_i - n_found_constants, sp.rng)
        if f_j < n_known_constants:
            t = features[n_drawn_constants]
            features[n_drawn_constants] = features[f_j]
            features[f_j] = t
            n_drawn_constants += 1
            continue
        f_j += n_found_constants
        feat = features[f_j]
        inherited = sp.keep_orders and ((node_tf >> feat) & 1) == 1
        _sorted_keys(sp, feat, start, end, inherited, first_sort)
        first_sort = False
        x_first = XT[feat, packed[start] & 0xFFFFFFFF]
        if XT[feat, packed[end - 1] & 0xFFFFFFFF] <= x_first + FEATURE_THRESHOLD:
            features[f_j] = features[n_total_constants]
            features[n_total_constants] = feat
            n_found_constants += 1
            n_total_constants += 1
            continue
        f_i -= 1
        features[f_j] = features[f_i]
        features[f_i] = feat
        best, tie = _scan_feature(sp, x_first, start, end, sum_total, wn_node, feat, best)
        if sp.keep_orders and not tie and not inherited:
            _keep_order(sp, feat, start, end)
            new_tf |= np.int64(1) << feat
    split = _finish_split(sp, start, end, best, first_sort, impurity, sum_total, sq_sum_total, wn_node)
    # Known constants keep their order for descendants; append the new ones.
    for k in range(n_known_constants):
        features[k] = constant_features[k]
    for k in range(n_known_constants, n_total_constants):
        constant_features[k] = features[k]
    return split + (n_total_constants, new_tf)


@njit(cache=True, inline="always")
def _keep_order(sp, feat, start, end):
    """Keep the node's sorted order of the tie-free feature feat for its descendants."""
    orders, packed = sp.orders, sp.packed
    for p in range(np.uint64(start), np.uint64(end)):
        orders[feat, p] = packed[p]


@njit(cache=True, inline="always")
def _finish_split(sp, start, end, best, first_sort, impurity, sum_total, sq_sum_total, wn_node):
    """Bring samples up to the last sorted order, partition them at the best split and score it:
    (pos, feature, threshold, impurity_left, impurity_right, improvement)."""
    _, best_pos, best_feature, best_threshold = best
    samples, packed, sample_mask = sp.samples, sp.packed, sp.sample_mask
    if not first_sort:
        for p in range(np.uint64(start), np.uint64(end)):
            samples[p] = packed[p] & 0xFFFFFFFF
    imp_left = np.inf
    imp_right = np.inf
    improvement = -np.inf
    if best_pos < end:
        partition_samples(samples, sp.XT, best_feature, start, end, best_threshold)
        imp_left, imp_right, improvement = _split_impurities(sp, start, best_pos, end, impurity,
                                                             sum_total, sq_sum_total, wn_node)
    if sp.has_presort:  # the partition moved the samples, not the set: clear the mask
        for p in range(start, end):
            sample_mask[samples[p]] = 0
    return best_pos, best_feature, best_threshold, imp_left, imp_right, improvement


@njit(cache=True, inline="always")
def partition_samples(samples, XT, feature, start, end, threshold):
    """partition_samples_final: the swap partition of samples[start:end], those whose value of
    the split feature (XT[feature]) is <= threshold first."""
    ps = start
    pe = end
    while ps < pe:
        if XT[feature, samples[ps]] <= threshold:
            ps += 1
        else:
            pe -= 1
            t = samples[ps]
            samples[ps] = samples[pe]
            samples[pe] = t


@njit(cache=True, inline="always")
def _split_impurities(sp, start, pos, end, impurity, sum_total, sq_sum_total, wn_node):
    """criterion.reset(); update(pos); children_impurity() and impurity_improvement() of the
    partitioned node: (impurity_left, impurity_right, improvement)."""
    samples, w, wy, wyy = sp.samples, sp.w, sp.wy, sp.wyy
    sum_left = 0.0
    wn_left = 0.0
    if (pos - start) <= (end - pos):
        for q in range(start, pos):
            i = samples[q]
            sum_left += wy[i]
            wn_left += w[i]
    else:
        sum_left = sum_total
        wn_left = wn_node
        for q in range(end - 1, pos - 1, -1):
            i = samples[q]
            sum_left -= wy[i]
            wn_left -= w[i]
    wn_right = wn_node - wn_left
    sum_right = sum_total - sum_left
    sq_left = 0.0
    for q in range(start, pos):
        sq_left += wyy[samples[q]]
    sq_right = sq_sum_total - sq_left
    ml = sum_left / wn_left
    mr = sum_right / wn_right
    imp_left = sq_left / wn_left - ml * ml
    imp_right = sq_right / wn_right - mr * mr
    if sp.friedman:  # 0.20.1 FriedmanMSE.impurity_improvement (n_outputs = 1)
        diff = wn_right * sum_left - wn_left * sum_right
        improvement = diff * diff / (wn_left * wn_right * wn_node)
    else:  # Criterion.impurity_improvement
        improvement = (wn_node / sp.weighted_n_samples) * (
            impurity - (wn_right / wn_node * imp_right)
            - (wn_left / wn_node * imp_left))
    return imp_left, imp_right, improvement


@njit(cache=True, inline="always")
def partition_kept_orders(sp, start, pos, end, kept):
    """The children's sorted orders: a stable partition of each kept order (the features of the
    bits in kept), samples[start:pos] going left."""
    goes_left, samples, orders, right_buf = sp.goes_left, sp.samples, sp.orders, sp.right_buf
    for q in range(start, pos):
        goes_left[samples[q]] = 1
    for g in range(sp.features.shape[0]):
        if (kept >> g) & 1:
            nl = start
            nr = 0
            for q in range(start, end):
                v = orders[g, q]
                if goes_left[v & 0xFFFFFFFF]:
                    orders[g, nl] = v
                    nl += 1
                else:
                    right_buf[nr] = v
                    nr += 1
            for q in range(nr):
                orders[g, nl + q] = right_buf[q]
    for q in range(start, pos):
        goes_left[samples[q]] = 0
