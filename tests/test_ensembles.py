"""ensembles.py: grown ensembles predict exactly what scikit-learn's fitted ensembles predict."""
import numpy as np
import pytest
from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor
from sklearn.preprocessing import StandardScaler

import ensembles
import feature_selection as fs
import run_experiments as rx

ESTIMATORS = {"Random Forest": RandomForestRegressor, "Gradient Boosting": GradientBoostingRegressor,
              "AdaBoost": AdaBoostRegressor}
COLUMNS = fs.FEATURE_SETS["Scheme+Quant.3"]


def sklearn_prediction(family, n, seed, X_train, y_train, X_test):
    np.random.seed(seed)
    return ESTIMATORS[family](n_estimators=n).fit(X_train, y_train).predict(X_test)


def grown_predictions(family, sizes, seed, X_train, y_train, X_test):
    """Grow one state through `sizes` in the given (any) order: {n: prediction}, the state."""
    np.random.seed(seed)
    draws = ensembles.draws(family, max(sizes), len(y_train))
    state = ensembles.new_state(family, y_train, len(X_test), sizes)
    out = {}
    for n in sizes:
        ensembles.grow(state, n, X_train, y_train, X_test, draws)
        out[n] = ensembles.predict(state, n)
    return out, state


@pytest.fixture(scope="module")
def scaled(ref_dir):
    df = rx.load_dataset(ref_dir / "naap440v2.csv", COLUMNS)
    X_train, y_train, X_test, y_test = rx.split(df, COLUMNS)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test)


def test_replica_is_used_with_the_pinned_scikit_learn():
    assert ensembles.SUPPORTED  # requirements.txt pins the version it replicates


@pytest.mark.parametrize("family", ensembles.FAMILIES)
@pytest.mark.parametrize("columns", [list(range(17)), [0, 3, 9, 12], [2, 10, 13, 15, 16]])
def test_grown_ensembles_equal_sklearn_fits(scaled, family, columns):
    X_train, y_train, X_test = scaled
    X_train, X_test = X_train[:, columns], X_test[:, columns]
    sizes = [25, 100, 50] if len(columns) > 5 else [50, 25, 200, 100]  # grown forwards and read back
    got, _ = grown_predictions(family, sizes, 3, X_train, y_train, X_test)
    for n in sizes:
        assert np.array_equal(got[n], sklearn_prediction(family, n, 3, X_train, y_train, X_test)), (family, n)


@pytest.mark.parametrize("family", ensembles.FAMILIES)
def test_ties_duplicates_and_a_small_random_problem(family):
    rng = np.random.default_rng(7)
    X = rng.integers(0, 4, size=(60, 3)).astype(float)  # heavy ties, repeated rows
    X[:, 2] = 1.0  # a constant column
    y = X[:, 0] * 0.1 + rng.normal(0, 0.05, 60)
    got, _ = grown_predictions(family, [25, 50], 11, X[:45], y[:45], X[45:])
    for n in (25, 50):
        assert np.array_equal(got[n], sklearn_prediction(family, n, 11, X[:45], y[:45], X[45:])), (family, n)


def test_adaboost_that_stops_early():
    # y is a step function of x that a depth-3 tree can fit: boosting ends early (after 20
    # rounds with this seed), and every larger N keeps the same members
    X = np.repeat(np.arange(6.0), 5)[:, None]
    y = np.repeat([0.1, 0.5, 0.2, 0.9, 0.4, 0.7], 5)
    got, state = grown_predictions("AdaBoost", [25, 50], 0, X, y, X[::4])
    assert state["stopped"] and len(state["preds"]) < 25
    for n in (25, 50):
        assert np.array_equal(got[n], sklearn_prediction("AdaBoost", n, 0, X, y, X[::4]))
    # coin-flip targets: a round with error >= 0.5 ends boosting after a few rounds
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.where(rng.random(40) < 0.5, 0.0, 1.0)
    got, state = grown_predictions("AdaBoost", [25], 5, X, y, X[:7])
    assert state["stopped"] and len(state["preds"]) < 5
    assert np.array_equal(got[25], sklearn_prediction("AdaBoost", 25, 5, X, y, X[:7]))
