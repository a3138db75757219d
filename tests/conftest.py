"""Shared test fixtures: where the published data is, and how to run a top-level script."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import reference_data_dir  # noqa: E402


REFERENCE_FILES = ("naap440.csv", "naap440v2.csv", "generated_schemes.json", "raw_data",
                   "published_results.csv", "sklearn_results.csv")


@pytest.fixture(scope="session")
def ref_dir():
    """The published NAAP-440 release (../shared/naap440 in CI). Never skipped: CI always has it."""
    return reference_data_dir(REFERENCE_FILES)


def run_script(script, *args, cwd=None, timeout=600, env=None):
    """Run a top-level script as a user would; return the CompletedProcess (text, captured)."""
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def live_processes():
    """{pid: (parent pid, cmdline bytes)} of the processes alive now (Linux /proc; zombies and
    processes gone while reading are left out)."""
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            state, ppid = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[:2]
            cmdline = open(f"/proc/{d}/cmdline", "rb").read()
        except (OSError, ValueError):
            continue
        if state != "Z":
            found[int(d)] = (int(ppid), cmdline)
    return found
