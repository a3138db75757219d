"""The measured cost of training each NAAP-440 model: the COSTS.csv of data_dir_to_csv.py --costs.

One row per ModelId and epoch (COST_COLUMNS): the epoch's start stamp and its training and
test-evaluation seconds, read from the timestamps of the authors' logs. Those are seconds of wall
time while several trainings shared one GPU, so the summed durations exceed the GPU time used:
concurrency() is their ratio to the wall-time span of all logs, and gpu_seconds() gives every
model's per-epoch cost in seconds of that whole GPU (a log second divided by the concurrency;
the models then add up to the span).
"""
import csv
import io
from collections import namedtuple
from datetime import timedelta

from naap.cli import WHOLE_NUMBER, InputError
from naap.data.columns import COST_COLUMNS, MODEL_ID, NUM_EPOCHS_TOTAL
from naap.data.log_format import parse_stamp
from naap.input_files import check_columns_once, input_error

CostRow = namedtuple("CostRow", "model epoch start train test")


def read_costs(path, content=None):
    """[CostRow] of a COSTS.csv (content: its bytes, where the caller has read them: a pipe can be
    read once; a UTF-8 BOM before the header is taken, as the dataset's reader does); InputError
    naming the file (and line) for a column missing or named twice, a row of another length than
    the header, a number that is not plain ASCII digits, a malformed Start, negative seconds, an
    epoch that ends past the calendar, a ModelId below 1, an Epoch outside 1..90, a second row for
    one (ModelId, Epoch) (which of the two would be its cost?), or a model whose every epoch took
    0 seconds (no training takes no time: its cost, and the concurrency, would be made up)."""
    try:
        opened = open(path, newline="", encoding="utf-8-sig") if content is None else \
            io.StringIO(content.decode("utf-8-sig"), newline="")
        with opened as f:
            reader = csv.reader(f)
            header = next(reader, [])
            check_columns_once(path, header)
            missing = [c for c in COST_COLUMNS if c not in header]
            if missing:
                raise InputError(f"{path}: no column {missing[0]} (expected {', '.join(COST_COLUMNS)})")
            rows, lines = [], {}
            for fields in reader:
                if not fields:  # a blank line, as csv.DictReader skips it
                    continue
                where = f"{path}: line {reader.line_num}"
                if len(fields) != len(header):
                    raise InputError(f"{where}: malformed row ({len(fields)} fields, the header has {len(header)})")
                rows.append(_cost_row(dict(zip(header, fields)), path, reader.line_num))
                first = lines.setdefault(rows[-1][:2], reader.line_num)
                if first != reader.line_num:
                    raise InputError(f"{where}: a second row for ModelId {rows[-1].model} "
                                     f"epoch {rows[-1].epoch} (the first on line {first})")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    except csv.Error as e:  # a NUL byte, a field over the csv module's size limit, ...
        raise InputError(f"{path}: not a readable CSV ({e})") from None
    except OSError as e:
        raise input_error(path, e, "costs CSV") from None
    if not rows:
        raise InputError(f"{path}: no rows")
    _check_time_taken(rows, lines, path)
    return rows


def _whole(fields, column, where):
    text = fields[column]
    if not WHOLE_NUMBER.fullmatch(text):
        raise InputError(f"{where}: malformed row ({column} {text[:30]!r} is not a whole number in ASCII digits)")
    return int(text)


def _cost_row(fields, path, line_no):
    """The CostRow of a row ({column: text}); InputError naming the file and line for a bad one."""
    where = f"{path}: line {line_no}"
    model, epoch, train, test = (_whole(fields, c, where) for c in (MODEL_ID, "Epoch", "TrainSeconds", "TestSeconds"))
    row = CostRow(model, epoch, parse_stamp(fields["Start"], path, line_no), train, test)
    if row.train < 0 or row.test < 0:
        raise InputError(f"{where}: negative seconds")
    if row.model < 1:
        raise InputError(f"{where}: ModelId {row.model} is below 1 (ModelIds count from 1)")
    if not 1 <= row.epoch <= NUM_EPOCHS_TOTAL:
        raise InputError(f"{where}: Epoch {row.epoch} outside 1..{NUM_EPOCHS_TOTAL}")
    try:  # summary() adds them to the start
        row.start + timedelta(seconds=row.train + row.test)
    except OverflowError:
        raise InputError(f"{where}: seconds out of range (the epoch would end after the year 9999)") from None
    return row


def _check_time_taken(rows, lines, path):
    """InputError naming the file if a model's epochs all took 0 seconds (every cost of it would be
    0, and where every model's are, the concurrency too): timestamps that never move are no
    measurement."""
    seconds = {}
    for r in rows:
        seconds[r.model] = seconds.get(r.model, 0) + r.train + r.test
    idle = [m for m, total in seconds.items() if total == 0]
    if len(idle) == len(seconds):
        raise InputError(f"{path}: every TrainSeconds and TestSeconds is 0 (no training takes no time)")
    if idle:
        first = min(line for (m, _), line in lines.items() if m == idle[0])
        raise InputError(f"{path}: line {first}: every epoch of ModelId {idle[0]} took 0 seconds "
                         f"(no training takes no time)")


def summary(rows):
    """{'models', 'rows', 'train_s', 'test_s', 'sum_s', 'first', 'last', 'span_s'} of read_costs' rows."""
    train, test = sum(r.train for r in rows), sum(r.test for r in rows)
    first = min(r.start for r in rows)
    last = max(r.start + timedelta(seconds=r.train + r.test) for r in rows)
    return {"models": len({r.model for r in rows}), "rows": len(rows), "train_s": train, "test_s": test,
            "sum_s": train + test, "first": first, "last": last, "span_s": int((last - first).total_seconds())}


def concurrency(rows):
    """The mean number of trainings running at once: summed durations / wall-time span, at least 1
    (logs with gaps between them are one training at a time; 1 when the span is 0)."""
    s = summary(rows)
    return max(1.0, s["sum_s"] / s["span_s"]) if s["span_s"] > 0 else 1.0


def gpu_seconds(path, model_ids, content=None):
    """(concurrency, {ModelId: [GPU seconds of epochs 1..90]}) for model_ids: each epoch's train +
    test seconds divided by the file's concurrency(). InputError naming the file when one of their
    epochs has no row."""
    rows = read_costs(path, content)
    factor = concurrency(rows)
    wanted = set(model_ids)
    per_model = {m: [None] * NUM_EPOCHS_TOTAL for m in wanted}
    for r in rows:
        if r.model in wanted:
            per_model[r.model][r.epoch - 1] = (r.train + r.test) / factor
    for model in sorted(wanted):
        absent = [e + 1 for e, v in enumerate(per_model[model]) if v is None]
        if absent:
            raise InputError(f"{path}: no row for ModelId {model} epoch {absent[0]} "
                             f"({len(absent)} of its {NUM_EPOCHS_TOTAL} epochs missing)")
    return factor, per_model
