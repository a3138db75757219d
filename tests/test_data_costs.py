"""naap/data/costs.py: the summed durations, the wall-time span and the concurrency of a COSTS.csv,
each model's GPU seconds per epoch, and one-line errors for a COSTS.csv it cannot use."""
from datetime import datetime

import pytest

from naap.cli import InputError
from naap.data import costs
from naap.data.columns import NUM_EPOCHS_TOTAL

# two logs running side by side: model 1 from 10:00:00 for 30 + 40 s, model 2 from 10:00:20 for 50 + 10 s
COSTS = ("ModelId,Epoch,Start,TrainSeconds,TestSeconds\n"
         "1,1,20220901100000,20,10\n1,2,20220901100030,30,10\n"
         "2,1,20220901100020,40,10\n")


def test_summary_of_a_hand_made_costs_csv(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS)
    rows = costs.read_costs(path)
    assert costs.summary(rows) == {"models": 2, "rows": 3, "train_s": 90, "test_s": 30, "sum_s": 120,
                                   "first": datetime(2022, 9, 1, 10), "last": datetime(2022, 9, 1, 10, 1, 10),
                                   "span_s": 70}
    assert costs.concurrency(rows) == 120 / 70


def full_costs(models, seconds):
    """A COSTS.csv of `models` trained one after another, every epoch `seconds` of training and 1 of test."""
    lines, t = ["ModelId,Epoch,Start,TrainSeconds,TestSeconds"], datetime(2022, 9, 1)
    for m in models:
        for e in range(1, NUM_EPOCHS_TOTAL + 1):
            lines.append(f"{m},{e},{t:%Y%m%d%H%M%S},{seconds(m, e)},1")
            t = t.fromtimestamp(t.timestamp() + seconds(m, e) + 1)
    return "\n".join(lines) + "\n"


def test_gpu_seconds_of_models_run_one_at_a_time_are_their_log_seconds(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(full_costs([3, 5], lambda m, e: m + e))
    factor, per_model = costs.gpu_seconds(path, [5])
    assert factor == 1.0 and list(per_model) == [5]
    assert per_model[5] == [5 + e + 1 for e in range(1, NUM_EPOCHS_TOTAL + 1)]


def test_gpu_seconds_divide_by_the_concurrency(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS)
    rows = costs.read_costs(path)
    assert costs.concurrency(rows) == pytest.approx(120 / 70)
    with pytest.raises(InputError, match=f"{path}: no row for ModelId 2 epoch 2 "):
        costs.gpu_seconds(path, [2])


@pytest.mark.parametrize("text, message", [
    ("ModelId,Epoch,Start,TrainSeconds\n1,1,20220901100000,20\n", "no column TestSeconds"),
    (COSTS.replace("20220901100030", "2022-09-01"), "line 3: malformed timestamp '2022-09-01'"),
    (COSTS.replace("20220901100030", "2022\u0660901100030"), "line 3: malformed timestamp"),  # an Arabic-Indic 0
    (COSTS.replace("20220901100030", "2022091100030"), "line 3: malformed timestamp '2022091100030'"),
    (COSTS.replace(",10\n2,", ",x\n2,"), "line 3: malformed row"),
    (COSTS.replace(",30,10\n", ",-30,10\n"), "line 3: negative seconds"),
    (COSTS.splitlines(True)[0], "no rows"),
    (COSTS + "1,2,20220901100100,5,5\n", "line 5: a second row for ModelId 1 epoch 2 \\(the first on line 3\\)"),
    (COSTS.replace("2,1,", "2,0,"), "line 4: Epoch 0 outside 1..90"),
    (COSTS.replace("2,1,", "2,91,"), "line 4: Epoch 91 outside 1..90"),
    (COSTS.replace(",40,10\n", f",{10 ** 15},10\n"), "line 4: seconds out of range"),
    (COSTS.replace("2,1,", "0,1,"), "line 4: ModelId 0 is below 1"),
    (COSTS.replace(",40,10\n", ",40\n"), "line 4: malformed row \\(4 fields, the header has 5\\)"),
    (COSTS.replace(",40,10\n", ",40,10,5\n"), "line 4: malformed row \\(6 fields, the header has 5\\)"),
    (COSTS.replace(",10\n2,", "," + "9" * 200_000 + "\n2,"),
     "not a readable CSV \\(field larger than field limit"),
])
def test_a_costs_csv_it_cannot_use_is_one_error(tmp_path, text, message):
    path = tmp_path / "costs.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=f"{path}: {message}"):
        costs.read_costs(path)


@pytest.mark.parametrize("column", ["ModelId", "Epoch", "TrainSeconds", "TestSeconds"])
@pytest.mark.parametrize("text", ["1_0", " 2", "2 ", "+18", "\u0663", "\uff11", "2.0", "1e1", ""])
def test_numbers_must_be_plain_ascii_digits(tmp_path, column, text):
    # int() takes all of these but the last three; a COSTS.csv written by data_dir_to_csv.py has none
    header, first, *rest = COSTS.splitlines(True)
    fields = first.rstrip("\n").split(",")
    fields[header.rstrip("\n").split(",").index(column)] = text
    path = tmp_path / "costs.csv"
    path.write_text("".join([header, ",".join(fields) + "\n", *rest]))
    with pytest.raises(InputError) as e:
        costs.read_costs(path)
    assert str(e.value) == f"{path}: line 2: malformed row ({column} {text!r} is not a whole number in ASCII digits)"


@pytest.mark.parametrize("column", ["ModelId", "TrainSeconds", "TestSeconds", "Start"])
def test_a_column_named_twice_is_refused(tmp_path, column):
    # csv.DictReader would keep the last of the two, and every cost would change unnoticed
    header, *rows = COSTS.splitlines()
    path = tmp_path / "costs.csv"
    path.write_text("\n".join([f"{header},{column}"] + [f"{row},7" for row in rows]) + "\n")
    with pytest.raises(InputError) as e:
        costs.read_costs(path)
    assert str(e.value) == f"{path}: column {column} appears more than once in the header"


def test_a_utf8_bom_is_taken(tmp_path):
    # spreadsheet programs write one; the dataset CSV's reader (pandas) takes it as well
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_text(COSTS)
    bom.write_bytes(b"\xef\xbb\xbf" + COSTS.encode())
    assert costs.read_costs(bom) == costs.read_costs(plain)
    assert costs.read_costs(bom, content=bom.read_bytes()) == costs.read_costs(plain)
    assert [r.model for r in costs.read_costs(bom)] == [1, 1, 2]


def test_costs_of_zero_seconds_are_refused(tmp_path):
    # timestamps that never move are no measurement: every cost of the model would be 0
    path = tmp_path / "costs.csv"
    path.write_text(full_costs([3, 5], lambda m, e: 0).replace(",1\n", ",0\n"))
    with pytest.raises(InputError) as e:
        costs.gpu_seconds(path, [3, 5])
    assert str(e.value) == f"{path}: every TrainSeconds and TestSeconds is 0 (no training takes no time)"
    lines = full_costs([3, 5], lambda m, e: 1 if m == 3 else 0).splitlines(True)
    first_of_5 = 1 + NUM_EPOCHS_TOTAL + 1  # the header, model 3's rows, then model 5's first
    path.write_text("".join(lines[:first_of_5 - 1] + [line.replace(",1\n", ",0\n") for line in lines[first_of_5 - 1:]]))
    with pytest.raises(InputError) as e:
        costs.gpu_seconds(path, [3])
    assert str(e.value) == f"{path}: line {first_of_5}: every epoch of ModelId 5 took 0 seconds " \
                           "(no training takes no time)"
    # a single epoch of 0 seconds is real (all its lines logged within one second)
    path.write_text(COSTS.replace(",20,10\n", ",0,0\n"))
    assert costs.read_costs(path)[0].train == 0
