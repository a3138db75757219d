"""The protocol's tree ensembles, replicated exactly and grown on demand.

run_experiments.py fits RandomForestRegressor, GradientBoostingRegressor and AdaBoostRegressor
(defaults, random_state=None) after seeding the global NumPy generator. This module gives the
same predictions as those fits, bit for bit, under either of two rule sets (`rules`):
"1.9.1", scikit-learn REPLICA_VERSION (today's), and "0.20.1", the scikit-learn of the paper's
published table (emulated from its source: see trees.py and FIDELITY_2022.md). Two savings:

- every random number such a fit draws is drawn up front, in the same order, by draws(): which
  numbers a fit draws does not depend on the features (forest: one int32 seed per tree, then per
  tree a bootstrap and a splitter seed from RandomState(seed); boosting: one splitter seed per
  stage; AdaBoost: per round a tree seed and n uniforms for its weighted bootstrap). 0.20.1 draws
  the same numbers in the same order (forest.py 95-123 and base.py 22-55, gradient_boosting.py
  1158-1194, weight_boosting.py 1009-1013), so draws() serves both rule sets;
- an ensemble of N members holds the first n members of the N-member fit for every n < N (same
  draws in the same order), so a state can be grown from 25 to 50 to 200 members as a search
  asks for larger N, and predict(state, n) reads any size already grown.

Each tree is fitted by trees.fit_tree, the exact replica of scikit-learn's tree builder. The
1.9.1 rules need scikit-learn 1.9.1's own conventions (SUPPORTED is False under any other
installed version: run_experiments then falls back to plain fits); the 0.20.1 rules do not
depend on the installed scikit-learn.

Draws, states and predictions per family (n = training rows, X32 = the float32 copy of the
features every scikit-learn tree fits and predicts on):
  Random Forest      bootstrap=True, max_features=1.0, full depth; the forest's prediction is
                     the running sum of its trees' predictions divided by their count. 0.20.1:
                     the same, with 0.20.1 trees.
  Gradient Boosting  squared error, learning rate 0.1, depth 3; raw predictions start at the
                     mean target and each stage adds 0.1 * its tree's leaf value. 0.20.1:
                     criterion friedman_mse (FriedmanMSE), presort='auto' (the trees take their
                     sample order from an argsort of the float32 training X computed once per
                     fit, numpy 1.15.4's quicksort order), the MeanEstimator init
                     (np.average(y, weights=float32 ones)), residuals y - raw.
  AdaBoost           linear loss, learning rate 1, depth-3 trees on a weighted bootstrap; the
                     prediction is the weighted median of the members' predictions. 1.9.1
                     clips the sample weights at machine epsilon before every round; 0.20.1
                     does not (weights may underflow to 0). Both: log(1/beta) and
                     beta ** (1 - error) in the C library's math (math.log, math.pow), never
                     numpy's SIMD log/power (they differ in the last bit on AVX-512); the
                     weighted median sorts with numpy 1.15.4's argsort order by default
                     (numpy_1_15_quicksort.argsort_1_15_rows), the same on every CPU.
  Decision Tree      DecisionTreeRegressor() with random_state=None: fit_decision_tree draws
                     its splitter seed from the global generator as the fit does.

Note: with math.log/math.pow and the 1.15.4 argsort, the 1.9.1 rules give scikit-learn 1.9.1's
AdaBoost on machines where numpy's log/power/argsort agree with those (no AVX-512); on AVX-512
scikit-learn 1.9.1 itself can differ from this module in the last bit (FIDELITY_2022.md).
"""
import math

import numpy as np
import sklearn

from naap.replica import fixedmath, trees
from naap.replica.rules import REPLICA_VERSION, parts_on

SUPPORTED = sklearn.__version__ == REPLICA_VERSION
FAMILIES = ("Random Forest", "Gradient Boosting", "AdaBoost")
MAX_INT = np.iinfo(np.int32).max  # estimator seeds: randint(MAX_INT)
RAND_R_MAX = 0x7FFFFFFF  # the splitter's seed: random_state.randint(0, RAND_R_MAX)
FULL_DEPTH = MAX_INT  # what max_depth=None becomes (0.20.1: (2 ** 31) - 1, the same)
BOOST_DEPTH = 3
GB_LEARNING_RATE = 0.1


def _check_rules(rules):
    parts_on(rules)  # raises on anything else
    return rules


def _gb(rules):
    """Gradient Boosting as 0.20.1 did it: presort, FriedmanMSE, its mean, y - raw."""
    return "gb" in parts_on(rules)


def _ada(rules):
    """AdaBoost as 0.20.1 did it: no clipping at machine epsilon, no isfinite stop."""
    return "ada_clip" in parts_on(rules)


_ARGSORTS = {}


def _emulated_argsort(name):
    """numpy_1_15_quicksort's numpy-1.15.4 argsort `name`, or None when it cannot be imported."""
    if name not in _ARGSORTS:
        try:
            from naap.replica import numpy_1_15_quicksort
            _ARGSORTS[name] = getattr(numpy_1_15_quicksort, name)
        except (ImportError, AttributeError):
            _ARGSORTS[name] = None
    return _ARGSORTS[name]


def default_argsort_rows(a2d):
    """np.argsort(a2d, axis=1) in numpy 1.15.4's quicksort order
    (numpy_1_15_quicksort.argsort_1_15_rows, the same on every CPU); today's np.argsort when
    numpy_1_15_quicksort cannot be imported."""
    f = _emulated_argsort("argsort_1_15_rows")
    return f(a2d) if f is not None else np.argsort(a2d, axis=1)


def default_argsort_columns(a2d):
    """np.argsort(a2d, axis=0) in numpy 1.15.4's quicksort order
    (numpy_1_15_quicksort.argsort_1_15_columns), what 0.20.1's GradientBoostingRegressor presorts
    with; today's np.argsort when numpy_1_15_quicksort cannot be imported (its order of ties depends
    on the CPU)."""
    f = _emulated_argsort("argsort_1_15_columns")
    return f(a2d) if f is not None else np.argsort(a2d, axis=0)


def _splitter_seed(seed):
    """The rand_r seed of a tree fitted with random_state=seed (an int)."""
    return np.random.RandomState(seed).randint(0, RAND_R_MAX)


def draws(family, size, n_train):
    """Consume from the global NumPy generator what fitting `family` with n_estimators=size on
    n_train rows consumes, in the same order, and return it as arrays (see the module docstring).
    AdaBoost may stop early and then draws less; the numbers it does draw are the same.
    The same under both rule sets."""
    rng = np.random.mtrand._rand  # what check_random_state(None) returns
    if family == "Random Forest":
        seeds = [rng.randint(MAX_INT) for _ in range(size)]
        counts = np.array([np.bincount(np.random.RandomState(s).randint(0, n_train, n_train).astype(np.int32),
                                       minlength=n_train) for s in seeds], dtype=np.float64)
        return {"weights": counts, "splitter": np.array([_splitter_seed(s) for s in seeds], dtype=np.int64)}
    if family == "Gradient Boosting":
        return {"splitter": np.array([rng.randint(0, RAND_R_MAX) for _ in range(size)], dtype=np.int64)}
    if family == "AdaBoost":
        seeds, uniforms = [], []
        for _ in range(size):
            seeds.append(rng.randint(MAX_INT))
            uniforms.append(rng.random_sample(n_train))  # RandomState.choice(p=...) draws these
        splitter = np.array([_splitter_seed(s) for s in seeds], dtype=np.int64)
        return {"uniforms": np.array(uniforms), "splitter": splitter}
    raise ValueError(family)


def gb_initial_mean(y_train, rules=REPLICA_VERSION):
    """The Gradient Boosting init estimator's constant prediction.
    1.9.1: DummyRegressor(strategy="mean") on the (n, 1) target, np.average(y, axis=0).
    0.20.1: MeanEstimator.fit(X, y, sample_weight) with the sample_weight fit() made,
    np.ones(n, dtype=np.float32) (gradient_boosting.py 1397-1398 and 134-137), so
    np.average(y, weights=ones32): multiply by 1.0 (exact), numpy's pairwise add-reduce started
    from 0.0, then division by the weights' float64 sum, n exactly. numpy 2.4.6 does that same
    arithmetic (tests/test_ensembles.py checks it against a transcription of numpy 1.15.4's
    pairwise_sum)."""
    y = np.asarray(y_train, dtype=np.float64)
    if _gb(rules):
        return float(np.average(y.reshape(-1), weights=np.ones(len(y), dtype=np.float32)))
    return float(np.average(y.reshape(-1, 1), axis=0)[0])


def new_state(family, y_train, n_test, sizes, rules=REPLICA_VERSION):
    """An ensemble of 0 members, to be grown with grow(); predict() can read the model sizes
    listed in `sizes` (AdaBoost: any size). It holds only what growing further needs besides
    the data and the draws, because states are kept per subset and sent between processes:
    a few vectors, and for AdaBoost each member's test predictions (5 seeds x 200 members x
    40 test rows: ~0.4 MB per subset at N=200). `rules`: "1.9.1" or "0.20.1"."""
    state = {"family": family, "n": 0, "sizes": frozenset(sizes), "rules": _check_rules(rules)}
    if family == "Random Forest":
        state.update(sum=np.zeros(n_test), at={})
    elif family == "Gradient Boosting":
        mean = gb_initial_mean(y_train, rules)
        state.update(raw=np.full(len(y_train), mean), raw_test=np.full(n_test, mean), at={})
    elif family == "AdaBoost":
        weight = np.ones(len(y_train), dtype=np.float64)
        state.update(weight=weight / weight.sum(), preds=[], weights=[], stopped=False)
    else:
        raise ValueError(family)
    return state


def grow(state, size, X_train, y_train, X_test, family_draws, presort=None):
    """Add members until the ensemble has `size` (or AdaBoost stops early), fitted on the same
    data and draws as the members it has; keep what predict needs.
    presort (Gradient Boosting under the 0.20.1 rules only): the (n, F) sample order of each
    column of the float32 training X, as np.argsort(X32, axis=0) gives it; by default
    default_argsort_columns(X32), numpy 1.15.4's order, computed once per call."""
    X32, X32_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train, X_test))
    y, d, family = np.ascontiguousarray(y_train, dtype=np.float64), family_draws, state["family"]
    rules = state.get("rules", REPLICA_VERSION)
    if presort is not None and not (family == "Gradient Boosting" and _gb(rules)):
        raise ValueError("presort is for Gradient Boosting under the 0.20.1 rules")
    if family == "Random Forest":
        for i in range(state["n"], size):
            tree = trees.fit_tree(X32, y, d["weights"][i], d["splitter"][i], FULL_DEPTH, rules=rules)
            state["sum"] += trees.predict_tree(*tree, X32_test)  # forest.predict: sum in tree order
            if i + 1 in state["sizes"]:
                state["at"][i + 1] = state["sum"] / (i + 1)
            state["n"] = i + 1
    elif family == "Gradient Boosting":
        if state["n"] >= size:
            return state
        ones = np.ones(len(y), dtype=np.float64)
        order = None
        if _gb(rules):
            order = trees.presort_order(default_argsort_columns(X32) if presort is None else presort)
            if order.shape != X32.shape:
                raise ValueError("presort must have the shape of X_train")
        for i in range(state["n"], size):
            if _gb(rules):
                residual = y - state["raw"]  # LeastSquaresError.negative_gradient
                tree = trees.fit_tree(X32, residual, ones, d["splitter"][i], BOOST_DEPTH, True,
                                      rules=rules, presort=order)
            else:
                residual = -(state["raw"] - y)  # HalfSquaredError.gradient, negated
                tree = trees.fit_tree(X32, residual, ones, d["splitter"][i], BOOST_DEPTH, rules=rules)
            state["raw"] += GB_LEARNING_RATE * trees.predict_tree(*tree, X32)
            state["raw_test"] += GB_LEARNING_RATE * trees.predict_tree(*tree, X32_test)
            if i + 1 in state["sizes"]:
                state["at"][i + 1] = state["raw_test"].copy()
            state["n"] = i + 1
    else:
        for i in range(state["n"], size):
            if state["stopped"]:
                break
            _adaboost_round(state, i, X32, y, X32_test, d, rules)
            state["n"] = i + 1
    return state


def adaboost_bootstrap(weight, uniforms, rules=REPLICA_VERSION):
    """The rows of AdaBoost's weighted bootstrap: (the weights the round goes on with, rows).
    1.9.1 (fit loop 157-162, then RandomState.choice(p=...)): weights clipped at machine epsilon
    first. 0.20.1 (weight_boosting.py 1009-1013): no clipping; stable_cumsum (np.cumsum in
    float64, plus a check that only warns), normalised by its last element, searchsorted right."""
    if not _ada(_check_rules(rules)):
        weight = np.clip(weight, a_min=np.finfo(np.float64).eps, a_max=None)  # no zero weights: no mask
    else:
        weight = np.array(weight, dtype=np.float64)
    cdf = np.cumsum(weight, dtype=np.float64)
    cdf /= cdf[-1]
    return weight, cdf.searchsorted(uniforms, side="right")


def _adaboost_round(state, i, X32, y, X32_test, d, rules=REPLICA_VERSION):
    """Round i of AdaBoostRegressor.fit (loss="linear", learning rate 1; scikit-learn 1.9.1's
    _boost or 0.20.1's, weight_boosting.py 967-1056), continuing the sample weights of round
    i - 1 as the larger fit would."""
    weight, rows = adaboost_bootstrap(state["weight"], d["uniforms"][i], rules)
    tree = trees.fit_tree(X32[rows], y[rows], None, d["splitter"][i], BOOST_DEPTH, rules=rules)
    error = np.abs(trees.predict_tree(*tree, X32) - y)
    error_max = error.max()
    if error_max != 0:
        error /= error_max
    estimator_error = (weight * error).sum()
    if estimator_error <= 0:
        state["preds"].append(trees.predict_tree(*tree, X32_test))
        state["weights"].append(1.0)
        state["stopped"] = True  # a perfect fit ends boosting
        return
    if estimator_error >= 0.5:
        # scikit-learn drops this tree unless it is the only one (then kept with weight 0)
        if not state["preds"]:
            state["preds"].append(trees.predict_tree(*tree, X32_test))
            state["weights"].append(0.0)
        state["stopped"] = True
        return
    beta = float(estimator_error / (1.0 - estimator_error))
    state["preds"].append(trees.predict_tree(*tree, X32_test))
    # learning_rate * log(1 / beta) with learning_rate 1.0: the C library's log
    state["weights"].append(math.log(1.0 / beta))
    # the N-round fit skips the update after its last round; a later round needs it, and the
    # skipped update never reaches a prediction. beta ** ((1 - error) * 1.0), elementwise in libm.
    weight *= fixedmath.pow_each(beta, 1.0 - error)
    total = np.sum(weight)
    if not _ada(rules) and not np.isfinite(total):
        state["stopped"] = True  # 1.9.1 only; 0.20.1 has no such check (weights only shrink)
        return
    if total <= 0:
        state["stopped"] = True
        return
    state["weight"] = weight / total


def rounds_drawn(state, size):
    """How many members' draws (draws()) a fit with n_estimators=size takes from the global
    generator: size, or for an AdaBoost that stopped early the rounds it ran (the stopping
    round's draws are taken too). The state must be grown to size."""
    if state["family"] == "AdaBoost" and state["stopped"]:
        return min(size, state["n"])
    return size


def predict(state, size, argsort_rows=None):
    """The prediction of the family's model with n_estimators=size (grown to at least size).
    argsort_rows (AdaBoost): the np.argsort(predictions, axis=1) of the weighted median, by
    default default_argsort_rows (numpy 1.15.4's order); pass np.argsort-like callables
    (a2d -> (m, k) indices) to follow another numpy."""
    if state["family"] != "AdaBoost":
        return state["at"][size]
    assert state["stopped"] or state["n"] >= size, "grow() the state to this size first"
    n = min(size, len(state["preds"]))
    predictions = np.array(state["preds"][:n]).T
    # AdaBoostRegressor._get_median_predict; weights beyond the kept members do not enter
    weights = np.zeros(size)
    weights[:n] = state["weights"][:n]
    sorted_idx = np.asarray((argsort_rows or default_argsort_rows)(predictions))
    # 0.20.1: stable_cumsum (np.cumsum in float64); 1.9.1: np.cumsum; the same sums
    weight_cdf = np.cumsum(weights[sorted_idx], axis=1, dtype=np.float64)
    median_or_above = weight_cdf >= 0.5 * weight_cdf[:, -1][:, np.newaxis]
    median_idx = median_or_above.argmax(axis=1)
    rows = np.arange(len(predictions))
    return predictions[rows, sorted_idx[rows, median_idx]]


def fit_decision_tree(X_train, y_train, rules=REPLICA_VERSION, rand_r_seed=None):
    """DecisionTreeRegressor().fit(X_train, y_train) under `rules`: random_state=None, so the
    splitter seed is np.random.mtrand._rand.randint(0, 0x7FFFFFFF), drawn here as the fit draws
    it (1.9.1 and 0.20.1 alike) unless rand_r_seed is given. Full depth, no sample weights,
    MSE. Returns the tree arrays for predict_decision_tree."""
    _check_rules(rules)
    if rand_r_seed is None:
        rand_r_seed = np.random.mtrand._rand.randint(0, RAND_R_MAX)
    X32 = np.ascontiguousarray(X_train, dtype=np.float32)
    return trees.fit_tree(X32, np.ascontiguousarray(y_train, dtype=np.float64), None, rand_r_seed,
                          FULL_DEPTH, rules=rules)


def predict_decision_tree(tree, X):
    """DecisionTreeRegressor.predict(X) of a tree from fit_decision_tree (X taken as float32)."""
    return trees.predict_tree(*tree, np.ascontiguousarray(X, dtype=np.float32))
