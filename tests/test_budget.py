"""budget.py end to end on the published data: its outputs, resuming after SIGTERM from the
journal to the same bytes, and one-line refusals of bad input."""
import signal
import sys

import pandas as pd
import pytest
from conftest import ROOT, message_lines, run_script, signal_when_started

from naap import budget
from naap.data import NUM_EPOCHS_TOTAL

# a plug-in that is k-NN with a pause in every fit: slow enough to be stopped between tasks
SLOW_PLUGIN = """
import time
from sklearn.neighbors import KNeighborsRegressor

class Slow(KNeighborsRegressor):
    def fit(self, X, y):
        time.sleep(0.02)
        return super().fit(X, y)

def make():
    return Slow(n_neighbors=5)
"""


def quick(ref_dir, costs_csv, out, *extra):
    return [ref_dir / "naap440.csv", costs_csv, out, "--splits", "2", "--regressors", "9-NN", "--no-today",
            "--jobs", "1", "--no-progress", *extra]


@pytest.fixture(scope="module")
def mapped(ref_dir, costs_csv, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("budget")
    (tmp / "slow.py").write_text(SLOW_PLUGIN)
    result = run_script("budget.py", *quick(ref_dir, costs_csv, tmp / "out", "--predictor", "Slow=slow.py:make"),
                        cwd=tmp)
    assert result.returncode == 0, result.stderr
    return tmp


def test_outputs(mapped):
    out = mapped / "out"
    frame = pd.read_csv(out / "budget.csv")
    assert list(frame.columns) == budget.COLUMNS
    cells = len(budget.GRID_TRAIN_SIZES) * len(budget.GRID_EPOCHS)
    assert (frame["Predictor"] == "9-NN").sum() == (frame["Predictor"] == "Slow").sum() == cells
    assert (frame["Predictor"] == budget.EARLY_STOPPING).sum() == NUM_EPOCHS_TOTAL
    assert (frame["Splits"] == 2).all()
    end = frame[frame["Predictor"] == budget.TO_THE_END].iloc[0]
    assert end["KendallTau"] == 1.0
    # more train models cost more; the costliest cell trains 400 models fully and 40 for 90 epochs
    knn = frame[frame["Predictor"] == "9-NN"].set_index(["TrainModels", "Epochs"])
    assert knn.loc[(10, 0), "GPUHours"] < knn.loc[(400, 0), "GPUHours"] < knn.loc[(400, 90), "GPUHours"]
    assert knn.loc[(400, 90), "GPUHours"] > end["GPUHours"] * 10
    curve_rows = 3 * (len(budget.GRID_EPOCHS) - 1)  # SoTL, SoTL-E, LCE at each k > 0
    per_split = 2 * cells + len(budget.SIZE_RANKERS) + NUM_EPOCHS_TOTAL + curve_rows + 1
    assert len(pd.read_csv(out / "budget_runs.csv")) == 2 * per_split
    assert {p.name for p in (out / "heatmaps").iterdir()} == {"9_nn.png", "slow.png"}
    assert (out / "pareto.png").stat().st_size > 0 and "## 9-NN" in (out / "budget.md").read_text()
    assert not (mapped / ".out.resume").exists()  # a completed map deletes its journal


def test_a_stopped_map_resumes_to_the_same_bytes(mapped, ref_dir, costs_csv):
    cmd = [sys.executable, str(ROOT / "budget.py"), *map(str, quick(ref_dir, costs_csv, mapped / "again",
                                                                    "--predictor", "Slow=slow.py:make"))]
    resume = mapped / ".again.resume"
    code, stderr = signal_when_started(cmd, mapped, lambda _: any(resume.glob("*/task_*.pkl")))
    assert code == 128 + signal.SIGTERM and not (mapped / "again").exists(), stderr
    assert len(message_lines(stderr)) == 1, stderr
    result = run_script("budget.py", *cmd[2:], cwd=mapped)
    assert result.returncode == 0, result.stderr
    assert "resuming: " in result.stdout and " of 12 tasks already done" in result.stdout
    for name in ("budget.csv", "budget_runs.csv", "budget.md"):
        assert (mapped / "again" / name).read_bytes() == (mapped / "out" / name).read_bytes(), name


@pytest.mark.parametrize("change, message", [
    (["--regressors", "9-NN,Bogus"], "--regressors: 'Bogus' is not one of paper 1's regressors"),
    (["--splits", "0"], "--splits"),
    (["--jobs", "x"], "--jobs"),
])
def test_bad_options_are_one_line(ref_dir, costs_csv, tmp_path, change, message):
    result = run_script("budget.py", *quick(ref_dir, costs_csv, tmp_path / "out"), *change)
    assert result.returncode == 2 and message in result.stderr and len(message_lines(result.stderr)) == 1, \
        result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_inputs_are_one_line(ref_dir, costs_csv, tmp_path):
    short = tmp_path / "costs.csv"
    short.write_text("".join(costs_csv.read_text().splitlines(True)[:-1]))  # the last epoch of one model gone
    result = run_script("budget.py", *quick(ref_dir, short, tmp_path / "out"))
    assert result.returncode == 2 and f"{short}: no row for ModelId" in result.stderr, result.stderr
    result = run_script("budget.py", *quick(ref_dir, costs_csv, costs_csv))
    assert result.returncode == 2 and len(message_lines(result.stderr)) == 1, result.stderr
    # an OUT_DIR under a regular file: refused where its journal cannot be made, before the curve fits
    (tmp_path / "file").write_text("")
    result = run_script("budget.py", *[a for a in quick(ref_dir, costs_csv, tmp_path / "file" / "out")
                                       if a != "--no-progress"])
    assert result.returncode == 2 and f"{tmp_path / 'file'}/.out.resume" in result.stderr, result.stderr
    assert "fitting LCE" not in result.stdout and len(message_lines(result.stderr)) == 1, result.stderr
    assert not list(tmp_path.glob(".out*"))


def test_without_out_dir_the_best_per_budget_table_is_printed(ref_dir, costs_csv, tmp_path):
    result = run_script("budget.py", ref_dir / "naap440.csv", costs_csv, "--splits", "1", "--regressors", "9-NN",
                        "--no-today", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| Budget (GPU h) | Best |" in result.stdout and "| <= 100 |" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written, no journal
