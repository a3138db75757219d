"""bench.costs_summary: its printed summary of a hand-made COSTS.csv (the numbers themselves are
naap.data.costs', tested in test_data_costs.py)."""
from conftest import run_script

# two logs side by side: model 1 from 10:00:00 for 30 + 40 s, model 2 from 10:00:20 for 50 + 10 s
COSTS = ("ModelId,Epoch,Start,TrainSeconds,TestSeconds\n"
         "1,1,20220901100000,20,10\n1,2,20220901100030,30,10\n2,1,20220901100020,40,10\n")


def test_summary_of_a_hand_made_costs_csv(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS)
    result = run_script("bench/costs_summary.py", path)
    assert result.returncode == 0, result.stderr
    assert "sum of the per-log durations: 120 s" in result.stdout
    assert "2022-09-01 10:00:00 to 2022-09-01 10:01:10 = 70 s" in result.stdout
    assert "sum / span: 1.71 trainings at once" in result.stdout


def test_a_costs_csv_it_cannot_use_is_one_line(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS.splitlines(True)[0])
    result = run_script("bench/costs_summary.py", path)
    assert result.returncode == 2 and result.stderr.strip() == f"error: {path}: no rows", result.stderr
