"""data_dir_to_csv.py: the published CSVs from the published logs, clear errors for bad logs, and
--costs: each epoch's train and test seconds, without changing the CSV."""
import csv
import errno
import os
import shutil
import sys
from datetime import datetime

import pytest
from conftest import fail_renames_to, run_script
from log_cases import TIMED, TIMED_SECONDS, write_timed_log

import data_dir_to_csv
from naap import files
from naap.cli import run_cli
from naap.data.columns import COST_COLUMNS

NUM_COPIED = 45  # fewer than 1.5 * 40 logs: too few for the default 40 bins


def published(ref_dir, name):
    return (ref_dir / name).read_bytes().replace(b"\r\n", b"\n")


@pytest.fixture(scope="module")
def converted(ref_dir, tmp_path_factory):
    """Both full conversions, run once as scripts on the published logs (read in place)."""
    out_dir = tmp_path_factory.mktemp("converted")
    results = {}
    for version in (1, 2):
        out = out_dir / f"v{version}.csv"
        results[version] = (run_script("data_dir_to_csv.py", ref_dir / "raw_data", out, "--version", version), out)
    return results


@pytest.mark.parametrize("version, published_name", [(1, "naap440.csv"), (2, "naap440v2.csv")])
def test_reproduces_published_csv(converted, ref_dir, version, published_name):
    result, out = converted[version]
    assert result.returncode == 0, result.stderr
    assert "440 rows (40 test)" in result.stdout
    assert out.read_bytes() == published(ref_dir, published_name)


@pytest.fixture
def logs(ref_dir, tmp_path):
    """A copy of the first NUM_COPIED logs (by ModelId) in tmp_path/raw."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(1, NUM_COPIED + 1):
        shutil.copyfile(ref_dir / "raw_data" / f"scheme_{i}.txt", raw / f"scheme_{i}.txt")
    return raw


def cli(capsys, *argv):
    """Run the script's main in-process (importing torch once is much cheaper than per test)."""
    try:
        run_cli(data_dir_to_csv.main, data_dir_to_csv.parse_args([str(a) for a in argv]))
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(capsys, out_csv, argv, *expected):
    code, _, err = cli(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], lines[0]
    assert not out_csv.exists()
    assert list(out_csv.parent.glob(f".{out_csv.name}*")) == []


def rewrite(path, edit):
    text = path.read_text()
    edited = edit(text)
    assert edited != text
    path.write_text(edited)


def cut_after_epoch(text, epoch):
    """The log up to and including epoch `epoch`'s test accuracy line."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if f" Epoch {epoch}, " in line)
    end = next(i for i in range(start, len(lines)) if " Test accuracy: " in lines[i])
    return "".join(lines[:end + 1])


def test_missing_dir_or_a_file(capsys, tmp_path):
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [tmp_path / "nowhere", out], "nowhere", "no such directory")
    (tmp_path / "a_file").write_text("")
    assert_refused(capsys, out, [tmp_path / "a_file", out], f"{tmp_path / 'a_file'}: not a directory")


def test_empty_dir_and_partial_logs_only(capsys, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [raw, out], str(raw), "no scheme_<ModelId>.txt logs")
    (raw / "scheme_5.txt.partial").write_text("20220901141247 Network scheme: [\n")
    (raw / "notes.txt").write_text("hello\n")
    assert_refused(capsys, out, [raw, out], str(raw), "no scheme_<ModelId>.txt logs")


def test_too_few_logs_for_bins(capsys, logs, tmp_path):
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out], f"{logs}: {NUM_COPIED} logs are too few for 40 test bins", "--test-bins")
    code, stdout, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert [int(r["ModelId"]) for r in rows] == list(range(1, NUM_COPIED + 1))
    num_test = sum(int(r["IsTest"]) for r in rows)
    # bin size round(45 / 10) = 4: the records sorted by accuracy at 2, 6, 10, ... are test rows
    assert num_test == 11
    assert f"{NUM_COPIED} rows ({num_test} test)" in stdout
    ranked = sorted(rows, key=lambda r: float(r["MaxAccuracy"]))
    assert [i for i, r in enumerate(ranked) if r["IsTest"] == "1"] == list(range(2, NUM_COPIED, 4))


def test_partial_log_files_are_ignored(capsys, logs, tmp_path):
    (logs / "scheme_46.txt.partial").write_text("20220901141247 Network scheme: [{\"kernel\n")
    (logs / "scheme_x.txt").write_text("not a log\n")
    out = tmp_path / "out.csv"
    code, stdout, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 0, err
    assert f"{NUM_COPIED} rows" in stdout


def test_log_truncated_mid_epoch(capsys, logs, tmp_path):
    text = (logs / "scheme_7.txt").read_text()
    (logs / "scheme_7.txt").write_text(text[:len(text) // 2])
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_7.txt")


def test_log_truncated_between_epochs(capsys, logs, tmp_path):
    rewrite(logs / "scheme_7.txt", lambda t: cut_after_epoch(t, 50))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_7.txt", "50 epochs", "have 90")


def test_log_with_epoch_missing_accuracy(capsys, logs, tmp_path):
    rewrite(logs / "scheme_8.txt", lambda t: t.replace(" Test accuracy: ", " Validation: ", 2))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_8.txt", "epoch 1 has no test accuracy")


def test_log_without_scheme_line(capsys, logs, tmp_path):
    rewrite(logs / "scheme_9.txt",
            lambda t: "".join(line for line in t.splitlines(True) if "Network scheme" not in line))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_9.txt", "no 'Network scheme:' line")


def test_log_without_params_line(capsys, logs, tmp_path):
    rewrite(logs / "scheme_9.txt", lambda t: "".join(line for line in t.splitlines(True) if "#params" not in line))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_9.txt", "#params")


def test_log_with_malformed_lines(capsys, logs, tmp_path):
    out = tmp_path / "out.csv"
    original = (logs / "scheme_3.txt").read_text()
    cases = [
        (lambda t: t.replace("Test accuracy: ", "Test accuracy: x", 1), "malformed number"),
        (lambda t: t.replace("Loss mean, median: ", "Loss mean, median: 1.0, ", 1), "malformed loss line"),
        (lambda t: t.replace("Epoch 2, LR", "Epoch 3, LR", 1), "expected 'Epoch 2"),
        (lambda t: "no timestamp here\n" + t, "no timestamp"),
        (lambda t: t.replace('"width": 12', '"width": 0', 1), "width must be positive"),
        (lambda t: t.replace('"kernel_size": 3', '"kernel_size": 3,', 1), "malformed network scheme"),
    ]
    for edit, message in cases:
        assert edit(original) != original
        (logs / "scheme_3.txt").write_text(edit(original))
        assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_3.txt", message)


def test_short_logs(capsys, logs, ref_dir, tmp_path):
    for path in logs.iterdir():
        rewrite(path, lambda t: cut_after_epoch(t, 3))
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, logs, out, "--version", 2, "--test-bins", 10)
    assert code == 0, err
    header = out.read_text().splitlines()[0].split(",")
    assert header[-1] == "e3Accuracy" and "e4LossMean" not in header
    assert header[:11] == ["ModelId", "IsTest", "NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth",
                           "LastLayerWidth", "NumSkipConnections", "NumPartialRFLayers", "MaxAccuracy"]
    with open(ref_dir / "naap440v2.csv", newline="") as f:
        full = {r["ModelId"]: r for r in csv.DictReader(f)}
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == NUM_COPIED
    for row in rows:
        ref = full[row["ModelId"]]
        # the first three epochs and the architecture columns are the published ones
        assert {k: v for k, v in row.items() if k not in ("IsTest", "MaxAccuracy")} == \
            {k: ref[k] for k in row if k not in ("IsTest", "MaxAccuracy")}
        assert float(row["MaxAccuracy"]) == max(float(ref[f"e{k}Accuracy"]) for k in (1, 2, 3))


def test_script_exit_status_and_no_output(logs, tmp_path):
    # one run through a real process: exit status 2 and a single stderr line
    out = tmp_path / "out.csv"
    result = run_script("data_dir_to_csv.py", logs, out)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {logs}: {NUM_COPIED} logs are too few for 40 test bins (need at least 60, or lower --test-bins)"]
    assert not out.exists()


# ---------------------------------------------------------------- hostile logs

HOSTILE_EDITS = {  # an edit of scheme_3.txt -> what the one error line must say
    "number cut short at the end": (lambda t: t.rstrip("\n")[:-1], "cut short (no newline at the end of the file)"),
    "accuracy above 1": (lambda t: t.replace("Test accuracy: 0.", "Test accuracy: 1.", 1),
                         "test accuracy 1.3282 is out of range (must be in 0..1)"),
    "negative accuracy": (lambda t: t.replace("Test accuracy: 0.", "Test accuracy: -0.", 1), "out of range"),
    "negative loss": (lambda t: t.replace("median: 1.", "median: -1.", 1), "loss -1.85901 is out of range"),
    "infinite accuracy": (lambda t: t.replace("Test accuracy: 0.3282", "Test accuracy: inf", 1),
                          "'inf' is not a finite number"),
    "digits with underscores": (lambda t: t.replace("Test accuracy: 0.3282", "Test accuracy: 0.32_82", 1),
                                "malformed number '0.32_82'"),
    "number with a trailing space": (lambda t: t.replace("Test accuracy: 0.3282", "Test accuracy: 0.3282 ", 1),
                                     "malformed number"),
    "line separator inside a number": (lambda t: t.replace("Test accuracy: 0.3282", "Test accuracy: 0.3\u2028282", 1),
                                       "malformed number"),
    "learning rate not a number": (lambda t: t.replace("LR: 0.1", "LR: fast", 1), "malformed number 'fast'"),
    "zero learning rate": (lambda t: t.replace("LR: 0.1", "LR: 0", 1), "learning rate 0 is out of range"),
    "a second scheme line": (lambda t: t.splitlines(True)[0] + t, "line 2: a second 'Network scheme:' line"),
    "a second #params line": (lambda t: t.replace("Training set", "Network #params: 1, #MACs: 2\n1 Training", 1),
                              "a second '#params' line"),
    "5000-digit #params": (lambda t: t.replace("#params: 3302", "#params: " + "9" * 5000, 1), "malformed #params line"),
    "scheme nested too deep": (lambda t: t.replace("Network scheme: [", "Network scheme: " + "[" * 100_000, 1),
                               "malformed network scheme (nested too deep)"),
    "scheme too large to build": (lambda t: t.replace('"width": 12', '"width": 1000000000000', 1), "models.MAX_WIDTH"),
    "non-ASCII digits in a timestamp": (lambda t: "\u0663" + t, "no timestamp"),
    # every reader of the CSV would refuse these (the log of NumParams, NumMACs; a number as text)
    "#params 0": (lambda t: t.replace("#params: 3302", "#params: 0", 1), "line 3: #params 0 is out of range"),
    "#MACs 0": (lambda t: t.replace("#MACs: 241504", "#MACs: 0", 1), "line 3: #MACs 0 is out of range"),
    "#params past int64": (lambda t: t.replace("#params: 3302", f"#params: {2 ** 63}", 1),
                           f"line 3: #params {2 ** 63} is out of range"),
}


@pytest.mark.parametrize("name", HOSTILE_EDITS)
def test_hostile_log_is_one_error_line(capsys, logs, tmp_path, name):
    edit, message = HOSTILE_EDITS[name]
    rewrite(logs / "scheme_3.txt", edit)
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_3.txt", message)


def make_fifo(path):
    os.mkfifo(path)


HOSTILE_FILES = {  # how RAW_DIR/scheme_46.txt (or another log name) is made -> the error
    "dangling symlink": ("scheme_46.txt", lambda p: p.symlink_to(p.with_name("gone.txt")), "dangling symbolic link"),
    "symlink loop": ("scheme_46.txt", lambda p: p.symlink_to(p.name), "symbolic links"),
    "directory": ("scheme_46.txt", lambda p: p.mkdir(), "is a directory, expected a training log"),
    "named pipe": ("scheme_46.txt", make_fifo, "not a regular file"),  # reading it would hang
    "ModelId 0": ("scheme_0.txt", lambda p: shutil.copyfile(p.with_name("scheme_5.txt"), p), "ModelId 0 has no scheme"),
    "leading zero": ("scheme_05.txt", lambda p: shutil.copyfile(p.with_name("scheme_5.txt"), p), "leading zero"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_log_names_that_are_not_logs_are_errors_not_skipped(capsys, logs, tmp_path, name):
    # skipping one of them silently would change the rows and so the split
    file_name, make, message = HOSTILE_FILES[name]
    make(logs / file_name)
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], file_name, message)


# ---------------------------------------------------------------- outputs

def test_output_that_is_an_input_is_refused(capsys, logs, tmp_path):
    before = {p.name: p.read_bytes() for p in logs.iterdir()}
    (tmp_path / "hard.csv").hardlink_to(logs / "scheme_2.txt")
    (tmp_path / "soft.csv").symlink_to(logs / "scheme_2.txt")
    for out, message in [(logs / "scheme_1.txt", "is an input of this run"),
                         (tmp_path / "hard.csv", "is " + str(logs / "scheme_2.txt") + " (a link or another name)"),
                         (tmp_path / "soft.csv", "(a link or another name), an input of this run"),
                         (logs, "holds " + str(logs / "scheme_1.txt")),
                         (logs / "scheme_46.txt", "named like a training log inside")]:
        code, _, err = cli(capsys, logs, out, "--test-bins", 10, "--force")
        assert code == 2 and err.count("\n") == 1 and f"error: {out}: " in err and message in err, err
    assert {p.name: p.read_bytes() for p in logs.iterdir()} == before


def test_existing_output_needs_force(capsys, logs, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("keep\n")
    code, _, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 2 and err == f"error: {out}: already exists (use --force to replace it)\n"
    assert out.read_text() == "keep\n"
    code, _, err = cli(capsys, logs, out, "--test-bins", 10, "--force")
    assert code == 0, err
    assert out.read_text().startswith("ModelId,IsTest,")


def test_output_that_appears_during_the_run_is_not_replaced(capsys, logs, tmp_path, monkeypatch):
    # two runs into the same OUT.csv started together: the one finishing second must not replace
    # the first one's file (the "exists" check at the start passed for both)
    out = tmp_path / "out.csv"
    records_to_csv = data_dir_to_csv.records_to_csv

    def other_run_finishes_first(records, version=1):
        out.write_text("the other run's CSV\n")
        return records_to_csv(records, version)

    monkeypatch.setattr(data_dir_to_csv, "records_to_csv", other_run_finishes_first)
    code, _, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 2 and err.count("\n") == 1 and f"error: {out}: " in err
    assert "already exists (use --force" in err or "appeared while this run was writing it" in err
    assert out.read_text() == "the other run's CSV\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "raw"]  # no temp file left


def test_unusable_outputs_are_one_line_and_leave_nothing(capsys, logs, tmp_path):
    (tmp_path / "a_file").write_text("")
    os.mkfifo(tmp_path / "pipe")
    for out, message in [(tmp_path / "a_file" / "out.csv", "cannot write (Not a directory)"),
                         (tmp_path / "pipe", "exists and is not a regular file"),
                         (f"{tmp_path}/new.csv/", "new.csv/: cannot write (names a directory, expected a file)"),
                         # the parent directories are made, then the name is too long: they go again
                         (tmp_path / "new" / "deeper" / ("x" * 256 + ".csv"), "cannot write (File name too long)")]:
        code, _, err = cli(capsys, logs, out, "--test-bins", 10, "--force")
        assert code == 2 and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "pipe", "raw"]


@pytest.mark.parametrize("argv, message", [
    (["--test-bins", "0"], "--test-bins 0: must be at least 1"),
    (["--test-bins", "4_0"], "--test-bins 4_0: not a whole number"),
    (["--version", "+1"], "argument --version: invalid choice: +1 (choose from 1, 2)"),
    (["--test-bins", "abc"], "--test-bins abc: not a whole number"),
    (["--version", "3"], "argument --version: invalid choice: 3 (choose from 1, 2)"),
])
def test_option_errors_are_one_line(capsys, tmp_path, argv, message):
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, tmp_path, out, *argv)
    assert code == 2 and err == f"error: {os.path.basename(sys.argv[0])}: {message}\n"
    assert not out.exists()


def test_control_characters_in_a_path_stay_on_one_line(capsys, tmp_path):
    raw = tmp_path / "raw\nerror: forged second line"
    code, _, err = cli(capsys, raw, tmp_path / "out.csv")
    assert code == 2 and err == f"error: {tmp_path}/raw\\nerror: forged second line: no such directory\n"


# ---------------------------------------------------------------- --costs

def test_costs_of_the_published_logs(converted, ref_dir, tmp_path):
    """With --costs: the same CSV bytes, and a COSTS.csv whose seconds add up to each log's span."""
    out, costs = tmp_path / "v1.csv", tmp_path / "costs.csv"
    result = run_script("data_dir_to_csv.py", ref_dir / "raw_data", out, "--costs", costs)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"440 rows (40 test) written to {out}",
                                          f"39600 rows (ModelId, epoch) of train and test seconds written to {costs}"]
    assert out.read_bytes() == converted[1][1].read_bytes() == published(ref_dir, "naap440.csv")
    with open(costs, newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == list(COST_COLUMNS)
        rows = [list(map(int, row)) for row in reader]
    assert [(r[0], r[1]) for r in rows] == [(m, e) for m in range(1, 441) for e in range(1, 91)]
    seconds = {}
    for model_id, _, _, train, test in rows:
        seconds[model_id] = seconds.get(model_id, 0) + train + test
    for model_id, total in seconds.items():
        lines = (ref_dir / "raw_data" / f"scheme_{model_id}.txt").read_text().splitlines()
        first = next(line for line in lines if " Epoch 1, " in line)[:14]
        last = [line for line in lines if " Test accuracy: " in line][-1][:14]
        span = datetime.strptime(last, "%Y%m%d%H%M%S") - datetime.strptime(first, "%Y%m%d%H%M%S")
        assert total == span.total_seconds(), model_id
    assert rows[0] == [1, 1, 20220901141252, 18, 4]  # scheme_1.txt: Epoch 1 at 14:12:52, loss 14:13:10, test 14:13:14


def timed_logs(tmp_path, stamps_of_3):
    """RAW_DIR with scheme_1.txt (TIMED's stamps) and scheme_2.txt (its epoch lines' stamps: stamps_of_3)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write_timed_log(raw / "scheme_1.txt")
    write_timed_log(raw / "scheme_2.txt", stamps_of_3)
    return raw


def test_costs_of_hand_made_logs(capsys, tmp_path):
    raw = timed_logs(tmp_path, TIMED)
    out, costs = tmp_path / "out.csv", tmp_path / "costs.csv"
    code, _, err = cli(capsys, raw, out, "--test-bins", 1, "--costs", costs)
    assert code == 0, err
    rows = [",".join(map(str, (m, e, *t))) for m in (1, 2) for e, t in enumerate(TIMED_SECONDS, 1)]
    assert costs.read_text() == "ModelId,Epoch,Start,TrainSeconds,TestSeconds\n" + "\n".join(rows) + "\n"
    plain = tmp_path / "plain.csv"
    code, _, err = cli(capsys, raw, plain, "--test-bins", 1)
    assert code == 0, err
    assert plain.read_bytes() == out.read_bytes()


def assert_costs_refused(capsys, tmp_path, raw, message, costs_name="costs.csv"):
    out, costs = tmp_path / "out.csv", tmp_path / costs_name
    assert_refused(capsys, out, [raw, out, "--test-bins", 1, "--costs", costs], message)
    assert not costs.exists() and list(tmp_path.glob(".costs*")) == []


@pytest.mark.parametrize("index, when, message", [
    (4, "20220902000019", "scheme_2.txt: line 10: time goes backwards (20220902000019 after 20220902000020 on line 9)"),
    (3, "20220931000020", "scheme_2.txt: line 9: malformed timestamp '20220931000020'"),
    (3, "2022090200002", "scheme_2.txt: line 9: malformed timestamp '2022090200002' (expected 14 digits"),
])
def test_bad_timestamps_are_refused_with_costs_only(capsys, tmp_path, index, when, message):
    stamps = list(TIMED)
    stamps[index] = when
    raw = timed_logs(tmp_path, stamps)
    assert_costs_refused(capsys, tmp_path, raw, message)
    # without --costs the timestamps are not read: the CSV is what it always was
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, raw, out, "--test-bins", 1)
    assert code == 0, err


def test_a_log_without_time_between_its_epochs_is_refused(capsys, tmp_path):
    # its COSTS.csv rows would all be 0 seconds, which every reader of COSTS.csv refuses
    raw = timed_logs(tmp_path, [TIMED[0]] * len(TIMED))
    assert_costs_refused(capsys, tmp_path, raw, "scheme_2.txt: line 6: all 3 epochs logged within one second")


def test_the_csv_of_the_largest_counts_taken_loads(capsys, logs, tmp_path):
    # a count the log reader takes must be one the dataset's loader takes too
    from naap.data.columns import LOG_COLUMNS
    from naap.data.load import load_dataset
    rewrite(logs / "scheme_3.txt", lambda t: t.replace("#params: 3302, #MACs: 241504",
                                                       f"#params: {2 ** 63 - 1}, #MACs: {2 ** 63 - 1}", 1))
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 0, err
    table = load_dataset(out, list(LOG_COLUMNS) + ["ModelId"])
    assert len(table) == NUM_COPIED and table["NumParams"].max() > 40  # log(2**63 - 1) = 43.7


def test_missing_timestamp_is_refused(capsys, tmp_path):
    raw = timed_logs(tmp_path, TIMED)
    rewrite(raw / "scheme_2.txt", lambda t: t.replace("20220902000015 Loss", "Loss", 1))
    assert_costs_refused(capsys, tmp_path, raw, "scheme_2.txt: line 7: malformed line (no timestamp)")


def test_costs_output_that_is_an_input_or_out_csv_is_refused(capsys, tmp_path):
    raw = timed_logs(tmp_path, TIMED)
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    out = tmp_path / "out.csv"
    out.write_text("keep\n")
    (tmp_path / "hard.csv").hardlink_to(out)
    for costs, message in [(out, "is also OUT.csv"),
                           (tmp_path / "." / "out.csv", "is also OUT.csv"),
                           (tmp_path / "hard.csv", "is also OUT.csv"),
                           (raw / "scheme_1.txt", "is an input of this run"),
                           (raw / "scheme_3.txt", "named like a training log inside")]:
        code, _, err = cli(capsys, raw, out, "--test-bins", 1, "--costs", costs, "--force")
        assert code == 2 and err.count("\n") == 1 and f"error: {costs}: " in err and message in err, err
    assert out.read_text() == "keep\n"
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before


def test_existing_costs_needs_force(capsys, tmp_path):
    raw = timed_logs(tmp_path, TIMED)
    (tmp_path / "costs.csv").write_text("keep\n")
    assert_refused(capsys, tmp_path / "out.csv", [raw, tmp_path / "out.csv", "--test-bins", 1,
                                                  "--costs", tmp_path / "costs.csv"], "already exists")
    assert (tmp_path / "costs.csv").read_text() == "keep\n"


# ---------------------------------------------------------------- OUT.csv and COSTS.csv: a pair

def full_disk_for_costs(monkeypatch):
    """The disk fills up while COSTS.csv's data reach it (OUT.csv's still fit)."""
    real_fsync = os.fsync

    def fsync(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".costs.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)


def costs_rename_fails(monkeypatch):
    """Renaming COSTS.csv into place fails (an I/O error), after OUT.csv's rename succeeded."""
    fail_renames_to(monkeypatch, "costs.csv")


FULL_DISK = (full_disk_for_costs, 1, "costs.csv: cannot write (No space left on device)")
RENAME_FAILS = (costs_rename_fails, 2, "costs.csv: cannot write (Input/output error)")


# without --force the renames never replace (rename_noreplace): the next test fails that one
@pytest.mark.parametrize("fail, status, message, old_pair", [(*FULL_DISK, False), (*FULL_DISK, True),
                                                             (*RENAME_FAILS, True)],
                         ids=["full disk, new pair", "full disk, --force over an old pair",
                              "rename fails, --force over an old pair"])
def test_out_csv_and_costs_csv_are_written_together_or_not_at_all(capsys, tmp_path, monkeypatch, fail, status,
                                                                  message, old_pair):
    raw = timed_logs(tmp_path, TIMED)
    out, costs = tmp_path / "out.csv", tmp_path / "costs.csv"
    if old_pair:
        out.write_text("the old CSV\n")
        costs.write_text("the old costs\n")
    fail(monkeypatch)
    code, _, err = cli(capsys, raw, out, "--test-bins", 1, "--costs", costs, *(["--force"] if old_pair else []))
    assert code == status and err.count("\n") == 1 and message in err, err
    if old_pair:  # neither replaced: no new OUT.csv beside the old COSTS.csv
        assert (out.read_text(), costs.read_text()) == ("the old CSV\n", "the old costs\n")
    expected = ["costs.csv", "out.csv", "raw"] if old_pair else ["raw"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no temp file, no kept old file
    monkeypatch.undo()
    code, _, err = cli(capsys, raw, out, "--test-bins", 1, "--costs", costs, "--force")
    assert code == 0, err
    assert out.read_text().startswith("ModelId,") and costs.read_text().startswith("ModelId,Epoch,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.csv", "out.csv", "raw"]


def test_costs_csv_that_appears_during_the_run_takes_out_csv_back(capsys, tmp_path, monkeypatch):
    # OUT.csv is already in place when another run's COSTS.csv turns up: OUT.csv must go again
    raw = timed_logs(tmp_path, TIMED)
    out, costs = tmp_path / "out.csv", tmp_path / "costs.csv"
    real_rename = files.rename_noreplace

    def other_run_writes_costs_first(src, dst):
        if os.path.basename(dst) == "costs.csv":
            assert out.exists()  # the case this test is about: the first of the pair is in place
            costs.write_text("the other run's costs\n")
        real_rename(src, dst)

    monkeypatch.setattr(files, "rename_noreplace", other_run_writes_costs_first)
    code, _, err = cli(capsys, raw, out, "--test-bins", 1, "--costs", costs)
    assert code == 2 and err.count("\n") == 1 and f"error: {costs}: appeared while this run was writing it" in err
    assert costs.read_text() == "the other run's costs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.csv", "raw"]
