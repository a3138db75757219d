"""Benchmark: how long baselines.py takes, whole and by part (target: <= 10 min on 2 cores without
the data proxies).

Whole: `baselines.py DATASET OUT --jobs N --no-progress` as a subprocess (the default epoch counts),
its wall seconds and the CPU seconds of it and its workers. Parts, in this process, one core, same
code as the script calls: loading the table, the paper's 24 regressors per epoch count
(protocol.evaluate), LCE over the test models at every epoch count, LcSVR at every epoch count, the
ranking baselines, and the two figures drawn from the whole run's baselines.csv. The machine's load
average is printed first and last: on a machine shared with other work, wall seconds stretch
while CPU seconds hold, so compare CPU seconds / cores with the target there.

Usage:  python -m bench.bench_baselines [naap440.csv] [--jobs N] [--zero-cost ZC.csv] [--parts-only]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import baselines
from bench.timing import run_timed
from naap import figures, learning_curves, protocol, workers
from naap.cli import InputError, run_cli
from naap.data import FULL_SCHEME_FEATURES, NUM_EPOCHS_TOTAL, TARGET, TEST_FLAG, epoch_features, features_at
from naap.data.load import load_dataset, split
from naap.paths import reference_data_dir

ROOT = Path(__file__).resolve().parent.parent

TARGET_SECONDS = 600  # the whole run without the data proxies, on 2 cores


def whole_run(dataset, jobs, zero_cost, out):
    """(wall seconds, CPU seconds of the script and its workers) of one full run."""
    cmd = [sys.executable, str(ROOT / "baselines.py"), str(dataset), str(out), "--jobs", str(jobs), "--no-progress"]
    if zero_cost:
        cmd += ["--zero-cost", str(zero_cost)]
    done, t = run_timed(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise InputError(f"baselines.py failed: {last}")
    return t.wall, t.user + t.system


def timed(label, fn, *args):
    """Run fn(*args); print and return its CPU and wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"  {label:<44} {cpu:8.2f} s CPU {wall:8.2f} s wall", flush=True)
    return result, cpu


def parts(dataset, frame):
    """CPU seconds of each part, serially in this process."""
    total = 0.0
    columns = FULL_SCHEME_FEATURES + epoch_features(NUM_EPOCHS_TOTAL)
    df, cpu = timed("load the table", load_dataset, dataset, columns)
    total += cpu
    train, test = df[df[TEST_FLAG] == 0], df[df[TEST_FLAG] == 1]
    reg_total = 0.0
    for k in baselines.REGRESSOR_EPOCHS:
        data = split(df, features_at(k))
        _, cpu = timed(f"24 regressors, {k} epochs ({data[0].shape[1]} features)", protocol.evaluate,
                       protocol.BASELINE_NAMES, *data)
        reg_total += cpu
    print(f"  {'24 regressors, all epoch counts':<44} {reg_total:8.2f} s CPU")
    acc_train = learning_curves.curve(train, "Accuracy", NUM_EPOCHS_TOTAL)
    acc_test = learning_curves.curve(test, "Accuracy", NUM_EPOCHS_TOTAL)
    _, lce_cpu = timed(f"LCE, {len(acc_test)} test models x 90 epoch counts", learning_curves.lce_rows, acc_test,
                       list(baselines.CURVE_EPOCHS))
    scheme = (train[FULL_SCHEME_FEATURES].to_numpy(float), test[FULL_SCHEME_FEATURES].to_numpy(float))
    y_train = train[TARGET].to_numpy(float)

    def all_lcsvr():
        return [learning_curves.lcsvr((acc_train, scheme[0]), (acc_test, scheme[1]), y_train, k,
                                      protocol.DEFAULT_ESTIMATORS) for k in baselines.CURVE_EPOCHS]
    _, svr_cpu = timed("LcSVR, 90 epoch counts", all_lcsvr)

    def rankers():
        return [fn(test, k) for fn in (learning_curves.early_stopping, learning_curves.sotl, learning_curves.sotl_e)
                for k in baselines.CURVE_EPOCHS]
    _, rank_cpu = timed("early stopping, SoTL, SoTL-E, 90 epoch counts", rankers)
    fig_cpu = 0.0
    if frame is not None:
        groups = {"paper regressors": list(protocol.BASELINE_NAMES)}
        ticks = {k: str(k) for k in baselines.FIGURE_TICKS}
        with tempfile.TemporaryDirectory() as tmp:
            _, fig_cpu = timed("one figure", figures.plot_baselines, frame, Path(tmp) / "f.png", lambda k: k, "epochs",
                               ticks, groups, baselines.PAPER_EPOCHS, range(3, 91, 3))
    total += reg_total + lce_cpu + svr_cpu + rank_cpu + 2 * fig_cpu
    print(f"  {'sum of the parts (figures counted twice)':<44} {total:8.2f} s CPU "
          f"= {total / 2:.0f} s on 2 fully used cores")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="NAAP-440 CSV (default: the reference data's naap440.csv)")
    parser.add_argument("--jobs", type=int, default=workers.available_cores(), help="--jobs of the whole run")
    parser.add_argument("--zero-cost", help="also pass this zero_cost.py CSV to the whole run")
    parser.add_argument("--parts-only", action="store_true", help="skip the whole run")
    return parser.parse_args(argv)


def main(args):
    dataset = args.dataset or reference_data_dir() / "naap440.csv"
    print(f"{os.uname().machine}, {workers.available_cores()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"numpy {np.__version__}, pandas {pd.__version__}")
    frame = None
    if not args.parts_only:
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu = whole_run(dataset, args.jobs, args.zero_cost, Path(tmp) / "out")
            frame = pd.read_csv(Path(tmp) / "out" / "baselines.csv")
        print(f"whole run, --jobs {args.jobs}{' with --zero-cost' if args.zero_cost else ''}: {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU ({cpu / args.jobs:.0f} s per core; target {TARGET_SECONDS} s on 2 cores)")
    print("parts (one core):")
    parts(dataset, frame)
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    run_cli(main, parse_args())
