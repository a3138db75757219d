"""naap/budget/inputs.py: --regressors parsed, the predictors' table (today's and the hybrid with
their own columns, a plug-in name clash refused), and one-line refusals of inputs it cannot use."""
import os
import threading
import time

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
    for empty in ("", " , "):  # an unset shell variable is not 'none'
        with pytest.raises(InputError, match="--regressors .*: no name"):
            inputs.parse_regressors(empty)


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


@pytest.mark.parametrize("name", ["Early stopping", "MACs", "train to the end", "XGBoost", HYBRID, "9-nn"])
def test_a_plugin_named_like_a_ranker_or_an_unmapped_predictor_is_refused(loaded, name):
    # with --no-today and no regressor, today's predictors are not mapped: their names stay taken
    with pytest.raises(InputError, match=f"--predictor {name}: the name is one of the map's own"):
        inputs.predictor_table(loaded[0], [], False, [f"{name}=tests/plugin_cases.py:make"], [], budget.map_columns)


def test_a_fractional_model_id_is_refused(ref_dir, costs_csv, tmp_path):
    text = (ref_dir / "naap440.csv").read_text().splitlines(True)
    first = text[1].split(",", 1)
    (tmp_path / "d.csv").write_text("".join([text[0], f"{first[0]}.5,{first[1]}", *text[2:]]))
    with pytest.raises(InputError, match=f"d.csv: ModelId {first[0]}.5 is not a whole number"):
        inputs.load_inputs(tmp_path / "d.csv", costs_csv)


def test_a_zero_cost_csv_is_read_once(loaded, ref_dir, costs_csv, tmp_path):
    table = loaded[0]
    ids = table["ModelId"].astype(int)
    text = "ModelId,MACs,#params,synflow,logsynflow,zen,l2_norm\n" + "".join(
        f"{m},{i + 1},{i + 2},{i + 3},{i + 4},{i + 5},{i + 6}\n" for i, m in enumerate(ids))
    fifo = tmp_path / "zc.csv"
    os.mkfifo(fifo)  # a pipe, as --zero-cost <(...) gives: it can be read once only

    stop = threading.Event()

    def write():
        fifo.write_text(text)
        while not stop.is_set():  # a second read finds the pipe empty, as a shell's would, instead of waiting
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader now
                pass
            time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        _, _, _, proxies, data = inputs.load_inputs(ref_dir / "naap440.csv", costs_csv, fifo)
    finally:
        stop.set()
    writer.join()
    assert proxies == ["MACs", "#params", "synflow", "logsynflow", "zen", "l2_norm"] and len(data) == 3
