"""Shared plumbing for the NAAP-440 scripts: one clear error line for bad input, atomic outputs,
and where the reference data lives.

Nothing here knows about CNNs or regressors; it only keeps every script's promises the same:
bad input -> one line on stderr naming the file and the problem, exit status 2, nothing written;
SIGTERM (run_cli) -> the same unwinding as Ctrl-C (staging directories removed, worker pools
stopped with stop_pool), one line, exit status 143.
"""
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
DATA_ENV_VAR = "NAAP440_DATA"  # directory holding naap440.csv, raw_data/, ...


class InputError(Exception):
    """Bad input. str(error) is the one line shown to the user: it names the file and the problem."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so that every Ctrl-C path (staging directories
    removed, pools stopped, journals and checkpoints kept for the rerun) handles a scheduler's
    stop as well, and no `except Exception` swallows it."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # unwind once: a second SIGTERM must not cut the cleanup
    raise Terminated()


def _default_sigterm_in_child():
    # forked workers must not inherit _on_sigterm: they die on SIGTERM even inside C code (pools
    # stop workers with SIGTERM; a Python handler would wait for the worker to return to
    # bytecode, forever if it is stuck)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def run_cli(main, args):
    """Call main(args); turn InputError into one stderr line and exit status 2, and SIGTERM into
    the Ctrl-C unwinding (no partial output left behind) and exit status 143."""
    installed = threading.current_thread() is threading.main_thread()  # only there can Python take signals
    if installed:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return main(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Terminated:
        tqdm = sys.modules.get("tqdm")
        for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
            bar.close()  # finish the progress lines first, so the message stands on its own
        print("terminated (SIGTERM): no partial output left behind", file=sys.stderr)
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous)
    # outside the except block: the traceback, and with it the interrupted frames' pools and
    # queues, is released first, so their semaphores are cleaned up without a warning
    sys.exit(128 + signal.SIGTERM)


def stop_pool(pool):
    """End a concurrent.futures ProcessPoolExecutor at once (a failed job, Ctrl-C, SIGTERM): its
    workers are terminated mid-task instead of being waited for, and queued tasks are dropped."""
    for proc in list((pool._processes or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data):
    """Write to a temp file in the same directory, fsync, then rename: readers never see half a file.

    The file gets the usual permissions (0666 less the umask), not mkstemp's private 0600. A path
    that cannot be written is an InputError naming it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_output_dir(out_dir, force=False):
    """Yield a temp directory beside OUT_DIR; on success it replaces OUT_DIR in one rename.

    An existing OUT_DIR is an InputError unless force; on any failure nothing is left behind.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not (force and out_dir.is_dir()):
        what = "output directory already exists (use --force to replace it)" if out_dir.is_dir() else "exists and is not a directory"
        raise InputError(f"{out_dir}: {what}")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        tmp.chmod(0o777 & ~_umask())
    except OSError as e:
        raise InputError(f"{out_dir}: cannot create ({e.strerror or e})") from None
    try:
        yield tmp
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            # between the two renames neither output is in place: let no signal stop it there
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                os.replace(out_dir, old)
                os.replace(tmp, out_dir)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_json(path):
    """Parse a JSON file or raise InputError naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a JSON file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None


def reference_data_dir(required=("naap440.csv",)):
    """The published NAAP-440 files: $NAAP440_DATA, else the project root, else ../shared/naap440.

    The first of these that holds every path in `required` wins, so a project root with only the
    downloaded CSVs does not hide the full release (raw logs, reference results) from the tests.
    """
    candidates = []
    if os.environ.get(DATA_ENV_VAR):
        candidates.append(Path(os.environ[DATA_ENV_VAR]))
    candidates += [REPO_ROOT, REPO_ROOT.parent / "shared" / "naap440"]
    for c in candidates:
        if all((c / name).exists() for name in required):
            return c
    raise InputError(f"{', '.join(required)} not found in {', '.join(map(str, candidates))}: "
                     "run download_naap440.py")
