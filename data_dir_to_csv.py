"""Distil a directory of NAAP-440 training logs into the dataset CSV (naap440.csv / naap440v2.csv).

Each log RAW_DIR/scheme_<ModelId>.txt holds timestamped lines: the network scheme (JSON), its
#params and #MACs, then per epoch "Epoch K, LR: x", "Loss mean, median: a, b", "Test accuracy: a".
Only names matching scheme_<int>.txt are read, so partial logs of a running training are ignored.
All logs must have the same number of complete epochs; that number sets the eK... columns. Other
timestamped lines ("Network has been init on device ...") are ignored.

Rows are written in ModelId order. IsTest comes from the published split: the records, in file-name
order, are sorted stably by MaxAccuracy and cut into TEST_BINS bins of round(n / TEST_BINS) rows;
the middle row of each bin is a test row. Losses are rounded to LOSS_DECIMALS, accuracies are kept
as logged. On the published logs the output equals the published CSVs byte for byte, except that
they have CRLF line endings and this writes LF.

Input:  RAW_DIR with scheme_<ModelId>.txt logs.
Output: OUT.csv, v1 columns (as naap440.csv) or, with --version 2, v1 plus NumSkipConnections
        and NumPartialRFLayers (as naap440v2.csv); prints the number of rows and test rows.
Example: python data_dir_to_csv.py raw_data naap440.csv --version 1
"""
import argparse
import json
import math
import os
import re
from pathlib import Path

from common import InputError, atomic_write_text, run_cli
from models import validate_scheme

TEST_BINS = 40
LOSS_DECIMALS = 4
LOG_NAME = re.compile(r"scheme_(\d+)\.txt")
V1_FEATURES = ["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth"]
V2_FEATURES = V1_FEATURES + ["NumSkipConnections", "NumPartialRFLayers"]
EPOCH_FIELDS = ["LossMean", "LossMedian", "Accuracy"]

SCHEME_PREFIX = "Network scheme: "
COUNTS_LINE = re.compile(r"Network #params: (\d+), #MACs: (\d+)")
EPOCH_LINE = re.compile(r"Epoch (\d+), LR: (\S+)")
LOSS_PREFIX = "Loss mean, median: "
ACCURACY_PREFIX = "Test accuracy: "


def _number(text, path, line_no):
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}: line {line_no}: malformed number {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{path}: line {line_no}: {text!r} is not a finite number")
    return value


def parse_log(path):
    """Parse one training log into a record dict; InputError naming the file for anything missing."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text log") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    scheme = counts = None
    epochs = []  # [loss_mean, loss_median, accuracy], the latter two None until seen
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        stamp, _, msg = line.partition(" ")
        if not stamp.isdigit():
            raise InputError(f"{path}: line {line_no}: malformed line (no timestamp): {line[:60]!r}")
        if msg.startswith(SCHEME_PREFIX):
            try:
                scheme = json.loads(msg[len(SCHEME_PREFIX):])
            except json.JSONDecodeError as e:
                raise InputError(f"{path}: line {line_no}: malformed network scheme ({e})") from None
            try:
                validate_scheme(scheme, where=f"{path}: network scheme")
            except ValueError as e:
                raise InputError(str(e)) from None
        elif msg.startswith("Network #params"):
            m = COUNTS_LINE.fullmatch(msg)
            if not m:
                raise InputError(f"{path}: line {line_no}: malformed #params line: {msg[:60]!r}")
            counts = int(m[1]), int(m[2])
        elif msg.startswith("Epoch "):
            if epochs and epochs[-1][2] is None:
                raise InputError(f"{path}: line {line_no}: epoch {len(epochs)} has no test accuracy line")
            m = EPOCH_LINE.fullmatch(msg)
            if not m or int(m[1]) != len(epochs) + 1:
                raise InputError(f"{path}: line {line_no}: expected 'Epoch {len(epochs) + 1}, LR: ...', "
                                 f"got {msg[:60]!r}")
            epochs.append([None, None, None])
        elif msg.startswith(LOSS_PREFIX):
            parts = msg[len(LOSS_PREFIX):].split(", ")
            if not epochs or epochs[-1][0] is not None or len(parts) != 2:
                raise InputError(f"{path}: line {line_no}: unexpected or malformed loss line: {msg[:60]!r}")
            epochs[-1][0] = round(_number(parts[0], path, line_no), LOSS_DECIMALS)
            epochs[-1][1] = round(_number(parts[1], path, line_no), LOSS_DECIMALS)
        elif msg.startswith(ACCURACY_PREFIX):
            if not epochs or epochs[-1][0] is None or epochs[-1][2] is not None:
                raise InputError(f"{path}: line {line_no}: test accuracy line without a loss line before it")
            epochs[-1][2] = _number(msg[len(ACCURACY_PREFIX):], path, line_no)
        # other lines ("Network has been init on device ...", "Training set is ready") carry no data
    if scheme is None:
        raise InputError(f"{path}: no 'Network scheme:' line")
    if counts is None:
        raise InputError(f"{path}: no 'Network #params: ..., #MACs: ...' line")
    if not epochs:
        raise InputError(f"{path}: no epochs logged")
    if epochs[-1][2] is None:
        # a log cut off mid-epoch: the training was interrupted or is still running
        raise InputError(f"{path}: epoch {len(epochs)} is incomplete (no test accuracy line)")
    stride2 = [layer for layer in scheme if layer["stride"] == 2]
    return {
        "NumParams": counts[0],
        "NumMACs": counts[1],
        "NumLayers": len(scheme),
        # every stride-2 layer starts a new stage; this matches NumStages for all 440 published rows
        "NumStages": len(stride2),
        "FirstLayerWidth": scheme[0]["width"],
        "LastLayerWidth": scheme[-1]["width"],
        "NumSkipConnections": sum(layer["residual"] for layer in scheme),
        "NumPartialRFLayers": sum(layer["kernel_size"] == 1 for layer in stride2),
        "MaxAccuracy": max(e[2] for e in epochs),
        "epochs": epochs,
    }


def read_logs(raw_dir):
    """{ModelId: record} for every scheme_<int>.txt in raw_dir, inserted in file-name order.

    File-name order (scheme_1, scheme_10, scheme_100, ...) matters: it is the order the published
    split was made in, and ties in MaxAccuracy keep it.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: no such directory")
    records = {}
    for name in sorted(os.listdir(raw_dir)):
        m = LOG_NAME.fullmatch(name)
        if not m or not (raw_dir / name).is_file():
            continue
        model_id = int(m[1])
        if model_id in records:
            raise InputError(f"{raw_dir / name}: a second log for ModelId {model_id}")
        records[model_id] = parse_log(raw_dir / name)
        records[model_id]["file"] = raw_dir / name
    if not records:
        raise InputError(f"{raw_dir}: no scheme_<ModelId>.txt logs")
    counts = [len(r["epochs"]) for r in records.values()]
    # the most common epoch count is taken as intended; the odd ones out are named
    expected = max(set(counts), key=lambda c: (counts.count(c), c))
    for r in records.values():
        if len(r["epochs"]) != expected:
            raise InputError(f"{r['file']}: {len(r['epochs'])} epochs, but {counts.count(expected)} "
                             f"other logs have {expected} (incomplete or mixed runs)")
    return records


def assign_test_rows(records, test_bins=TEST_BINS, where="logs"):
    """Set record["IsTest"]: the middle record of each MaxAccuracy bin is a test record.

    `where` (the log directory) prefixes the error message.
    """
    n = len(records)
    size = round(n / test_bins)
    if size < 2:
        # with one record per bin every record would be a test record and none left to train on
        need = (3 * test_bins + 1) // 2
        raise InputError(f"{where}: {n} logs are too few for {test_bins} test bins (need at least {need}, "
                         f"or lower --test-bins)")
    ranked = sorted(records.values(), key=lambda r: r["MaxAccuracy"])  # stable: keeps file-name order
    for i, r in enumerate(ranked):
        r["IsTest"] = int(i - size // 2 >= 0 and (i - size // 2) % size == 0)


def _fmt(value):
    # repr is the shortest round-tripping form, the same digits pandas wrote into the published CSV
    return repr(value) if isinstance(value, float) else str(value)


def records_to_csv(records, version=1):
    """The CSV text (LF line endings), rows in ModelId order."""
    features = V1_FEATURES if version == 1 else V2_FEATURES
    num_epochs = len(next(iter(records.values()))["epochs"])
    header = ["ModelId", "IsTest", *features, "MaxAccuracy"]
    header += [f"e{k}{field}" for k in range(1, num_epochs + 1) for field in EPOCH_FIELDS]
    lines = [",".join(header)]
    for model_id in sorted(records):
        r = records[model_id]
        row = [model_id, r["IsTest"], *(r[f] for f in features), r["MaxAccuracy"]]
        row += [v for epoch in r["epochs"] for v in epoch]
        lines.append(",".join(map(_fmt, row)))
    return "\n".join(lines) + "\n"


def convert(raw_dir, out_csv, version=1, test_bins=TEST_BINS):
    """Parse raw_dir and write out_csv atomically; return the records."""
    records = read_logs(raw_dir)
    assign_test_rows(records, test_bins, where=raw_dir)
    atomic_write_text(out_csv, records_to_csv(records, version))
    return records


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("raw_dir", help="directory of scheme_<ModelId>.txt training logs, e.g. raw_data")
    p.add_argument("out_csv", help="output CSV, e.g. naap440.csv")
    p.add_argument("--version", type=int, choices=(1, 2), default=1,
                   help="1: naap440.csv columns; 2: adds NumSkipConnections, NumPartialRFLayers (default 1)")
    p.add_argument("--test-bins", type=int, default=TEST_BINS,
                   help=f"split: rows are cut into bins of round(n / bins) rows and the middle row of each bin is a "
                        f"test row, so about n / round(n / bins) test rows; exactly bins when n is a "
                        f"multiple of it (default {TEST_BINS}: 440 logs -> 40 test rows)")
    args = p.parse_args(argv)
    if args.test_bins < 1:
        p.error("--test-bins must be at least 1")
    return args


def main(args):
    records = convert(args.raw_dir, args.out_csv, args.version, args.test_bins)
    num_test = sum(r["IsTest"] for r in records.values())
    print(f"{len(records)} rows ({num_test} test) written to {args.out_csv}")
    return records


if __name__ == "__main__":
    run_cli(main, parse_args())
