"""bench.costs_summary: the summed durations and the wall-time span of a COSTS.csv, and one-line
errors for a COSTS.csv it cannot use."""
from datetime import datetime

import pytest
from conftest import run_script

from bench import costs_summary
from naap.cli import InputError

# two logs running side by side: model 1 from 10:00:00 for 30 + 40 s, model 2 from 10:00:20 for 50 + 10 s
COSTS = ("ModelId,Epoch,Start,TrainSeconds,TestSeconds\n"
         "1,1,20220901100000,20,10\n1,2,20220901100030,30,10\n"
         "2,1,20220901100020,40,10\n")


def test_summary_of_a_hand_made_costs_csv(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS)
    s = costs_summary.summary(costs_summary.read_costs(path))
    assert s == {"models": 2, "rows": 3, "train_s": 90, "test_s": 30, "sum_s": 120,
                 "first": datetime(2022, 9, 1, 10), "last": datetime(2022, 9, 1, 10, 1, 10), "span_s": 70}
    result = run_script("bench/costs_summary.py", path)
    assert result.returncode == 0, result.stderr
    assert "sum of the per-log durations: 120 s" in result.stdout
    assert "2022-09-01 10:00:00 to 2022-09-01 10:01:10 = 70 s" in result.stdout
    assert "sum / span: 1.71 trainings at once" in result.stdout


@pytest.mark.parametrize("text, message", [
    ("ModelId,Epoch,Start,TrainSeconds\n1,1,20220901100000,20\n", "no column TestSeconds"),
    (COSTS.replace("20220901100030", "2022-09-01"), "line 3: malformed row"),
    (COSTS.replace(",10\n2,", ",x\n2,"), "line 3: malformed row"),
    (COSTS.splitlines(True)[0], "no rows"),
])
def test_a_costs_csv_it_cannot_use_is_one_error(tmp_path, text, message):
    path = tmp_path / "costs.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=f"{path}: {message}"):
        costs_summary.read_costs(path)
