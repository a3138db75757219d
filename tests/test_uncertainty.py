"""naap.uncertainty: bootstrap intervals against their definition and hand-worked cases, the split
rule (one test model per bin, splits that differ, deterministic), the summaries over splits, and
--splits on the command line (bad values: one line, exit 2, nothing written).
"""
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import bins_of, run_script

import metrics
import run_experiments as rx
from naap import protocol, uncertainty
from naap.cli import run_cli
from naap.data import FEATURE_SETS, TEST_FLAG, load

CASES = Path(__file__).resolve().parent / "plugin_cases.py"
ALL_COLUMNS = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))


@pytest.fixture(scope="module")
def table(ref_dir):
    return load.load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)


# ----------------------------------------------------------------------------- the bootstrap
def test_resample_indices():
    idx = uncertainty.resample_indices(40, 200, seed=1)
    assert idx.shape == (200, 40)
    assert (np.diff(idx, axis=1) >= 0).all() and idx.min() >= 0 and idx.max() < 40
    assert np.array_equal(idx, uncertainty.resample_indices(40, 200, seed=1))
    assert not np.array_equal(idx, uncertainty.resample_indices(40, 200, seed=2))
    # with replacement: about 1 - 1/e of the rows appear in a resample
    assert 0.55 < np.mean([len(set(row)) for row in idx]) / 40 < 0.7


def definition(pred, y, rows):
    """The docstring's definitions on one resample (rows sorted): MAE, tau-b by scipy, and
    violations among pairs of different models, per n(n-1)/2 pairs."""
    p, t = pred[rows], y[rows]
    pairs = [(a, b) for a, b in itertools.combinations(range(len(rows)), 2) if rows[a] != rows[b]]
    violations = sum(p[b] < p[a] for a, b in pairs)
    n = len(rows)
    share = violations / len(pairs) * n * (n - 1) / 2 if pairs else math.nan
    return np.mean(np.abs(p - t)), scipy.stats.kendalltau(p, t).statistic, share


def test_bootstrap_values_follow_their_definition():
    rng = np.random.default_rng(5)
    n = 12
    y = np.sort(rng.integers(0, 6, n) / 10)  # ties in the truth
    pred = np.round(y + rng.normal(0, 0.15, n), 1)  # ties in the predictions
    idx = uncertainty.resample_indices(n, 60, seed=3)
    values = uncertainty.bootstrap_values(pred, y, idx)
    for r, rows in enumerate(idx):
        mae, tau, violations = definition(pred, y, rows)
        assert values["MAE"][r] == pytest.approx(mae)
        assert values["KendallTau"][r] == pytest.approx(tau, nan_ok=True)
        assert values["NumViolations"][r] == pytest.approx(violations, nan_ok=True)


def test_a_model_drawn_twice_is_not_a_violation():
    # rows 0 < 1 in truth, predicted in reverse; the resample draws row 0 twice
    pred, y = np.array([0.9, 0.1]), np.array([0.5, 0.6])
    values = uncertainty.bootstrap_values(pred, y, np.array([[0, 0, 1]]))
    # pairs of positions: (0, 0) is one model: no pair; (0, 1) twice: both violations -> 2 of 2
    # pairs of different models, scaled to 3 pairs of positions
    assert values["NumViolations"][0] == 3.0
    # tau-b: 0 concordant, 2 discordant, one pair tied in both: -2 / sqrt(2 * 2)
    assert values["KendallTau"][0] == -1.0
    assert values["MAE"][0] == pytest.approx((0.4 + 0.4 + 0.5) / 3)
    # a resample of one model drawn n times has no pairs: no violation count, no tau
    values = uncertainty.bootstrap_values(pred, y, np.array([[1, 1]]))
    assert math.isnan(values["NumViolations"][0]) and math.isnan(values["KendallTau"][0])


def test_intervals_hand_worked():
    n = 40
    y = np.linspace(0.5, 0.9, n)
    # a perfect ranking 0.01 too high: every resample has MAE 0.01, no violation, tau 1
    out = uncertainty.bootstrap_intervals(y + 0.01, y)
    assert out["MAE_lo"] == pytest.approx(0.01) and out["MAE_hi"] == pytest.approx(0.01)
    assert out["NumViolations_lo"] == out["NumViolations_hi"] == 0.0
    assert out["KendallTau_lo"] == out["KendallTau_hi"] == 1.0
    # the reverse ranking: every pair of different models is a violation -> 780 per 780 pairs
    out = uncertainty.bootstrap_intervals(y[::-1].copy(), y)
    assert out["NumViolations_lo"] == out["NumViolations_hi"] == n * (n - 1) / 2
    assert out["KendallTau_lo"] == out["KendallTau_hi"] == -1.0
    # half the models off by 0.1, half exact: a resample's MAE is 0.1 * Binomial(40, 1/2) / 40,
    # whose 2.5% and 97.5% quantiles are 14 and 26 (P(X <= 13) = 0.019, P(X <= 14) = 0.040):
    # the percentile interval lies within one step (0.1 / 40) of [0.035, 0.065]
    pred = y + np.where(np.arange(n) % 2 == 0, 0.1, 0.0)
    out = uncertainty.bootstrap_intervals(pred, y)
    assert 0.035 - 0.0025 <= out["MAE_lo"] <= 0.035 + 0.0025
    assert 0.065 - 0.0025 <= out["MAE_hi"] <= 0.065 + 0.0025
    assert set(out) == set(protocol.INTERVAL_COLUMNS)


def test_percentile_interval():
    assert uncertainty.percentile_interval(np.arange(101.0)) == pytest.approx((2.5, 97.5))
    assert uncertainty.percentile_interval([1.0, math.nan, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(v) for v in uncertainty.percentile_interval([math.nan]))


def test_bootstrap_table_uses_one_set_of_resamples_per_feature_set():
    y = np.linspace(0.5, 0.9, 40)
    noisy = y + np.random.default_rng(0).normal(0, 0.02, 40)
    results = {"A": {"m": {"pred": noisy}, "n": {"pred": noisy.copy()}}}
    out = uncertainty.bootstrap_table(results, {"A": y})
    assert out["m", "A"] == out["n", "A"] == uncertainty.bootstrap_intervals(noisy, y)


# ----------------------------------------------------------------------------- the split rule
def test_every_bin_contributes_exactly_one_test_row(table):
    n = len(table)
    seen = []
    for split in range(1, 21):
        rows = uncertainty.split_test_rows(n, split)
        assert np.array_equal(rows, uncertainty.split_test_rows(n, split))  # deterministic
        assert len(rows) == 40
        for start, stop in bins_of(n):
            assert ((rows >= start) & (rows < stop)).sum() == 1
        seen.append(tuple(rows))
        resplit = uncertainty.split_table(table, split)
        assert np.array_equal(np.flatnonzero(resplit[TEST_FLAG].to_numpy()), np.sort(rows))
        assert resplit.drop(columns=TEST_FLAG).equals(table.drop(columns=TEST_FLAG))
    published = tuple(np.flatnonzero(table[TEST_FLAG].to_numpy()))
    assert len(set(seen + [published])) == 21  # split 0 (the table's own) and 1..20 all differ
    assert uncertainty.split_table(table, 0) is table
    # random members, not the middle: bin 0's test row takes many of its 11 positions
    assert len({rows[0] for rows in seen}) >= 6
    # another base seed, other splits
    assert not np.array_equal(uncertainty.split_test_rows(n, 1), uncertainty.split_test_rows(n, 1, base_seed=7))


def test_the_published_split_has_one_test_row_per_bin(table):
    is_test = table[TEST_FLAG].to_numpy()
    assert [int(is_test[s:e].sum()) for s, e in bins_of(len(table))] == [1] * 40


# ----------------------------------------------------------------------------- summaries over splits
def runs_frame(rows):
    quality = [math.nan] * len(protocol.QUALITY_COLUMNS)  # not summarised over the splits
    return pd.DataFrame([[s, m, f, mae, v, 6, tau, *quality] for s, m, f, mae, v, tau in rows],
                        columns=uncertainty.RUN_COLUMNS)


def test_best_shares_split_ties():
    runs = runs_frame([(1, "a", "F", 0.1, 2, 0.5), (1, "b", "F", 0.1, 2, 0.5), (1, "c", "F", 0.1, 3, 0.5),
                       (2, "a", "F", 0.1, 1, 0.5), (2, "b", "F", 0.1, 4, 0.5), (2, "c", "F", 0.1, 4, 0.5)])
    # split 1: a and b tie (1/2 each); split 2: a alone
    assert uncertainty.best_shares(runs) == {("a", "F"): 0.75, ("b", "F"): 0.25}


def test_splits_summary_and_pairs_by_hand():
    runs = runs_frame([(1, "a", "Scheme", 0.10, 2, 0.5), (1, "b", "Scheme", 0.20, 5, 0.1),
                       (2, "a", "Scheme", 0.30, 4, 0.3), (2, "b", "Scheme", 0.20, 3, 0.2),
                       (3, "a", "Scheme", 0.20, 0, 0.7), (3, "b", "Scheme", 0.20, 4, 0.0)])
    fixed = pd.DataFrame({"Model": ["a", "b"], "Features": ["Scheme", "Scheme"], "MeanAbsoluteError": [0.11, 0.12],
                          "NumViolations": [1, 2], "KendallTau": [0.9, 0.8]})
    summary = uncertainty.splits_summary(runs, fixed).set_index("Model")
    assert list(summary.reset_index().columns) == uncertainty.SUMMARY_COLUMNS
    a = summary.loc["a"]
    assert a["Splits"] == 3 and a["NumViolations_mean"] == 2.0 and a["NumViolations_sd"] == 2.0
    assert a["MAE_mean"] == pytest.approx(0.2) and a["MAE_sd"] == pytest.approx(0.1)
    # percentiles of (0, 2, 4) at 2.5 and 97.5, linear: 0 + 0.05 * 2 and 4 - 0.05 * 2
    assert a["NumViolations_lo"] == pytest.approx(0.1) and a["NumViolations_hi"] == pytest.approx(3.9)
    # shares are written with 4 decimals
    assert a["NumViolations_fixed"] == 1 and a["BestShare"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary.loc["b", "BestShare"] == pytest.approx(1 / 3, abs=1e-4)
    pairs = uncertainty.pairs_frame(runs, fixed)
    assert len(pairs) == 1
    p = pairs.iloc[0]
    # leader a (1 violation on the fixed split); b - a per split: 3, -1, 4
    assert p["Leader"] == "a" and p["Model"] == "b" and p["ViolationsDiff_fixed"] == 1
    assert p["ViolationsDiff_mean"] == pytest.approx(2.0) and p["LeaderAheadShare"] == pytest.approx(2 / 3, abs=1e-4)
    assert not p["Survives"]  # b was ahead on split 2
    md = uncertainty.splits_markdown(uncertainty.splits_summary(runs, fixed), pairs, 3)
    assert "| a | 2.0 +- 2.0 [0.1, 3.9] | 1 |" in md


def test_run_splits_is_deterministic_and_independent_of_jobs(table):
    from plugin_cases import make
    kwargs = dict(names=["Ridge"], regressors={"Ridge": make}, progress=False)
    serial = uncertainty.run_splits(table, 3, jobs=1, **kwargs)
    assert serial.equals(uncertainty.run_splits(table, 3, jobs=2, **kwargs))
    assert list(serial.columns) == uncertainty.RUN_COLUMNS
    assert list(serial["Split"].drop_duplicates()) == [1, 2, 3]
    # each split's run is the protocol on that split
    resplit = uncertainty.split_table(table, 2)
    expected = protocol.run_table(resplit, names=["Ridge"], regressors={"Ridge": make}, progress=False)
    for features, runs in expected.items():
        row = serial[(serial["Split"] == 2) & (serial["Features"] == features)].iloc[0]
        assert row["MAE"] == runs["Ridge"]["mae"] and row["NumViolations"] == runs["Ridge"]["violations"]
        y_test = load.split(resplit, FEATURE_SETS[features])[3]
        assert row["KendallTau"] == metrics.kendall_tau(runs["Ridge"]["pred"], y_test)


# ----------------------------------------------------------------------------- --splits on the command line
def test_splits_outputs_and_results_csv_unchanged(ref_dir, tmp_path, capsys):
    out = tmp_path / "two"
    plugins = ["--predictor", f"Ridge={CASES}:make", "--predictor", f"Noise={CASES}:make_seeded"]
    done = run_script("run_experiments.py", ref_dir / "naap440.csv", out, "--no-baselines", "--no-progress",
                      "--splits", "2", *plugins)
    assert done.returncode == 0, done.stderr
    # --splits 0 (the default) is the published split alone: the same results.csv as with splits
    frame = rx.main(rx.parse_args([str(ref_dir / "naap440.csv"), "--no-baselines", "--no-progress", "--splits", "0",
                                   *plugins]))
    assert "other splits" not in capsys.readouterr().out
    assert frame[protocol.RESULT_COLUMNS].to_csv(index=False) == (out / "results.csv").read_text()
    assert frame.to_csv(index=False) == (out / "results_extended.csv").read_text()
    runs = pd.read_csv(out / "results_splits_runs.csv")
    assert list(runs.columns) == uncertainty.RUN_COLUMNS and len(runs) == 2 * 2 * len(FEATURE_SETS)
    assert sorted(set(runs["Split"])) == [1, 2] and (runs["MaxViolations"] == 780).all()
    summary = pd.read_csv(out / "results_splits.csv")
    assert list(summary.columns) == uncertainty.SUMMARY_COLUMNS and (summary["Splits"] == 2).all()
    assert list(summary["Model"]) == ["Ridge"] * 4 + ["Noise"] * 4
    assert list(summary["NumViolations_fixed"]) == list(frame["NumViolations"])
    # every split has a best regressor: a feature set's shares add up to 1
    assert np.allclose(summary.groupby("Features")["BestShare"].sum(), 1.0)
    md = (out / "results_splits.md").read_text()
    rows = [line.split(" | ")[0] for line in md.splitlines()
            if line.startswith("| Ridge | ") or line.startswith("| Noise | ")]
    assert len(rows) == 8
    pairs = pd.read_csv(out / "results_splits_pairs.csv")
    assert list(pairs.columns) == uncertainty.PAIR_COLUMNS and len(pairs) == len(FEATURE_SETS)
    assert (out / "splits.png").stat().st_size > 10000


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(rx.main, rx.parse_args([str(a) for a in argv]))
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "2.5", "ten", "", "1e2", str(uncertainty.MAX_SPLITS + 1),
                                   "99999999999999999999999"])
def test_bad_splits(value, ref_dir, tmp_path, capsys):
    code, err = run_main([ref_dir / "naap440.csv", tmp_path / "out", "--splits", value], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"error: --splits {value}"), err
    assert list(tmp_path.iterdir()) == []


def test_splits_on_a_table_too_small_for_the_bins(ref_dir, tmp_path, capsys):
    csv = tmp_path / "small.csv"
    pd.read_csv(ref_dir / "naap440.csv").head(50).to_csv(csv, index=False)
    code, err = run_main([csv, tmp_path / "out", "--splits", "3"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "--splits 3" in err and "small.csv" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv"]


def test_existing_out_dir_without_force(ref_dir, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    code, err = run_main([ref_dir / "naap440.csv", tmp_path / "out", "--splits", "2", "--no-baselines",
                          "--predictor", f"Ridge={CASES}:make"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "already exists" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_intervals_made_in_the_workers_equal_the_parents():
    # run_experiments computes each run's intervals in the worker that fitted it
    # (attach_intervals); bootstrap_table must give the same numbers as computing them afterwards
    rng = np.random.default_rng(3)
    y = {"A": np.sort(rng.random(40)), "B": np.sort(rng.random(40))}
    results = {f: {name: {"pred": y[f] + rng.normal(0, 0.05, 40)} for name in ("m1", "m2")} for f in y}
    plain = uncertainty.bootstrap_table(results, y)
    for f, runs in results.items():
        uncertainty.attach_intervals(f, runs, y[f])
    assert all(uncertainty.INTERVALS_KEY in run for runs in results.values() for run in runs.values())
    assert uncertainty.bootstrap_table(results, y) == plain
