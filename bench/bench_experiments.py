"""Benchmark: run_experiments.py against a plain serial run of the same protocol, same output.

The plain run is the straightforward implementation: for every feature set and regressor,
run_experiments.evaluate_plain([name]) (a fresh estimator, refitted for each of the 5 seeds), then
two figures drawn from scratch with pyplot's defaults (6.4 x 4.8 in, 100 dpi), in one process.
The project run is `run_experiments.py DATASET OUT --jobs N` (prefix-shared ensembles, one fit
for deterministic regressors, a process pool, blitted figures). Both run as subprocesses of this
script (same interpreter, environment and machine, one after the other); the benchmark fails
unless their results.csv are identical.

Usage:  python bench/bench_experiments.py [naap440.csv] [--repeat N] [--jobs N]
        python bench/bench_experiments.py --plain DATASET OUT_DIR   (the plain run alone)
Prints each run's wall and CPU seconds, the machine's load, and the plain / project ratios. The
wall ratio needs the cores to be free: on a machine shared with other work, the project's two
workers get what the scheduler leaves them, and the ratio falls toward the CPU-seconds ratio.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import run_experiments as rx  # noqa: E402
from common import InputError, reference_data_dir, run_cli  # noqa: E402

def plain_rank_matrix(pred, y_test, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(pred)
    matrix = np.zeros((n, n))
    matrix[np.argsort(pred, kind="stable"), np.arange(n)] = 1
    fig, ax = plt.subplots()
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
    fig, ax = plt.subplots()
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


def plain_run(dataset, out_dir):
    """The straightforward implementation, serial: same results.csv, results.md, figures, summary."""
    out_dir = Path(out_dir)
    df = rx.load_dataset(dataset, list(dict.fromkeys(c for cols in rx.FEATURE_SETS.values() for c in cols)))
    for sub in ("rank_matrix", "scatter"):
        (out_dir / "figures" / sub).mkdir(parents=True, exist_ok=True)
    results, y_tests = {}, {}
    for features, columns in rx.FEATURE_SETS.items():
        data = rx.split(df, columns)
        y_tests[features] = data[3]
        for name in rx.REGRESSORS:
            run = rx.evaluate_plain([name], *data)[name]
            results.setdefault(features, {})[name] = run
            rank_path, scatter_path = rx.figure_paths(out_dir / "figures", name, features)
            title = rx.figure_title(name, features, run)
            plain_rank_matrix(run["pred"], data[3], title, rank_path)
            plain_scatter(run["pred"], data[3], title, scatter_path)
    frame = rx.results_frame(results, y_tests)
    (out_dir / "results.csv").write_text(frame[rx.RESULT_COLUMNS].to_csv(index=False))
    (out_dir / "results_extended.csv").write_text(frame.to_csv(index=False))
    (out_dir / "results.md").write_text(rx.markdown_table(frame))
    rx.plot_summary(frame, out_dir / "summary.png")


def timed(cmd):
    """(wall seconds, CPU seconds of the child and its workers) of one subprocess run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="NAAP-440 CSV (default: the reference data's naap440.csv)")
    parser.add_argument("out_dir", nargs="?", help="with --plain: where the plain run writes")
    parser.add_argument("--plain", action="store_true", help="only do the plain run into OUT_DIR")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (the best and all are shown)")
    parser.add_argument("--jobs", type=int, default=rx.available_cores(), help="--jobs for run_experiments.py")
    return parser.parse_args(argv)


def main(args):
    dataset = args.dataset or reference_data_dir() / "naap440.csv"
    if args.plain:
        if args.out_dir is None:
            raise InputError("--plain needs DATASET and OUT_DIR")
        plain_run(dataset, args.out_dir)
        return
    print(f"{rx.available_cores()} cores, load average {os.getloadavg()[0]:.2f} at start; dataset {dataset}")
    times = {"plain": [], "project": []}
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {}
        for i in range(args.repeat):
            for kind in ("plain", "project"):
                out = Path(tmp) / f"{kind}{i}"
                if kind == "plain":
                    cmd = [sys.executable, __file__, "--plain", dataset, out]
                else:
                    cmd = [sys.executable, ROOT / "run_experiments.py", dataset, out, "--jobs", str(args.jobs),
                           "--no-progress"]
                times[kind].append(timed(list(map(str, cmd))))
                produced = [(out / name).read_bytes() for name in ("results.csv", "results_extended.csv")]
                if produced != outputs.setdefault("plain", produced):
                    raise SystemExit(f"results differ from the plain run's: {kind} run {i}")
                print(f"{kind:8s} run {i + 1}: {times[kind][-1][0]:6.1f} s wall, {times[kind][-1][1]:6.1f} s CPU",
                      flush=True)
    (plain, plain_cpu), (project, project_cpu) = min(times["plain"]), min(times["project"])
    print(f"identical results.csv; best wall: plain {plain:.1f} s, project {project:.1f} s (--jobs {args.jobs}): "
          f"speedup {plain / project:.1f}x (CPU seconds {plain_cpu:.1f} / {project_cpu:.1f} = "
          f"{plain_cpu / project_cpu:.1f}x); load average {os.getloadavg()[0]:.2f} at end")

if __name__ == "__main__":
    run_cli(main, parse_args())
