"""Timing a command for the benchmarks: its wall time and the CPU time and memory of it and its
worker processes (getrusage of this process's children, read before and after)."""
import resource
import subprocess
import sys
import time
from collections import namedtuple

# seconds; peak_mib: the resident memory of the largest child this process has waited for so far
Timing = namedtuple("Timing", "wall user system peak_mib")
_KIB_PER_MAXRSS_UNIT = 1 / 1024 if sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KiB on Linux


def run_timed(cmd, **kwargs):
    """(subprocess.run(cmd, **kwargs)'s CompletedProcess, its Timing). The CPU seconds are those
    of every child that ended meanwhile: the command and the workers it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, Timing(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
                        after.ru_maxrss * _KIB_PER_MAXRSS_UNIT / 1024)


def run_or_exit(cmd, **kwargs):
    """(stdout, Timing) of run_timed(cmd) with its output captured as text; a command that fails
    ends the benchmark (SystemExit naming the command, with its stderr): a failed run has no time."""
    done, t = run_timed(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{done.stderr}")
    return done.stdout, t
