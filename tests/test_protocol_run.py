"""naap/protocol/run.py: evaluate() equals the literal protocol (evaluate_plain) on other data,
with noise, fewer seeds and shared fits; evaluate_predictor keeps every seed's run. (Paper 2's
noise and final score: test_paper2_protocol.py, test_paper2_best_first.py.)"""
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
