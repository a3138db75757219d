"""naap/budget/inputs.py: --regressors parsed, the predictors' table (today's and the hybrid with
their own columns, a plug-in name clash refused), and one-line refusals of inputs it cannot use."""
import pytest

from naap import budget, protocol
from naap.budget import inputs
from naap.cli import InputError
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID, hybrid_columns


def test_parse_regressors():
    assert inputs.parse_regressors("all") == list(protocol.BASELINE_NAMES)
    assert inputs.parse_regressors("none") == []
    assert inputs.parse_regressors("9-NN, Decision Tree,9-NN") == ["9-NN", "Decision Tree"]
    with pytest.raises(InputError, match="--regressors: 'Tree' is not one of paper 1's regressors"):
        inputs.parse_regressors("9-NN,Tree")


@pytest.fixture(scope="module")
def loaded(ref_dir, costs_csv):
    return inputs.load_inputs(ref_dir / "naap440.csv", costs_csv, None, 400)


def test_load_inputs(loaded, ref_dir, costs_csv):
    table, seconds, concurrency, proxies, data = loaded
    assert len(table) == len(seconds) == 440 and proxies == [] and len(data) == 2
    assert data[0] == (ref_dir / "naap440.csv").read_bytes() and data[1] == costs_csv.read_bytes()
    assert 3 < concurrency < 4  # the authors ran up to 4 trainings at once
    assert all(len(s) == 90 for s in seconds.values())
    with pytest.raises(InputError, match="401"):
        inputs.load_inputs(ref_dir / "naap440.csv", costs_csv, None, 401)


def test_predictor_table(loaded):
    table = loaded[0]
    predictors = inputs.predictor_table(table, ["9-NN"], True, [], ["zen"], budget.map_columns)
    assert list(predictors) == ["9-NN", *TODAY, HYBRID]
    assert predictors["9-NN"][0] is protocol.own_regressors(protocol.DEFAULT_ESTIMATORS)["9-NN"]
    assert predictors[HYBRID][1](9) == hybrid_columns(9, ["zen"]) and predictors["XGBoost"][1](9) == \
        budget.map_columns(9)
    with pytest.raises(InputError, match="--predictor XGBoost: the name is one of the map's own predictors"):
        inputs.predictor_table(table, [], True, ["XGBoost=examples/xgboost_predictor.py:make"], [], budget.map_columns)
    with pytest.raises(InputError, match="nothing to map"):
        inputs.predictor_table(table, [], False, [], [], budget.map_columns)
