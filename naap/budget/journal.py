"""The budget map's resume journal: one file per finished task, replayed on a rerun.

The journal lives beside OUT_DIR in .<OUT_DIR name>.resume/<key>/, where the key hashes the
inputs (the dataset's and the costs' bytes), the map's settings and the code that decides a
cell's scores (BUDGET_SOURCES), so that no stale result is ever replayed. Each task's rows are
written atomically (a kill leaves a whole file or none); a file that does not read back is
computed again. A completed map deletes the journal. A run holds a lock on the .resume folder
(lock_journal), so that a second run on the same OUT_DIR is refused at its start.
"""
import fcntl
import hashlib
import os
import pickle
import shutil
from pathlib import Path

import sklearn

from naap.cli import InputError, cannot_write, disk_full
from naap.files import atomic_write_bytes, is_journal_file, resume_root
from naap.paths import source_hash

# the code that decides a cell's scores: a change to any of them starts a fresh journal
BUDGET_SOURCES = ("metrics.py", "naap/data", "naap/protocol", "naap/replica", "naap/predictors", "naap/budget",
                  "naap/learning_curves.py", "naap/plugins.py")

_LOCKS = {}  # {.resume folder: (pid, the open descriptor holding its lock)} (lock_journal)


def journal_dir(out_dir, inputs, settings):
    """The journal directory of a map: beside OUT_DIR, named by its inputs' bytes (a list of bytes),
    settings (a repr-able value) and the code's hash."""
    out_dir = Path(os.path.abspath(out_dir))  # "a/.." has a name to put the journal beside
    digest = hashlib.sha256()
    for data in inputs:
        digest.update(hashlib.sha256(data).digest())
    digest.update(repr((settings, sklearn.__version__, source_hash(BUDGET_SOURCES))).encode())
    return resume_root(out_dir) / digest.hexdigest()[:16]


def _name(task):
    return "task_" + "_".join(str(part) for part in task) + ".pkl"


def open_journal(path):
    """Make the journal directory; InputError (one line) when it cannot be made, a full disk's
    OSError naming it (naap.cli.run_cli: one line, exit status 1)."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if disk_full(e):
            raise cannot_write(path, e) from None
        raise InputError(f"{path}: cannot create the resume journal ({e.strerror or e})") from None


def lock_journal(path, out_dir):
    """Make the .resume folder of the journal at path and hold an exclusive lock on it until
    remove() or this process's end; call it before open_journal. A second run on the same OUT_DIR
    is refused at its start (an InputError naming out_dir), instead of after its whole run, when
    its rename would find the first one's OUT_DIR, or its records the journal the first one removed."""
    folder = os.path.abspath(Path(path).parent)
    if _LOCKS.get(folder, (None,))[0] == os.getpid():  # held already by this process (not by a parent)
        return
    open_journal(folder)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise InputError(f"{folder}: cannot open the resume journal ({e.strerror or e})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: locked by another run
        os.close(fd)
        raise InputError(f"{out_dir}: another run is making it (its journal {folder} is locked); "
                         "rerun once that run has ended") from None
    _LOCKS[folder] = os.getpid(), fd


def read_done(path, tasks):
    """{task: rows} of the tasks whose journal file reads back. A task's name taken by anything
    but a regular file (a directory, a pipe) is an InputError now, not when its rows would be
    recorded after the task's work (or, for a pipe, a read that never returns)."""
    done = {}
    for task in tasks:
        file = Path(path) / _name(task)
        if not is_journal_file(file, "remove it to compute the task afresh"):
            continue
        try:
            with open(file, "rb") as f:
                rows = pickle.load(f)
        except Exception:  # unreadable or not ours: computed again, and the file replaced
            continue
        if isinstance(rows, list):
            done[task] = rows
    return done


def record(path, task, rows):
    """Journal one finished task's rows (atomically)."""
    atomic_write_bytes(Path(path) / _name(task), pickle.dumps(rows))


def remove(path):
    """Delete the journal after a completed map, and its .resume folder if nothing else is there."""
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    pid, fd = _LOCKS.pop(os.path.abspath(path.parent), (None, None))
    if pid == os.getpid():
        os.close(fd)
    try:
        path.parent.rmdir()
    except OSError:
        pass
