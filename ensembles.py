"""The protocol's tree ensembles, replicated exactly and grown on demand.

run_experiments.py fits RandomForestRegressor, GradientBoostingRegressor and AdaBoostRegressor
(defaults, random_state=None) after seeding the global NumPy generator. This module gives the
same predictions as those fits in scikit-learn REPLICA_VERSION, bit for bit, with two savings:

- every random number such a fit draws is drawn up front, in the same order, by draws(): which
  numbers a fit draws does not depend on the features (forest: one int32 seed per tree, then per
  tree a bootstrap and a splitter seed from RandomState(seed); boosting: one splitter seed per
  stage; AdaBoost: per round a tree seed and n uniforms for its weighted bootstrap);
- an ensemble of N members holds the first n members of the N-member fit for every n < N (same
  draws in the same order), so a state can be grown from 25 to 50 to 200 members as a search
  asks for larger N, and predict(state, n) reads any size already grown.

Each tree is fitted by trees.fit_tree, the exact replica of scikit-learn's tree builder. Other
scikit-learn versions must not use this module (SUPPORTED is False there): run_experiments then
falls back to plain fits.

Draws, states and predictions per family (n = training rows, X32 = the float32 copy of the
features every scikit-learn tree fits and predicts on):
  Random Forest      bootstrap=True, max_features=1.0, full depth; the forest's prediction is
                     the running sum of its trees' predictions divided by their count
  Gradient Boosting  squared error, learning rate 0.1, depth 3; raw predictions start at the
                     mean target and each stage adds 0.1 * its tree's leaf value
  AdaBoost           linear loss, learning rate 1, depth-3 trees on a weighted bootstrap; the
                     prediction is the weighted median of the members' predictions
"""
import numpy as np
import sklearn

import trees

REPLICA_VERSION = "1.9.1"
SUPPORTED = sklearn.__version__ == REPLICA_VERSION == trees.REPLICA_VERSION
FAMILIES = ("Random Forest", "Gradient Boosting", "AdaBoost")
MAX_INT = np.iinfo(np.int32).max  # estimator seeds: randint(MAX_INT)
RAND_R_MAX = 0x7FFFFFFF  # the splitter's seed: random_state.randint(0, RAND_R_MAX)
FULL_DEPTH = MAX_INT  # what max_depth=None becomes
BOOST_DEPTH = 3
GB_LEARNING_RATE = 0.1


def _splitter_seed(seed):
    """The rand_r seed of a tree fitted with random_state=seed (an int)."""
    return np.random.RandomState(seed).randint(0, RAND_R_MAX)


def draws(family, size, n_train):
    """Consume from the global NumPy generator what fitting `family` with n_estimators=size on
    n_train rows consumes, in the same order, and return it as arrays (see the module docstring).
    AdaBoost may stop early and then draws less; the numbers it does draw are the same."""
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
        return {"uniforms": np.array(uniforms), "splitter": np.array([_splitter_seed(s) for s in seeds], dtype=np.int64)}
    raise ValueError(family)


def new_state(family, y_train, n_test, sizes):
    """An ensemble of 0 members, to be grown with grow(); predict() can read the model sizes
    listed in `sizes` (AdaBoost: any size). It holds only what growing further needs besides
    the data and the draws, because states are kept per subset and sent between processes:
    a few vectors, and for AdaBoost each member's test predictions (5 seeds x 200 members x
    40 test rows: ~0.4 MB per subset at N=200)."""
    state = {"family": family, "n": 0, "sizes": frozenset(sizes)}
    if family == "Random Forest":
        state.update(sum=np.zeros(n_test), at={})
    elif family == "Gradient Boosting":
        # DummyRegressor(strategy="mean") on the (n, 1) target, as the init estimator fits it
        mean = np.average(np.asarray(y_train, dtype=np.float64).reshape(-1, 1), axis=0)[0]
        state.update(raw=np.full(len(y_train), mean), raw_test=np.full(n_test, mean), at={})
    else:
        weight = np.ones(len(y_train), dtype=np.float64)
        state.update(weight=weight / weight.sum(), preds=[], weights=[], stopped=False)
    return state


def grow(state, size, X_train, y_train, X_test, family_draws):
    """Add members until the ensemble has `size` (or AdaBoost stops early), fitted on the same
    data and draws as the members it has; keep what predict needs."""
    X32, X32_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train, X_test))
    y, d, family = np.ascontiguousarray(y_train, dtype=np.float64), family_draws, state["family"]
    if family == "Random Forest":
        for i in range(state["n"], size):
            tree = trees.fit_tree(X32, y, d["weights"][i], d["splitter"][i], FULL_DEPTH)
            state["sum"] += trees.predict_tree(*tree, X32_test)  # forest.predict: sum in tree order
            if i + 1 in state["sizes"]:
                state["at"][i + 1] = state["sum"] / (i + 1)
            state["n"] = i + 1
    elif family == "Gradient Boosting":
        ones = np.ones(len(y), dtype=np.float64)
        for i in range(state["n"], size):
            neg_gradient = -(state["raw"] - y)  # HalfSquaredError.gradient, negated
            tree = trees.fit_tree(X32, neg_gradient, ones, d["splitter"][i], BOOST_DEPTH)
            state["raw"] += GB_LEARNING_RATE * trees.predict_tree(*tree, X32)
            state["raw_test"] += GB_LEARNING_RATE * trees.predict_tree(*tree, X32_test)
            if i + 1 in state["sizes"]:
                state["at"][i + 1] = state["raw_test"].copy()
            state["n"] = i + 1
    else:
        for i in range(state["n"], size):
            if state["stopped"]:
                break
            _adaboost_round(state, i, X32, y, X32_test, d)
            state["n"] = i + 1
    return state


def _adaboost_round(state, i, X32, y, X32_test, d):
    """Round i of AdaBoostRegressor.fit (scikit-learn 1.9.1 _boost, loss="linear", learning rate
    1), continuing the sample weights of round i - 1 as the larger fit would."""
    epsilon = np.finfo(np.float64).eps
    weight = np.clip(state["weight"], a_min=epsilon, a_max=None)  # no zero weights: no mask
    cdf = weight.cumsum()  # RandomState.choice(n, n, p=weight)
    cdf /= cdf[-1]
    rows = cdf.searchsorted(d["uniforms"][i], side="right")
    tree = trees.fit_tree(X32[rows], y[rows], None, d["splitter"][i], BOOST_DEPTH)
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
    beta = estimator_error / (1.0 - estimator_error)
    state["preds"].append(trees.predict_tree(*tree, X32_test))
    state["weights"].append(np.log(1.0 / beta))
    # the N-round fit skips the update after its last round; a later round needs it, and the
    # skipped update never reaches a prediction
    weight *= np.power(beta, 1.0 - error)
    total = np.sum(weight)
    if not np.isfinite(total) or total <= 0:
        state["stopped"] = True
        return
    state["weight"] = weight / total


def predict(state, size):
    """The prediction of the family's model with n_estimators=size (grown to at least size)."""
    if state["family"] != "AdaBoost":
        return state["at"][size]
    assert state["stopped"] or state["n"] >= size, "grow() the state to this size first"
    n = min(size, len(state["preds"]))
    predictions = np.array(state["preds"][:n]).T
    # AdaBoostRegressor._get_median_predict; weights beyond the kept members do not enter
    weights = np.zeros(size)
    weights[:n] = state["weights"][:n]
    sorted_idx = np.argsort(predictions, axis=1)
    weight_cdf = np.cumsum(weights[sorted_idx], axis=1)
    median_or_above = weight_cdf >= 0.5 * weight_cdf[:, -1][:, np.newaxis]
    median_idx = median_or_above.argmax(axis=1)
    rows = np.arange(len(predictions))
    return predictions[rows, sorted_idx[rows, median_idx]]
