"""The 0.20.1 rules' reference: a plain-Python transcription of scikit-learn 0.20.1's tree builder.

scikit-learn 0.20.1 (the library of the paper's table) cannot be installed on Python 3.11, so
its source is the reference: this transcription is written from tree/_splitter.pyx,
_criterion.pyx, _tree.pyx and _utils.pyx with lists and Python floats, no packed keys and no
shortcuts. Its 1.9.1 switch (insertion sort at 15, maxd from log2, the rand_r seed-0 fix, the
EPSILON leaf rule) is checked against real scikit-learn 1.9.1 (tests/test_trees.py), which
checks the transcription; its 0.20.1 switch is then the reference for
trees.fit_tree(rules="0.20.1") (tests/test_trees.py, test_tree_sort.py) and for the ensembles
(tests/test_ensembles.py)."""
import math

import numpy as np
from tree_cases import RAND_R_MAX

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
