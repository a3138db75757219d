"""naap/paper2/report.py on hand-made search results whose answers are known: results.csv's rows in
visit order (held-out selection's test rows after each search's), best.md and best.tex with each
regressor's best subset (ties to the subset visited first) and its whole start set, and
read_results' refusals."""
import pandas as pd
import pytest

from naap import paper2
from naap.cli import InputError

FS = "Scheme"  # NumParams, NumMACs, NumLayers, NumStages, FirstLayerWidth, LastLayerWidth, NumSkipConnections,
# NumPartialRFLayers


def result(mae, violations, score, final):
    return dict(mae=mae, violations=violations, max_violations=190, score=score, final=final, pred=None)


WHOLE, BEST, TIED = (1,) * 8, (1, 1, 0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0, 0, 1)
RESULTS = {("dual_extrapolation", FS, "Linear Regression"): [
    (WHOLE, result(0.012345, 7, 0.96315789, 0.0024)),
    (BEST, result(0.0041, 3, 0.98421053, 0.0005)),
    (TIED, result(0.0039, 2, 0.98947368, 0.0005)),  # ties BEST's final score, visited later
]}
SIZES = {"dual_extrapolation": (200, 20)}


def test_results_table_lists_every_subset_in_visit_order():
    table = paper2.results_table(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"])
    assert list(table.columns) == ["Mode", "Model", "FeatureSetName", "Flags", "FeatureSubset", "MAE",
                                   "NumViolations", "MaxViolations", "MonotonicityScore", "FinalScore"]
    assert list(table.Flags) == ["11111111", "11000000", "10000001"]
    assert table.FeatureSubset[1] == "NumParams;NumMACs"
    assert table.FeatureSubset[2] == "NumParams;NumPartialRFLayers"
    assert (table.MAE[0], table.MonotonicityScore[0], table.NumViolations[0]) == (0.0123, 0.9632, 7)


def test_held_out_results_put_the_test_rows_after_each_search():
    tests = {("dual_extrapolation", FS, "Linear Regression"): {BEST: result(0.006, 5, 0.97, 0.001),
                                                               WHOLE: result(0.02, 9, 0.95, 0.004)}}
    table = paper2.results_table(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"], tests)
    assert list(table.ScoredOn) == ["validation"] * 3 + ["test"] * 2
    assert list(table.Flags[3:]) == ["11000000", "11111111"] and list(table.MAE[3:]) == [0.006, 0.02]
    md = paper2.best_markdown(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"], SIZES, tests)
    assert "Selected on: validation" in md
    assert "| Linear Regression | 0.006 / 0.970 / 5 |" in md  # the cells: the refit's test scores
    assert "| Linear Regression (all features) | 0.020 / 0.950 / 9 |" in md
    assert "| Linear Regression | Scheme | 0.001000 | 0.000500 | 2 of 8 | NumParams, NumMACs |" in md
    assert "40 validation rows" in md and "fitted on the other 160" in md


def test_best_markdown_and_latex_show_the_first_of_the_tied_best_subsets():
    md = paper2.best_markdown(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"], SIZES)
    assert "## dual_extrapolation" in md and "200 train / 20 test rows, 190 test pairs." in md
    assert "| Model | Scheme (100% Acceleration) |" in md
    assert "| Linear Regression | 0.004 / 0.984 / 3 |" in md  # BEST, visited before TIED
    assert "| Linear Regression (all features) | 0.012 / 0.963 / 7 |" in md
    assert "| Linear Regression | Scheme | 0.000500 | 2 of 8 | NumParams, NumMACs |" in md
    assert "Selected on" not in md
    tex = paper2.best_latex(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"], SIZES)
    assert r"\caption{dual\_extrapolation (200 train / 20 test rows)" in tex
    assert r"\label{tab:fs-dual_extrapolation}" in tex and r"Linear Regression & 0.004 / 0.984 / 3 \\" in tex
    assert paper2.summary(RESULTS, "interpolation", [FS], ["Linear Regression"]) == []  # no search: no table


def test_read_results_refuses_what_the_report_scripts_cannot_use(tmp_path):
    path = tmp_path / "results.csv"
    with pytest.raises(InputError, match="no such file"):
        paper2.read_results(path)
    table = paper2.results_table(RESULTS, ["dual_extrapolation"], [FS], ["Linear Regression"])
    table.to_csv(path, index=False)
    got = paper2.read_results(path)
    assert list(got.Flags) == ["11111111", "11000000", "10000001"]  # text, leading zeros and all
    with pytest.raises(InputError, match="missing column.s. ScoredOn"):
        paper2.read_results(path, held_out=True)
    table.assign(ScoredOn="validation").to_csv(path, index=False)
    with pytest.raises(InputError, match="held-out"):
        paper2.read_results(path, held_out=False)
    assert len(paper2.read_results(path, held_out=True)) == 3
    table.drop(columns=["FinalScore"]).to_csv(path, index=False)
    with pytest.raises(InputError, match="missing column.s. FinalScore"):
        paper2.read_results(path)
    path.write_bytes(b"\x00\xff\x00garbage\n\x01")
    with pytest.raises(InputError):
        paper2.read_results(path)
    assert paper2.MODE_LABEL["dual_extrapolation"] == "dual" and isinstance(got, pd.DataFrame)
