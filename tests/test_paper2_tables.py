"""The paper-2 report scripts (bench/paper2_leaders.py, bench/paper2_heldout.py) on hand-made
results.csv files whose answers are known: ties go to the subset visited first within a search
and to the first regressor in protocol order between searches; held-out picks are the validation
rows' best, reported with their test rows."""
import pandas as pd
import pytest
from conftest import run_script

from bench import paper2_heldout as heldout_script
from bench import paper2_leaders as leaders_script

COLUMNS = ["Mode", "Model", "FeatureSetName", "Flags", "MAE", "NumViolations", "FinalScore"]


def rows(*items, scored_on=None):
    frame = pd.DataFrame([dict(zip(COLUMNS, item)) for item in items])
    if scored_on is not None:
        frame["ScoredOn"] = scored_on
    return frame


MODE, FS = "left_extrapolation", "Scheme"
TEST_RUN = rows(
    # SVR (Linear kernel): the whole set first, then two subsets tied at 0.002: the first visited wins
    (MODE, "SVR (Linear kernel)", FS, "11111111", 0.03, 40, 0.009),
    (MODE, "SVR (Linear kernel)", FS, "01111111", 0.02, 20, 0.002),
    (MODE, "SVR (Linear kernel)", FS, "00111111", 0.01, 20, 0.002),
    # Linear Regression ties SVR's best at 0.002: protocol order puts it first
    (MODE, "Linear Regression", FS, "11111111", 0.05, 50, 0.02),
    (MODE, "Linear Regression", FS, "11000000", 0.04, 30, 0.002),
)


def test_leaders_break_ties_by_visit_then_protocol_order():
    (mode, fs, names, best, whole), = leaders_script.leaders(TEST_RUN)
    assert (mode, fs) == (MODE, FS)
    assert names == ["Linear Regression", "SVR (Linear kernel)"]  # PAPER2_NAMES order, not file order
    assert best["Flags"] == "11000000" and whole["Linear Regression"]["Flags"] == "11111111"
    text = leaders_script.markdown(leaders_script.leaders(TEST_RUN))
    assert "| left | Scheme | Linear Regression (tied: SVR (Linear kernel)) | 2 of 8 | 0.0400 | 30 | 0.002000 " \
           "| 0.0500 / 50 |" in text
    # within SVR's search the first of the two tied subsets is its best
    (_, _, _, svr_best, _), = leaders_script.leaders(TEST_RUN[TEST_RUN["Model"] == "SVR (Linear kernel)"])
    assert svr_best["Flags"] == "01111111"


def test_heldout_reports_the_validation_pick_with_its_test_scores():
    val_run = rows(
        (MODE, "Linear Regression", FS, "11111111", 0.05, 50, 0.02),
        (MODE, "Linear Regression", FS, "10000000", 0.01, 5, 0.001),  # validation's best
        (MODE, "Linear Regression", FS, "10000000", 0.06, 70, 0.03),  # ... its refit on test
        (MODE, "Linear Regression", FS, "11111111", 0.05, 50, 0.02),
        scored_on=["validation", "validation", "test", "test"])
    found = heldout_script.picks(TEST_RUN, val_run)
    assert list(found) == [(MODE, FS, "Linear Regression")]  # SVR has no validation run: left out
    test_pick, chosen, tested = found[(MODE, FS, "Linear Regression")]
    assert test_pick["Flags"] == "11000000"
    assert chosen["Flags"] == "10000000" and chosen["FinalScore"] == 0.001
    assert (tested["Flags"], tested["MAE"], tested["NumViolations"]) == ("10000000", 0.06, 70)
    report = heldout_script.report(found)
    assert "| left | Scheme | Linear Regression | 0.0400 / 30 / 0.002000 | 2 of 8 | 0.0600 / 70 / 0.030000 " \
           "| 1 of 8 |" in report
    assert "Best per mode" in report and "| left | Scheme | Linear Regression (2 of 8) |" in report


@pytest.mark.parametrize("script, make_args, message", [
    ("paper2_leaders.py", lambda t, v: [v], "held-out"),
    ("paper2_heldout.py", lambda t, v: [v, t], "--select-on validation run"),
    ("paper2_heldout.py", lambda t, v: [t, t], "missing column(s) ScoredOn"),
])
def test_wrong_results_files_are_one_line(tmp_path, script, make_args, message):
    test_csv, val_csv = tmp_path / "test.csv", tmp_path / "val.csv"
    TEST_RUN.to_csv(test_csv, index=False)
    TEST_RUN.assign(ScoredOn="validation").to_csv(val_csv, index=False)
    done = run_script(f"bench/{script}", *make_args(test_csv, val_csv), "--out", tmp_path / "out.md")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "out.md").exists()
