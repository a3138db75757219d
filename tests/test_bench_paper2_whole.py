"""bench/bench_paper2_whole.py: one timed run from nothing, its figures checked, and the record
written only when the run and every figure pass; the record renders as the docs' block."""
import json
import sys

import pytest

from bench import bench_paper2_whole, update_docs
from bench.docs_blocks import record_text
from naap.cli import InputError

# stand in for feature_selection.py (writes OUT/results.csv with 3 rows, or fails) and for the
# figure check (writes published_figures.csv beside it: Agrees per figure)
FAKE_RUN = """
import sys
from pathlib import Path
out = Path(sys.argv[1])
if sys.argv[2] == "fail":
    sys.exit(3)
out.mkdir()
(out / "results.csv").write_text("Mode,Model\\ninterpolation,a\\ninterpolation,b\\ninterpolation,c\\n")
"""
FAKE_CHECK = """
import sys
from pathlib import Path
agrees = sys.argv[2].split(",")
rows = "".join(f"interpolation,m{i},{a}\\n" for i, a in enumerate(agrees))
(Path(sys.argv[1]) / "published_figures.csv").write_text("Mode,Model,Agrees\\n" + rows)
"""


@pytest.fixture
def bench(monkeypatch, tmp_path):
    record = tmp_path / "paper2.json"
    record.write_text(record_text({"runs": {}, "blocks": {}, "whole-run": {"old": True}}))
    monkeypatch.setattr(bench_paper2_whole, "RECORD", record)

    def run(run="ok", agrees="True,True", extra=()):
        monkeypatch.setattr(bench_paper2_whole, "run_command",
                            lambda dataset, out, jobs: [sys.executable, "-c", FAKE_RUN, str(out), run])
        monkeypatch.setattr(bench_paper2_whole, "check_command",
                            lambda out: [sys.executable, "-c", FAKE_CHECK, str(out), agrees])
        dataset = tmp_path / "naap440v2.csv"
        dataset.write_text("")
        bench_paper2_whole.main(bench_paper2_whole.parse_args([str(dataset), str(tmp_path / "out"), *extra]))
        return json.loads(record.read_text())
    return run


def test_a_passing_run_is_recorded_and_renders_as_the_block(bench, capsys):
    rec = bench(extra=["--record"])["whole-run"]
    out = capsys.readouterr().out
    assert "run: exit status 0" in out and "3 subsets scored; 2 of 2 published figures agree" in out
    (segment,) = rec["segments"]
    assert segment["segment"] == bench_paper2_whole.SEGMENT and segment["subsets"] == 3
    assert segment["figures"] == [2, 2] and segment["wall"].endswith(" s")
    body = update_docs.whole_run_body({"whole-run": rec})
    assert f"| {bench_paper2_whole.SEGMENT} | 3 | 2 of 2 | {segment['wall']} |" in body and "**all**" not in body
    # a run measured in two parts also gets their sums
    two = dict(rec, segments=[segment, dict(segment, segment="rest", subsets=4, figures=[1, 3])])
    assert "| **all** | **7** | **3 of 5** | | |" in update_docs.whole_run_body({"whole-run": two})


@pytest.mark.parametrize("run, agrees, code", [("fail", "True", 3), ("ok", "True,False", 1)])
def test_a_failed_run_or_a_disagreeing_figure_records_nothing(bench, run, agrees, code):
    with pytest.raises(SystemExit) as stop:
        bench(run, agrees, ["--record"])
    assert stop.value.code == code
    assert json.loads(bench_paper2_whole.RECORD.read_text())["whole-run"] == {"old": True}


def test_without_record_nothing_is_written(bench):
    assert bench()["whole-run"] == {"old": True}


@pytest.mark.parametrize("existing", ["out", ".out.resume"])
def test_a_run_that_could_resume_is_refused(bench, tmp_path, existing):
    (tmp_path / existing).mkdir()
    with pytest.raises(InputError, match="a whole run starts from nothing"):
        bench()


def test_durations_read_as_the_docs_write_them():
    assert [bench_paper2_whole.hours_minutes_seconds(s) for s in (8470.4, 282, 28, 3600)] == [
        "2 h 21 min 10 s", "4 min 42 s", "28 s", "1 h 0 min 0 s"]
