"""naap.predictors.ngboost_normal: NGBoost (Normal) with predict(X, return_std=True)."""
import numpy as np
import pytest
from predictor_cases import fit_in_fresh_process, fit_predict, signal

from naap.predictors.ngboost_normal import NGBoostNormal, make_ngboost


def test_same_seed_same_bytes_in_fresh_processes_at_any_thread_count():
    one_thread = fit_in_fresh_process("make_ngboost", seed=3, threads=1, return_std=True)
    two_threads = fit_in_fresh_process("make_ngboost", seed=3, threads=2, return_std=True)
    assert one_thread and one_thread == two_threads


def test_the_fit_draws_nothing_so_every_seed_is_the_same_fit():
    assert make_ngboost.seed_free is True
    assert np.array_equal(fit_predict(make_ngboost, 0), fit_predict(make_ngboost, 1))
    X, y = signal(40, 6, seed=2)
    np.random.seed(7)
    state = np.random.get_state()[1].copy()
    make_ngboost().fit(X, y).predict(X, return_std=True)
    assert np.array_equal(np.random.get_state()[1], state)  # the global generator untouched


def test_the_mean_is_predict_and_the_library_s_mean_and_the_std_is_positive():
    X, y = signal(80, 6, seed=2)
    np.random.seed(0)
    model = make_ngboost().fit(X[:60], y[:60])
    mean, std = model.predict(X[60:], return_std=True)
    assert np.array_equal(mean, model.predict(X[60:]))
    np.testing.assert_allclose(mean, model.model.predict(X[60:]), rtol=1e-12)
    assert mean.shape == std.shape == (20,)
    assert np.all(np.isfinite(std)) and np.all(std > 0)


def test_ten_rows_give_a_non_constant_mean_and_a_positive_std():
    mean, std = fit_predict(make_ngboost, 0, num_rows=10, num_features=6, return_std=True)
    assert np.ptp(mean) > 0
    assert np.all(np.isfinite(std)) and np.all(std > 0)


@pytest.mark.parametrize("num_rows,num_features", [(40, 6), (400, 15)])
def test_beats_the_mean_on_a_simple_signal(num_rows, num_features):
    X, y = signal(num_rows + 200, num_features, seed=5)
    np.random.seed(0)
    mean, std = make_ngboost().fit(X[:num_rows], y[:num_rows]).predict(X[num_rows:], return_std=True)
    constant = np.abs(y[num_rows:] - y[:num_rows].mean()).mean()
    assert np.abs(y[num_rows:] - mean).mean() < 0.8 * constant
    assert np.all(std > 0)


def test_the_std_is_on_the_scale_of_the_errors_on_400_rows():
    # on fewer rows NGBoost's in-sample fit of the scale is overconfident (docs/evaluate_your_predictor.md)
    X, y = signal(600, 15, seed=5)
    np.random.seed(0)
    mean, std = make_ngboost().fit(X[:400], y[:400]).predict(X[400:], return_std=True)
    spread = np.std(y[400:] - mean)
    assert spread / 4 < np.mean(std) < 4 * spread


def test_fit_returns_the_model():
    X, y = signal(30, 6, seed=2)
    model = NGBoostNormal()
    assert model.fit(X, y) is model
