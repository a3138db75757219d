"""Benchmark: the first run_experiments.py run after a fresh clone (cold: numba compiles every
kernel) against the next one (warm: numba loads them from its on-disk cache).

Each pair of runs gets a fresh copy of the code (the top-level scripts and naap/, without any
__pycache__), as a fresh clone is: numba's cache and the project's bytecode go into the copy's
__pycache__ folders (NUMBA_CACHE_DIR is unset for the runs), and the installed libraries' bytecode
is used as installed. The cold run fills the copy's caches, the warm run right after it reads them.
The user's own caches (naap/**/__pycache__) are neither read nor changed. The pairs alternate
cold, warm, cold, warm, ... so that a machine shared with other work slows both alike; the best of
each is compared.

Inputs: a NAAP-440 CSV (default: naap440.csv beside this repository); --repeats pairs; --jobs and
--estimators, passed on to `run_experiments.py DATASET OUT --no-progress`.
Each run goes through bench/compile_events.py, which records what numba compiles in it and in
its workers.
Outputs (stdout): the machine's cores and load average, each run's wall and CPU seconds (CPU: the
run's and its worker processes' user + system time) and numba's compile seconds (summed over its
processes), the best cold and warm run and the cold/warm ratio of wall and CPU seconds, the
functions the best cold run compiled with their compile seconds, the cold run's CPU seconds
over the cores (the least wall time its work can take on this machine however it is scheduled),
and the most compile seconds a cold run 1.5 times as long as the warm one leaves room for.
Unless every cold and warm run wrote byte-identical files and no warm run compiled anything,
one line says what differs or what was compiled and the exit status is 1.

Example (about 2 minutes on 2 cores):
  python -m bench.bench_cold_start naap440.csv --repeats 2
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.compile_events import read_events
from bench.timing import run_or_exit
from naap import workers
from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = ROOT / "naap440.csv"
DEFAULT_REPEATS = 2
CODE = ("*.py", "naap")  # what run_experiments.py imports: the top-level modules and the package


RECORDER = ROOT / "bench" / "compile_events.py"
SHOWN_KERNELS = 6  # the functions listed of the best cold run, longest compile first
TARGET_RATIO = 1.5  # the cold/warm wall-time ratio whose compile budget is printed


def run_command(code_dir, dataset, out_dir, jobs, estimators, events):
    """The timed command: one run_experiments.py run of the code in code_dir, writing out_dir, its
    numba compiles recorded in the file events."""
    return [sys.executable, str(RECORDER), str(events), str(Path(code_dir) / "run_experiments.py"),
            str(Path(dataset).resolve()), str(out_dir), "--jobs", str(jobs), "--estimators", estimators,
            "--no-progress"]


def fresh_copy(dest):
    """A copy of the code in dest as a fresh clone has it: no __pycache__ (numba's cache, bytecode)."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    for pattern in CODE:
        for path in ROOT.glob(pattern):
            if path.is_dir():
                shutil.copytree(path, dest / path.name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, dest / path.name)
    return dest


def run_env():
    """This process's environment without NUMBA_CACHE_DIR: numba caches beside the copy's code."""
    return {name: value for name, value in os.environ.items() if name != "NUMBA_CACHE_DIR"}


def timed(cmd, env, cwd):
    """(wall seconds, CPU seconds of the child and its workers) of one subprocess run."""
    _, t = run_or_exit(cmd, env=env, cwd=cwd)
    return t.wall, t.user + t.system


def differing_files(a, b):
    """The relative paths of the files that are not byte-identical in folders a and b (or only in one)."""
    a, b = Path(a), Path(b)
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} | {p.relative_to(b) for p in b.rglob("*")
                                                                       if p.is_file()}
    return sorted(str(n) for n in names
                  if not ((a / n).is_file() and (b / n).is_file() and (a / n).read_bytes() == (b / n).read_bytes()))


def run_pairs(dataset, repeats, jobs, estimators, tmp):
    """Runs the cold/warm pairs in tmp, printing each run; returns ({"cold": [(wall, cpu, compiled)],
    "warm": [...]}, the problems found as lines), compiled being {function: compile seconds}."""
    times, problems = {"cold": [], "warm": []}, []
    for i in range(repeats):
        code = fresh_copy(Path(tmp) / f"clone{i}")
        for kind in ("cold", "warm"):
            out, events = Path(tmp) / f"{kind}{i}", Path(tmp) / f"{kind}{i}.events"
            wall, cpu = timed(run_command(code, dataset, out, jobs, estimators, events), run_env(), code)
            compiled = read_events(events)
            times[kind].append((wall, cpu, compiled))
            print(f"pair {i + 1} {kind}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, {len(compiled)} functions compiled "
                  f"in {sum(compiled.values()):.1f} s", flush=True)
            if kind == "warm" and compiled:
                problems.append(f"pair {i + 1}: the warm run compiled {', '.join(sorted(compiled))}")
        differ = differing_files(Path(tmp) / f"cold{i}", Path(tmp) / f"warm{i}")
        if differ:
            problems.append(f"pair {i + 1}: the cold and warm runs' outputs differ: {', '.join(differ)}")
    return times, problems


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_DATASET), help="NAAP-440 CSV (default: %(default)s)")
    parser.add_argument("--repeats", default=str(DEFAULT_REPEATS), help="cold/warm pairs (default %(default)s)")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="run_experiments.py --jobs")
    parser.add_argument("--estimators", default="paper", help="run_experiments.py --estimators (default paper)")
    return parser.parse_args(argv)


def main(args):
    repeats, jobs = whole_number("--repeats", args.repeats, 1), workers.jobs_option(args.jobs)
    if not Path(args.dataset).is_file():
        raise InputError(f"{args.dataset}: no such file")
    print(f"{workers.available_cores()} cores, load average {os.getloadavg()[0]:.2f} at start; "
          f"dataset {args.dataset}, --jobs {jobs}, --estimators {args.estimators}")
    with tempfile.TemporaryDirectory() as tmp:
        times, problems = run_pairs(args.dataset, repeats, jobs, args.estimators, tmp)
    best = {kind: min(runs, key=lambda run: run[:2]) for kind, runs in times.items()}
    (cold_wall, cold_cpu, compiled), (warm_wall, warm_cpu, _) = best["cold"], best["warm"]
    print(f"best cold: {cold_wall:.1f} s wall, {cold_cpu:.1f} s CPU; best warm: {warm_wall:.1f} s wall, "
          f"{warm_cpu:.1f} s CPU")
    print(f"cold / warm: {cold_wall / warm_wall:.2f}x wall, {cold_cpu / warm_cpu:.2f}x CPU")
    longest = sorted(compiled.items(), key=lambda item: -item[1])[:SHOWN_KERNELS]
    print(f"the best cold run compiled {len(compiled)} functions in {sum(compiled.values()):.1f} s; the longest: "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in longest))
    cores = workers.available_cores()
    floor = cold_cpu / cores
    print(f"the best cold run's CPU time over {cores} cores: {floor:.1f} s wall at least, "
          f"{floor / warm_wall:.2f}x the best warm run")
    # the CPU time that fits in TARGET_RATIO times the warm wall time on every core, less the warm run's own
    target = TARGET_RATIO * warm_wall
    print(f"within {TARGET_RATIO}x the best warm run ({target:.1f} s) on {cores} cores: at most "
          f"{cores * target:.1f} s CPU, so at most {cores * target - warm_cpu:.1f} s of compile")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("cold and warm outputs byte-identical: yes")


if __name__ == "__main__":
    run_cli(main, parse_args())
