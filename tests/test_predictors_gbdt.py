"""naap.predictors.gbdt: XGBoost and LightGBM, seeded from the global generator, deterministic
across processes and thread counts, and able to fit from 10 rows."""
import numpy as np
import pytest
from predictor_cases import fit_in_fresh_process, fit_predict, signal

from naap.predictors import gbdt

FACTORIES = ["make_xgboost", "make_lightgbm"]


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_bytes_in_fresh_processes_at_any_thread_count(name):
    one_thread = fit_in_fresh_process(name, seed=3, threads=1)
    two_threads = fit_in_fresh_process(name, seed=3, threads=2)
    assert one_thread and one_thread == two_threads


@pytest.mark.parametrize("name", FACTORIES)
def test_another_seed_is_another_fit(name):
    factory = getattr(gbdt, name)
    assert not np.array_equal(fit_predict(factory, 0), fit_predict(factory, 1))
    assert np.array_equal(fit_predict(factory, 0), fit_predict(factory, 0))  # and in one process too


@pytest.mark.parametrize("name", FACTORIES)
def test_ten_rows_give_a_non_constant_prediction(name):
    pred = fit_predict(getattr(gbdt, name), 0, num_rows=10, num_features=6)
    assert np.ptp(pred) > 0


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("num_rows,num_features", [(40, 6), (400, 15), (400, 100)])
def test_beats_the_mean_on_a_simple_signal(name, num_rows, num_features):
    X, y = signal(num_rows + 200, num_features, seed=5)
    np.random.seed(0)
    pred = getattr(gbdt, name)().fit(X[:num_rows], y[:num_rows]).predict(X[num_rows:])
    constant = np.abs(y[num_rows:] - y[:num_rows].mean()).mean()
    assert np.abs(y[num_rows:] - pred).mean() < 0.8 * constant


@pytest.mark.parametrize("name", FACTORIES)
def test_each_call_is_a_fresh_unfitted_model(name):
    factory = getattr(gbdt, name)
    X, y = signal(30, 6, seed=2)
    first = factory().fit(X, y)
    second = factory()
    assert first is not second and hasattr(first, "n_features_in_") and not hasattr(second, "n_features_in_")
