"""Shared test fixtures: where the published data is, how to run a top-level script, and the
small tables and reference rules that several test modules use."""
import csv
import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from naap.data.schemes import load_schemes
from naap.paths import reference_data_dir

ROOT = Path(__file__).resolve().parent.parent
# the repository's schemes file, the scripts' default (scheme i is ModelId i + 1)
SCHEMES = load_schemes(ROOT / "generated_schemes.json")

REFERENCE_FILES = ("naap440.csv", "naap440v2.csv", "generated_schemes.json", "raw_data",
                   "published_results.csv", "sklearn_results.csv")


@pytest.fixture(scope="session")
def ref_dir():
    """The published NAAP-440 release (../shared/naap440 in CI). Never skipped: CI always has it."""
    return reference_data_dir(REFERENCE_FILES)


def published_schemes_text(ref_dir):
    """The release's generated_schemes.json as scheme_generator.py writes it: the release has CRLF
    line endings, the generator writes LF."""
    return (ref_dir / "generated_schemes.json").read_bytes().replace(b"\r\n", b"\n")


@pytest.fixture(scope="session")
def schemes(ref_dir):
    """The 440 published schemes (test_models.py, test_schemes.py)."""
    return json.loads(published_schemes_text(ref_dir))


@pytest.fixture(scope="session")
def published_rows(ref_dir):
    """naap440.csv's rows as dicts of strings (test_models.py, test_schemes.py)."""
    with open(ref_dir / "naap440.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A synthetic CIFAR-10 data root of N_TRAIN training and N_TEST test images (synthetic_cifar.py):
    the training loop's tests and create_dataset.py's."""
    from synthetic_cifar import N_TEST, N_TRAIN, synthetic_cifar, write_cifar  # torch: only where used
    root = tmp_path_factory.mktemp("cifar")
    write_cifar(root, **synthetic_cifar(N_TRAIN, N_TEST))
    return root


@pytest.fixture(scope="session")
def costs_csv(ref_dir, tmp_path_factory):
    """The release's COSTS.csv, made once per session by data_dir_to_csv.py --costs from its raw logs."""
    out = tmp_path_factory.mktemp("costs")
    result = run_script("data_dir_to_csv.py", ref_dir / "raw_data", out / "v1.csv", "--costs", out / "costs.csv")
    assert result.returncode == 0, result.stderr
    return out / "costs.csv"


@pytest.fixture
def as_zero_cost():
    """zero_cost.py's torch setting (one thread), restored afterwards (test_zero_cost*.py)."""
    import torch

    import zero_cost
    threads = torch.get_num_threads()
    torch.set_num_threads(zero_cost.THREADS)
    yield
    torch.set_num_threads(threads)


# (NPY_DISABLE_CPU_FEATURES, OPENBLAS_CORETYPE, OMP/BLAS threads, --jobs): AVX2-like and baseline
# SIMD dispatch, two OpenBLAS kernels, one and several threads and workers
MACHINES = {
    "avx2-like": ("X86_V4 AVX512_ICL AVX512_SPR", "Haswell", "1", "1"),
    "baseline": ("X86_V3 X86_V4 AVX512_ICL AVX512_SPR", "Sandybridge", "3", "2"),
}


def machine_env(npy, coretype, threads):
    """The environment of a simulated machine of MACHINES (its first three fields)."""
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=npy, OPENBLAS_CORETYPE=coretype, OMP_NUM_THREADS=threads,
               OPENBLAS_NUM_THREADS=threads)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def folder_bytes(folder):
    """{path relative to folder: bytes} of every file under folder."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_on_machines(script, dataset, *options):
    """{machine: (CompletedProcess, folder_bytes of OUT)} of `script DATASET OUT *options --jobs J`
    run on each of MACHINES, OUT a new temporary folder each time."""
    runs = {}
    for machine, (npy, coretype, threads, jobs) in MACHINES.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            done = run_script(script, dataset, out, *options, "--jobs", jobs, env=machine_env(npy, coretype, threads))
            runs[machine] = (done, folder_bytes(out) if done.returncode == 0 else {})
    return runs


def fail_renames_to(monkeypatch, name):
    """naap.files' renames onto a file named `name` fail with an I/O error; the others happen."""
    from naap import files
    real_replace = os.replace

    def replace(src, dst, **kwargs):
        if os.path.basename(dst) == name:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(files.os, "replace", replace)


def run_script(script, *args, cwd=None, timeout=600, env=None):
    """Run a top-level script as a user would, or a bench script ("bench/NAME.py") as the module
    bench.NAME from the repository; return the CompletedProcess (text, captured)."""
    if script.startswith("bench/"):
        env = {**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)}
        argv = ["-m", script[:-len(".py")].replace("/", ".")]
    else:
        argv = [str(ROOT / script)]
    return subprocess.run([sys.executable, *argv, *map(str, args)], cwd=cwd,
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


def stopped(pid):
    """Whether every thread of process pid is stopped (SIGSTOP: state T in /proc)."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            states.append(open(task / "stat").read().rsplit(")", 1)[1].split()[0])
        except OSError:  # a thread that ended meanwhile
            continue
    return all(state == "T" for state in states)


def wait_until(condition, what, timeout=120, proc=None):
    """Poll condition() until it is true and return its value; fail naming `what` (the awaited
    event) when `timeout` seconds pass first, or when proc (a Popen) ends first."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert proc is None or proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)
    return found


def journal_records(paths):
    """How many whole records the resume journals at paths hold (naap.paper2.journal: one per
    search round). Read only: read_journal truncates a record cut short, which may be one being
    written."""
    count = 0
    for path in paths:
        with open(path, "rb") as f:
            while True:
                try:
                    pickle.load(f)
                except Exception:  # EOFError at the end, anything at a record still being written
                    break
                count += 1
    return count


def signal_when_started(cmd, cwd, started, timeout=300, signum=signal.SIGTERM):
    """Start cmd (a script's argv) in cwd, wait until started(stderr so far) is true (an event the
    run writes: its progress bar or files show finished work, so numba's functions are compiled
    and the long loops run), and send signum (SIGTERM unless told) at once. Returns (exit status,
    stderr). Fails if the run ends first."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    reader.start()
    try:
        try:
            wait_until(lambda: started("".join(chunks)), "the run started its work", timeout, proc)
        except AssertionError as e:
            raise AssertionError(f"{e}; its stderr: {''.join(chunks)}") from None
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    return proc.returncode, "".join(chunks)


def message_lines(stderr):
    """stderr's non-blank lines less tqdm's progress bars (`desc: 10%|##   | 1/9 [...]`)."""
    return [line for line in stderr.splitlines() if line.strip() and "|" not in line]


def resplit(df, num_rows, test_share, seed):
    """A different NAAP-440 problem: a random subset of the rows with a new random test split."""
    rng = np.random.default_rng(seed)
    sub = df.iloc[rng.permutation(len(df))[:num_rows]].copy()
    sub["IsTest"] = (rng.random(len(sub)) < test_share).astype(int)
    return sub


def bins_of(n):
    """The published split rule written out: bins of round(n / 40) rows; a bin counts if it holds
    its middle row (as data_dir_to_csv.py tests the middle row of each)."""
    size = round(n / 40)
    starts = [s for s in range(0, n, size) if s + size // 2 < n]
    return [(s, min(s + size, n)) for s in starts]
