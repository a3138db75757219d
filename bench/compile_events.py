"""Runs a Python script as `python SCRIPT ARGS...` would, recording what numba compiles.

Every top-level compile (a numba function compiled for new argument types by the Python code that
calls it, with the functions it compiles on the way counted in it) appends one line to EVENTS:
`pid<TAB>seconds<TAB>module.function`. Processes the script forks inherit the recorder, so a
forked worker's compiles are recorded too. A function loaded from numba's on-disk cache is not
compiled and leaves no line.

Usage:  python bench/compile_events.py EVENTS SCRIPT [ARGS...]
Example (what bench_cold_start.py runs):
  python bench/compile_events.py /tmp/events.tsv run_experiments.py naap440.csv /tmp/out --no-progress
"""
import argparse
import os
import runpy
import sys
import time
from collections import defaultdict
from pathlib import Path


def read_events(path):
    """{module.function: total compile seconds} of an EVENTS file (empty for no file)."""
    seconds = defaultdict(float)
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            _, secs, name = line.split("\t")
            seconds[name] += float(secs)
    return dict(seconds)


def record_compiles(path):
    """Appends each top-level numba compile of this process (and of the processes it forks) to path."""
    from numba.core import event

    starts = []  # the compiles under way, outermost first: nested ones are counted in the outer one

    class Recorder(event.Listener):
        def on_start(self, ev):
            starts.append(time.perf_counter())

        def on_end(self, ev):
            seconds = time.perf_counter() - starts.pop()
            if not starts:
                func = ev.data["dispatcher"].py_func
                # one write in append mode: the lines of concurrent processes do not interleave
                with open(path, "a") as f:
                    f.write(f"{os.getpid()}\t{seconds:.6f}\t{func.__module__}.{func.__qualname__}\n")

    event.register("numba:compile", Recorder())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", help="the file the compiles are appended to")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    return parser.parse_args(argv)


def main(args):
    record_compiles(args.events)
    sys.argv = [args.script, *args.args]
    sys.path[0] = str(Path(args.script).resolve().parent)  # as `python SCRIPT` has it: imports from beside it
    runpy.run_path(args.script, run_name="__main__")


if __name__ == "__main__":
    main(parse_args())
