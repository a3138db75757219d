"""naap/protocol/run.py: evaluate() equals the literal protocol (evaluate_plain) on other data,
with noise, fewer seeds and shared fits; evaluate_predictor keeps every seed's run. (Paper 2's
noise and final score: test_paper2_protocol.py, test_paper2_best_first.py.)"""
import math

import numpy as np
import pytest
from conftest import resplit

from naap import protocol
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset, sort_table, split

ALL_COLUMNS = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))
RUN_KEYS = ("mae", "violations", "max_violations", "score", "seed")


def assert_same_runs(fast, plain):
    assert list(fast) == list(plain)
    for name in plain:
        assert np.array_equal(fast[name]["pred"], plain[name]["pred"]), name
        assert all(fast[name][k] == plain[name][k] for k in RUN_KEYS), name


def test_fast_equals_plain_on_another_split(ref_dir):
    df = load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    sub = resplit(df, 160, 0.25, seed=1).pipe(sort_table)
    names = protocol.BASELINE_NAMES
    data = split(sub, FEATURE_SETS["Scheme"])
    assert_same_runs(protocol.evaluate(names, *data), protocol.evaluate_plain(names, *data))
    # noise (paper 2), fewer seeds, and a partial mix of names sharing fits
    data = split(sub, FEATURE_SETS["Scheme + Quantitative 3 epochs"])
    seeds = protocol.SEEDS[:3]
    assert_same_runs(protocol.evaluate(names, *data, noise_std=0.004, seeds=seeds),
                     protocol.evaluate_plain(names, *data, noise_std=0.004, seeds=seeds))
    mix = ["AdaBoost (N=100)", "Random Forest (N=50)", "3-NN", "Gradient Boosting (N=200)", "Gradient Boosting (N=25)"]
    assert_same_runs(protocol.evaluate(mix, *data), protocol.evaluate_plain(mix, *data))
    # a caller's own ensemble factories are fitted as given, not replaced by the replica
    from sklearn.ensemble import RandomForestRegressor
    own = {"Random Forest (N=25)": lambda: RandomForestRegressor(n_estimators=25, max_depth=1)}
    assert_same_runs(protocol.evaluate(list(own), *data, regressors=own),
                     protocol.evaluate_plain(list(own), *data, regressors=own))



def test_noise_after_an_adaboost_that_stops_early(ref_dir):
    # the noise follows the draws of the rounds an early-stopping AdaBoost ran, at any round
    df = load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    data = split(df, FEATURE_SETS["Scheme + Quantitative 3 epochs"])
    names = [f"AdaBoost (N={n})" for n in (25, 50, 100, 200)]
    states = {}
    fast = protocol.evaluate(names, *data, noise_std=0.004, states=states)
    stops = [s["n"] for s in states.values() if s["stopped"]]
    assert any(n not in (25, 50, 100, 200) for n in stops), stops  # stopped between the sizes
    assert_same_runs(fast, protocol.evaluate_plain(names, *data, noise_std=0.004))

def test_evaluate_predictor_equals_the_literal_protocol(ref_dir):
    df = load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    from plugin_cases import make_seeded  # reads the global random state: every seed differs
    features = "Scheme + Quantitative 3 epochs"
    out = protocol.evaluate_predictor(make_seeded, df, features)
    data = split(df, FEATURE_SETS[features])
    assert np.array_equal(out["y_test"], data[3])
    assert [run["seed"] for run in out["runs"]] == list(protocol.SEEDS)
    for seed, run in zip(protocol.SEEDS, out["runs"]):
        plain = protocol.evaluate_plain(["p"], *data, seeds=(seed,), regressors={"p": make_seeded})["p"]
        assert np.array_equal(run["pred"], plain["pred"])
        assert all(run[k] == plain[k] for k in RUN_KEYS)
    assert len({tuple(run["pred"]) for run in out["runs"]}) == len(protocol.SEEDS)
    plain = protocol.evaluate_plain(["p"], *data, regressors={"p": make_seeded})["p"]
    assert np.array_equal(out["median"]["pred"], plain["pred"]) and out["median"]["seed"] == plain["seed"]
    with pytest.raises(KeyError):
        protocol.evaluate_predictor(make_seeded, df, "Scheme + Quantitative 4 epochs")


def test_score_run_sums_the_mae_left_to_right_under_the_mae_rule():
    pred, y_test = np.array([1.0] + [2.0 ** -53] * 15), np.zeros(16)  # test_metrics.py's example
    on = protocol.score_run(pred, y_test, 0, frozenset({"mae"}))
    assert on["mae"] == protocol.score_run(pred, y_test, 0, "paper")["mae"] == 1 / 16  # 1 + 2^-53 == 1
    assert protocol.score_run(pred, y_test, 0, frozenset())["mae"] != 1 / 16


def test_scale_follows_0_20_1_under_the_scaler_rule():
    """The "scaler" rule: 0.20.1's variance, (sum of squared deviations / n) * n / n, against
    1.9.1's corrected two-pass variance, which subtracts (sum of deviations)^2 / n: the two differ
    in the last bits where the mean is rounded and the spread is small beside it."""
    col = [float.fromhex(h) for h in ("0x1.0000016776efep+0", "0x1.0000014562a02p+0", "0x1.00000128e61a6p+0",
                                      "0x1.000001881e908p+0", "0x1.000001616499ep+0")]
    n = len(col)
    mean = sum(col) / n  # left to right, as numpy sums fewer than 8 numbers
    variance = sum((x - mean) * (x - mean) for x in col) / n
    std = math.sqrt(variance * n / n)
    by_hand = np.array([[(x - mean) / std] for x in col])
    X = np.array(col)[:, None]
    train, test = protocol.scale(X, X[::-1], frozenset({"scaler"}))
    assert np.array_equal(train, by_hand) and np.array_equal(test, by_hand[::-1])
    assert np.array_equal(protocol.scale(X, X, "paper")[0], by_hand)
    assert not np.array_equal(protocol.scale(X, X, frozenset())[0], by_hand)


def test_predict_with_std_asks_for_deviations_only_where_predict_takes_them():
    from sklearn.gaussian_process import GaussianProcessRegressor
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    gp = GaussianProcessRegressor(random_state=0).fit(X, y)
    pred, std = protocol.predict_with_std(gp, X[:7] + 0.5)
    assert np.array_equal(pred, gp.predict(X[:7] + 0.5)) and std.shape == (7,) and (std > 0).all()
    complex_pred = protocol.predict_with_std(type("C", (), {"predict": lambda self, X: X[:, 0] + 1j})(), X)[0]
    assert np.iscomplexobj(complex_pred)  # returned as given, not cast: the plug-in check sees it
    knn = protocol.regressors()["1-NN"]().fit(X, y)
    pred, std = protocol.predict_with_std(knn, X[:7])
    assert std is None and np.array_equal(pred, y[:7])


LOAD_CACHING_KERNELS = """
import sys
import pandas as pd
from naap.protocol.run import load_caching_kernels
from naap.replica import knn_0_20_1, tree_builder
table = load_caching_kernels(lambda: pd.read_csv(sys.argv[1]), "paper", ["1-NN", "my plug-in"])
print(len(table), len(knn_0_20_1._mean_rows.signatures), len(tree_builder.build_tree.signatures))
"""


def test_load_caching_kernels_compiles_into_numba_cache_beside_this_process(ref_dir, tmp_path):
    import os
    import subprocess
    import sys
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", LOAD_CACHING_KERNELS, str(ref_dir / "naap440.csv")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    # the table is load()'s; this process compiled nothing, k-NN's kernels are in the cache, no tree's
    assert done.stdout.split() == [str(len(load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS))), "0", "0"]
    cached = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    assert "knn_0_20_1._mean_rows" in cached and "tree_builder.build_tree" not in cached, cached


def test_a_seed_free_factory_is_fitted_once_for_all_seeds():
    from sklearn.neighbors import KNeighborsRegressor
    calls = []

    def make():
        calls.append(1)
        return KNeighborsRegressor(n_neighbors=3)

    rng = np.random.default_rng(3)
    X_train, X_test = rng.normal(size=(30, 2)), rng.normal(size=(8, 2))
    y_train, y_test = rng.normal(size=30), np.sort(rng.normal(size=8))
    plain = protocol.evaluate(["K"], X_train, y_train, X_test, y_test, regressors={"K": make})["K"]
    assert len(calls) == len(protocol.SEEDS)
    make.seed_free = True
    once = protocol.evaluate(["K"], X_train, y_train, X_test, y_test, regressors={"K": make})["K"]
    assert len(calls) == len(protocol.SEEDS) + 1 and protocol.is_seed_free(make)
    assert np.array_equal(once["pred"], plain["pred"]) and once["seed"] == plain["seed"]
