"""feature_selection.py, the paper-2 script, run as a user runs it: a small run with every output,
SIGTERM and the resume, held-out selection (--select-on validation), array shards (--shard) and
their assembly, a journal of other code left unused, and bad input (one line, exit status 2,
nothing written). The library's own tests: tests/test_paper2_*.py; the paper-2 protocol's:
tests/test_paper2_protocol.py."""
import os
import signal
import subprocess
import sys
import threading

import pandas as pd
import pytest
from conftest import (
    MACHINES,
    ROOT,
    journal_records,
    live_processes,
    message_lines,
    run_on_machines,
    run_script,
    signal_when_started,
    wait_until,
)

import feature_selection as fs
from naap import paper2, protocol
from naap.cli import run_cli


def test_cli_small_run_writes_every_output(ref_dir, tmp_path):
    out = tmp_path / "fs"
    models = "Linear Regression,Linear Regression (Sigmoid),3-NN"
    r = run_script("feature_selection.py", ref_dir / "naap440v2.csv", out, "--modes",
                   "interpolation,dual_extrapolation", "--models", models, "--feature-sets", "Scheme",
                   "--jobs", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    res = pd.read_csv(out / "results.csv", dtype={"Flags": str})
    assert list(res.columns) == ["Mode", "Model", "FeatureSetName", "Flags", "FeatureSubset", "MAE",
                                 "NumViolations", "MaxViolations", "MonotonicityScore", "FinalScore"]
    pairs = set(zip(res.Mode, res.Model))
    assert pairs == {("interpolation", m) for m in models.split(",")} | {
        ("dual_extrapolation", "Linear Regression"), ("dual_extrapolation", "Linear Regression (Sigmoid)")}
    assert set(res.MaxViolations[res.Mode == "interpolation"]) == {780}
    assert set(res.MaxViolations[res.Mode == "dual_extrapolation"]) == {190}
    for _, g in res.groupby(["Mode", "Model"]):
        assert g.Flags.iloc[0] == "11111111" and g.Flags.is_unique
        assert all(len(f) == 8 and "1" in f for f in g.Flags)
    md = (out / "best.md").read_text()
    knn = res[(res.Mode == "interpolation") & (res.Model == "3-NN")]
    listed = next(line for line in md.splitlines() if line.startswith("| 3-NN | Scheme |")).split(" | ")[-1]
    best = knn[knn.FeatureSubset == listed.rstrip(" |").replace(", ", ";")]
    assert len(best) == 1 and best.FinalScore.iloc[0] == knn.FinalScore.min()
    cell = next(line for line in md.splitlines() if line.startswith("| 3-NN | "))
    assert cell.endswith(f" / {best.NumViolations.iloc[0]} |")
    full = knn.iloc[0]
    assert f"| 3-NN (all features) | {full.MAE:.3f} / {full.MonotonicityScore:.3f} / {full.NumViolations} |" in md
    assert "## dual_extrapolation" in md and "| Model | Scheme (100% Acceleration) |" in md
    assert "\\begin{tabular}" in (out / "best.tex").read_text()
    figs = {p.relative_to(out).as_posix() for p in (out / "figures").rglob("*.png")}
    assert "figures/interpolation/scheme/3_nn_rank.png" in figs
    assert "figures/dual_extrapolation/scheme/linear_regression_sigmoid_scatter.png" in figs
    assert "figures/interpolation/feature_frequency_scheme.png" in figs
    assert len(figs) == 2 * 5 + 2
    assert not list(tmp_path.glob(".fs.*"))  # the resume journal goes once the run is complete


def test_every_output_is_the_same_on_two_simulated_machines(ref_dir):
    # the machine-dependent spots of paper 2: the Exp, Log and Sigmoid targets (log, exp, logit),
    # the D=2 square, the SVR kernels, AdaBoost's reweighting (pow), LAPACK's least squares
    models = ("Linear Regression (Exp),Linear Regression (Log),Linear Regression (Sigmoid),Linear Regression (D=2),"
              "SVR (Polynomial kernel),SVR (RBF kernel),AdaBoost (N=25)")
    runs = run_on_machines("feature_selection.py", ref_dir / "naap440v2.csv", "--modes",
                           "interpolation,left_extrapolation", "--models", models, "--feature-sets", "Scheme")
    for machine, (done, _) in runs.items():
        assert done.returncode == 0, (machine, done.stderr)
    files = [outputs for _, outputs in runs.values()]
    assert "results.csv" in files[0] and len([f for f in files[0] if f.endswith(".png")]) == 2 * (7 + 5) + 2
    assert len(runs) == len(MACHINES) and all(outputs == files[0] for outputs in files)


def test_sigterm_leaves_no_partial_output_and_the_rerun_resumes(ref_dir, tmp_path):
    # a scheduler stopping the job (kill PID) mid-search, with forked pool workers running
    out = tmp_path / "fs"
    cmd = [sys.executable, str(ROOT / "feature_selection.py"), str(ref_dir / "naap440v2.csv"), str(out),
           "--modes", "interpolation", "--models", "Linear Regression", "--feature-sets", "Scheme+Quant.9",
           "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: journal_records(tmp_path.glob(".fs.resume/*/*.pkl")), "a search round was journaled", proc=proc)
    assert list(tmp_path.glob(".fs.*.tmp"))  # the staging directory exists while it runs
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated (SIGTERM): no partial output left behind" in err.splitlines()
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".fs.*.tmp"))
    journaled = sum(len(paper2.read_journal(p)) for p in tmp_path.glob(".fs.resume/*/*.pkl"))
    assert journaled > 0

    def workers_left():  # the forked pool's workers share the run's command line
        return [p for p, (_, cmdline) in live_processes().items() if str(out).encode() in cmdline and p != os.getpid()]
    wait_until(lambda: not workers_left(), "the pool's workers went with the run", timeout=30)
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    # >=, not >: on a loaded machine the signal can land after the last subset was journaled
    # (CI, 2026-12-02: 2,908 of 2,908); the rerun then only assembles, which must also work
    results = paper2.read_results(out / "results.csv")
    assert len(results) >= journaled
    assert not results.duplicated(["Model", "FeatureSetName", "Flags"]).any()
    assert not list(tmp_path.glob(".fs.*"))


def test_sigterm_while_fitting_trees_with_one_job(ref_dir, tmp_path):
    # --jobs 1: the search scores subsets in the main process, inside numba's tree builder when
    # the signal comes: sent once the journal holds two rounds (numba's functions compiled in the
    # first), it lands in the third round's fits
    out = tmp_path / "fs"
    cmd = [sys.executable, str(ROOT / "feature_selection.py"), str(ref_dir / "naap440v2.csv"), str(out),
           "--modes", "interpolation", "--models", "Random Forest (N=25)", "--feature-sets", "Scheme+Quant.3",
           "--jobs", "1"]

    def two_rounds_journaled(_stderr):
        return journal_records(tmp_path.glob(".fs.resume/*/*.pkl")) >= 2
    status, err = signal_when_started(cmd, tmp_path, two_rounds_journaled)
    assert status == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and message_lines(err) == ["terminated (SIGTERM): no partial output left behind"], err
    assert [p.name for p in tmp_path.iterdir()] == [".fs.resume"]  # only the journal, kept for the rerun


def run_in_process(capsys, *args):
    """feature_selection's CLI in this process (saves the import); (exit status, stderr lines)."""
    with pytest.raises(SystemExit) as exc:
        run_cli(fs.main, fs.parse_args([str(a) for a in args]))
    return exc.value.code, capsys.readouterr().err.strip().splitlines()


SMALL = ["--modes", "dual_extrapolation", "--models", "Linear Regression", "--feature-sets", "Scheme", "--jobs", "1"]


def test_a_directory_where_a_journal_should_be_is_one_line_before_any_job(ref_dir, tmp_path, capsys):
    # it once ended in a traceback from the job's thread
    csv = ref_dir / "naap440v2.csv"
    key = paper2.journal_key(csv.read_bytes(), protocol.DEFAULT_ESTIMATORS, "test")
    job = paper2.plan_jobs(["dual_extrapolation"], ["Scheme"], ["Linear Regression"])[0]
    blocker = tmp_path / ".fs.resume" / key / paper2.journal_name(job)
    blocker.mkdir(parents=True)
    status, err = run_in_process(capsys, csv, tmp_path / "fs", *SMALL)
    assert status == 2 and err == [f"error: {blocker}: not a regular file, expected a resume journal (remove it "
                                   "to start this job afresh)"], err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        ".fs.resume", f".fs.resume/{key}", f".fs.resume/{key}/{blocker.name}"]


def test_a_dataset_from_a_pipe_is_read_once(ref_dir, tmp_path):
    # <(zcat naap440v2.csv.gz): the journal's key and the table come from one read of /dev/fd/N
    csv = ref_dir / "naap440v2.csv"
    run_ok(csv, tmp_path / "from_file", *SMALL)
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_fd, csv.read_bytes()), os.close(write_fd)))
    writer.start()
    try:
        run_ok(f"/dev/fd/{read_fd}", tmp_path / "from_pipe", *SMALL)
    finally:
        writer.join()
        os.close(read_fd)
    for name in ("results.csv", "best.md"):
        assert (tmp_path / "from_pipe" / name).read_bytes() == (tmp_path / "from_file" / name).read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--models", "Linear Regression,Random Tree"], "unknown model"),
    (["--feature-sets", "Scheme+Quant.4"], "unknown feature set"),
    (["--modes", "left_extrapolation", "--models", "3-NN"], "can extrapolate"),
    (["--jobs", "0"], "--jobs 0: must be at least 1"),
    (["--jobs", "99999999999999999999"], "--jobs 99999999999999999999: at most "),
    (["--jobs", "1_0"], "--jobs 1_0: not a whole number"),
    (["--shard", "1/99999999999999999999"], "must be between 1 and 10,000"),
])
def test_bad_arguments_exit_2_and_write_nothing(ref_dir, tmp_path, capsys, args, message):
    status, err = run_in_process(capsys, ref_dir / "naap440v2.csv", tmp_path / "out", *args)
    assert status == 2 and len(err) == 1 and message in err[0]
    assert list(tmp_path.iterdir()) == []


def test_unknown_mode_and_v1_csv_exit_2_from_the_command_line(ref_dir, tmp_path):
    r = run_script("feature_selection.py", ref_dir / "naap440v2.csv", tmp_path / "out", "--modes", "middle",
                   cwd=tmp_path)
    assert r.returncode == 2 and "unknown mode 'middle'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_script("feature_selection.py", ref_dir / "naap440.csv", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2 and "NumSkipConnections" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_existing_out_dir_exit_2_and_untouched(ref_dir, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    status, err = run_in_process(capsys, ref_dir / "naap440v2.csv", tmp_path / "out", "--models", "Linear Regression")
    assert status == 2 and len(err) == 1 and "already exists" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_out_dir_refusals_leave_no_journal(ref_dir, tmp_path, capsys, monkeypatch):
    # refused before the resume journal beside OUT_DIR is made: a file as OUT_DIR, and "." (it holds
    # the current directory; its journal once had no name to go by)
    (tmp_path / "file").write_text("mine")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for out, message in [(tmp_path / "file", "exists and is not a directory"),
                         (".", "holds the current directory")]:
        status, err = run_in_process(capsys, ref_dir / "naap440v2.csv", out, "--force", "--models", "1-NN")
        assert status == 2 and len(err) == 1 and message in err[0], err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "work"]
        assert list((tmp_path / "work").iterdir()) == [] and (tmp_path / "file").read_text() == "mine"


def test_benchmark_script_runs_and_finds_identical_results(ref_dir):
    r = run_script("bench/bench_feature_selection.py", ref_dir / "naap440v2.csv", "--models",
                   "Linear Regression,AdaBoost (N=25)", "--feature-sets", "Scheme", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert "identical results: yes" in r.stdout


# ----------------------------------------------------------------------------- held-out selection
def run_ok(*args):
    """feature_selection's CLI in this process, for a run that must succeed (run_cli returns)."""
    run_cli(fs.main, fs.parse_args([str(a) for a in args]))


def test_cli_select_on_validation_says_so_and_reports_test_scores(ref_dir, tmp_path):
    out = tmp_path / "fs"
    run_ok(ref_dir / "naap440v2.csv", out, "--modes", "dual_extrapolation", "--models", "Linear Regression",
           "--feature-sets", "Scheme", "--jobs", "1", "--select-on", "validation")
    res = pd.read_csv(out / "results.csv", dtype={"Flags": str})
    assert list(res.columns)[-1] == "ScoredOn"
    val, test = res[res.ScoredOn == "validation"], res[res.ScoredOn == "test"]
    assert len(res) == len(val) + len(test) and list(res.ScoredOn) == ["validation"] * len(val) + ["test"] * len(test)
    assert set(val.MaxViolations) == {40 * 39 // 2} and set(test.MaxViolations) == {20 * 19 // 2}
    best = val.loc[val.FinalScore.idxmin()]  # the first of the lowest, as the search's tie rule
    assert test.Flags.iloc[0] == best.Flags and test.Flags.iloc[-1] == "11111111"
    md = (out / "best.md").read_text()
    assert "Selected on: validation" in md and "40 validation rows" in md and "fitted on the other 160" in md
    row = test.iloc[0]
    assert f"| Linear Regression | {row.MAE:.3f} / {row.MonotonicityScore:.3f} / {row.NumViolations} |" in md
    assert f"| Linear Regression | Scheme | {row.FinalScore:.6f} | {best.FinalScore:.6f} |" in md
    assert "selected on validation" in (out / "best.tex").read_text()
    assert not list(tmp_path.glob(".fs.*"))


def test_a_journal_of_other_code_is_left_unused_in_one_line(ref_dir, tmp_path, capsys):
    # a resume directory from before a code change (the move into the naap package included): its
    # key differs, so the run starts fresh, says so once, and leaves that journal alone
    stale = tmp_path / ".fs.resume" / "0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "interpolation_scheme_linear_regression.pkl").write_bytes(b"old")
    run_ok(ref_dir / "naap440v2.csv", tmp_path / "fs", "--modes", "dual_extrapolation", "--models",
           "Linear Regression", "--feature-sets", "Scheme", "--jobs", "1")
    said = [line for line in capsys.readouterr().out.splitlines() if "not replayed" in line]
    assert said == [f"{tmp_path / '.fs.resume'}: 1 journal(s) of another input table, settings or code version "
                    "left unused (not replayed: this run starts fresh)"]
    assert (stale / "interpolation_scheme_linear_regression.pkl").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fs.resume", "fs"]
    assert [p.name for p in (tmp_path / ".fs.resume").iterdir()] == [stale.name]  # this run's own journal went


# ----------------------------------------------------------------------------- sharding
@pytest.mark.parametrize("args", [["--shard=0/4"], ["--shard=5/4"], ["--shard=x"], ["--shard=1/0"], ["--shard=-1/2"],
                                  ["--shard", "-1/2"], ["--shard=1/2/3"], ["--select-on", "train"]])
def test_bad_shard_or_select_on_exit_2_and_write_nothing(ref_dir, tmp_path, capsys, args):
    status, err = run_in_process(capsys, ref_dir / "naap440v2.csv", tmp_path / "out", "--models", "Linear Regression",
                                 *args)
    assert status == 2 and len(err) == 1 and ("--shard" in err[0] or "--select-on" in err[0]), err
    assert list(tmp_path.iterdir()) == []  # no OUT_DIR, no resume directory


def test_two_shards_then_the_assembly_equal_one_plain_run_without_fitting(ref_dir, tmp_path, monkeypatch):
    # held-out selection: its journals hold the searches' and the refits' scores (--select-on test
    # journals the searches' alone, through the same code); each process start costs ~5 s of imports
    dataset = ref_dir / "naap440v2.csv"
    args = ["--modes", "interpolation", "--models", "Linear Regression,3-NN", "--feature-sets", "Scheme", "--jobs", "1",
            "--select-on", "validation"]
    shards = [subprocess.Popen([sys.executable, str(ROOT / "feature_selection.py"), str(dataset),
                                str(tmp_path / "sharded"), *args, "--shard", f"{i}/2"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    run_ok(dataset, tmp_path / "plain", *args)  # meanwhile, the one plain run
    for shard in shards:
        out, err = shard.communicate(timeout=600)
        assert shard.returncode == 0, err
        assert "1 of 2 jobs" in out
    assert not (tmp_path / "sharded").exists()  # a shard writes journals only
    journals = {p.name for p in tmp_path.glob(".sharded.resume/*/*.pkl")}
    jobs = paper2.plan_jobs(["interpolation"], ["Scheme"], ["Linear Regression", "3-NN"])
    assert journals == {paper2.journal_name(job) for job in jobs}
    fitted = []
    real = protocol.evaluate_paper2
    monkeypatch.setattr(protocol, "evaluate_paper2", lambda *a, **k: fitted.append(a[0]) or real(*a, **k))
    run_ok(dataset, tmp_path / "sharded", *args)
    assert fitted == []  # assembled from the journals alone
    files = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "sharded") for p in (tmp_path / "sharded").rglob("*")
                           if p.is_file())
    assert len([f for f in files if f.suffix == ".png"]) == 2 * 2 + 1
    for f in files:  # figures too: matplotlib's Agg PNGs carry no time stamp
        assert (tmp_path / "plain" / f).read_bytes() == (tmp_path / "sharded" / f).read_bytes(), f
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "sharded"]  # both resume directories gone
