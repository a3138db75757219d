"""baselines.py: its default epoch counts, the script chained over a small table with a zero-cost
CSV built here (and on random splits, and with --today), the paper's regressors against the
published table, bad input (one line, exit 2, nothing written), SIGTERM, and every output the same
on two simulated machines. The methods' own tests are in
test_learning_curves.py, test_baselines_run.py and test_baselines_report.py."""
import io
import itertools
import math
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import MACHINES, ROOT, live_processes, run_on_machines, run_script

import baselines
from naap import protocol, uncertainty
from naap.baselines import run as baselines_run
from naap.cli import run_cli
from naap.data import epoch_features
from naap.data.load import load_dataset
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID

NUM_TRAIN = 40  # the small table: these train rows and all 40 test rows (40 bins of 2 for --splits)


# ----------------------------------------------------------------------------- options
def test_default_epoch_counts():
    # the regressors at k = 0..9, 12, 15, 18, 24, 30, 45, 60 and 90 (18 counts), the curves at 1..90
    regressor_epochs, curve_epochs = baselines.parse_epochs(None)
    assert regressor_epochs == (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 18, 24, 30, 45, 60, 90)
    assert len(regressor_epochs) == 18 and curve_epochs == tuple(range(1, 91))


# ----------------------------------------------------------------------------- the script, chained
@pytest.fixture(scope="module")
def small(ref_dir, tmp_path_factory):
    """A small table (the first NUM_TRAIN train rows and the 40 test rows of naap440.csv) and a
    ZC.csv for it, rows shuffled: zen = 10 x MaxAccuracy (a perfect ranker), l2_norm =
    -MaxAccuracy (the reverse), the rest arbitrary."""
    d = tmp_path_factory.mktemp("small")
    full = pd.read_csv(ref_dir / "naap440.csv")
    table = pd.concat([full[full.IsTest == 0].head(NUM_TRAIN), full[full.IsTest == 1]])
    assert table[table.IsTest == 1].MaxAccuracy.is_unique  # the truth order has no ties to settle
    table.to_csv(d / "small.csv", index=False)
    zc = pd.DataFrame({"ModelId": table.ModelId, "MACs": table.NumMACs, "#params": table.NumParams,
                       "synflow": np.arange(len(table)) % 7, "logsynflow": np.arange(len(table)) % 5,
                       "zen": 10 * table.MaxAccuracy, "l2_norm": -table.MaxAccuracy})
    zc = zc.sample(frac=1.0, random_state=3)
    for p in ("MACs", "#params", "synflow", "logsynflow", "zen", "l2_norm"):  # zero_cost.py's timing columns
        zc[f"{p}_seconds"] = 0.01
    zc.to_csv(d / "zc.csv", index=False)
    return d, table, zc


@pytest.fixture(scope="module")
def chained(small):
    """The script on the small table as a user runs it, with the zero-cost proxies and 1 job; and
    in this process (no second start-up) without them, with 2 jobs and 2 random splits."""
    d, table, zc = small
    outs = {"1": d / "out1", "2": d / "out2"}
    done = run_script("baselines.py", d / "small.csv", outs["1"], "--epochs", "0,3,9", "--jobs", "1",
                      "--no-progress", "--zero-cost", d / "zc.csv")
    assert done.returncode == 0, done.stderr
    baselines.main(baselines.parse_args([str(d / "small.csv"), str(outs["2"]), "--epochs", "0,3,9", "--jobs", "2",
                                         "--no-progress", "--splits", "2"]))
    return outs, table


def test_chained_outputs(chained):
    outs, table = chained
    frame = pd.read_csv(outs["1"] / "baselines.csv")
    assert list(frame.columns) == baselines_run.COLUMNS
    methods = set(frame.Method)
    expected = {"MACs", "#params", "synflow", "logsynflow", "zen", "l2_norm", "Early stopping", "SoTL", "SoTL-E",
                "LCE", "LcSVR", *protocol.BASELINE_NAMES, *(n + " [Scheme+ZC]" for n in protocol.BASELINE_NAMES)}
    assert methods == expected
    by = {(r.Method, r.Epochs): r for r in frame.itertuples(index=False)}
    assert len(by) == len(frame)
    for name in protocol.BASELINE_NAMES:
        assert {k for m, k in by if m == name} == {0, 3, 9}
        assert not math.isnan(by[name, 3].MAE)
    for name in ("Early stopping", "SoTL", "SoTL-E", "LCE", "LcSVR"):
        assert {k for m, k in by if m == name} == {3, 9}
    for name in ("MACs", "zen", "l2_norm", "Early stopping", "SoTL"):
        assert all(math.isnan(r.MAE) for (m, _), r in by.items() if m == name)
    assert not math.isnan(by["LCE", 9].MAE) and not math.isnan(by["LcSVR", 9].MAE)
    # the proxies are joined by ModelId, not by row: zen ranks perfectly, l2_norm in reverse
    pairs = 40 * 39 // 2
    assert (by["zen", 0].NumViolations, by["zen", 0].KendallTau, by["zen", 0].PrecisionAt5) == (0, 1.0, 1.0)
    assert (by["l2_norm", 0].NumViolations, by["l2_norm", 0].KendallTau) == (pairs, -1.0)
    assert (by["l2_norm", 0].PrecisionAt5, by["l2_norm", 0].PrecisionAt10) == (0.0, 0.0)
    # early stopping at 3 epochs against a pairwise count over the test rows in truth order
    test = table[table.IsTest == 1].sort_values("MaxAccuracy")
    acc = test.e3Accuracy.to_numpy()
    violations = sum(1 for i, j in itertools.combinations(range(len(acc)), 2) if acc[j] < acc[i])
    assert by["Early stopping", 3].NumViolations == violations
    assert by["Early stopping", 3].MaxViolations == pairs
    ties = sum(1 for i, j in itertools.combinations(range(len(acc)), 2) if acc[j] == acc[i])  # truth is unique
    assert by["Early stopping", 3].TiedPairs == ties
    assert by["Early stopping", 3].KendallTau == pytest.approx(
        scipy.stats.kendalltau(acc, test.MaxAccuracy).statistic, abs=1e-4)
    md = (outs["1"] / "baselines.md").read_text()
    assert "## Best method per epoch count" in md and md.count("\n| ") >= len(frame)
    for png in ("baselines_vs_epochs.png", "baselines_vs_compute.png"):
        assert (outs["1"] / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chained_results_do_not_depend_on_jobs_splits_or_proxies(chained):
    outs, _ = chained
    with_zc = (outs["1"] / "baselines.csv").read_text().splitlines()
    proxies = ("synflow,", "logsynflow,", "zen,", "l2_norm,")
    without = [line for line in with_zc if not line.startswith(proxies) and "[Scheme+ZC]" not in line]
    assert len(without) < len(with_zc)
    assert (outs["2"] / "baselines.csv").read_text().splitlines() == without
    assert not (outs["1"] / "baselines_splits.csv").exists()


def test_random_splits(chained, small):
    outs, _ = chained
    runs = pd.read_csv(outs["2"] / "baselines_splits_runs.csv")
    official = pd.read_csv(outs["2"] / "baselines.csv")
    assert list(runs.columns) == ["Split"] + baselines_run.COLUMNS
    assert sorted(set(runs.Split)) == [1, 2] and len(runs) == 2 * len(official)
    # split 1's test models are uncertainty.py's: early stopping at 3 epochs counted pair by pair
    df = load_dataset(small[0] / "small.csv", epoch_features(3))
    test = uncertainty.split_table(df, 1)
    acc = test[test.IsTest == 1].e3Accuracy.to_numpy()
    violations = sum(1 for i, j in itertools.combinations(range(len(acc)), 2) if acc[j] < acc[i])
    row = runs[(runs.Split == 1) & (runs.Method == "Early stopping") & (runs.Epochs == 3)].iloc[0]
    assert (row.NumViolations, row.MaxViolations) == (violations, 40 * 39 // 2)
    assert violations != official[(official.Method == "Early stopping") & (official.Epochs == 3)].NumViolations.iloc[0]
    summary = pd.read_csv(outs["2"] / "baselines_splits.csv")
    macs = runs[(runs.Method == "MACs")].KendallTau.to_numpy()
    r = summary[(summary.Method == "MACs") & (summary.Epochs == 0)].iloc[0]
    assert r.Splits == 2 and r.KendallTau_mean == pytest.approx(macs.mean(), abs=1e-4)
    assert r.KendallTau_sd == pytest.approx(abs(macs[0] - macs[1]) / math.sqrt(2), abs=1e-4)
    assert math.isnan(r.MAE_mean) and not math.isnan(summary[summary.Method == "LCE"].MAE_mean.iloc[0])
    assert "## On 2 random splits" in (outs["2"] / "baselines.md").read_text()


@pytest.fixture(scope="module")
def today(small):
    """The script on the small table with --today and the zero-cost proxies, at 0 and 3 epochs."""
    d = small[0]
    out = d / "today"
    baselines.main(baselines.parse_args([str(d / "small.csv"), str(out), "--epochs", "0,3", "--jobs", "2",
                                         "--no-progress", "--zero-cost", str(d / "zc.csv"), "--today"]))
    return out


def test_today_rows(today, chained):
    frame = pd.read_csv(today / "baselines.csv")
    methods = [*TODAY, *(n + baselines_run.ZC_SUFFIX for n in TODAY), HYBRID]
    rows = frame[frame.Method.isin(methods)]
    assert sorted(zip(rows.Method, rows.Epochs)) == sorted((m, k) for m in methods for k in (0, 3))
    assert rows.MAE.notna().all() and rows.KendallTau.notna().all()
    # NGBoost alone gives a predictive std: its NLL and Coverage90 are filled, no other row's are
    ngboost = frame.Method.isin(["NGBoost", "NGBoost" + baselines_run.ZC_SUFFIX])
    assert frame[ngboost].NLL.notna().all() and frame[ngboost].Coverage90.between(0, 1).all()
    assert frame[~ngboost].NLL.isna().all() and frame[~ngboost].Coverage90.isna().all()
    # every other row is the run's without --today (there at 0, 3 and 9 epochs)
    without = pd.read_csv(chained[0]["1"] / "baselines.csv")
    assert not set(without.Method) & set(methods)
    ours = frame[~frame.Method.isin(methods)].sort_values(["Method", "Epochs"], ignore_index=True)
    theirs = without[without.Epochs.isin([0, 3])].sort_values(["Method", "Epochs"], ignore_index=True)
    pd.testing.assert_frame_equal(ours, theirs)
    assert "Today's predictors" in (today / "baselines.md").read_text()
    assert "Today's predictors" not in (chained[0]["1"] / "baselines.md").read_text()


def test_every_output_is_the_same_on_two_simulated_machines(small, tmp_path):
    # LCE's curve fits (scipy, numpy's exp and power, LAPACK) at 9 epochs, LcSVR, today's boosted
    # trees and NGBoost at any thread count, the regressors, the random splits and the figures.
    # Proxies with noise: LAPACK's last bits differ by OpenBLAS kernel, so a proxy that is an exact
    # multiple of MaxAccuracy (small's zen) can order two equally accurate test models either way
    d, table, zc = small
    noise = np.sin(np.arange(len(zc)) * 12.9898) * 1e-3
    zc.assign(zen=zc.zen + noise, l2_norm=zc.l2_norm - noise[::-1]).to_csv(tmp_path / "zc.csv", index=False)
    runs = run_on_machines("baselines.py", d / "small.csv", "--epochs", "0,9", "--no-progress", "--today",
                           "--splits", "2", "--zero-cost", tmp_path / "zc.csv")
    for machine, (done, _) in runs.items():
        assert done.returncode == 0, (machine, done.stderr)
    files = [outputs for _, outputs in runs.values()]
    frame = pd.read_csv(io.BytesIO(files[0]["baselines.csv"]))
    assert {"LCE", "LcSVR", HYBRID, *TODAY} <= set(frame.Method)
    assert frame.loc[frame.Method == "LCE", "MAE"].notna().all()
    assert "baselines_splits_runs.csv" in files[0] and "baselines_vs_epochs.png" in files[0]
    assert len(runs) == len(MACHINES) and all(outputs == files[0] for outputs in files)


def test_the_hybrid_reads_the_proxies(today):
    """zen is 10 x MaxAccuracy: the hybrid, given it, ranks better than the scheme-only regressors do."""
    frame = pd.read_csv(today / "baselines.csv").set_index(["Method", "Epochs"])
    assert frame.loc[(HYBRID, 0), "KendallTau"] > frame.loc[("LightGBM", 0), "KendallTau"]


def test_missing_proxy_values_are_scored(small, tmp_path):
    """zen (10 x MaxAccuracy, a perfect ranker) missing for the 2 best test models: as a ranker they
    rank last, tied; as a feature they are zen's median, as if the CSV had held that value."""
    d, table, zc = small
    test = table[table.IsTest == 1].sort_values("MaxAccuracy")
    best = test.ModelId.tail(2).tolist()
    missing = zc.assign(zen=zc.zen.where(~zc.ModelId.isin(best)))
    missing.to_csv(tmp_path / "missing.csv", index=False)
    median = float(np.median(missing.zen.dropna()))  # over all the table's models, train and test
    missing.assign(zen=missing.zen.fillna(median)).to_csv(tmp_path / "filled.csv", index=False)
    frames = {}
    for name in ("missing", "filled"):
        baselines.main(baselines.parse_args([str(d / "small.csv"), str(tmp_path / name), "--epochs", "0", "--jobs", "1",
                                             "--no-progress", "--zero-cost", str(tmp_path / f"{name}.csv")]))
        frames[name] = pd.read_csv(tmp_path / name / "baselines.csv").set_index("Method")
    zen = frames["missing"].loc["zen"]
    # the 2 best (positions 38, 39 of 40) below the 38 others: 2 x 38 violations, their own pair tied;
    # predicted top 5 / 10: positions 33..37 / 28..37, holding 3 of the true top 5 and 8 of the true top 10
    assert (zen.NumViolations, zen.TiedPairs, zen.PrecisionAt5, zen.PrecisionAt10) == (76, 1, 0.6, 0.8)
    zc_rows = [n + baselines_run.ZC_SUFFIX for n in protocol.BASELINE_NAMES]
    assert frames["missing"].loc[zc_rows].equals(frames["filled"].loc[zc_rows])
    assert frames["missing"].loc["Random Forest (N=200)" + baselines_run.ZC_SUFFIX].MAE > 0


def test_regressors_reproduce_the_published_table(ref_dir, tmp_path):
    """At 0 and 3 epochs the regressors are paper 1's 'Scheme' and 'Scheme + Quantitative 3 epochs'."""
    out = tmp_path / "out"
    baselines.main(baselines.parse_args([str(ref_dir / "naap440.csv"), str(out), "--epochs", "0,3", "--jobs", "2",
                                         "--no-progress"]))
    frame = pd.read_csv(out / "baselines.csv")
    published = pd.read_csv(ref_dir / "published_results.csv")
    for k, features in ((0, "Scheme"), (3, "Scheme + Quantitative 3 epochs")):
        ours = frame[frame.Epochs == k].set_index("Method")
        theirs = published[published.Features == features]
        assert len(theirs) == len(protocol.BASELINE_NAMES)
        for r in theirs.itertuples(index=False):
            name = next(n for n in protocol.BASELINE_NAMES if protocol.model_key(n) == protocol.model_key(r.Model))
            assert (ours.loc[name, "MAE"], ours.loc[name, "NumViolations"]) == (r.MeanAbsoluteError, r.NumViolations)


# ----------------------------------------------------------------------------- bad input
def bad_run(capsys, argv):
    """Run the script in-process, as its __main__ does (run_cli(main, parse_args(argv))): (exit
    status, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(baselines.main, baselines.parse_args([str(a) for a in argv]))
    return exit_info.value.code, capsys.readouterr().err


def write_zc(small, path, change):
    zc = small[2].copy()
    zc = change(zc)
    zc.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case, change, expected", [
    ("unknown id", lambda z: pd.concat([z, z.head(1).assign(ModelId=9999)]), "ModelId 9999 is not in"),
    ("missing id", lambda z: z.iloc[1:], "no row for ModelId"),
    ("duplicate id", lambda z: pd.concat([z, z.head(1)]), "appears more than once"),
    ("missing proxy", lambda z: z.drop(columns=["zen"]), "missing proxy column(s) zen"),
    ("inf", lambda z: z.assign(synflow=z.synflow.astype(float).where(z.index != z.index[4], np.inf)),
     "column synflow has an infinite or too large value"),
    ("no values", lambda z: z.assign(synflow=np.nan), "column synflow has no value for any model"),
    ("text", lambda z: z.assign(zen="x"), "column zen is not numeric"),
    # sizes must be positive, as the dataset's NumMACs and NumParams (NaN stays a missing value)
    ("zero MACs", lambda z: z.assign(MACs=z.MACs.where(z.index != z.index[3], 0)), "column MACs must be positive"),
    ("negative #params", lambda z: z.assign(**{"#params": -z["#params"]}), "column #params must be positive"),
    ("a column named twice", lambda z: pd.concat([z, z[["MACs"]] * 2], axis=1),
     "column MACs appears more than once in the header"),
])
def test_bad_zero_cost_csv(small, tmp_path, capsys, case, change, expected):
    d = small[0]
    zc = write_zc(small, tmp_path / "zc.csv", change)
    status, err = bad_run(capsys, [d / "small.csv", tmp_path / "out", "--zero-cost", zc, "--epochs", "0"])
    assert status == 2 and err.count("\n") == 1 and expected in err and str(zc) in err, err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zc.csv"]


@pytest.mark.parametrize("case, change, expected", [
    ("missing epoch column", lambda t: t.drop(columns=["e2Accuracy"]), "missing column(s) e2Accuracy"),
    ("nan", lambda t: t.assign(e3LossMean=t.e3LossMean.where(t.index != t.index[2])),
     "column e3LossMean has missing values"),
    # pandas renames the second MaxAccuracy "MaxAccuracy.1": the first would be scored unnoticed
    ("a column named twice", lambda t: pd.concat([t, t[["MaxAccuracy"]] / 2], axis=1),
     "column MaxAccuracy appears more than once in the header"),
])
def test_bad_dataset(small, tmp_path, capsys, case, change, expected):
    path = tmp_path / "t.csv"
    change(small[1]).to_csv(path, index=False)
    status, err = bad_run(capsys, [path, tmp_path / "out", "--epochs", "0,3"])
    assert status == 2 and err.count("\n") == 1 and expected in err and str(path) in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.parametrize("option, expected", [
    (["--jobs", "0"], "--jobs 0: must be at least 1"),
    (["--jobs", "two"], "--jobs two: not a whole number"),
    (["--epochs", "3,91"], "--epochs 3,91: 91 is not an epoch count"),
    (["--epochs", "3,x"], "--epochs 3,x: 'x' is not a whole number"),
    (["--estimators", "old"], "--estimators old: choose from"),
    (["--splits", "x"], "--splits x: not a whole number"),
])
def test_bad_options(small, tmp_path, capsys, option, expected):
    status, err = bad_run(capsys, [small[0] / "small.csv", tmp_path / "out", *option])
    assert status == 2 and err.count("\n") == 1 and expected in err, err
    assert list(tmp_path.iterdir()) == []


def test_existing_out_dir_needs_force(small, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    status, err = bad_run(capsys, [small[0] / "small.csv", out, "--epochs", "0"])
    assert status == 2 and err.count("\n") == 1 and "already exists (use --force" in err, err
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and len(list(tmp_path.iterdir())) == 1


def test_sigterm_leaves_no_partial_output_and_no_workers(small, tmp_path):
    # a scheduler stopping the job (kill PID) while the forked workers score the regressors
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "baselines.py"), str(small[0] / "small.csv"), str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (list(tmp_path.glob(".out.*.tmp")) and
               sum(parent == proc.pid for parent, _ in live_processes().values()) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before its workers started"
        time.sleep(0.05)
    workers = [p for p, (parent, _) in live_processes().items() if parent == proc.pid]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.splitlines()[-1] == "terminated (SIGTERM): no partial output left behind" and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 10
    while set(workers) & live_processes().keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(workers) & live_processes().keys()  # the pool's workers went with it


def test_splits_need_40_bins(small, tmp_path, capsys):
    path = tmp_path / "t.csv"
    table = small[1]
    pd.concat([table[table.IsTest == 0], table[table.IsTest == 1].head(12)]).to_csv(path, index=False)  # 52 rows
    status, err = bad_run(capsys, [path, tmp_path / "out", "--splits", "2", "--epochs", "0"])
    assert status == 2 and err.count("\n") == 1 and "--splits 2" in err and str(path) in err, err
    assert list(tmp_path.iterdir()) == [path]
