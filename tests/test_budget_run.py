"""naap/budget/run.py: a task's rows equal the protocol on the split's first n train models, the
rankers' rows, the task order and the scores."""
import numpy as np
import pytest

import metrics
from naap import budget, protocol, uncertainty
from naap.data import MODEL_ID, NUM_EPOCHS_TOTAL, TEST_FLAG, features_at
from naap.data.costs import gpu_seconds
from naap.data.load import load_dataset, split
from naap.predictors.hybrid import with_curve_features


@pytest.fixture(scope="module")
def inputs(ref_dir, costs_csv):
    columns = list(dict.fromkeys(features_at(NUM_EPOCHS_TOTAL) + features_at(0)))
    table = load_dataset(ref_dir / "naap440.csv", columns + [MODEL_ID])
    _, seconds = gpu_seconds(costs_csv, table[MODEL_ID].astype(int).tolist())
    return table, seconds


def test_a_task_is_the_protocol_on_the_first_n_train_models_of_its_split(inputs):
    table, seconds = inputs
    own = protocol.own_regressors("paper")
    predictors = {"9-NN": (own["9-NN"], budget.map_columns), "Linear Regression": (own["Linear Regression"],
                                                                                    budget.map_columns)}
    budget.setup(table, seconds, predictors, "paper", sizes=(10, 50))
    task, rows = budget.run_task((2, 30))
    assert task == (2, 30) and [(r["Predictor"], r["TrainModels"]) for r in rows] == [
        ("9-NN", 10), ("Linear Regression", 10), ("9-NN", 50), ("Linear Regression", 50)]
    table2 = uncertainty.split_table(table, 2)
    X_train, y_train, X_test, y_test = split(table2, budget.map_columns(30))
    train_ids = table2.loc[table2[TEST_FLAG] == 0, MODEL_ID].to_numpy()
    test_ids = table2.loc[table2[TEST_FLAG] == 1, MODEL_ID].to_numpy()
    for r in rows:
        sub = budget.train_subset(len(y_train), 2, r["TrainModels"])
        pred = protocol.evaluate([r["Predictor"]], X_train[sub], y_train[sub], X_test, y_test)[r["Predictor"]]["pred"]
        assert r["KendallTau"] == metrics.kendall_tau(pred, y_test) and r["MAE"] == metrics.mae(pred, y_test)
        assert r["RegretAt1"] == metrics.regret_at_k(pred, y_test, 1)
        expected = sum(sum(seconds[m]) for m in train_ids[sub]) + sum(sum(seconds[m][:30]) for m in test_ids)
        assert r["GPUSeconds"] == pytest.approx(expected, rel=1e-12) and r["Split"] == 2 and r["Epochs"] == 30


def test_ranker_rows(inputs):
    table, seconds = inputs
    table = with_curve_features(table, (0, 9))
    rows = budget.ranker_rows(table, seconds, 1, epochs=(0, 9))
    names = [r["Predictor"] for r in rows]
    assert names == [*budget.SIZE_RANKERS] + [budget.EARLY_STOPPING] * NUM_EPOCHS_TOTAL + [
        budget.SOTL, budget.SOTL_E, budget.LCE, budget.TO_THE_END]
    assert all(r["TrainModels"] == 0 for r in rows)
    end = rows[-1]
    assert end["KendallTau"] == 1.0 and end["MAE"] == 0.0 and end["RegretAt1"] == 0.0
    test = uncertainty.split_table(table, 1)
    test = test[test[TEST_FLAG] == 1]
    assert end["GPUSeconds"] == pytest.approx(sum(sum(seconds[m]) for m in test[MODEL_ID]), rel=1e-12)
    early = [r for r in rows if r["Predictor"] == budget.EARLY_STOPPING]
    assert [r["Epochs"] for r in early] == list(range(1, NUM_EPOCHS_TOTAL + 1))
    assert early[8]["KendallTau"] == metrics.kendall_tau(test["e9Accuracy"], test["MaxAccuracy"])
    by_name = {r["Predictor"]: r for r in rows if r["Epochs"] == 9}
    assert by_name[budget.SOTL_E]["KendallTau"] == metrics.kendall_tau(-test["e9LossMean"], test["MaxAccuracy"])
    assert by_name[budget.LCE]["MAE"] == metrics.mae(test["LCE@9"], test["MaxAccuracy"])
    assert np.isnan(by_name[budget.SOTL]["MAE"])  # a score, not an accuracy
    assert np.isnan(rows[0]["MAE"]) and np.isnan(rows[0]["RMSE"])  # MACs ranks; it predicts no accuracy


def test_tasks_costliest_first_and_scores():
    assert budget.tasks_of(2, (0, 3, 90)) == [(1, 90), (2, 90), (1, 3), (2, 3), (1, 0), (2, 0)]
    y = np.array([0.5, 0.6, 0.7])
    s = budget.scores(np.array([0.5, 0.7, 0.6]), y, std=np.array([0.1, 0.1, 0.1]))
    assert list(s) == budget.METRIC_COLUMNS
    assert s["RegretAt1"] == pytest.approx(0.1) and s["Coverage90"] == 1.0 and s["KendallTau"] == pytest.approx(1 / 3)
