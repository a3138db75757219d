"""bench/timing.py: a command's wall time, and the CPU time and peak memory of it and its workers."""
import sys

import pytest

from bench.timing import run_or_exit, run_timed

# burns CPU in a worker process it waits for, holding ~80 MiB there, and prints
CHILD = """
import multiprocessing, time
def burn():
    block = bytearray(80 * 2**20)
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
if __name__ == "__main__":
    p = multiprocessing.get_context("fork").Process(target=burn)
    p.start()
    p.join()
    print("done")
"""


def test_run_timed_counts_the_workers_cpu_and_memory():
    done, t = run_timed([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "done\n"
    assert t.user + t.system >= 0.3  # the worker's CPU, not only the command's own
    assert t.wall >= 0.3
    assert t.peak_mib >= 80


def test_run_or_exit_returns_the_output_and_ends_on_a_failure():
    stdout, t = run_or_exit([sys.executable, "-c", "print('out')"])
    assert stdout == "out\n" and t.wall > 0
    failing = [sys.executable, "-c", "import sys; sys.exit('broken input')"]
    with pytest.raises(SystemExit) as e:
        run_or_exit(failing)
    assert str(e.value).startswith("failed: " + " ".join(failing)) and "broken input" in str(e.value)
