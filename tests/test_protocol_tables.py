"""naap/protocol/tables.py: results.csv rows rounded as published, the README's Markdown table,
and file-name slugs."""
import numpy as np

from naap import protocol


def run(mae, violations, score, pred):
    return dict(pred=np.array(pred), mae=mae, violations=violations, max_violations=3, score=score, seed=1)


RESULTS = {"Scheme": {"A": run(0.012345, 1, 0.666666, [0.1, 0.3, 0.2]), "B": run(0.5, 0, 1.0, [0.1, 0.2, 0.3])},
           "Scheme + Quantitative 9 epochs": {"A": run(0.1, 3, 0.0, [0.3, 0.2, 0.1]),
                                              "B": run(0.25, 2, 1 / 3, [0.2, 0.3, 0.1])}}


def test_results_frame_rows_in_table_order_rounded_as_published():
    frame = protocol.results_frame(RESULTS)
    assert list(frame.columns) == protocol.RESULT_COLUMNS
    assert [(r.Model, r.Features) for r in frame.itertuples()] == [
        ("A", "Scheme"), ("A", "Scheme + Quantitative 9 epochs"),
        ("B", "Scheme"), ("B", "Scheme + Quantitative 9 epochs")]
    assert frame["MeanAbsoluteError"].tolist() == [0.0123, 0.1, 0.5, 0.25]
    assert frame["MonotonicityScore"].tolist() == [0.6667, 0.0, 1.0, 0.3333]
    extended = protocol.results_frame(RESULTS, y_tests={f: np.array([0.1, 0.2, 0.3]) for f in RESULTS})
    assert list(extended.columns) == protocol.RESULT_COLUMNS + protocol.RANK_COLUMNS
    assert extended["KendallTau"].tolist() == [0.3333, -1.0, 1.0, -0.3333]
    assert extended["PrecisionAt5"].isna().all()  # 3 test rows: no top 5


def test_markdown_table():
    table = protocol.markdown_table(protocol.results_frame(RESULTS))
    assert table.splitlines() == [
        "Each cell: MAE / Monotonicity Score / #Violations (of 3 test pairs), median of 5 seeds.", "",
        "| Model | 100% Acceleration | 90% Acceleration |", "| --- | --- | --- |",
        "| A | 0.012 / 0.667 / 1 | 0.100 / 0.000 / 3 |", "| B | 0.500 / 1.000 / 0 | 0.250 / 0.333 / 2 |"]


def test_slug():
    assert protocol.slug("Random Forest (N=25)") == "random_forest_n_25"
