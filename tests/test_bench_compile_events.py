"""bench/compile_events.py: a script run through it behaves as under `python SCRIPT`, and each
top-level numba compile of it and of its forked processes is one line, the functions compiled on
the way counted in the outer one."""
import subprocess
import sys

from bench import compile_events

# compiles outer (and inner on the way) here, then `forked` in a forked child; imports a module
# that lies only beside the script, and writes its arguments, as `python SCRIPT` would see them
SCRIPT = """
import os, sys
import numpy as np
from numba import njit
import sibling

@njit
def inner(a):
    return a.sum()

@njit
def outer(a):
    return inner(a) * 2.0

@njit
def forked(a):
    return a.max()

outer(np.ones(3))
pid = os.fork()
if pid == 0:
    forked(np.ones(3))
    os._exit(0)
os.waitpid(pid, 0)
open(sys.argv[1], "w").write(repr(sys.argv) + sibling.NAME)
"""


def test_top_level_compiles_of_the_script_and_its_forks_are_recorded(tmp_path):
    (tmp_path / "code").mkdir()
    script = tmp_path / "code" / "script.py"
    script.write_text(SCRIPT)
    (tmp_path / "code" / "sibling.py").write_text("NAME = 'beside'\n")
    events, seen = tmp_path / "events.tsv", tmp_path / "argv.txt"
    subprocess.run([sys.executable, compile_events.__file__, str(events), str(script), str(seen), "--x"],
                   check=True, cwd=tmp_path)
    assert seen.read_text() == repr([str(script), str(seen), "--x"]) + "beside"
    lines = [line.split("\t") for line in events.read_text().splitlines()]
    assert [name for _, _, name in lines] == ["__main__.outer", "__main__.forked"]
    assert lines[0][0] != lines[1][0]  # two processes
    assert all(float(seconds) > 0 for _, seconds, _ in lines)


def test_read_events_sums_each_function(tmp_path):
    events = tmp_path / "events.tsv"
    events.write_text("1\t1.25\tm.f\n2\t0.5\tm.g\n3\t2.0\tm.f\n")
    assert compile_events.read_events(events) == {"m.f": 3.25, "m.g": 0.5}
    assert compile_events.read_events(tmp_path / "none.tsv") == {}
