"""The budget map's resume journal: one file per finished task, replayed on a rerun.

The journal lives beside OUT_DIR in .<OUT_DIR name>.resume/<key>/, where the key hashes the
inputs (the dataset's and the costs' bytes), the map's settings and the code that decides a
cell's scores (BUDGET_SOURCES), so that no stale result is ever replayed. Each task's rows are
written atomically (a kill leaves a whole file or none); a file that does not read back is
computed again. A completed map deletes the journal.
"""
import hashlib
import os
import pickle
import shutil
from pathlib import Path

import sklearn

from naap.cli import InputError
from naap.files import atomic_write_bytes
from naap.paths import source_hash

# the code that decides a cell's scores: a change to any of them starts a fresh journal
BUDGET_SOURCES = ("metrics.py", "naap/data", "naap/protocol", "naap/replica", "naap/predictors", "naap/budget",
                  "naap/learning_curves.py", "naap/plugins.py")


def journal_dir(out_dir, inputs, settings):
    """The journal directory of a map: beside OUT_DIR, named by its inputs' bytes (a list of bytes),
    settings (a repr-able value) and the code's hash."""
    out_dir = Path(os.path.abspath(out_dir))  # "a/.." has a name to put the journal beside
    digest = hashlib.sha256()
    for data in inputs:
        digest.update(hashlib.sha256(data).digest())
    digest.update(repr((settings, sklearn.__version__, source_hash(BUDGET_SOURCES))).encode())
    return out_dir.with_name(f".{out_dir.name}.resume") / digest.hexdigest()[:16]


def _name(task):
    return "task_" + "_".join(str(part) for part in task) + ".pkl"


def open_journal(path):
    """Make the journal directory; InputError (one line) when it cannot be made."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{path}: cannot create the resume journal ({e.strerror or e})") from None


def read_done(path, tasks):
    """{task: rows} of the tasks whose journal file reads back."""
    done = {}
    for task in tasks:
        try:
            with open(Path(path) / _name(task), "rb") as f:
                rows = pickle.load(f)
        except FileNotFoundError:
            continue
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
    try:
        path.parent.rmdir()
    except OSError:
        pass
