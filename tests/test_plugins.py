"""naap.plugins on its own: specs parsed (a NAME may hold '='), names checked against the
baselines and each other, predictions checked, a plug-in guarded (inputs copied, errors as one
line naming it), and the worked example (examples/gp_predictor.py) loaded by path. The plug-ins
in whole runs of run_experiments.py are tested in test_predictors.py."""
import math

import numpy as np
import pytest
from conftest import ROOT

from naap import plugins, protocol
from naap.cli import InputError
from naap.data import FEATURE_SETS, MAX_VALUE
from naap.data.load import load_dataset, split

ALL_COLUMNS = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))


def test_parse_spec_splits_at_the_last_colon_and_equals_sign():
    assert plugins.parse_spec("GP (nu=2.5)=gp.py:make") == ("GP (nu=2.5)", "gp.py", "make")
    assert plugins.parse_spec(" P = my.module : build ") == ("P", "my.module", "build")
    for bad in ("=gp.py:make", "P=gp.py", "gp.py:make", "P=:make"):
        with pytest.raises(InputError, match="malformed"):
            plugins.parse_spec(bad)
    with pytest.raises(InputError, match="is not a Python name"):
        plugins.parse_spec("P=gp.py:make-it")


def test_check_names():
    plugins.check_names(["GP", "Ridge (alpha=2)"])
    cases = {("Random Forest (N=25)",): "a baseline regressor's", ("random forest n=25",): "same figure files",
             ("A", "A"): "given twice", ("A|B",): "may not hold '|'", ("--",): "needs a letter or digit"}
    for names, message in cases.items():
        with pytest.raises(InputError, match=message):
            plugins.check_names(list(names))


def test_checked_predictions():
    assert plugins.checked_predictions("P", [[0.1], [0.2]], 2, "").tolist() == [0.1, 0.2]  # a column vector
    assert plugins.checked_predictions("P", [-MAX_VALUE, MAX_VALUE], 2, "").tolist() == [-MAX_VALUE, MAX_VALUE]
    for pred, message in (([0.1], r"shape \(1,\) for 2 rows"), ([0.1, np.nan], "1 NaN or infinite value"),
                          (["a", "b"], "<U1 values, not real numbers"), ([[0.1], [0.2, 0.3]], "not numbers"),
                          (np.array([0.1, 0.2]) + 1j, "complex128 values"), ([True, False], "bool values"),
                          (["0.1", "0.2"], "<U3 values"), (np.array([0.1, 0.2], dtype=object), "object values"),
                          ([0.1, 1e308], r"1 value\(s\) of 2 too large to score \(\|x\| > 1e\+150\) \(seed 1\)$"),
                          ([-1e200, 0.5], "too large to score")):
        with pytest.raises(InputError, match=message):
            plugins.checked_predictions("P", pred, 2, " (seed 1)")


class Mutating:
    """Changes its X in place and fails to predict on a single row."""

    def fit(self, X, y):
        X[:] = 0.0
        return None

    def predict(self, X):
        if len(X) == 1:
            raise ValueError("one row")
        return X[:, 0]


def test_guarded_copies_inputs_and_names_the_plugin_in_errors():
    make = plugins.guarded("Mine", Mutating)
    model = make()
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert model.fit(X, np.array([0.5, 0.6])) is model  # the guard, whatever the plug-in returns
    assert X.tolist() == [[1.0, 2.0], [3.0, 4.0]]  # the caller's array is untouched
    assert model.predict(X).tolist() == [1.0, 3.0]
    with pytest.raises(InputError, match="^--predictor Mine: predict raised ValueError: one row$"):
        model.predict(X[:1])
    with pytest.raises(InputError, match="--predictor Bad: the factory returned a int without fit"):
        plugins.guarded("Bad", lambda: 1)()


def test_the_gp_example_is_deterministic_and_usable(ref_dir):
    name, factory = plugins.load_plugin(f"GP={ROOT / 'examples' / 'gp_predictor.py'}:make")
    df = load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    X_train, y_train, X_test, y_test = split(df, FEATURE_SETS["Scheme"])
    X_train, X_test = protocol.scale(X_train[::4], X_test)
    preds = [factory().fit(X_train, y_train[::4]).predict(X_test) for _ in range(2)]
    assert np.array_equal(preds[0], preds[1])
    assert np.all(np.isfinite(preds[0])) and np.mean(np.abs(preds[0] - y_test)) < 0.05


class WithStd:
    """A plug-in with scikit-learn's return_std: predicts the train mean and a given deviation."""

    def __init__(self, std):
        self.std = std

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, return_std=False):
        mean = np.full(len(X), self.mean_)
        return (mean, np.full(len(X), self.std)) if return_std else mean


def test_guarded_passes_a_predictive_deviation_and_refuses_a_bad_one():
    X, y = np.zeros((4, 2)), np.array([0.1, 0.2, 0.3, 0.4])
    pred, std = plugins.guarded("P", lambda: WithStd(0.05))().fit(X, y).predict(X, return_std=True)
    assert np.array_equal(pred, np.full(4, 0.25)) and np.array_equal(std, np.full(4, 0.05))
    assert np.array_equal(plugins.guarded("P", lambda: WithStd(0.05))().fit(X, y).predict(X), pred)
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(InputError, match="--predictor P: .*"):
            plugins.guarded("P", lambda bad=bad: WithStd(bad))().fit(X, y).predict(X, return_std=True)
    plain = plugins.guarded("P", protocol.regressors()["1-NN"])()
    assert plain.fit(X, y).predict(X, return_std=True)[1] is None  # its predict takes no return_std


def test_a_predictive_deviation_reaches_the_kept_run_and_its_scores(ref_dir):
    df = load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    out = protocol.evaluate_predictor(plugins.guarded("P", lambda: WithStd(0.1)), df, "Scheme")
    kept = out["median"]
    assert np.array_equal(kept["std"], np.full(len(out["y_test"]), 0.1))
    frame = protocol.results_frame({"Scheme": {"P": kept}}, y_tests={"Scheme": out["y_test"]})
    z = (out["y_test"] - kept["pred"]) / 0.1
    assert np.isclose(frame["NLL"].iloc[0], round(np.mean(0.5 * np.log(2 * np.pi * 0.01) + z * z / 2), 4))
    assert frame["Coverage90"].iloc[0] == round(np.mean(np.abs(z) <= 1.6448536269514722), 4)


def test_guarded_keeps_a_factorys_seed_free_mark():
    def make():
        return WithStd(0.1)
    assert not protocol.is_seed_free(plugins.guarded("P", make))
    make.seed_free = True
    assert protocol.is_seed_free(plugins.guarded("P", make))
