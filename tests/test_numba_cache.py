"""numba_cache.py: a cached function that calls another module's compiled code is compiled again
after that module changes, and loaded from the cache while nothing changed."""
import os
import subprocess
import sys

from conftest import ROOT

CALLER = """
import callee
from numba import njit

from naap.replica.numba_cache import depends_on


@njit(cache=True)
def plain(x):
    return x + callee.step()


@depends_on(callee)
@njit(cache=True)
def guarded(x):
    return x + callee.step()


print(plain(1), guarded(1))
"""


def write_callee(directory, step, mtime):
    path = directory / "callee.py"
    path.write_text(f"from numba import njit\n\n\n@njit(cache=True)\ndef step():\n    return {step}\n")
    os.utime(path, (mtime, mtime))


def run_caller(directory):
    """(plain(1), guarded(1)) as printed, and the caches numba loaded (NUMBA_DEBUG_CACHE)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), str(ROOT)]), "NUMBA_DEBUG_CACHE": "1"}
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "caller.py"], cwd=directory, env=env, capture_output=True, text=True,
                         check=True, timeout=300).stdout.splitlines()
    loaded = {name for name in ("plain", "guarded") if any("data loaded" in line and f"caller.{name}-" in line
                                                          for line in out)}
    return out[-1].split(), loaded


def test_the_cache_follows_the_modules_a_function_calls(tmp_path):
    (tmp_path / "caller.py").write_text(CALLER)
    write_callee(tmp_path, 1, 1_000_000_000)
    assert run_caller(tmp_path) == (["2", "2"], set())
    assert run_caller(tmp_path) == (["2", "2"], {"plain", "guarded"})  # nothing changed: both from the cache
    write_callee(tmp_path, 2, 1_000_000_100)  # same size, later mtime
    # numba's own stamp sees caller.py unchanged and loads the old machine code (numba issue
    # #1833, the reason for depends_on); the guarded function is compiled again
    assert run_caller(tmp_path) == (["2", "3"], {"plain"})
