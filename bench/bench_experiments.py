"""Benchmark: run_experiments.py against a plain serial run of the same protocol, per estimator set.

The plain run is the straightforward implementation: for every feature set and regressor,
protocol.evaluate_plain([name]) (a fresh estimator, refitted for each of the 5 seeds), then two
figures drawn from scratch with pyplot at the project's figure size and dpi (figures.FIGURE_SIZE,
figures.FIGURE_DPI), in one process. The project run is `run_experiments.py DATASET OUT --jobs N
--estimators E` (prefix-shared ensembles, one fit for deterministic regressors, a process pool,
blitted figures). Each is timed twice: without figures (fits and tables only: the plain run with
--no-figures, the project run without OUT_DIR, which prints the table) and with them, so that the
fits and the figures are reported separately. All runs are subprocesses of this script (same
interpreter, environment and machine, one after the other); the benchmark exits non-zero unless
the plain and project results.csv are identical.

Usage:  python -m bench.bench_experiments [naap440.csv] [--repeat N] [--jobs N] [--estimators paper,sklearn]
        python -m bench.bench_experiments --plain DATASET OUT_DIR [--estimators E] [--no-figures]
Prints each run's wall and CPU seconds, the machine's load, and the plain / project ratios. The
wall ratio needs the cores to be free: on a machine shared with other work, the project's two
workers get what the scheduler leaves them, and the ratio falls toward the CPU-seconds ratio.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.timing import run_or_exit
from naap import figures, protocol, workers
from naap.cli import InputError, run_cli, whole_number
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset, split
from naap.paths import reference_data_dir

ROOT = Path(__file__).resolve().parent.parent


def plain_rank_matrix(pred, y_test, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(pred)
    matrix = np.zeros((n, n))
    matrix[np.argsort(pred, kind="stable"), np.arange(n)] = 1
    fig, ax = plt.subplots(figsize=figures.FIGURE_SIZE, dpi=figures.FIGURE_DPI)
    ax.imshow(matrix, cmap="Greys", origin="lower", extent=(0.5, n + 0.5, 0.5, n + 0.5))
    ax.set_xlabel("predicted rank")
    ax.set_ylabel("true rank")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plain_scatter(pred, y_test, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figures.FIGURE_SIZE, dpi=figures.FIGURE_DPI)
    ax.scatter(y_test, pred, s=14)
    lo, hi = min(np.min(pred), np.min(y_test)), max(np.max(pred), np.max(y_test))
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=1)
    ax.set_xlabel("true MaxAccuracy")
    ax.set_ylabel("predicted MaxAccuracy")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plain_run(dataset, out_dir, estimators, draw):
    """The straightforward implementation, serial: the same results.csv (and figures if draw)."""
    out_dir = Path(out_dir)
    df = load_dataset(dataset, list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols)))
    figures.make_figure_dirs(out_dir / "figures")
    results, y_tests = {}, {}
    for features, columns in FEATURE_SETS.items():
        data = split(df, columns)
        y_tests[features] = data[3]
        for name in protocol.BASELINE_NAMES:
            run = protocol.evaluate_plain([name], *data, estimators=estimators)[name]
            results.setdefault(features, {})[name] = run
            if draw:
                rank_path, scatter_path = figures.figure_paths(out_dir / "figures", name, features)
                title = figures.figure_title(name, features, run)
                plain_rank_matrix(run["pred"], data[3], title, rank_path)
                plain_scatter(run["pred"], data[3], title, scatter_path)
    frame = protocol.results_frame(results, y_tests)
    (out_dir / "results.csv").write_text(frame[protocol.RESULT_COLUMNS].to_csv(index=False))
    if draw:
        figures.plot_summary(frame, out_dir / "summary.png")


def timed(cmd):
    """(wall seconds, CPU seconds of the child and its workers, stdout) of one subprocess run."""
    # bench is a package: the plain run (python -m bench.bench_experiments) needs the repository on the path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    stdout, t = run_or_exit(cmd, env=env)
    return t.wall, t.user + t.system, stdout


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="NAAP-440 CSV (default: the reference data's naap440.csv)")
    parser.add_argument("out_dir", nargs="?", help="with --plain: where the plain run writes")
    parser.add_argument("--plain", action="store_true", help="only do the plain run into OUT_DIR")
    parser.add_argument("--no-figures", action="store_true", help="with --plain: fits and results.csv only")
    parser.add_argument("--estimators", default=",".join(protocol.ESTIMATOR_SETS), help="estimator sets to time")
    parser.add_argument("--repeat", default="1", help="runs of each (the best and all are shown)")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="--jobs for run_experiments.py")
    return parser.parse_args(argv)


def main(args):
    dataset = args.dataset or reference_data_dir() / "naap440.csv"
    sets = [s.strip() for s in args.estimators.split(",") if s.strip()]
    bad = [s for s in sets if s not in protocol.ESTIMATOR_SETS]
    if bad or not sets:
        raise InputError(f"--estimators {args.estimators}: choose from {', '.join(protocol.ESTIMATOR_SETS)}")
    repeat, jobs = whole_number("--repeat", args.repeat, 1), workers.jobs_option(args.jobs)
    if args.plain:
        if args.out_dir is None or len(sets) != 1:
            raise InputError("--plain needs DATASET, OUT_DIR and one --estimators set")
        plain_run(dataset, args.out_dir, sets[0], draw=not args.no_figures)
        return
    print(f"{workers.available_cores()} cores, load average {os.getloadavg()[0]:.2f} at start; dataset {dataset}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for estimators in sets:
            times = {}
            for i in range(repeat):
                for kind in ("plain", "project"):
                    for draw in (False, True):
                        out = Path(tmp) / f"{estimators}-{kind}-{draw}-{i}"
                        if kind == "plain":
                            cmd = [sys.executable, "-m", "bench.bench_experiments", "--plain", dataset, out,
                                   "--estimators", estimators]
                            cmd += [] if draw else ["--no-figures"]
                        else:
                            cmd = [sys.executable, ROOT / "run_experiments.py", dataset] + ([out] if draw else [])
                            cmd += ["--jobs", str(jobs), "--estimators", estimators, "--no-progress"]
                        wall, cpu, stdout = timed(list(map(str, cmd)))
                        times.setdefault((kind, draw), []).append((wall, cpu))
                        plain = Path(tmp) / f"{estimators}-plain-True-{i}" / "results.csv"
                        if draw and (out / "results.csv").read_bytes() != plain.read_bytes():
                            print(f"{estimators}: the project's results.csv differs from the plain run's (run {i + 1})")
                            failed = True
                        label = f"{kind} {'fits + figures' if draw else 'fits only'}"
                        print(f"{estimators:8s} {label:22s} run {i + 1}: {wall:6.1f} s wall, {cpu:6.1f} s CPU",
                              flush=True)
            best = {key: min(values) for key, values in times.items()}
            for draw, label in ((False, "fits only"), (True, "fits + figures")):
                (pw, pc), (jw, jc) = best[("plain", draw)], best[("project", draw)]
                print(f"{estimators}, {label}: plain {pw:.1f} s, project {jw:.1f} s (--jobs {jobs}): "
                      f"{pw / jw:.1f}x wall, {pc / jc:.1f}x CPU ({pc:.1f} / {jc:.1f} s)")
            (_, pf), (_, jf) = best[("plain", True)], best[("project", True)]
            (_, pn), (_, jn) = best[("plain", False)], best[("project", False)]
            print(f"{estimators}, the 192 figures alone (CPU with - without figures): plain {pf - pn:.1f} s, "
                  f"project {jf - jn:.1f} s")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    if failed:
        sys.exit(1)
    print("identical results.csv: yes")


if __name__ == "__main__":
    run_cli(main, parse_args())
