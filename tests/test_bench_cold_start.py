"""bench/bench_cold_start.py: each cold run starts in a fresh copy of the code, without caches, and
its warm run reads what the cold run left there, the user's caches untouched; the cold and warm
outputs are compared byte for byte (exit status 1 when they differ)."""
import sys

import pytest

from bench import bench_cold_start
from naap import workers

# stands in for run_experiments.py (run in the copy of the code): writes into OUT what it found in
# the copy's numba cache folder, then leaves a file there as a compiled kernel would, and records a
# compile of 1.5 s in EVENTS when the cache was empty (or always, for "recompile")
FAKE_RUN = """
import os, sys
from pathlib import Path
assert "NUMBA_CACHE_DIR" not in os.environ
cache = Path("naap") / "__pycache__"
found = sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []
out, what, events = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
out.mkdir()
(out / "results.csv").write_text(",".join(found) + "\\n" if what == "cache" else "same")
cache.mkdir(parents=True, exist_ok=True)
(cache / f"kernel{len(found)}.nbi").write_text("compiled")
if not found or what == "recompile":
    Path(events).write_text("1\\t1.5\\tnaap.replica.trees.build_tree\\n")
"""


def fake_bench(monkeypatch, tmp_path, what):
    monkeypatch.setattr(bench_cold_start, "run_command",
                        lambda code, dataset, out, jobs, estimators, events: [
                            sys.executable, "-c", FAKE_RUN, str(out), what, str(events)])
    dataset = tmp_path / "naap440.csv"
    dataset.write_text("")
    return bench_cold_start.parse_args([str(dataset), "--repeats", "2", "--jobs", "1"])


def test_cold_runs_start_empty_and_warm_runs_reuse_the_cold_runs_caches(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "user"))
    with pytest.raises(SystemExit) as stop:
        bench_cold_start.main(fake_bench(monkeypatch, tmp_path, "cache"))
    assert stop.value.code == 1
    out = capsys.readouterr().out
    # the cold run found nothing, the warm one the file the cold run left: they differ, in both pairs
    assert out.count("the cold and warm runs' outputs differ: results.csv") == 2, out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("pair ") and " s wall" in line] == [
        "pair 1 cold", "pair 1 warm", "pair 2 cold", "pair 2 warm"]
    assert "cold / warm:" in out and "byte-identical: yes" not in out
    assert not (tmp_path / "user").exists()  # the user's cache folder is neither used nor made


def test_compiles_are_reported_and_a_warm_run_that_compiles_fails(monkeypatch, tmp_path, capsys):
    bench_cold_start.main(fake_bench(monkeypatch, tmp_path, "same"))
    out = capsys.readouterr().out
    runs = [line for line in out.splitlines() if line.startswith("pair ")]
    assert [line.split(": ")[1].split(", ")[2] for line in runs] == ["1 functions compiled in 1.5 s",
                                                                    "0 functions compiled in 0.0 s"] * 2, out
    assert "compiled 1 functions in 1.5 s; the longest: naap.replica.trees.build_tree 1.5 s" in out
    with pytest.raises(SystemExit) as stop:
        bench_cold_start.main(fake_bench(monkeypatch, tmp_path, "recompile"))
    assert stop.value.code == 1
    assert "pair 2: the warm run compiled naap.replica.trees.build_tree" in capsys.readouterr().out


def test_identical_outputs_pass(monkeypatch, tmp_path, capsys):
    bench_cold_start.main(fake_bench(monkeypatch, tmp_path, "same"))
    out = capsys.readouterr().out
    assert "cold and warm outputs byte-identical: yes" in out
    wall, cpu = (float(x) for x in out.split("cold / warm: ")[1].replace("x wall, ", " ").split("x CPU")[0].split())
    assert wall > 0 and cpu > 0
    # the floor is the best cold run's CPU seconds over the cores, printed beside them
    cold_cpu = float(out.split("best cold: ")[1].split(" s wall, ")[1].split(" s CPU")[0])
    floor = float(out.split(" cores: ")[1].split(" s wall")[0])
    assert floor == pytest.approx(cold_cpu / workers.available_cores(), abs=0.06)
    warm_wall, warm_cpu = (float(x) for x in out.split("best warm: ")[1].split(" s CPU")[0].split(" s wall, "))
    budget = float(out.split("so at most ")[1].split(" s of compile")[0])
    assert budget == pytest.approx(1.5 * warm_wall * workers.available_cores() - warm_cpu, abs=0.2)


def test_differing_files_names_changed_and_missing_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "figures").mkdir(parents=True)
        (folder / "same.csv").write_bytes(b"1,2\n")
    (a / "figures" / "x.png").write_bytes(b"\x89PNG1")
    (b / "figures" / "x.png").write_bytes(b"\x89PNG2")
    (a / "only_a.md").write_text("a")
    assert bench_cold_start.differing_files(a, b) == ["figures/x.png", "only_a.md"]
    assert bench_cold_start.differing_files(a, a) == []


def test_fresh_copy_is_the_code_without_caches(monkeypatch, tmp_path):
    root = tmp_path / "repo"
    for name in ("run_experiments.py", "models.py", "naap/__init__.py", "naap/replica/trees.py",
                 "naap/__pycache__/x.pyc", "naap/replica/__pycache__/trees.nbi", "__pycache__/models.pyc",
                 "naap440.csv", "results/results.csv"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    monkeypatch.setattr(bench_cold_start, "ROOT", root)
    copy = bench_cold_start.fresh_copy(tmp_path / "clone")
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()) == [
        "models.py", "naap/__init__.py", "naap/replica/trees.py", "run_experiments.py"]
    assert (copy / "naap" / "replica" / "trees.py").read_text() == "naap/replica/trees.py"
    cmd = bench_cold_start.run_command(copy, "d.csv", "o", 2, "paper", "e.tsv")
    assert cmd[1:4] == [str(bench_cold_start.RECORDER), "e.tsv", str(copy / "run_experiments.py")]
