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
import platform
from datetime import date
from pathlib import Path

from naap.cli import OneLineArgumentParser, run_cli
from naap.data.costs import read_costs, summary


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("costs", help="COSTS.csv of data_dir_to_csv.py --costs")
    return p.parse_args(argv)


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
