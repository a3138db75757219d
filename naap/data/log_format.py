"""The NAAP-440 training log: the lines a log holds, written by the training and read back here.

A log RAW_DIR/scheme_<ModelId>.txt is one line per event, each "<timestamp> <message>\\n", the
timestamp time.strftime(STAMP_FORMAT) (14 digits). The messages, in order:

    Network scheme: <the scheme as json.dumps writes it>           SCHEME_LINE
    Network has been init on device <device>                        DEVICE_LINE
    Network #params: <params>, #MACs: <MACs>                        COUNTS_LINE
    Training set is ready                                           READY_LINES
    Ready to start training
    then per epoch K = 1, 2, ...:
    Epoch K, LR: <lr, %g>                                           EPOCH_LINE
    Loss mean, median: <mean>, <median> (rounded to 5 decimals)     LOSS_LINE
    Test accuracy: <correct / test images>                          ACCURACY_LINE

The writer (stamp, header_lines, epoch_lines, log_text) is what naap.training writes; the reader
(read_log) is what data_dir_to_csv.py distils the dataset from. The published logs are in this
format with CRLF line endings, which the reader takes too; the writer writes LF. Light on purpose
(no numpy or torch): data_dir_to_csv.py imports it.

The cost of an epoch (epoch_times): its seconds of wall time in the log, from the timestamps of
its lines. With E_K, L_K, A_K the timestamps of epoch K's "Epoch K", "Loss mean" and "Test
accuracy" lines, and A_0 = E_1:

    TrainSeconds of epoch K = L_K - A_(K-1)     the training pass (the loss line closes it)
    TestSeconds of epoch K  = A_K - L_K         the test pass (the accuracy line closes it)

so the epochs partition a log's time: its seconds add up exactly to A_last - E_1. The training
writes "Epoch K" just after the accuracy line of epoch K - 1 (the same second in 39155 of the
published 39160 cases, one second later in 5): that gap, the work between two epochs, is counted
as training of epoch K. Timestamps have a resolution of one second (truncated, local time of the
machine that trained, no time zone), so each figure is good to about +-1 s while the sums are
exact; a DST change inside a log would show as a jump (none in the release: 2022-09-01 to -04).
Only epoch_times checks the timestamps (14 digits that make a date and time, never going back
from one epoch line to the next); read_log takes any digits, as before.

Example: python -c "from naap.data import log_format as f; print(f.read_log('raw_data/scheme_1.txt')['counts'])"
"""
import json
import math
import re
import time
from datetime import datetime
from pathlib import Path

from naap.cli import InputError
from naap.data.schemes import validate_scheme
from naap.input_files import input_error

LOG_FILE = "scheme_{}.txt"  # the complete log of a ModelId
LOG_NAME = re.compile(r"scheme_([0-9]+)\.txt")
STAMP_FORMAT = "%Y%m%d%H%M%S"
STAMP = re.compile(r"[0-9]+")  # what the reader takes as a timestamp
STAMP_DIGITS = 14  # what epoch_times takes: STAMP_FORMAT's length

# The lines: each prefix tells the reader which line it has, each format is what the writer fills in.
SCHEME_PREFIX = "Network scheme: "
COUNTS_PREFIX = "Network #params"
EPOCH_PREFIX = "Epoch "
LOSS_PREFIX = "Loss mean, median: "
ACCURACY_PREFIX = "Test accuracy: "
SCHEME_LINE = SCHEME_PREFIX + "{}"
DEVICE_LINE = "Network has been init on device {}"
COUNTS_LINE = COUNTS_PREFIX + ": {}, #MACs: {}"
READY_LINES = ("Training set is ready", "Ready to start training")
EPOCH_LINE = EPOCH_PREFIX + "{}, LR: {:g}"
LOSS_LINE = LOSS_PREFIX + "{}, {}"
ACCURACY_LINE = ACCURACY_PREFIX + "{}"
LOGGED_LOSS_DECIMALS = 5

# How the reader takes the numbers back (bounded, so a hostile log cannot make it parse huge ints).
COUNTS_PATTERN = re.compile(r"Network #params: ([0-9]{1,30}), #MACs: ([0-9]{1,30})")
MAX_COUNT = 2 ** 63 - 1  # the largest #params or #MACs taken: any int64 reads back as a number
EPOCH_PATTERN = re.compile(r"Epoch ([0-9]{1,9}), LR: (\S+)")
# a plain decimal as Python writes floats; float() alone would also take "1_0", " 1", "infinity"
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
NON_FINITE = re.compile(r"[-+]?(?:nan|inf|infinity)", re.IGNORECASE)


# ---------------------------------------------------------------- the writer

def stamp(message):
    """The line of a message: the local time now, then the message."""
    return f"{time.strftime(STAMP_FORMAT)} {message}"


def unstamped(line):
    """The message of a line (its timestamp cut off)."""
    return line.partition(" ")[2]


def scheme_line(scheme):
    return SCHEME_LINE.format(json.dumps(scheme))


def header_lines(scheme, device, params, macs):
    """The messages before the first epoch."""
    return [scheme_line(scheme), DEVICE_LINE.format(device), COUNTS_LINE.format(params, macs), *READY_LINES]


def epoch_lines(epoch, lr, mean, median, accuracy):
    """The messages of one epoch: its learning rate, the mean and median batch loss, the test accuracy."""
    return [EPOCH_LINE.format(epoch, lr),
            LOSS_LINE.format(round(mean, LOGGED_LOSS_DECIMALS), round(median, LOGGED_LOSS_DECIMALS)),
            ACCURACY_LINE.format(accuracy)]


def log_text(lines):
    """The file text of stamped lines: every line ends with a newline, the last one too."""
    return "".join(f"{line}\n" for line in lines)


def logged_epochs(lines):
    """How many epoch lines the stamped lines hold."""
    return sum(line.split(" ")[1:2] == [EPOCH_PREFIX.strip()] for line in lines)


# ---------------------------------------------------------------- the reader

def _number(text, path, line_no, what, low, high=math.inf, low_open=False):
    """float(text), which must be a plain decimal in low..high (above low if low_open)."""
    if NON_FINITE.fullmatch(text):
        raise InputError(f"{path}: line {line_no}: {what} {text[:30]!r} is not a finite number")
    if not NUMBER.fullmatch(text):
        raise InputError(f"{path}: line {line_no}: malformed number {text[:30]!r}")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{path}: line {line_no}: {what} {text[:30]!r} is not a finite number")
    if value < low or value > high or (low_open and value == low):
        bounds = f"{'above' if low_open else 'at least'} {low:g}" if high == math.inf else f"in {low:g}..{high:g}"
        raise InputError(f"{path}: line {line_no}: {what} {text[:30]} is out of range (must be {bounds})")
    return value


def read_lines(path):
    """The lines of a whole log (without their line endings); InputError if it cannot be read or its
    last line was cut short."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text log") from None
    except OSError as e:
        raise input_error(path, e, "training log") from None
    # split on newlines only: str.splitlines would also split inside a line at \x0c, \x1c, \u2028, ...
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines[-1]:
        # every line a training writes ends with a newline: this one was cut short, maybe mid-number
        raise InputError(f"{path}: line {len(lines)}: cut short (no newline at the end of the file): "
                         f"{lines[-1][-60:]!r}")
    return lines[:-1]


def _read_scheme(log, msg, path, line_no):
    if log["scheme"] is not None:
        raise InputError(f"{path}: line {line_no}: a second 'Network scheme:' line")
    try:
        scheme = json.loads(msg[len(SCHEME_PREFIX):])
    except RecursionError:
        raise InputError(f"{path}: line {line_no}: malformed network scheme (nested too deep)") from None
    except ValueError as e:  # JSONDecodeError, or an integer of more than 4300 digits
        raise InputError(f"{path}: line {line_no}: malformed network scheme ({e})") from None
    try:
        validate_scheme(scheme, where=f"{path}: network scheme")
    except ValueError as e:
        raise InputError(str(e)) from None
    log["scheme"] = scheme


def _read_counts(log, msg, path, line_no):
    m = COUNTS_PATTERN.fullmatch(msg)
    if not m:
        raise InputError(f"{path}: line {line_no}: malformed #params line: {msg[:60]!r}")
    if log["counts"] is not None:
        raise InputError(f"{path}: line {line_no}: a second '#params' line")
    log["counts"] = int(m[1]), int(m[2])
    for name, count in zip(("#params", "#MACs"), log["counts"]):
        # a CSV made from it would be refused by every reader of the dataset: they take the log of
        # NumParams and NumMACs, and pandas reads a column with a number past uint64 as text
        if not 1 <= count <= MAX_COUNT:
            raise InputError(f"{path}: line {line_no}: {name} {count} is out of range (must be in 1..{MAX_COUNT})")


def _read_epoch(epochs, msg, path, line_no):
    if epochs and epochs[-1][2] is None:
        raise InputError(f"{path}: line {line_no}: epoch {len(epochs)} has no test accuracy line")
    m = EPOCH_PATTERN.fullmatch(msg)
    if not m or int(m[1]) != len(epochs) + 1:
        raise InputError(f"{path}: line {line_no}: expected 'Epoch {len(epochs) + 1}, LR: ...', got {msg[:60]!r}")
    _number(m[2], path, line_no, "learning rate", 0, low_open=True)
    epochs.append([None, None, None])


def _read_losses(epochs, msg, path, line_no):
    parts = msg[len(LOSS_PREFIX):].split(", ")
    if not epochs or epochs[-1][0] is not None or len(parts) != 2:
        raise InputError(f"{path}: line {line_no}: unexpected or malformed loss line: {msg[:60]!r}")
    epochs[-1][0] = _number(parts[0], path, line_no, "loss", 0)
    epochs[-1][1] = _number(parts[1], path, line_no, "loss", 0)


def _read_accuracy(epochs, msg, path, line_no):
    if not epochs or epochs[-1][0] is None or epochs[-1][2] is not None:
        raise InputError(f"{path}: line {line_no}: test accuracy line without a loss line before it")
    epochs[-1][2] = _number(msg[len(ACCURACY_PREFIX):], path, line_no, "test accuracy", 0, 1)


def _check_whole(log, path):
    if log["scheme"] is None:
        raise InputError(f"{path}: no 'Network scheme:' line")
    if log["counts"] is None:
        raise InputError(f"{path}: no 'Network #params: ..., #MACs: ...' line")
    if not log["epochs"]:
        raise InputError(f"{path}: no epochs logged")
    if log["epochs"][-1][2] is None:
        # a log cut off mid-epoch: the training was interrupted or is still running
        raise InputError(f"{path}: epoch {len(log['epochs'])} is incomplete (no test accuracy line)")


def read_log(path):
    """What one whole log holds: {'scheme', 'counts': (params, MACs), 'epochs': [[loss mean, loss
    median, test accuracy] per epoch], 'stamps': [[(line number, timestamp) of the epoch, loss and
    accuracy lines] per epoch]}, the numbers as logged; InputError naming the file and line for
    anything missing, repeated, out of order, malformed or out of range (a count of 0, ...)."""
    path = Path(path)
    log = {"scheme": None, "counts": None, "epochs": [], "stamps": []}
    for line_no, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        when, _, msg = line.partition(" ")
        if not STAMP.fullmatch(when):
            raise InputError(f"{path}: line {line_no}: malformed line (no timestamp): {line[:60]!r}")
        if msg.startswith(SCHEME_PREFIX):
            _read_scheme(log, msg, path, line_no)
        elif msg.startswith(COUNTS_PREFIX):
            _read_counts(log, msg, path, line_no)
        elif msg.startswith(EPOCH_PREFIX):
            _read_epoch(log["epochs"], msg, path, line_no)
            log["stamps"].append([(line_no, when)])
        elif msg.startswith(LOSS_PREFIX):
            _read_losses(log["epochs"], msg, path, line_no)
            log["stamps"][-1].append((line_no, when))
        elif msg.startswith(ACCURACY_PREFIX):
            _read_accuracy(log["epochs"], msg, path, line_no)
            log["stamps"][-1].append((line_no, when))
        # other lines ("Network has been init on device ...", "Training set is ready") carry no data
    _check_whole(log, path)
    return log


# ---------------------------------------------------------------- the cost of each epoch

def parse_stamp(when, path, line_no):
    """The datetime of a timestamp, which must be STAMP_FORMAT's 14 digits of a real date and time."""
    try:
        moment = datetime.strptime(when, STAMP_FORMAT) if len(when) == STAMP_DIGITS else None
    except ValueError:
        moment = None
    # the round trip refuses what strptime would read leniently (one-digit months, days, ...)
    if moment is None or moment.strftime(STAMP_FORMAT) != when:
        raise InputError(f"{path}: line {line_no}: malformed timestamp {when[:30]!r} (expected {STAMP_DIGITS} "
                         f"digits, {STAMP_FORMAT})")
    return moment


def epoch_times(log, path):
    """[(start, train seconds, test seconds)] per epoch of read_log(path): start is the timestamp (as
    logged) where the epoch's training part begins, the seconds whole numbers (the module docstring
    defines the bounds); InputError naming the file and line for a malformed timestamp, time going
    back from one epoch, loss or accuracy line to the next, or all epochs within one second."""
    times, previous, start = [], None, None  # previous: (line number, timestamp, moment) of the line before
    for stamps in log["stamps"]:
        moments = []
        for line_no, when in stamps:
            moment = parse_stamp(when, path, line_no)
            if previous is not None and moment < previous[2]:
                raise InputError(f"{path}: line {line_no}: time goes backwards ({when} after {previous[1]} "
                                 f"on line {previous[0]})")
            moments.append(moment)
            previous = line_no, when, moment
        if start is None:  # epoch 1 starts at its own line, every later one where the one before ended
            start = stamps[0][1], moments[0]
        times.append((start[0], int((moments[1] - start[1]).total_seconds()),
                      int((moments[2] - moments[1]).total_seconds())))
        start = stamps[2][1], moments[2]
    if times and not any(train or test for _, train, test in times):
        # no training takes no time, and naap.data.costs refuses a model that costs nothing
        line_no, when = log["stamps"][0][0]
        raise InputError(f"{path}: line {line_no}: all {len(times)} epochs logged within one second ({when}): "
                         "no time to measure")
    return times
