"""run_experiments.py over naap.protocol: the published table exactly, on any machine, in both
estimator sets; a small split in a pool and serially; outputs; bad input.

The full runs (96 fits x 5 seeds) happen once per session, in subprocesses, as a user would run
them: the default (paper) estimators with figures, and both sets under other SIMD dispatch, BLAS
kernels, thread counts and --jobs, whose results.csv must be byte-identical.
"""
import re
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import MACHINES, ROOT, machine_env, message_lines, resplit, run_script, signal_when_started

import run_experiments as rx
from bench.docs_blocks import generated_blocks, split_body
from naap import figures, protocol
from naap.cli import run_cli
from naap.data import FEATURE_SETS, acceleration


@pytest.fixture(scope="session")
def full_run(ref_dir, tmp_path_factory):
    """The default command on naap440.csv, with the published table to compare against."""
    out = tmp_path_factory.mktemp("full") / "results"
    done = run_script("run_experiments.py", ref_dir / "naap440.csv", out,
                      "--compare", ref_dir / "published_results.csv", "--no-progress")
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.fixture(scope="session")
def machine_runs(ref_dir, tmp_path_factory):
    """results.csv of both estimator sets under each of MACHINES: {(set, machine): bytes}."""
    runs = {}
    for estimators in protocol.ESTIMATOR_SETS:
        for machine, (npy, coretype, threads, jobs) in MACHINES.items():
            out = tmp_path_factory.mktemp("machine") / "out"
            done = run_script("run_experiments.py", ref_dir / "naap440.csv", out, "--estimators", estimators,
                              "--jobs", jobs, "--no-progress", env=machine_env(npy, coretype, threads))
            assert done.returncode == 0, (estimators, machine, done.stderr)
            runs[(estimators, machine)] = (out / "results.csv").read_bytes()
            runs[(estimators, machine, "md")] = (out / "results.md").read_text()
    return runs


def published_rows(path):
    """The published table's rows as text cells, with the model names in the project's spelling."""
    names = {protocol.model_key(name): name for name in protocol.BASELINE_NAMES}
    rows = []
    for line in path.read_text().splitlines()[1:]:
        model, rest = line.split(",", 1)
        rows.append(f"{names.get(model, model)},{rest}")
    return rows


# ----------------------------------------------------------------------------- the full run
def test_default_results_are_the_published_table(full_run, ref_dir):
    out, done = full_run
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0] == (ref_dir / "published_results.csv").read_text().splitlines()[0]
    assert lines[1:] == published_rows(ref_dir / "published_results.csv")
    comparison = pd.read_csv(out / "comparison.csv")
    assert len(comparison) == 96 and comparison["Match"].all()
    assert "96 of 96 rows match" in done.stdout
    assert "96 of 96 rows match" in (out / "comparison.md").read_text()


def test_extended_results(full_run):
    out, _ = full_run
    extended = (out / "results_extended.csv").read_text().splitlines()
    assert len(extended) == 97
    # the same rows, then KendallTau and SpearmanRho
    assert [",".join(line.split(",")[:6]) for line in extended] == (out / "results.csv").read_text().splitlines()
    assert extended[0].split(",")[6:] == protocol.EXTRA_COLUMNS


def test_results_md_cells_are_the_csv_rounded(full_run):
    out, _ = full_run
    frame = pd.read_csv(out / "results.csv")
    table = (out / "results.md").read_text()
    header = "| Model | " + " | ".join(f"{acceleration(f)} Acceleration" for f in FEATURE_SETS) + " |"
    assert header in table
    for name in protocol.BASELINE_NAMES:
        rows = frame[frame["Model"] == name].set_index("Features").loc[list(FEATURE_SETS)]
        cells = [f"{r.MeanAbsoluteError:.3f} / {r.MonotonicityScore:.3f} / {r.NumViolations}"
                 for r in rows.itertuples()]
        assert f"| {name} | " + " | ".join(cells) + " |" in table


def test_sklearn_set_equals_its_reference_and_every_machine_agrees(machine_runs, ref_dir):
    reference = {"paper": None, "sklearn": (ref_dir / "sklearn_results.csv").read_bytes()}
    for estimators in protocol.ESTIMATOR_SETS:
        outputs = {machine: machine_runs[(estimators, machine)] for machine in MACHINES}
        assert len(set(outputs.values())) == 1, (estimators, "differs between machines")
        if reference[estimators] is not None:
            assert outputs["avx2-like"] == reference[estimators]
    published = published_rows(ref_dir / "published_results.csv")
    assert machine_runs[("paper", "baseline")].decode().splitlines()[1:] == published


def test_docs_tables_are_what_the_code_produces(full_run, machine_runs):
    """The generated tables of the docs (python -m bench.update_docs) equal this session's results.md."""
    out, _ = full_run
    expected = {"results-paper": (out / "results.md").read_text(),
                "results-sklearn": machine_runs[("sklearn", "avx2-like", "md")]}
    found = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for name, body in generated_blocks(path.read_text()).items():
            if name in expected:
                provenance, table = split_body(body)
                assert table == expected[name], (path.name, name)
                assert provenance.startswith("Produced by `python run_experiments.py naap440.csv"), (path.name, name)
                found.add(name)
    assert found == set(expected)


def test_figures(full_run):
    out, _ = full_run
    results = pd.read_csv(out / "results.csv")
    for kind in (figures.RANK_MATRIX_DIR, figures.SCATTER_DIR):
        pngs = sorted((out / "figures" / kind).glob("*.png"))
        assert len(pngs) == len(results)
        assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000 for p in pngs)
    for r in results.itertuples():
        for path in figures.figure_paths(out / "figures", r.Model, r.Features):
            assert path.is_file()
    summary = out / "summary.png"
    assert summary.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and summary.stat().st_size > 10000
    assert not list(out.parent.glob(".*"))  # no temp dirs left beside OUT_DIR


def test_cli_on_a_small_split_pool_equals_serial(ref_dir, tmp_path, capsys):
    raw = pd.read_csv(ref_dir / "naap440.csv")
    csv = tmp_path / "small.csv"
    resplit(raw, 50, 0.25, seed=3).to_csv(csv, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")  # replaced: --force
    done = run_script("run_experiments.py", csv, out, "--jobs", 2, "--force", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert not (out / "old.txt").exists()
    # in-process, serial, no OUT_DIR: prints the table, same numbers as the pool of workers
    frame = rx.main(rx.parse_args([str(csv), "--jobs", "1", "--no-progress"]))
    assert capsys.readouterr().out == (out / "results.md").read_text()
    assert frame.to_csv(index=False) == (out / "results_extended.csv").read_text()


# ----------------------------------------------------------------------------- bad input
def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(rx.main, rx.parse_args([str(a) for a in argv]))
    err = capsys.readouterr().err
    return exit_info.value.code, err


def write_variant(ref_dir, path, change):
    df = pd.read_csv(ref_dir / "naap440.csv")
    df = change(df)
    df.to_csv(path, index=False)
    return path


def _set(df, column, row, value):
    df[column] = df[column].astype(object)
    df.loc[row, column] = value
    return df


def _tests(df, count):
    df["IsTest"] = 0
    df.loc[df.index[:count], "IsTest"] = 1
    return df


BAD_TABLES = {
    "missing column": lambda df: df.drop(columns=["NumMACs"]),
    "non-numeric column": lambda df: _set(df, "e3Accuracy", 5, "n/a?"),
    "NaN": lambda df: _set(df, "e2LossMean", 7, np.nan).astype({"e2LossMean": float}),
    "one test row": lambda df: _tests(df, 1),
    "no test rows": lambda df: _tests(df, 0),
    "too few train rows": lambda df: df[df["IsTest"] == 1].head(8).pipe(
        lambda t: pd.concat([t.assign(IsTest=0), df[df["IsTest"] == 1].tail(5)])),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables(case, ref_dir, tmp_path, capsys):
    csv = write_variant(ref_dir, tmp_path / "bad.csv", BAD_TABLES[case])
    code, err = run_main([csv, tmp_path / "out"], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "bad.csv" in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_bad_files_and_arguments(ref_dir, tmp_path, capsys):
    good = ref_dir / "naap440.csv"
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 10)
    (tmp_path / "json.csv").write_text('{"a": [1, 2],\n "b": {"c": 3}}\n')
    (tmp_path / "exists").mkdir()
    (tmp_path / "exists" / "keep.txt").write_text("mine")
    cases = [
        [tmp_path / "missing.csv", tmp_path / "out"],
        [tmp_path / "binary.csv", tmp_path / "out"],
        [tmp_path / "json.csv", tmp_path / "out"],
        [tmp_path, tmp_path / "out"],
        [good, tmp_path / "out", "--jobs", "0"],
        [good, tmp_path / "out", "--compare", tmp_path / "missing.csv"],
        [good, tmp_path / "out", "--compare", tmp_path / "json.csv"],
        [good, tmp_path / "exists"],
    ]
    for argv in cases:
        code, err = run_main(argv, capsys)
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and err.startswith("error: "), (argv, err)
        assert not (tmp_path / "out").exists()
    assert (tmp_path / "exists" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.csv", "exists", "json.csv"]


def test_paths_that_cannot_be_read_are_one_line(ref_dir, tmp_path, capsys):
    (tmp_path / "loop.csv").symlink_to("loop.csv")  # a symlink loop (ELOOP)
    (tmp_path / "file").write_text("x")
    cases = [([tmp_path / "loop.csv", tmp_path / "out"], "loop.csv: cannot read (Too many levels of symbolic links)"),
             ([tmp_path / "file" / "t.csv", tmp_path / "out"], "t.csv: cannot read (Not a directory)"),
             ([ref_dir / "naap440.csv", tmp_path / "out", "--compare", tmp_path / "loop.csv"], "loop.csv: cannot read")]
    for argv, message in cases:
        code, err = run_main(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and message in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "loop.csv"]


def test_a_column_named_twice_is_refused(ref_dir, tmp_path, capsys):
    # pandas renames the second MaxAccuracy "MaxAccuracy.1": the first was scored unnoticed
    csv = write_variant(ref_dir, tmp_path / "twice.csv", lambda df: pd.concat([df, df[["MaxAccuracy"]] / 2], axis=1))
    code, err = run_main([csv, tmp_path / "out"], capsys)
    assert code == 2 and err == f"error: {csv}: column MaxAccuracy appears more than once in the header\n", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice.csv"]


def test_a_dataset_from_a_pipe_is_read_once(ref_dir, tmp_path):
    # <(zcat naap440.csv.gz) is /dev/fd/N, which a second read finds empty ("not a readable CSV")
    csv = tmp_path / "small.csv"
    resplit(pd.read_csv(ref_dir / "naap440.csv"), 50, 0.25, seed=3).to_csv(csv, index=False)
    options = ["--no-baselines", "--no-progress", "--jobs", "1",
               "--predictor", f"Ridge={ROOT / 'tests' / 'plugin_cases.py'}:make"]
    done = subprocess.run(["bash", "-c", 'exec "$0" run_experiments.py <(cat "$1") "$2" "${@:3}"', sys.executable,
                           csv, tmp_path / "from_pipe", *options], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    rx.main(rx.parse_args([str(csv), str(tmp_path / "from_file"), *options]))
    for name in ("results.csv", "results_extended.csv"):
        assert (tmp_path / "from_pipe" / name).read_bytes() == (tmp_path / "from_file" / name).read_bytes()


def test_bad_input_from_the_command_line(tmp_path):
    done = run_script("run_experiments.py", tmp_path / "missing.csv", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {tmp_path / 'missing.csv'}: no such file"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("tasks_done", [1, 2])
def test_sigterm_while_fitting_trees_with_one_job(tasks_done, ref_dir, tmp_path):
    # --jobs 1 (the default on one core): the main process itself is inside numba's tree builder
    # when the signal comes. The tasks run Random Forest first: once the bar shows the first task
    # done (numba's functions compiled), the second (Random Forest again) fits its trees, once it
    # shows two, the third (Gradient Boosting); the signal is sent at that bar update.
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "run_experiments.py"), str(ref_dir / "naap440.csv"), str(out), "--jobs", "1"]

    def started(err):  # the bar's counts of runs done, one per finished task
        return len(set(re.findall(r"runs: .*?\| ([1-9]\d*)/96 ", err))) >= tasks_done
    status, err = signal_when_started(cmd, tmp_path, started)
    assert status == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and message_lines(err) == ["terminated (SIGTERM): no partial output left behind"], err
    assert list(tmp_path.iterdir()) == []  # neither OUT_DIR nor its staging directory
