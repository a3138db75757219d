"""naap/budget/report.py: budget.csv's means and intervals over the splits, the Pareto front, the
best cell within each budget and budget.md."""
import math

import numpy as np
import pandas as pd
import pytest

from naap import budget, uncertainty


def run(name, n, k, split, seconds, tau, mae=0.01):
    row = {c: math.nan for c in budget.RUN_COLUMNS}
    row.update(Predictor=name, TrainModels=n, Epochs=k, Split=split, GPUSeconds=seconds, KendallTau=tau, MAE=mae,
               RegretAt1=0.02)
    return row


RUNS = [run("A", 10, 0, s, 3600 * (1 + s), 0.5 + 0.1 * s) for s in (1, 2, 3)] + \
       [run("A", 10, 3, s, 7200, 0.4) for s in (1, 2, 3)] + \
       [run("B", 400, 3, s, 3600 * 60, 0.9, math.nan) for s in (1, 2, 3)]


def test_budget_frame_means_and_tau_interval_over_the_splits():
    frame = budget.budget_frame(RUNS)
    assert list(frame.columns) == budget.COLUMNS
    first = frame.iloc[0]
    assert (first.Predictor, first.TrainModels, first.Epochs, first.Splits) == ("A", 10, 0, 3)
    assert first.GPUHours == 3.0 and first.KendallTau == 0.7 and first.MAE == 0.01
    lo, hi = uncertainty.percentile_interval(np.array([0.6, 0.7, 0.8]))
    assert (first.KendallTauLow, first.KendallTauHigh) == (round(lo, 4), round(hi, 4))
    assert math.isnan(frame.iloc[2].MAE)  # NaN in every split: NaN, not 0


def test_pareto_front_and_best_within_a_budget():
    frame = pd.DataFrame({"Predictor": "A", "TrainModels": [10, 10, 25, 50], "Epochs": [0, 3, 0, 0],
                          "GPUHours": [1.0, 2.0, 3.0, 0.5], "KendallTau": [0.6, 0.5, 0.8, 0.6]})
    front = budget.pareto_front(frame)
    assert front["GPUHours"].tolist() == [0.5, 3.0]  # 1.0 h ties 0.5 h's tau; 2.0 h is worse
    best = dict(budget.best_within(frame, (0.25, 1, 5)))
    assert best[0.25] is None and best[1].GPUHours == 0.5 and best[5].KendallTau == 0.8


def test_markdown_names_the_best_per_budget_and_maps_each_predictor():
    text = budget.markdown(budget.budget_frame(RUNS), 40, 3.26)
    assert "divided by 3.26" in text and "| <= 100 | B | 400 | 3 | 60.00 | 0.900 [0.900, 0.900] | 0.020 |" in text
    assert "| <= 0.25 | (nothing this cheap) |" in text
    assert "## A" in text and "| 10 | 0.700 | 0.400 |" in text


def test_leaderboard_rows_by_tau_at_the_last_epoch_count():
    runs = [run("A", 400, k, s, 3600 * 60, 0.5 + k / 100) for k in (0, 9) for s in (1, 2)] + \
           [run("B", 400, k, s, 3600 * 60, 0.6 + k / 100) for k in (0, 9) for s in (1, 2)] + \
           [run("C", 0, 0, s, 0, 0.7) for s in (1, 2)] + [run("A", 10, 9, 1, 3600, 0.99)]  # n = 10: not shown
    text = budget.leaderboard(budget.budget_frame(runs), {"C": "baseline", "A": "paper 1", "B": "today"}, 400, (0, 9))
    lines = text.splitlines()
    assert lines[0] == "| Predictor | Kind | k = 0 | k = 9 | GPU h | Regret@1 |"
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["B", "A", "C"]  # C has no k = 9: by its best - 1
    assert lines[3] == "| A | paper 1 | 0.500 [0.500, 0.500] | 0.590 [0.590, 0.590] | 60.0 .. 60.0 | 0.020 |"
    assert lines[4] == "| C | baseline | 0.700 [0.700, 0.700] |  | 0.0 .. 0.0 | 0.020 |"


def test_break_even_against_early_stopping_of_the_same_tau():
    def row(name, n, k, hours, tau):
        return {"Predictor": name, "TrainModels": n, "Epochs": k, "GPUHours": hours, "KendallTau": tau}
    # 4 test models; early stopping: 0.1 h per model-epoch, tau 0.5, 0.7, 0.8 after 1, 2, 5 epochs
    frame = pd.DataFrame([row("P", 10, 1, 20.4, 0.75), row("P", 10, 0, 20.0, 0.4), row("Q", 20, 5, 42.0, 0.95),
                          row("Early stopping", 0, 1, 0.4, 0.5), row("Early stopping", 0, 2, 0.8, 0.7),
                          row("Early stopping", 0, 5, 2.0, 0.8), row("Train to the end", 0, 90, 36.0, 1.0)])
    (q, q_k, q_n), (p, p_k, p_n) = budget.break_even(frame, 4)  # fewest candidates first
    # P at k = 0 (tau 0.4): early stopping needs 1 epoch, 0.1 h a candidate: 20 h / 0.1 h = 200 candidates;
    # P at k = 1 (tau 0.75) needs 5: (20.4 - 0.4) h / ((2.0 - 0.4) h / 4) = 50 candidates: the sooner
    assert (p.Epochs, p_k) == (1, 5) and p_n == pytest.approx(50)
    # Q (tau 0.95) beats all of early stopping's taus: against training to the end, 90 epochs
    assert (q.Predictor, q_k) == ("Q", 90) and q_n == pytest.approx((42.0 - 2.0) / ((36.0 - 2.0) / 4))
