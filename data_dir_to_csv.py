"""Distil a directory of NAAP-440 training logs into the dataset CSV (naap440.csv / naap440v2.csv).

Each log RAW_DIR/scheme_<ModelId>.txt holds timestamped lines: the network scheme (JSON), its
#params and #MACs, then per epoch "Epoch K, LR: x", "Loss mean, median: a, b", "Test accuracy: a"
(the format and its reader: naap.data.log_format). Only names matching scheme_<int>.txt are read,
so partial logs of a running training are ignored.
All logs must have the same number of complete epochs; that number sets the eK... columns. Other
timestamped lines ("Network has been init on device ...") are ignored.

Rows are written in ModelId order. IsTest comes from the published split: the records, in file-name
order, are sorted stably by MaxAccuracy and cut into NUM_TEST_BINS bins of round(n / NUM_TEST_BINS)
rows; the middle row of each bin is a test row (naap.data.split). Losses are rounded to
LOSS_DECIMALS, accuracies are kept as logged. On the published logs the output equals the published
CSVs byte for byte, except that they have CRLF line endings and this writes LF.

Every log must be whole: each line ends with a newline (a last line without one was cut short),
numbers are plain decimals (accuracies in 0..1, losses >= 0, learning rates > 0), each of the
scheme and #params lines appears once, ModelIds count from 1 without leading zeros, and a name
scheme_<int>.txt that is a directory, a dangling symlink or not a regular file is an error, not
skipped (skipping one would silently change the split).

With --costs COSTS.csv it also writes the measured cost of every epoch of every log: one row per
ModelId and epoch with COST_COLUMNS, Start the timestamp (as logged) where the epoch's training
part begins and TrainSeconds, TestSeconds its seconds of wall time in the log (the bounds:
naap.data.log_format.epoch_times; a log's seconds add up to its span from the "Epoch 1" line to
its last accuracy line). Only then are the timestamps checked (a malformed one, or time going
backwards, is an error naming the log and line); OUT.csv is the same with or without --costs.

Input:  RAW_DIR with scheme_<ModelId>.txt logs.
Output: OUT.csv, v1 columns (as naap440.csv) or, with --version 2, v1 plus NumSkipConnections
        and NumPartialRFLayers (as naap440v2.csv); prints the number of rows and test rows. An
        existing OUT.csv is replaced only with --force; OUT.csv may not be one of the logs.
        With --costs, COSTS.csv too (the same rules, and not the same file as OUT.csv); the two
        are written as a pair: both, or on any failure neither changed.
Example: python data_dir_to_csv.py raw_data naap440.csv --version 1 --costs costs.csv
"""
import argparse
import os
import stat
from pathlib import Path

from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number
from naap.data.columns import (
    COST_COLUMNS,
    FULL_SCHEME_FEATURES,
    MODEL_ID,
    SCHEME_V2_FEATURES,
    TARGET,
    TEST_FLAG,
    epoch_features,
)
from naap.data.log_format import LOG_FILE, LOG_NAME, epoch_times, read_log
from naap.data.split import NUM_TEST_BINS, split_bins
from naap.files import atomic_write_files, check_output_file, check_outputs_not_inputs
from naap.input_files import input_error

LOSS_DECIMALS = 4
FEATURES = {1: FULL_SCHEME_FEATURES, 2: SCHEME_V2_FEATURES}  # per --version


def parse_log(path, costs=False):
    """One training log as a record: the CSV's columns of it, 'epochs' (the loss mean and median
    rounded to LOSS_DECIMALS, the test accuracy as logged, per epoch) and, if costs, 'times' (per
    epoch its start, train and test seconds: naap.data.log_format.epoch_times); InputError naming
    the file for anything missing (naap.data.log_format.read_log)."""
    log = read_log(path)
    times = epoch_times(log, path) if costs else None
    scheme, (params, macs) = log["scheme"], log["counts"]
    epochs = [[round(mean, LOSS_DECIMALS), round(median, LOSS_DECIMALS), accuracy]
              for mean, median, accuracy in log["epochs"]]
    stride2 = [layer for layer in scheme if layer["stride"] == 2]
    return {
        "NumParams": params,
        "NumMACs": macs,
        "NumLayers": len(scheme),
        # every stride-2 layer starts a new stage; this matches NumStages for all 440 published rows
        "NumStages": len(stride2),
        "FirstLayerWidth": scheme[0]["width"],
        "LastLayerWidth": scheme[-1]["width"],
        "NumSkipConnections": sum(layer["residual"] for layer in scheme),
        "NumPartialRFLayers": sum(layer["kernel_size"] == 1 for layer in stride2),
        TARGET: max(e[2] for e in epochs),
        "epochs": epochs,
        "times": times,
    }


def list_logs(raw_dir):
    """{ModelId: path} of the scheme_<int>.txt logs in raw_dir, in file-name order.

    A name of that form must be a regular file (or a symlink to one) with a ModelId from 1 without
    leading zeros: anything else is an error, since skipping it would silently change the split.
    """
    raw_dir = Path(raw_dir)
    try:
        names = sorted(os.listdir(raw_dir))
    except OSError as e:
        raise input_error(raw_dir, e, "directory") from None
    logs = {}
    for name in names:
        m = LOG_NAME.fullmatch(name)
        if not m:
            continue
        path = raw_dir / name
        if not m[1].strip("0"):
            raise InputError(f"{path}: ModelId 0 has no scheme (ModelIds count from 1)")
        if m[1].startswith("0"):
            raise InputError(f"{path}: ModelId with a leading zero (create_dataset.py names this log "
                             f"{LOG_FILE.format(int(m[1]))})")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise InputError(f"{path}: dangling symbolic link (its target does not exist)") from None
        except OSError as e:  # a symlink loop, ...
            raise input_error(path, e, "training log") from None
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{path}: is a directory, expected a training log")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file, expected a training log")
        logs[int(m[1])] = path
    if not logs:
        raise InputError(f"{raw_dir}: no scheme_<ModelId>.txt logs")
    return logs


def read_logs(raw_dir, logs=None, costs=False):
    """{ModelId: record} for every scheme_<int>.txt in raw_dir, inserted in file-name order.

    File-name order (scheme_1, scheme_10, scheme_100, ...) matters: it is the order the published
    split was made in, and ties in MaxAccuracy keep it. `logs` is list_logs(raw_dir), if known;
    costs: also each epoch's times (parse_log).
    """
    records = {}
    for model_id, path in (logs or list_logs(raw_dir)).items():
        records[model_id] = parse_log(path, costs)
        records[model_id]["file"] = path
    counts = [len(r["epochs"]) for r in records.values()]
    # the most common epoch count is taken as intended; the odd ones out are named
    expected = max(set(counts), key=lambda c: (counts.count(c), c))
    for r in records.values():
        if len(r["epochs"]) != expected:
            raise InputError(f"{r['file']}: {len(r['epochs'])} epochs, but {counts.count(expected)} "
                             f"other logs have {expected} (incomplete or mixed runs)")
    return records


def assign_test_rows(records, test_bins=NUM_TEST_BINS, where="logs"):
    """Set record["IsTest"]: the middle record of each MaxAccuracy bin is a test record.

    `where` (the log directory) prefixes the error message.
    """
    n = len(records)
    try:
        middles = {middle for _, _, middle in split_bins(n, test_bins)}  # the rule: naap.data.split
    except ValueError:
        # with one record per bin every record would be a test record and none left to train on
        need = (3 * test_bins + 1) // 2
        raise InputError(f"{where}: {n} logs are too few for {test_bins} test bins (need at least {need}, "
                         f"or lower --test-bins)") from None
    ranked = sorted(records.values(), key=lambda r: r[TARGET])  # stable: keeps file-name order
    for i, r in enumerate(ranked):
        r[TEST_FLAG] = int(i in middles)


def _fmt(value):
    # repr is the shortest round-tripping form, the same digits pandas wrote into the published CSV
    return repr(value) if isinstance(value, float) else str(value)


def records_to_csv(records, version=1):
    """The CSV text (LF line endings), rows in ModelId order."""
    features = FEATURES[version]
    num_epochs = len(next(iter(records.values()))["epochs"])
    header = [MODEL_ID, TEST_FLAG, *features, TARGET, *epoch_features(num_epochs)]
    lines = [",".join(header)]
    for model_id in sorted(records):
        r = records[model_id]
        row = [model_id, r[TEST_FLAG], *(r[f] for f in features), r[TARGET]]
        row += [v for epoch in r["epochs"] for v in epoch]
        lines.append(",".join(map(_fmt, row)))
    return "\n".join(lines) + "\n"


def costs_to_csv(records):
    """The COSTS.csv text (LF line endings): COST_COLUMNS, one row per ModelId (in order) and epoch."""
    lines = [",".join(COST_COLUMNS)]
    for model_id in sorted(records):
        for epoch, (start, train, test) in enumerate(records[model_id]["times"], 1):
            lines.append(f"{model_id},{epoch},{start},{train},{test}")
    return "\n".join(lines) + "\n"


def _same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:  # one of them is not there yet
        return False


def check_output(raw_dir, out_csv, logs, costs_csv=None):
    """OUT.csv and COSTS.csv may not be a log (symlinks and hard links included) nor hold one, nor be
    named like a log inside RAW_DIR (the next conversion would read it as one), nor be one file."""
    outputs = [out_csv] if costs_csv is None else [out_csv, costs_csv]
    check_outputs_not_inputs(outputs, logs.values())
    for out in outputs:
        out_real = os.path.realpath(out)
        if LOG_NAME.fullmatch(os.path.basename(out_real)) and os.path.dirname(out_real) == os.path.realpath(raw_dir):
            raise InputError(f"{out}: named like a training log inside {raw_dir}, where it would be read as "
                             "one; choose another output path")
    if costs_csv is not None and _same_file(out_csv, costs_csv):
        raise InputError(f"{costs_csv}: is also OUT.csv ({out_csv}); choose another path for --costs")


def convert(raw_dir, out_csv, version=1, test_bins=NUM_TEST_BINS, force=False, costs_csv=None):
    """Parse raw_dir and write out_csv (and costs_csv, if given) atomically, both or neither (an
    existing one only if force); return the records."""
    logs = list_logs(raw_dir)
    check_output(raw_dir, out_csv, logs, costs_csv)
    outputs = [out_csv] if costs_csv is None else [out_csv, costs_csv]
    for out in outputs:  # before the work; atomic_write_files checks again at the end
        check_output_file(out, replace=force)
    records = read_logs(raw_dir, logs, costs=costs_csv is not None)
    assign_test_rows(records, test_bins, where=raw_dir)
    texts = [records_to_csv(records, version)] + ([] if costs_csv is None else [costs_to_csv(records)])
    # one pair: a new OUT.csv beside a stale or missing COSTS.csv would price the wrong models
    atomic_write_files([(out, text.encode("utf-8")) for out, text in zip(outputs, texts)], replace=force)
    return records


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("raw_dir", help="directory of scheme_<ModelId>.txt training logs, e.g. raw_data")
    p.add_argument("out_csv", help="output CSV, e.g. naap440.csv")
    p.add_argument("--version", type=_version, choices=(1, 2), default=1,
                   help="1: naap440.csv columns; 2: adds NumSkipConnections, NumPartialRFLayers (default 1)")
    p.add_argument("--test-bins", default=str(NUM_TEST_BINS),
                   help=f"split: rows are cut into bins of round(n / bins) rows and the middle row of each bin is a "
                        f"test row, so about n / round(n / bins) test rows; exactly bins when n is a "
                        f"multiple of it (default {NUM_TEST_BINS}: 440 logs -> 40 test rows)")
    p.add_argument("--costs", metavar="COSTS_CSV",
                   help="also write each log's train and test seconds per epoch, from its timestamps, here")
    p.add_argument("--force", action="store_true", help="replace OUT_CSV (and COSTS_CSV) if it exists")
    args = p.parse_args(argv)
    try:
        args.test_bins = whole_number("--test-bins", args.test_bins, 1)
    except InputError as e:
        p.error(str(e))
    return args


def _version(text):
    """--version's value: 1 or 2 as plain digits (int() would also take "0_1" or "+1")."""
    if str(text) not in ("1", "2"):
        raise argparse.ArgumentTypeError(f"invalid choice: {text} (choose from 1, 2)")
    return int(text)


def main(args):
    records = convert(args.raw_dir, args.out_csv, args.version, args.test_bins, args.force, args.costs)
    num_test = sum(r[TEST_FLAG] for r in records.values())
    print(f"{len(records)} rows ({num_test} test) written to {args.out_csv}")
    if args.costs is not None:
        rows = sum(len(r["times"]) for r in records.values())
        print(f"{rows} rows (ModelId, epoch) of train and test seconds written to {args.costs}")
    return records


if __name__ == "__main__":
    run_cli(main, parse_args())
