"""naap.learning_curves: each learning-curve baseline on hand-worked cases (early stopping, SoTL,
SoTL-E), each LCE curve on its own law, LCE's fallbacks and its fits per cycle end, LcSVR's
features and what it learns."""
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from naap import learning_curves, protocol
from naap.baselines.run import score


def toy_table():
    """3 models, 3 epochs, rows in ground-truth order (B < A < C by final accuracy)."""
    return pd.DataFrame({
        "e1LossMean": [1.8, 2.0, 2.2], "e2LossMean": [1.6, 1.5, 1.2], "e3LossMean": [1.4, 1.0, 0.9],
        "e1Accuracy": [0.50, 0.40, 0.30], "e2Accuracy": [0.52, 0.50, 0.45], "e3Accuracy": [0.55, 0.60, 0.65],
    }, index=["B", "A", "C"])


def test_sotl_sotl_e_early_stopping_by_hand():
    table = toy_table()
    # SoTL after 1 epoch: -1.8, -2.0, -2.2: B ranked first, the reverse of the truth
    assert learning_curves.sotl(table, 1).tolist() == [-1.8, -2.0, -2.2]
    # after 3 epochs: B -(1.8+1.6+1.4) = -4.8, A -4.5, C -4.3: the true order
    assert learning_curves.sotl(table, 3) == pytest.approx([-4.8, -4.5, -4.3], abs=1e-12)
    assert learning_curves.sotl_e(table, 3).tolist() == [-1.4, -1.0, -0.9]
    assert learning_curves.sotl_e(table, 2).tolist() == [-1.6, -1.5, -1.2]
    assert learning_curves.early_stopping(table, 1).tolist() == [0.50, 0.40, 0.30]
    y = np.array([0.6, 0.7, 0.8])
    reversed_run = score("SoTL", 1, learning_curves.sotl(table, 1), y, False)
    assert (reversed_run["NumViolations"], reversed_run["MaxViolations"]) == (3, 3)
    assert reversed_run["KendallTau"] == pytest.approx(-1.0)
    assert math.isnan(reversed_run["MAE"])
    right = score("SoTL", 3, learning_curves.sotl(table, 3), y, False)
    assert (right["NumViolations"], right["KendallTau"]) == (0, pytest.approx(1.0))
    # SoTL-E after 2 epochs: -1.6, -1.5, -1.2 also in the true order
    assert score("SoTL-E", 2, learning_curves.sotl_e(table, 2), y, False)["NumViolations"] == 0
    # early stopping after epoch 2: 0.52, 0.50, 0.45: reversed
    assert score("Early stopping", 2, learning_curves.early_stopping(table, 2), y, False)["NumViolations"] == 3


X_CYCLE_ENDS = np.arange(3, 31, 3, dtype=float)  # 10 cycle ends up to epoch 30


@pytest.mark.parametrize("name, law", [
    ("pow3", lambda x: 0.8 - 0.5 * x ** -0.7),
    ("exponential", lambda x: 0.75 - 0.4 * np.exp(-0.08 * x)),
    ("log-power", lambda x: 0.7 / (1 + (x / math.exp(1.5)) ** -0.9)),
])
def test_each_curve_extrapolates_its_own_law_exactly(name, law):
    value = learning_curves.fit_curve(name, X_CYCLE_ENDS, law(X_CYCLE_ENDS))
    assert value == pytest.approx(float(law(90.0)), abs=1e-6)


def test_lce_with_too_few_points_is_the_last_point():
    acc = np.linspace(0.30, 0.70, 90)
    assert learning_curves.lce(acc, 1) == acc[0]  # no cycle end yet: the accuracy at epoch k
    assert learning_curves.lce(acc, 2) == acc[1]
    assert learning_curves.lce(acc, 5) == acc[2]  # one cycle end (epoch 3)
    assert learning_curves.lce(acc, 8) == acc[5]  # two (epochs 3, 6): fewer than the 3 parameters


def test_lce_is_the_mean_of_the_fits_that_succeed(monkeypatch):
    acc = np.linspace(0.30, 0.70, 90)
    fake = {"pow3": 0.70, "exponential": None, "log-power": 0.80}
    monkeypatch.setattr(learning_curves, "fit_curve", lambda name, x, y: fake[name])
    assert learning_curves.lce(acc, 12) == pytest.approx(0.75)
    monkeypatch.setattr(learning_curves, "fit_curve", lambda name, x, y: None)
    assert learning_curves.lce(acc, 12) == acc[11]  # every fit failed: the last cycle end (epoch 12)
    assert learning_curves.lce(acc, 14) == acc[11]


def test_a_failing_fit_is_none(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found")
    monkeypatch.setattr(learning_curves, "curve_fit", fail)
    assert learning_curves.fit_curve("pow3", X_CYCLE_ENDS, 0.8 - 0.5 * X_CYCLE_ENDS ** -0.7) is None


def test_lce_rows_fit_once_per_cycle_end(monkeypatch):
    acc = np.linspace(0.30, 0.70, 90)
    calls = []

    def fake(name, x, y):
        calls.append((name, len(x)))
        return len(x) / 100  # the number of cycle ends seen, as a value
    monkeypatch.setattr(learning_curves, "fit_curve", fake)
    rows = learning_curves.lce_rows(np.vstack([acc]), [1, 2, 3, 8, 9, 10, 11, 12])
    assert rows[0].tolist() == [acc[0], acc[1], acc[2], acc[5], 0.03, 0.03, 0.03, 0.04]
    assert calls == [(n, 3) for n in learning_curves.LCE_CURVES] + [(n, 4) for n in learning_curves.LCE_CURVES]


def test_lcsvr_features_by_hand():
    acc = np.array([[0.1, 0.3, 0.6, 0.7], [0.2, 0.2, 0.5, 0.9]])
    scheme = np.array([[1.0, 2.0], [3.0, 4.0]])
    X = learning_curves.lcsvr_features(acc, scheme, 3)
    assert X == pytest.approx(np.array([[1, 2, 0.1, 0.3, 0.6, 0.2, 0.3], [3, 4, 0.2, 0.2, 0.5, 0.0, 0.3]]))


def test_lcsvr_learns_a_final_accuracy_that_follows_the_curve():
    rng = np.random.default_rng(5)
    n_train, n_test, k = 200, 30, 4
    acc = np.sort(rng.uniform(0.3, 0.7, (n_train + n_test, k)), axis=1)
    scheme = np.ones((n_train + n_test, 6))  # uninformative (scaled to 0): the curve must carry it
    y = acc[:, -1] + 0.05  # the final accuracy is the last point plus a constant
    pred = learning_curves.lcsvr((acc[:n_train], scheme[:n_train]), (acc[n_train:], scheme[n_train:]),
                           y[:n_train], k, protocol.DEFAULT_ESTIMATORS)
    assert np.mean(np.abs(pred - y[n_train:])) < 0.02
    assert scipy.stats.kendalltau(pred, y[n_train:]).statistic > 0.8
