"""Benchmark: zero_cost.py's data-free proxies over the schemes file, against the goal of all 440
schemes in at most GOAL_SECONDS on 2 CPU cores.

Computes every scheme's data-free proxies exactly as zero_cost.py does (zero_cost.model_proxies, one
torch thread) and prints, measured on this machine:
- per proxy: the mean and the total wall seconds per model (the <proxy>_seconds columns of the CSV);
- the whole loop: wall and CPU seconds (model building included), and the script's start-up (the
  imports, timed in a fresh interpreter);
- with --sample N: only N schemes evenly spaced over the file are timed and the totals for all of
  them are a PROJECTION (mean x count), labelled as such.
The load average is printed too: on a shared machine the wall times grow with it, CPU times less so.

Output: a table on stdout; nothing is written.
Example (about a minute on 2 cores):
  python -m bench.bench_zero_cost ../shared/naap440/generated_schemes.json
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import zero_cost
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.data.schemes import load_schemes

ROOT = Path(__file__).resolve().parent.parent

GOAL_SECONDS = 300  # all 440 schemes' data-free proxies in at most 5 minutes on 2 cores
DEFAULT_SCHEMES = ROOT / "generated_schemes.json"


def startup_seconds():
    """Wall seconds a fresh interpreter needs to import zero_cost.py (what every run pays first)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import zero_cost"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("schemes", nargs="?", default=str(DEFAULT_SCHEMES),
                   help="JSON list of schemes (default: the repository's generated_schemes.json)")
    p.add_argument("--sample", type=int, metavar="N", help="time N evenly spaced schemes and project the rest")
    return p.parse_args(argv)


def main(args):
    schemes = load_schemes(args.schemes)
    count = len(schemes)
    if args.sample is not None and not 1 <= args.sample <= count:
        raise InputError(f"--sample {args.sample}: must be in 1..{count}")
    picked = sorted(set(np.linspace(0, count - 1, args.sample).round().astype(int))) if args.sample else range(count)
    torch.set_num_threads(zero_cost.THREADS)
    boot = startup_seconds()
    seconds = {p: [] for p in zero_cost.DATA_FREE}
    wall, cpu = time.perf_counter(), time.process_time()
    for i in picked:
        for proxy, s in zero_cost.model_proxies(schemes[i])[1].items():
            seconds[proxy].append(s)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(picked)
    scale = count / n  # 1 unless sampled
    label = "measured" if n == count else f"PROJECTED from {n} of {count}"
    print(f"zero_cost.py data-free proxies: {n} of {count} schemes timed ({args.schemes}); "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPU(s), torch threads {zero_cost.THREADS}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'proxy':<12} {'mean s/model':>13} {f'total s, {count} schemes':>22}")
    for proxy, values in seconds.items():
        print(f"{proxy:<12} {np.mean(values):>13.5f} {np.sum(values) * scale:>22.2f}")
    print(f"{'sum':<12} {sum(np.mean(v) for v in seconds.values()):>13.5f} "
          f"{sum(np.sum(v) for v in seconds.values()) * scale:>22.2f}")
    total = wall * scale + boot
    print(f"whole loop ({label}): {wall * scale:.1f} s wall, {cpu * scale:.1f} s CPU; start-up {boot:.1f} s; "
          f"total {total:.1f} s against the goal of {GOAL_SECONDS} s: {'met' if total <= GOAL_SECONDS else 'NOT met'}")
    return seconds


if __name__ == "__main__":
    run_cli(main, parse_args())
