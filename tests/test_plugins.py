"""naap.plugins on its own: specs parsed (a NAME may hold '='), names checked against the
baselines and each other, predictions checked, a plug-in guarded (inputs copied, errors as one
line naming it), and the worked example (examples/gp_predictor.py) loaded by path. The plug-ins
in whole runs of run_experiments.py are tested in test_predictors.py."""
import numpy as np
import pytest
from conftest import ROOT

from naap import plugins, protocol
from naap.cli import InputError
from naap.data import FEATURE_SETS
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
    for pred, message in (([0.1], r"shape \(1,\) for 2 rows"), ([0.1, np.nan], "1 NaN or infinite value"),
                          (["a", "b"], "<U1 values, not real numbers"), ([[0.1], [0.2, 0.3]], "not numbers"),
                          (np.array([0.1, 0.2]) + 1j, "complex128 values"), ([True, False], "bool values"),
                          (["0.1", "0.2"], "<U3 values"), (np.array([0.1, 0.2], dtype=object), "object values")):
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
