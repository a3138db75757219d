"""Plug-in predictors (--predictor, --no-baselines): their rows in every output beside the
baselines, and every way a plug-in can fail. (The API, protocol.evaluate_predictor, against the
literal protocol: test_protocol_run.py.)

The real script runs on small tables (a subset of naap440.csv, as conftest.resplit makes them)
or with --no-baselines and a cheap ridge plug-in (tests/plugin_cases.py), to stay fast.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_script

import run_experiments as rx
from naap import protocol
from naap.cli import run_cli
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset, split

CASES = Path(__file__).resolve().parent / "plugin_cases.py"
ALL_COLUMNS = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))


def spec(name, factory="make"):
    return f"{name}={CASES}:{factory}"


def small_table(ref_dir, path, num_rows=80, seed=3):
    """A random subset of naap440.csv with a random test split (~1/4), written to path."""
    raw = pd.read_csv(ref_dir / "naap440.csv")
    rng = np.random.default_rng(seed)
    sub = raw.iloc[rng.permutation(len(raw))[:num_rows]].copy()
    sub["IsTest"] = (rng.random(len(sub)) < 0.25).astype(int)
    sub.to_csv(path, index=False)
    return path


def run_main(argv, capsys):
    """run_experiments in-process as run_cli runs it: (exit code or None, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(rx.main, rx.parse_args([str(a) for a in argv]))
        raise SystemExit(None)
    return exit_info.value.code, capsys.readouterr().err


# ----------------------------------------------------------------------------- plug-ins beside the baselines
@pytest.fixture(scope="module")
def small_run(ref_dir, tmp_path_factory):
    """The baselines and a ridge plug-in on a 50-row table, run in-process with 2 workers (the
    splits' outputs: test_uncertainty.test_splits_outputs_and_results_csv_unchanged)."""
    tmp = tmp_path_factory.mktemp("small")
    csv = small_table(ref_dir, tmp / "small.csv", num_rows=50)
    out = tmp / "out"
    rx.main(rx.parse_args([str(csv), str(out), "--no-progress", "--jobs", "2", "--predictor", spec("Ridge")]))
    return out


def test_plugin_rows_appear_in_every_output_after_the_baselines(small_run):
    frame = pd.read_csv(small_run / "results.csv")
    names = protocol.BASELINE_NAMES + ["Ridge"]
    assert list(frame["Model"]) == [name for name in names for _ in FEATURE_SETS]
    assert list(frame["Features"]) == list(FEATURE_SETS) * len(names)
    extended = pd.read_csv(small_run / "results_extended.csv")
    assert list(extended.columns) == protocol.RESULT_COLUMNS + protocol.EXTRA_COLUMNS
    scored = [c for c in protocol.EXTRA_COLUMNS if c not in protocol.DISTRIBUTION_COLUMNS]  # Ridge gives no std
    assert extended[extended["Model"] == "Ridge"][scored].notna().all().all()
    assert extended[extended["Model"] == "Ridge"][protocol.DISTRIBUTION_COLUMNS].isna().all().all()
    table = (small_run / "results.md").read_text()
    assert table.index("| Random Forest (N=200) | ") < table.index("| Ridge | ")
    for features in FEATURE_SETS:
        for kind in ("rank_matrix", "scatter"):
            assert (small_run / "figures" / kind / f"ridge__{protocol.slug(features)}.png").is_file()
    assert (small_run / "summary.png").stat().st_size > 10000


def test_plugin_rows_are_the_protocol_run_of_the_factory(small_run):
    df = load_dataset(small_run.parent / "small.csv", ALL_COLUMNS)
    frame = pd.read_csv(small_run / "results.csv")
    from sklearn.linear_model import Ridge
    for features in FEATURE_SETS:
        run = protocol.evaluate_plain(["R"], *split(df, FEATURE_SETS[features]),
                                      regressors={"R": lambda: Ridge(alpha=1.0)})["R"]
        row = frame[(frame["Model"] == "Ridge") & (frame["Features"] == features)].iloc[0]
        assert row["MeanAbsoluteError"] == round(run["mae"], 4)
        assert row["NumViolations"] == run["violations"]


def test_no_baselines_runs_only_the_plugins(ref_dir, tmp_path):
    out = tmp_path / "out"
    done = run_script("run_experiments.py", ref_dir / "naap440.csv", out, "--no-baselines", "--no-progress",
                      "--predictor", spec("Ridge"), "--predictor", spec("Noise", "make_seeded"))
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out / "results.csv")
    assert list(frame["Model"]) == ["Ridge"] * 4 + ["Noise"] * 4
    assert len(list((out / "figures" / "scatter").glob("*.png"))) == 8
    assert "| Noise | " in (out / "results.md").read_text() and "Random Forest" not in (out / "results.md").read_text()


def test_module_importable_from_the_working_directory(ref_dir, tmp_path, monkeypatch, capsys):
    (tmp_path / "my_predictor_module.py").write_text(
        "from sklearn.linear_model import Ridge\n\ndef build():\n    return Ridge(alpha=2.0)\n")
    monkeypatch.chdir(tmp_path)
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    frame = rx.main(rx.parse_args([str(csv), "--no-baselines", "--no-progress", "--jobs", "1",
                                   "--predictor", "Mine=my_predictor_module:build"]))
    assert list(frame["Model"]) == ["Mine"] * 4
    assert "| Mine | " in capsys.readouterr().out


# ----------------------------------------------------------------------------- bad plug-ins
def write_module(tmp_path, name, text):
    (tmp_path / f"{name}.py").write_text(text)
    return tmp_path / f"{name}.py"


# case: (--predictor value, text the error line must hold); {cases} is tests/plugin_cases.py
BAD_PLUGINS = {
    "missing file": ("P={tmp}/nowhere.py:make", "no such file"),
    "import error": ("P={tmp}/needs_missing.py:make", "ModuleNotFoundError"),
    "syntax error": ("P={tmp}/not_python.py:make", "SyntaxError"),
    "unknown module": ("P=no_such_module_anywhere:make", "cannot import no_such_module_anywhere"),
    "no factory": ("P={cases}:no_such_factory", "has no no_such_factory"),
    "factory not callable": ("P={cases}:not_callable", "is not callable"),
    "factory raises": ("P={cases}:factory_raises", "no model today"),
    "no fit": ("P={cases}:no_fit", "without fit()"),
    "raises in fit": ("P={cases}:raises_in_fit", "fit raised ValueError: this plug-in cannot fit"),
    "raises in predict": ("P={cases}:raises_in_predict", "predict raised RuntimeError"),
    "wrong length": ("P={cases}:wrong_length", "shape (4,) for 5 rows"),
    "NaN predictions": ("P={cases}:nan_predictions", "NaN or infinite"),
    "raises in the run": ("P={cases}:raises_in_fit_late", "fit raised ValueError"),
    "exits in the run": ("P={cases}:exits_in_fit_late", "fit raised SystemExit"),
    "wrong length in the run": ("P={cases}:wrong_length_late", "predict returned shape"),
    "inf in the run": ("P={cases}:inf_predictions_late", "NaN or infinite"),
    "complex in the run": ("P={cases}:complex_predictions_late", "predict returned complex128 values, not real"),
    "booleans": ("P={cases}:bool_predictions", "predict returned bool values, not real"),
    "baseline name": ("Random Forest (N=25)={cases}:make", "baseline"),
    "figure name of a baseline": ("random forest n=25={cases}:make", "same figure files"),
    "a '|' in the name": ("A|B={cases}:make", "may not hold '|'"),
    "no name": ("={cases}:make", "malformed"),
    "no factory part": ("P={cases}", "malformed"),
    "no equals sign": ("{cases}:make", "malformed"),
}


@pytest.mark.parametrize("case", list(BAD_PLUGINS))
def test_bad_plugins(case, ref_dir, tmp_path, capsys):
    write_module(tmp_path, "needs_missing", "import torch_geometric_not_installed\n\ndef make():\n    pass\n")
    write_module(tmp_path, "not_python", "def make(:\n")
    value, expected = BAD_PLUGINS[case]
    value = value.format(tmp=tmp_path, cases=CASES)
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    # --jobs 2: a failure in the run comes back from a worker process
    code, err = run_main([csv, tmp_path / "out", "--no-baselines", "--no-progress", "--jobs", "2",
                          "--predictor", value], capsys)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: --predictor "), err
    name = value.rpartition(":")[0].rpartition("=")[0] or value  # what the error line must name
    assert name in err and expected in err, err
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out*")), "no staging directory left behind"


def test_two_plugins_with_one_name(ref_dir, tmp_path, capsys):
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    code, err = run_main([csv, tmp_path / "out", "--predictor", spec("P"), "--predictor", spec("P", "make_seeded")],
                         capsys)
    assert code == 2 and "--predictor P: given twice" in err and len(err.splitlines()) == 1
    code, err = run_main([csv, tmp_path / "out", "--no-baselines"], capsys)
    assert code == 2 and err.startswith("error: --no-baselines") and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_out_dir_may_not_hold_the_plugin(ref_dir, tmp_path, capsys):
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    (tmp_path / "out").mkdir()
    plugin = write_module(tmp_path / "out", "mine", CASES.read_text())
    code, err = run_main([csv, tmp_path / "out", "--force", "--no-baselines", "--predictor", f"P={plugin}:make"],
                         capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "mine.py" in err, err
    assert plugin.read_text() == CASES.read_text()


def test_a_plugin_failing_in_a_worker_from_the_command_line(ref_dir, tmp_path):
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    done = run_script("run_experiments.py", csv, tmp_path / "out", "--jobs", "2", "--no-progress", "--no-baselines",
                      "--predictor", spec("Late", "raises_in_fit_late"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --predictor Late: fit raised ValueError")
    assert "\\n" in done.stderr  # the plug-in's two-line message, escaped onto one line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv"]


# ----------------------------------------------------------------------------- a plug-in that kills its worker
DIES_LATE = """import os
import signal

from sklearn.linear_model import Ridge


class Dies(Ridge):
    def fit(self, X, y):
        if len(X) > 40:  # the real run, not the smoke check's slice
            {death}
        return super().fit(X, y)


def make():
    return Dies()
"""


@pytest.mark.parametrize("death, how", [
    ("os.kill(os.getpid(), signal.SIGKILL)", "SIGKILL, killed by a signal; out of memory?"),
    ("os.abort()", "SIGABRT, aborted")])
def test_a_plugin_whose_worker_dies_is_one_line_naming_it(ref_dir, tmp_path, death, how):
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    plugin = write_module(tmp_path, "dies", DIES_LATE.replace("{death}", death))
    done = run_script("run_experiments.py", csv, tmp_path / "out", "--jobs", "2", "--no-progress", "--no-baselines",
                      "--predictor", spec("Ridge"),
                      "--predictor", f"Crash={plugin}:make")
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: predictor Crash (feature set "), done.stderr
    assert done.stderr.endswith(f": its worker process died ({how})\n"), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dies.py", "small.csv"]


def test_the_progress_names_each_plugin_as_its_fitting_starts(ref_dir, tmp_path):
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    done = run_script("run_experiments.py", csv, "--jobs", "2", "--no-baselines", "--predictor", spec("Ridge"))
    assert done.returncode == 0, done.stderr
    for features in FEATURE_SETS:
        assert f"predictor Ridge: fitting on feature set {features} (process " in done.stderr


def test_a_full_disk_is_one_line_naming_the_output_and_leaves_nothing(ref_dir, tmp_path, monkeypatch, capsys):
    import errno
    import os

    from naap import files

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full_disk)
    csv = small_table(ref_dir, tmp_path / "small.csv", num_rows=60)
    code, err = run_main([csv, tmp_path / "out", "--jobs", "1", "--no-progress", "--no-baselines",
                          "--predictor", spec("Ridge")], capsys)
    assert code == 1
    assert err == f"error: {tmp_path / 'out' / 'results.csv'}: cannot write (No space left on device)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv"]
