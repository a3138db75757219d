"""Paper 2's resume journal: every scored subset of a job, appended as it is scored, replayed on a rerun.

One journal file per job (journal_name) in a directory named by journal_key: the input table,
the protocol's settings, the estimator set, the models that select (select_on) and a hash of
the code that decides a subset's scores (code_hash of PROTOCOL_SOURCES), so that a code change
never replays stale scores: a journal written by other code (the layout before the naap package
included) is simply not found, and the run starts fresh. journal_lock keeps two processes (two
shards, an assembly run started too early) off one job's journal.
"""
import contextlib
import fcntl
import hashlib
import os
import pickle
from pathlib import Path

import sklearn

from naap import protocol
from naap.cli import InputError, cannot_write, disk_full
from naap.files import is_journal_file
from naap.paper2.inputs import VALIDATION_BINS
from naap.paper2.jobs import ensemble_size
from naap.paths import source_files, source_hash

# the code that decides a subset's scores: a change to any of them starts a fresh journal (paths
# relative to the repository root; a folder stands for every .py file under it)
PROTOCOL_SOURCES = ("metrics.py", "naap/data", "naap/protocol", "naap/replica", "naap/paper2")


def read_journal(path):
    """{(mask, name): result} from a job's journal. A record cut short (a kill, a full disk) ends
    it: the file is truncated after the last whole record, so that what is appended next reads
    back too."""
    cache = {}
    try:
        with open(path, "r+b") as f:
            good = 0
            while True:
                try:
                    record = pickle.load(f)
                    if not isinstance(record, dict):
                        raise ValueError("not a journal record")
                except Exception:  # EOFError at the end; whatever a torn pickle raises (EOFError too)
                    break
                cache.update(record)
                good = f.tell()
            if f.seek(0, os.SEEK_END) > good:
                f.truncate(good)
    except FileNotFoundError:
        pass
    except OSError as e:  # a directory where the journal should be, no permission, ...
        raise InputError(f"{path}: cannot read the resume journal ({e.strerror or e})") from None
    return cache


def check_journals(journal_dir, jobs):
    """InputError (one line naming it) for the first job's journal in journal_dir that exists and is
    not a regular file (a directory, a pipe): before any job runs, rather than when its job comes."""
    for job in jobs:
        is_journal_file(Path(journal_dir) / journal_name(job), "remove it to start this job afresh")


def append_journal(path, records):
    """Append one record ({key: result}) to a job's journal; nothing if there is nothing new. A full
    disk is an OSError naming the journal (naap.cli.run_cli: one line); the record it cut short
    is cut off by the next read_journal."""
    if records:
        try:
            with open(path, "ab") as f:
                pickle.dump(records, f)
        except OSError as e:
            raise cannot_write(path, e) from None


def journal_name(job):
    mode, fs, names = job
    return protocol.slug(f"{mode} {fs} {ensemble_size(names[0])[0]}") + ".pkl"


@contextlib.contextmanager
def journal_lock(path):
    """Hold an exclusive lock on a job's journal while its job runs (nothing without a path): two
    processes on one resume directory (an assembly run started before a shard ended, two arrays
    dealt differently) never append to, or cut a torn tail off, the same journal. A journal locked
    by another process is an InputError: waiting could outlast that process's whole run."""
    if path is None:
        yield
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    except OSError as e:  # a directory where the journal should be, no permission, ...
        if disk_full(e):  # no room for the journal's inode: run_cli's full-disk line, exit 1
            raise cannot_write(path, e) from None
        raise InputError(f"{path}: cannot open the resume journal ({e.strerror or e})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{path}: another process is running this job into the same resume directory "
                             "(a shard still running?); rerun once it has ended") from None
        try:
            yield
        finally:  # unlock, not only close: forked pool workers hold copies of the descriptor
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def protocol_files():
    """The files of PROTOCOL_SOURCES that exist, as sorted paths relative to the repository root."""
    return source_files(PROTOCOL_SOURCES)


def code_hash():
    """sha256 (16 hex digits) of the sources that decide a subset's scores (PROTOCOL_SOURCES)."""
    return source_hash(PROTOCOL_SOURCES)


def journal_key(dataset_bytes, estimators, select_on="test"):
    """Name of a run's journal directory: the input table, the protocol's settings, the estimator
    set, the models that select (with the validation split's bins), the scikit-learn version and
    the code's hash: test- and validation-selected scores never share a journal."""
    settings = repr((protocol.NOISE_STD, protocol.SEEDS, estimators, select_on, VALIDATION_BINS, sklearn.__version__,
                     code_hash()))
    return hashlib.sha256(dataset_bytes + settings.encode()).hexdigest()[:16]
