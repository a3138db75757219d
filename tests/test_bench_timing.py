"""bench/timing.py: a command's wall time, and the CPU time and peak memory of it and its workers."""
import sys

from bench.timing import run_timed

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
