"""The measured cost of the NAAP-440 training, from the COSTS.csv of data_dir_to_csv.py --costs.

Prints, from the timestamps in the authors' logs (seconds of wall time on their machine):
- the sum of the per-log durations (each log's train and test seconds, "Epoch 1" line to last
  accuracy line), split into training and test evaluation;
- the wall-time span of all logs together: the first epoch start to the last epoch end over all
  logs;
- their ratio, the mean number of trainings running at once (the authors ran 4 at a time on one
  laptop GPU, so a second in a log is about a quarter of that GPU).
The numbers depend only on COSTS.csv; the date and machine of the run are printed for the record.

Input: COSTS_CSV. Output: the summary on stdout; nothing is written.
Example:
  python data_dir_to_csv.py raw_data naap440.csv --costs costs.csv
  python -m bench.costs_summary costs.csv
"""
import csv
import platform
from datetime import date, datetime, timedelta
from pathlib import Path

from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.data.columns import COST_COLUMNS
from naap.data.log_format import STAMP_FORMAT
from naap.files import input_error


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("costs", help="COSTS.csv of data_dir_to_csv.py --costs")
    return p.parse_args(argv)


def read_costs(path):
    """[(ModelId, start datetime, train seconds, test seconds)] per row; InputError naming the file
    and line for a missing column or a malformed value."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COST_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: no column {missing[0]} (expected {', '.join(COST_COLUMNS)})")
            rows = []
            for r in reader:
                try:
                    rows.append((int(r["ModelId"]), datetime.strptime(r["Start"], STAMP_FORMAT),
                                 int(r["TrainSeconds"]), int(r["TestSeconds"])))
                except (TypeError, ValueError):
                    raise InputError(f"{path}: line {reader.line_num}: malformed row") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    except OSError as e:
        raise input_error(path, e, "costs CSV") from None
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def summary(rows):
    """{'models', 'rows', 'train_s', 'test_s', 'sum_s', 'first', 'last', 'span_s'}."""
    train, test = sum(r[2] for r in rows), sum(r[3] for r in rows)
    first = min(r[1] for r in rows)
    last = max(r[1] + timedelta(seconds=r[2] + r[3]) for r in rows)
    return {"models": len({r[0] for r in rows}), "rows": len(rows), "train_s": train, "test_s": test,
            "sum_s": train + test, "first": first, "last": last, "span_s": int((last - first).total_seconds())}


def main(args):
    s = summary(read_costs(Path(args.costs)))
    hours = 3600
    print(f"{args.costs}: {s['models']} logs, {s['rows']} epochs; run {date.today().isoformat()} on "
          f"{platform.node() or 'an unnamed host'} ({platform.machine()})")
    print(f"sum of the per-log durations: {s['sum_s']} s = {s['sum_s'] / hours:.1f} h "
          f"(training {s['train_s'] / hours:.1f} h, test evaluation {s['test_s'] / hours:.1f} h)")
    print(f"wall-time span of all logs: {s['first']:%Y-%m-%d %H:%M:%S} to {s['last']:%Y-%m-%d %H:%M:%S} = "
          f"{s['span_s']} s = {s['span_s'] / hours:.1f} h")
    if s["span_s"]:
        print(f"sum / span: {s['sum_s'] / s['span_s']:.2f} trainings at once on average")
    return s


if __name__ == "__main__":
    run_cli(main, parse_args())
