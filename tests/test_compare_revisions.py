"""bench/compare_revisions.py: the comparison of two output trees, and the command line run for real
on the cheapest command (two worktrees of HEAD) and on bad input."""
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_script

from bench.compare_revisions import BY_NAME, compare_trees, verdict, without_timing_columns


def write(folder, files):
    for name, data in files.items():
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_identical_trees(tmp_path):
    files = {"results.csv": b"a,b\n1,2\n", "figures/x.png": b"\x89PNG"}
    write(tmp_path / "old", files)
    write(tmp_path / "new", files)
    c = compare_trees(tmp_path / "old", tmp_path / "new")
    assert c.identical and c.same == ["figures/x.png", "results.csv"]
    assert verdict(BY_NAME["scheme_generator"], c, {}) == "identical (2 files)"


def test_one_differing_file_and_one_sided_files(tmp_path):
    write(tmp_path / "old", {"same.md": b"x", "figures/a.png": b"1", "gone.csv": b"g"})
    write(tmp_path / "new", {"same.md": b"x", "figures/a.png": b"2", "added.csv": b"n"})
    c = compare_trees(tmp_path / "old", tmp_path / "new")
    assert not c.identical
    assert (c.same, c.differ, c.only_old, c.only_new) == (["same.md"], ["figures/a.png"], ["gone.csv"], ["added.csv"])
    line = verdict(BY_NAME["run_experiments_paper"], c, {})
    assert line == "DIFFER: 1 of 4 files differ: figures/a.png; only in old: gone.csv; only in new: added.csv"


def test_a_missing_tree_is_every_file_on_one_side(tmp_path):
    write(tmp_path / "old", {"a.csv": b"1"})
    c = compare_trees(tmp_path / "old", tmp_path / "absent")
    assert (c.only_old, c.only_new, c.identical) == (["a.csv"], [], False)


def test_a_failed_command_is_reported_whatever_its_files(tmp_path):
    c = compare_trees(tmp_path / "old", tmp_path / "new")
    line = verdict(BY_NAME["baselines"], c, {"old": {}, "new": {"baselines": "baselines.py exit 2: error: x"}})
    assert line == "FAILED on new: baselines.py exit 2: error: x"


def test_timing_columns_are_left_out_of_zero_costs_csv_only(tmp_path):
    write(tmp_path / "old", {"zero_cost.csv": b"ModelId,synflow,synflow_seconds\n1,2.5,0.01\n"})
    write(tmp_path / "new", {"zero_cost.csv": b"ModelId,synflow,synflow_seconds\n1,2.5,0.03\n"})
    assert without_timing_columns(b"ModelId,synflow,synflow_seconds\n1,2.5,0.01\n") == b"ModelId,synflow\n1,2.5\n"
    assert compare_trees(tmp_path / "old", tmp_path / "new", volatile_columns=True).identical
    assert compare_trees(tmp_path / "old", tmp_path / "new").differ == ["zero_cost.csv"]
    write(tmp_path / "new", {"zero_cost.csv": b"ModelId,synflow,synflow_seconds\n1,2.6,0.01\n"})
    assert compare_trees(tmp_path / "old", tmp_path / "new", volatile_columns=True).differ == ["zero_cost.csv"]


def test_head_against_head_is_identical_and_leaves_no_worktree(tmp_path):
    scratch = tmp_path / "tmp"  # the script's temporary directory, worktrees included, goes here
    scratch.mkdir()
    done = run_script("bench/compare_revisions.py", "HEAD", "HEAD", "--only", "scheme_generator",
                      "--out", tmp_path / "out", timeout=300, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("compare_revisions: ") and lines[1].startswith("old: ") and lines[2].startswith("new: ")
    assert "scheme_generator  identical (1 file)" in lines
    assert lines[-1] == f"1 of 1 commands identical; outputs in {tmp_path / 'out'}"
    assert (tmp_path / "out" / "new" / "scheme_generator" / "generated_schemes.json").is_file()
    assert list(scratch.iterdir()) == []
    listing = subprocess.run(["git", "-C", str(ROOT), "worktree", "list", "--porcelain"], capture_output=True,
                             text=True, check=True).stdout
    assert str(scratch) not in listing


@pytest.mark.parametrize("args, message", [
    (["no-such-revision-xyz", "HEAD"], "error: OLD 'no-such-revision-xyz': unknown revision in "),
    (["HEAD", "HEAD", "--only", "scheme_generator,nope"],
     "error: --only 'scheme_generator,nope': unknown command nope"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    done = run_script("bench/compare_revisions.py", *args, timeout=60)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1 and done.stderr.startswith(message), done.stderr
