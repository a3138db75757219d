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
    assert list(extended.columns) == protocol.RESULT_COLUMNS + protocol.RANK_COLUMNS + protocol.QUALITY_COLUMNS
    assert extended["KendallTau"].tolist() == [0.3333, -1.0, 1.0, -0.3333]
    assert extended["PrecisionAt5"].isna().all()  # 3 test rows: no top 5
    # A on Scheme predicts [0.1, 0.3, 0.2] for truths [0.1, 0.2, 0.3]: it picks the 0.2 model first
    assert extended["RegretAt1"].tolist() == [0.1, 0.2, 0.0, 0.1]
    assert extended["RMSE"].iloc[2] == 0.0 and extended["PearsonR"].iloc[2] == 1.0
    assert extended["NLL"].isna().all() and extended["Coverage90"].isna().all()  # no predictive deviations


def test_quality_scores_of_a_predictive_distribution_and_of_a_ranking():
    truth = np.array([0.5, 0.6, 0.7])
    scores = protocol.quality_scores(np.array([0.5, 0.7, 0.6]), truth, std=np.array([0.1, 0.1, 0.1]))
    assert list(scores) == protocol.QUALITY_COLUMNS
    assert scores["Coverage90"] == 1.0  # every error (0, 0.1, 0.1) is within 1.645 sd
    z = np.array([0.0, 1.0, 1.0])
    assert np.isclose(scores["NLL"], np.mean(0.5 * np.log(2 * np.pi * 0.01) + z * z / 2))
    ranking = protocol.quality_scores(np.array([3.0, 1.0, 2.0]), truth, accuracy=False)
    assert np.isnan(ranking["RMSE"]) and np.isnan(ranking["PearsonR"])  # a score is not an accuracy
    assert np.isclose(ranking["RegretAt1"], 0.2) and np.isnan(ranking["RegretAt5"])  # 3 rows: no top 5


def test_markdown_table():
    table = protocol.markdown_table(protocol.results_frame(RESULTS))
    assert table.splitlines() == [
        "Each cell: MAE / Monotonicity Score / #Violations (of 3 test pairs), median of 5 seeds.", "",
        "| Model | 100% Acceleration | 90% Acceleration |", "| --- | --- | --- |",
        "| A | 0.012 / 0.667 / 1 | 0.100 / 0.000 / 3 |", "| B | 0.500 / 1.000 / 0 | 0.250 / 0.333 / 2 |"]


def test_slug():
    assert protocol.slug("Random Forest (N=25)") == "random_forest_n_25"
