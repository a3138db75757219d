"""bench.leaderboard: a user's plug-in gets its row beside the others by the same command, the
kinds of the rows, and its output file refused where it is an input, a directory or empty, before
the run."""
from conftest import message_lines, run_script

from bench import leaderboard
from naap import budget, protocol
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID

PLUGIN = """
from sklearn.linear_model import Ridge

def make():
    return Ridge(alpha=1.0)
"""


def test_a_plugin_gets_its_row(ref_dir, costs_csv, tmp_path):
    (tmp_path / "mine.py").write_text(PLUGIN)
    out = tmp_path / "board.md"
    result = run_script("bench/leaderboard.py", ref_dir / "naap440.csv", costs_csv, "--splits", "1",
                        "--regressors", "9-NN", "--no-today", "--predictor", f"Mine={tmp_path / 'mine.py'}:make",
                        "--out", out, "--no-progress")
    assert result.returncode == 0 and result.stdout == "", result.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.read_text().splitlines()[2:]}
    assert rows["Mine"] == leaderboard.KIND_PLUGIN and rows["9-NN"] == leaderboard.KIND_PAPER
    assert rows["Early stopping"] == rows["MACs"] == leaderboard.KIND_BASELINE
    assert budget.TO_THE_END not in rows
    assert all(len(line.split("|")) == 10 for line in out.read_text().splitlines())
    result = run_script("bench/leaderboard.py", ref_dir / "naap440.csv", costs_csv, "--out", costs_csv)
    assert result.returncode == 2 and len(message_lines(result.stderr)) == 1, result.stderr


def test_kinds_of_the_rows():
    kinds = leaderboard.kinds_of(["9-NN", *TODAY, HYBRID, "Mine"])
    assert kinds["9-NN"] == leaderboard.KIND_PAPER and kinds[HYBRID] == leaderboard.KIND_HYBRID
    assert all(kinds[name] == leaderboard.KIND_TODAY for name in TODAY) and kinds["Mine"] == leaderboard.KIND_PLUGIN
    assert [name for name, kind in kinds.items() if kind == leaderboard.KIND_BASELINE] == [
        n for n in budget.RANKERS if n != budget.TO_THE_END]
    assert protocol.BASELINE_NAMES[0] not in kinds


def test_an_output_it_cannot_write_is_refused_before_the_run(ref_dir, costs_csv, tmp_path):
    # the full leaderboard takes many minutes: a refusal within the timeout comes before the run
    for out, line in ((tmp_path, f"error: {tmp_path}: cannot write (is a directory)"),
                      ("", "error: --out: an empty path; name a file")):
        result = run_script("bench/leaderboard.py", ref_dir / "naap440.csv", costs_csv, "--out", out, timeout=120)
        assert result.returncode == 2 and message_lines(result.stderr) == [line], result.stderr
        assert list(tmp_path.iterdir()) == []
    mine = tmp_path / "board.md"
    mine.write_text("mine")
    result = run_script("bench/leaderboard.py", ref_dir / "naap440.csv", costs_csv, "--out", mine, timeout=120)
    assert result.returncode == 2 and message_lines(result.stderr) == [
        f"error: {mine}: already exists (use --force to replace it)"], result.stderr
    assert mine.read_text() == "mine"
