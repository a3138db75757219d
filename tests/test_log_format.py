"""naap.data.log_format: every published log is what the writer writes from the numbers the reader
takes back from it, the reader takes back what the writer wrote, and a log that is not whole is an
InputError naming the file and line (data_dir_to_csv.py's tests run the same through the script);
epoch_times: known timestamps give known seconds, every published log's seconds add up to its span,
and a malformed timestamp or time going backwards is an InputError naming the line."""
import re
from datetime import datetime, timedelta

import pytest
from conftest import SCHEMES
from log_cases import TIMED, TIMED_SECONDS, write_timed_log

from naap.cli import InputError
from naap.data import log_format as lf

EPOCHS = [(0.1, 2.1234567, 2.0, 0.25), (0.01, 1.5, 1.4999999, 0.5)]  # lr, loss mean, loss median, accuracy


def write_log(path, scheme=SCHEMES[9], epochs=EPOCHS):
    messages = lf.header_lines(scheme, "cpu", 2566, 231600)
    for k, epoch in enumerate(epochs, 1):
        messages += lf.epoch_lines(k, *epoch)
    path.write_text(lf.log_text([lf.stamp(m) for m in messages]))
    return path


def test_the_reader_takes_back_what_the_writer_wrote(tmp_path):
    path = write_log(tmp_path / lf.LOG_FILE.format(10))
    log = lf.read_log(path)
    assert {k: v for k, v in log.items() if k != "stamps"} == {
        "scheme": SCHEMES[9], "counts": (2566, 231600), "epochs": [[2.12346, 2.0, 0.25], [1.5, 1.5, 0.5]]}
    assert [[line_no for line_no, _ in epoch] for epoch in log["stamps"]] == [[6, 7, 8], [9, 10, 11]]
    text = path.read_text()
    assert text.endswith("\n") and all(re.fullmatch(r"\d{14} \S.*", line) for line in text.splitlines())
    assert lf.logged_epochs(text.splitlines()) == 2
    assert lf.LOG_NAME.fullmatch(path.name)[1] == "10"


def test_every_published_log_is_what_the_writer_writes(ref_dir):
    paths = sorted((ref_dir / "raw_data").glob("scheme_*.txt"))
    assert len(paths) == 440
    for path in paths:
        lines = lf.read_lines(path)
        assert all(re.fullmatch(r"\d{14}", line.partition(" ")[0]) for line in lines), path
        messages = [lf.unstamped(line) for line in lines]
        log = lf.read_log(path)
        lrs = [float(lf.EPOCH_PATTERN.fullmatch(m)[2]) for m in messages if m.startswith(lf.EPOCH_PREFIX)]
        device = messages[1].removeprefix(lf.DEVICE_LINE.format(""))
        expected = lf.header_lines(log["scheme"], device, *log["counts"])
        for k, (lr, epoch) in enumerate(zip(lrs, log["epochs"]), 1):
            expected += lf.epoch_lines(k, lr, *epoch)
        assert messages == expected, path


BROKEN = {  # an edit of a written log -> what the error says
    "cut short": (lambda t: t[:-1], "line 11: cut short (no newline at the end of the file)"),
    "no timestamp": (lambda t: "hello\n" + t, "line 1: malformed line (no timestamp)"),
    "second scheme line": (lambda t: t.splitlines(True)[0] + t, "line 2: a second 'Network scheme:' line"),
    "no scheme line": (lambda t: "".join(t.splitlines(True)[1:]), "no 'Network scheme:' line"),
    "bad scheme": (lambda t: t.replace('"width": 12', '"width": 0', 1),
                   "network scheme, layer 1: width must be positive"),
    "bad #params": (lambda t: t.replace("#params: 2566", "#params: x", 1), "line 3: malformed #params line"),
    "no #params": (lambda t: t.replace(" Network #params", " Network params", 1), "no 'Network #params: ..., #MACs"),
    "epoch skipped": (lambda t: t.replace("Epoch 2,", "Epoch 3,", 1), "line 9: expected 'Epoch 2, LR: ...'"),
    "no accuracy": (lambda t: t.replace("Test accuracy: 0.25", "Accuracy: 0.25", 1),
                    "line 9: epoch 1 has no test accuracy line"),
    "last epoch unfinished": (lambda t: "".join(t.splitlines(True)[:-1]), "epoch 2 is incomplete"),
    "no epochs": (lambda t: "".join(t.splitlines(True)[:5]), "no epochs logged"),
    "loss twice": (lambda t: t.replace("Test accuracy: 0.25", "Loss mean, median: 1, 1", 1),
                   "line 8: unexpected or malformed loss line"),
    "accuracy above 1": (lambda t: t.replace("accuracy: 0.25", "accuracy: 1.25", 1),
                         "line 8: test accuracy 1.25 is out of range (must be in 0..1)"),
    "negative learning rate": (lambda t: t.replace("LR: 0.1", "LR: -0.1", 1),
                               "learning rate -0.1 is out of range (must be above 0)"),
    "not a number": (lambda t: t.replace("median: 2.12346", "median: nan", 1), "loss 'nan' is not a finite number"),
    # the dataset's readers refuse NumParams or NumMACs of 0 (they take its log), so the reader does
    "no parameters": (lambda t: t.replace("#params: 2566", "#params: 0", 1), "line 3: #params 0 is out of range"),
    "no MACs": (lambda t: t.replace("#MACs: 231600", "#MACs: 000", 1), "line 3: #MACs 0 is out of range"),
    "more MACs than int64 holds": (lambda t: t.replace("#MACs: 231600", f"#MACs: {2 ** 64}", 1),
                                   f"line 3: #MACs {2 ** 64} is out of range"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_log_that_is_not_whole_is_refused(tmp_path, name):
    edit, message = BROKEN[name]
    path = write_log(tmp_path / "scheme_1.txt", scheme=SCHEMES[0])
    text = path.read_text()
    assert edit(text) != text
    path.write_text(edit(text))
    with pytest.raises(InputError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        lf.read_log(path)


def test_the_largest_count_taken_reads_back_as_a_number(tmp_path):
    # what the reader takes must be a number to pandas, which reads the dataset CSV made from it
    import io

    import pandas as pd
    path = write_log(tmp_path / "scheme_1.txt")
    path.write_text(path.read_text().replace("#params: 2566", f"#params: {2 ** 63 - 1}", 1))
    params, _ = lf.read_log(path)["counts"]
    assert params == 2 ** 63 - 1
    column = pd.read_csv(io.StringIO(f"NumParams\n{params}\n1\n"))["NumParams"]
    assert pd.api.types.is_integer_dtype(column) and column[0] == params
    path.write_text(path.read_text().replace(f"#params: {params}", f"#params: {10 ** 20}", 1))
    with pytest.raises(InputError, match="#params 100000000000000000000 is out of range"):
        lf.read_log(path)
    assert not pd.api.types.is_numeric_dtype(pd.read_csv(io.StringIO(f"NumParams\n{10 ** 20}\n"))["NumParams"])


def test_a_log_that_cannot_be_read(tmp_path):
    """One line naming the log and the problem (naap.input_files.input_error), never an OSError."""
    loop = tmp_path / "scheme_2.txt"
    loop.symlink_to(loop.name)
    (tmp_path / "scheme_3.txt").mkdir()
    for name, message in [("scheme_1.txt", "no such file"),
                          ("scheme_2.txt", "cannot read (Too many levels of symbolic links)"),
                          ("scheme_3.txt", "is a directory, expected a training log")]:
        with pytest.raises(InputError, match=re.escape(f"{tmp_path / name}: {message}")):
            lf.read_log(tmp_path / name)


def test_a_log_that_is_not_text(tmp_path):
    path = tmp_path / "scheme_1.txt"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not a text log"):
        lf.read_log(path)


# ---------------------------------------------------------------- epoch_times

def test_known_timestamps_give_known_seconds(tmp_path):
    path = write_timed_log(tmp_path / "scheme_1.txt")
    times = lf.epoch_times(lf.read_log(path), path)
    assert times == TIMED_SECONDS
    span = 43  # 23:59:58 to 00:00:41
    assert sum(train + test for _, train, test in times) == span


def test_every_published_logs_seconds_add_up_to_its_span(ref_dir):
    paths = sorted((ref_dir / "raw_data").glob("scheme_*.txt"))
    assert len(paths) == 440
    for path in paths:
        log = lf.read_log(path)
        times = lf.epoch_times(log, path)
        assert len(times) == len(log["epochs"]) == 90, path
        first, last = (datetime.strptime(s, lf.STAMP_FORMAT) for s in (log["stamps"][0][0][1], log["stamps"][-1][2][1]))
        assert sum(train + test for _, train, test in times) == (last - first).total_seconds(), path
        assert all(train > 0 and test > 0 for _, train, test in times), path
        # each epoch starts where the one before ended
        for (start, train, test), (next_start, _, _) in zip(times, times[1:]):
            moment = datetime.strptime(start, lf.STAMP_FORMAT) + timedelta(seconds=train + test)
            assert moment.strftime(lf.STAMP_FORMAT) == next_start, path


BAD_TIMES = {  # the index in TIMED, its new timestamp -> what the error says (line = 6 + index)
    "time going backwards": (4, "20220902000019", "line 10: time goes backwards (20220902000019 after "
                                                  "20220902000020 on line 9)"),
    "backwards across midnight": (0, "20220902000016", "line 7: time goes backwards (20220902000015 after "
                                                       "20220902000016 on line 6)"),
    "eight digits": (2, "20220902", "line 8: malformed timestamp '20220902' (expected 14 digits"),
    "no such month": (3, "20221302000020", "line 9: malformed timestamp '20221302000020'"),
    "no such day": (3, "20220931000020", "line 9: malformed timestamp '20220931000020'"),
    "fifteen digits": (8, "202209020000410", "line 14: malformed timestamp '202209020000410'"),
}


@pytest.mark.parametrize("name", BAD_TIMES)
def test_bad_timestamps_are_refused(tmp_path, name):
    index, when, message = BAD_TIMES[name]
    stamps = list(TIMED)
    stamps[index] = when
    path = write_timed_log(tmp_path / "scheme_1.txt", stamps)
    log = lf.read_log(path)  # the reader takes any digits; only the costs need real times
    with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
        lf.epoch_times(log, path)


def test_a_log_whose_epochs_all_fall_in_one_second_has_no_costs(tmp_path):
    # every cost of it would be 0, which naap.data.costs refuses; one such epoch is fine (TIMED's third)
    path = write_timed_log(tmp_path / "scheme_1.txt", [TIMED[0]] * len(TIMED))
    log = lf.read_log(path)
    with pytest.raises(InputError) as e:
        lf.epoch_times(log, path)
    assert str(e.value) == f"{path}: line 6: all 3 epochs logged within one second ({TIMED[0]}): no time to measure"
