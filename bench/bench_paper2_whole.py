"""Benchmark: paper 2's whole default run as one command, timed, and its figures checked.

Runs `feature_selection.py DATASET_V2 OUT --jobs N` once, from nothing (OUT and its resume
directory must not exist: a run that resumes a journal is not a whole run), with its progress on
stderr. Then `python -m bench.check_published_figures OUT/results.csv` compares the best subsets
with the authors' 220 published figures.

Inputs: DATASET_V2 (naap440v2.csv), OUT (the run's output folder, new), --jobs (default 2),
--record (write the measurement into docs/records/paper2.json; `python -m bench.update_docs
paper2-whole-run` then renders it into docs/feature_selection.md).
Outputs (stdout): the machine and its load average at the start; the run's wall time, CPU seconds
(user and system, the run and its workers), CPU share and peak resident memory of its largest
process; the subsets scored and the published figures that agree. Exit status: the run's or the
check's, if either fails (nothing recorded); 1 if a figure disagrees (nothing recorded).

Example (hours on 2 cores; on an otherwise idle machine, so that the time is the run's own):
  python -m bench.bench_paper2_whole naap440v2.csv /tmp/fs_whole --jobs 2 --record
"""
import datetime
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from bench.docs_blocks import RECORD, machine_description, read_record, record_text
from bench.timing import run_timed
from naap import workers
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.files import atomic_write_text, resume_root

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JOBS = 2
SEGMENT = "the whole default run, one command"


def run_command(dataset, out, jobs):
    """The timed command: the whole default run."""
    return [sys.executable, str(ROOT / "feature_selection.py"), str(dataset), str(out), "--jobs", str(jobs)]


def check_command(out):
    """The figure check of the run's results."""
    return [sys.executable, "-m", "bench.check_published_figures", str(Path(out) / "results.csv")]


def hours_minutes_seconds(seconds):
    """`2 h 21 min 10 s` (`4 min 42 s`, `28 s`) of a duration, to the second."""
    s = round(seconds)
    h, m = divmod(s // 60, 60)
    parts = [f"{h} h"] * (h > 0) + [f"{m} min"] * (h > 0 or m > 0) + [f"{s % 60} s"]
    return " ".join(parts)


def figures_agreeing(out):
    """(agree, total) from the check's published_figures.csv beside results.csv."""
    table = pd.read_csv(Path(out) / "published_figures.csv")
    return int(table["Agrees"].astype(bool).sum()), len(table)


def count_subsets(out):
    """The subsets the run scored: results.csv's rows."""
    return len(pd.read_csv(Path(out) / "results.csv", usecols=["Mode"]))


def whole_run_record(wall, user, subsets, figures, machine, date, jobs=DEFAULT_JOBS):
    """docs/records/paper2.json's "whole-run" entry for this measurement."""
    return {"how": f"one `python -m bench.bench_paper2_whole naap440v2.csv OUT --jobs {jobs} --record`, which "
                   f"runs `python feature_selection.py naap440v2.csv OUT --jobs {jobs}` alone and then compares "
                   "the figures by `python -m bench.check_published_figures OUT/results.csv`",
            "machine": machine, "date": date,
            "segments": [{"segment": SEGMENT, "subsets": subsets, "figures": list(figures),
                          "wall": hours_minutes_seconds(wall), "cpu_user_s": round(user)}]}


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="naap440v2.csv")
    parser.add_argument("out", help="the run's output folder (must not exist)")
    parser.add_argument("--jobs", default=str(DEFAULT_JOBS), help="feature_selection.py --jobs (default %(default)s)")
    parser.add_argument("--record", action="store_true", help=f"write the measurement into {RECORD.name}")
    return parser.parse_args(argv)


def main(args):
    jobs = workers.jobs_option(args.jobs)
    dataset, out = Path(args.dataset).resolve(), Path(args.out).resolve()
    if not dataset.is_file():
        raise InputError(f"{args.dataset}: no such file")
    for path in (out, resume_root(out)):
        if path.exists():
            raise InputError(f"{path}: exists; a whole run starts from nothing (remove it, or name a new OUT)")
    machine = machine_description()
    print(f"{machine}; load average {os.getloadavg()[0]:.2f} at start; --jobs {jobs}", flush=True)
    done, t = run_timed(run_command(dataset, out, jobs), cwd=ROOT)  # its progress on this stderr
    print(f"run: exit status {done.returncode}, {hours_minutes_seconds(t.wall)} wall ({t.wall:.0f} s), "
          f"{t.user:,.0f} CPU-s user, {t.system:,.0f} system, {(t.user + t.system) / t.wall:.0%} CPU, "
          f"peak resident {t.peak_mib:,.0f} MiB", flush=True)
    if done.returncode != 0:
        sys.exit(done.returncode)
    check = subprocess.run(check_command(out), cwd=ROOT, capture_output=True, text=True)
    if check.returncode != 0:
        print(check.stdout + check.stderr, end="")
        sys.exit(check.returncode)
    agree, total = figures_agreeing(out)
    subsets = count_subsets(out)
    print(f"{subsets:,} subsets scored; {agree} of {total} published figures agree; "
          f"load average {os.getloadavg()[0]:.2f} at end")
    if agree != total:
        sys.exit(1)
    if args.record:
        record = read_record(RECORD)
        record["whole-run"] = whole_run_record(t.wall, t.user, subsets, (agree, total), machine,
                                               datetime.date.today().isoformat(), jobs)
        atomic_write_text(RECORD, record_text(record))
        print(f"recorded in {RECORD}; render it with `python -m bench.update_docs paper2-whole-run`")


if __name__ == "__main__":
    run_cli(main, parse_args())
