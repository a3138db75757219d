"""naap.baselines.report: the best method per epoch count and its tie-breaks, the rounding of
baselines.csv, the --splits summary by hand, and the cells of baselines.md."""
import math

import pandas as pd
import pytest

from naap import protocol
from naap.baselines import report as baselines_report
from naap.baselines.run import COLUMNS


def row(method, epochs, tau, violations, mae=math.nan):
    return {"Method": method, "Epochs": epochs, "MAE": mae, "NumViolations": violations, "TiedPairs": 0,
            "MaxViolations": 780, "KendallTau": tau, "SpearmanRho": tau, "PrecisionAt5": 0.4, "PrecisionAt10": 0.5}


def test_compute_share_is_the_epochs_over_90():
    assert baselines_report.compute_share(0) == 0.0
    assert baselines_report.compute_share(9) == pytest.approx(0.1)
    assert baselines_report.compute_share(90) == 1.0


def test_baselines_frame_rounds_the_metric_floats_only():
    frame = baselines_report.baselines_frame([row("LCE", 3, 0.123456, 7, mae=0.0123449)])
    assert list(frame.columns) == COLUMNS
    r = frame.iloc[0]
    assert (r.KendallTau, r.MAE, r.NumViolations, r.Epochs) == (0.1235, 0.0123, 7, 3)


def test_best_rows_break_ties_by_violations_then_table_order():
    frame = pd.DataFrame([row("A", 3, 0.5, 10), row("B", 3, 0.7, 20), row("C", 3, 0.7, 15), row("D", 3, 0.7, 15),
                          row("E", 9, math.nan, 0), row("F", 9, -0.2, 50)], columns=COLUMNS)
    best = baselines_report.best_rows(frame)
    assert best["Method"].tolist() == ["C", "F"]  # fewest violations among the best tau; a NaN tau never wins
    assert list(best.columns) == COLUMNS


def test_splits_summary_by_hand():
    runs = pd.DataFrame([row("MACs", 0, 0.5, 10), row("MACs", 0, 0.7, 14),
                         row("LCE", 3, 0.2, 30, mae=0.01), row("LCE", 3, 0.4, 20, mae=0.03)], columns=COLUMNS)
    summary = baselines_report.splits_summary(runs).set_index("Method")
    assert summary.index.tolist() == ["MACs", "LCE"]  # the order of the runs
    macs, lce = summary.loc["MACs"], summary.loc["LCE"]
    assert (macs.Splits, macs.KendallTau_mean, macs.NumViolations_mean) == (2, 0.6, 12.0)
    assert macs.KendallTau_sd == pytest.approx(0.2 / math.sqrt(2), abs=1e-4)
    assert (macs.KendallTau_lo, macs.KendallTau_hi) == (0.505, 0.695)  # 2.5th, 97.5th
    assert math.isnan(macs.MAE_mean) and math.isnan(macs.MAE_sd) and math.isnan(macs.MAE_lo)
    assert lce.MAE_mean == pytest.approx(0.02)


def test_markdown_cells():
    paper = protocol.BASELINE_NAMES[0]
    frame = baselines_report.baselines_frame([row("Early stopping", 3, 0.61, 100), row("LCE", 3, 0.8, 60, mae=0.02),
                                              row(paper, 3, 0.7, 80, mae=0.01)])
    md = baselines_report.markdown(frame, 40, "No zero-cost proxies.")
    assert md.startswith("# Baselines on the official NAAP-440 split\n") and md.endswith("|\n")
    assert "40 test models in ground-truth order" in md and "No zero-cost proxies." in md
    assert "The regressors run at 3 epochs" in md
    assert f"| 3 | LCE | 0.800 | 0.800 | 60 / 780 | 0.4 | 0.5 | 0.020 | {paper} | 0.700 | 0.610 |" in md
    assert "| Early stopping | 3 |  | 100 / 780 | 0 | 0.610 | 0.610 | 0.4 | 0.5 |" in md  # a ranker: no MAE
