"""Benchmark: how long `run_experiments.py --splits N` takes, and where a split's time goes.

Times a few splits of the whole protocol (24 regressors x 4 feature sets x 5 seeds each) the
way run_experiments.py runs them (uncertainty.run_splits with --jobs workers, whole splits per
worker), and prints the measured wall and CPU seconds per split, the machine's load, and a
PROJECTION (not a measurement) of N splits on the given cores: CPU seconds per split x N / cores,
which assumes the cores are free and the workers never wait. --breakdown also times one split's
(feature set, family) tasks one by one in this process (protocol.evaluate, as run_table calls it).

Inputs: a NAAP-440 CSV (default: naap440.csv of the reference data).
Outputs: none (prints a report).
Example:
  python -m bench.bench_splits --splits 4 --jobs 2 --project 100 --breakdown
"""
import os
import resource
import time
from pathlib import Path

from naap import protocol, uncertainty, workers
from naap.cli import OneLineArgumentParser, run_cli, whole_number
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset, split
from naap.paths import reference_data_dir

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SPLITS = 2
DEFAULT_PROJECT = 100  # the split count the projection is for
TARGET_MINUTES = 15  # the goal: --splits 100 in 15 minutes on 2 cores


def cpu_seconds():
    """User + system CPU seconds of this process and its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def breakdown(table, estimators):
    """{(features, family): CPU seconds} of split 1's tasks, run one by one in this process."""
    resplit = uncertainty.split_table(table, 1)
    times = {}
    for features, columns in FEATURE_SETS.items():
        data = split(resplit, columns)
        groups = {}
        for name in protocol.BASELINE_NAMES:
            groups.setdefault(protocol.family_of(name), []).append(name)
        for family, names in groups.items():
            start = time.process_time()
            protocol.evaluate(names, *data, estimators=estimators)
            times[features, family] = time.process_time() - start
    return times


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="NAAP-440 CSV (default: the reference naap440.csv)")
    parser.add_argument("--splits", default=str(DEFAULT_SPLITS), help=f"splits to time (default {DEFAULT_SPLITS})")
    parser.add_argument("--jobs", default="2", help="worker processes, as run_experiments.py --jobs (default 2)")
    parser.add_argument("--project", default=str(DEFAULT_PROJECT),
                        help=f"project the time of this many splits (default {DEFAULT_PROJECT})")
    parser.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS,
                        help=f"estimator set: {' or '.join(protocol.ESTIMATOR_SETS)} "
                             f"(default {protocol.DEFAULT_ESTIMATORS})")
    parser.add_argument("--breakdown", action="store_true", help="also time one split's tasks one by one")
    return parser.parse_args(argv)


def main(args):
    splits, jobs = whole_number("--splits", args.splits, 1), workers.jobs_option(args.jobs)
    project = whole_number("--project", args.project, 1)
    protocol.check_estimator_set(args.estimators)
    dataset = args.dataset or reference_data_dir() / "naap440.csv"
    columns = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))
    table = load_dataset(dataset, columns)
    print(f"machine: {os.cpu_count()} CPUs, {workers.available_cores()} usable; load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    uncertainty.run_splits(table, splits, args.estimators, jobs, progress=False)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"measured: {splits} splits with --jobs {jobs}: {wall:.1f} s wall, {cpu:.1f} CPU-s "
          f"({wall / splits:.1f} s wall and {cpu / splits:.1f} CPU-s per split)")
    for cores in sorted({2, jobs}):
        minutes = cpu / splits * project / cores / 60
        print(f"PROJECTION (not measured): {project} splits on {cores} free cores = {cpu / splits:.1f} CPU-s x "
              f"{project} / {cores} = {minutes:.1f} min (target {TARGET_MINUTES} min)")
    if args.breakdown:
        times = breakdown(table, args.estimators)
        total = sum(times.values())
        print(f"breakdown of split 1, one task at a time in this process: {total:.1f} CPU-s")
        families = {}
        for (_, family), seconds in times.items():
            families[family] = families.get(family, 0.0) + seconds
        for family, seconds in sorted(families.items(), key=lambda item: -item[1]):
            print(f"  {family:18s} {seconds:7.1f} CPU-s  {seconds / total:6.1%}")
        for (features, family), seconds in sorted(times.items(), key=lambda item: -item[1])[:8]:
            print(f"    {family:18s} {features:32s} {seconds:6.1f} CPU-s")


if __name__ == "__main__":
    run_cli(main, parse_args())
