"""naap/budget/journal.py: where the journal lives, what its key depends on, and a task's rows
written and read back (an unreadable file is computed again), a task's name taken by a
directory, a second run on one OUT_DIR, and a full disk."""
import errno
import multiprocessing

import pytest

from naap.budget import journal
from naap.cli import InputError, run_cli


def test_the_journal_sits_beside_out_dir_and_its_key_follows_inputs_and_settings(tmp_path):
    a = journal.journal_dir(tmp_path / "out", [b"data", b"costs"], ("s", 1))
    assert a.parent == tmp_path / ".out.resume"
    assert a == journal.journal_dir(tmp_path / "out", [b"data", b"costs"], ("s", 1))
    assert a != journal.journal_dir(tmp_path / "out", [b"data", b"costs2"], ("s", 1))
    assert a != journal.journal_dir(tmp_path / "out", [b"data", b"costs"], ("s", 2))
    assert a != journal.journal_dir(tmp_path / "out", [b"datac", b"osts"], ("s", 1))  # inputs hashed apart


def test_rows_round_trip_and_a_broken_file_is_done_again(tmp_path):
    path = tmp_path / ".out.resume" / "key"
    journal.open_journal(path)
    journal.record(path, (1, 30), [{"Predictor": "A", "KendallTau": 0.5}])
    journal.record(path, (2, 30), [{"Predictor": "B"}])
    (path / "task_2_30.pkl").write_bytes(b"not a pickle")
    assert journal.read_done(path, [(1, 30), (2, 30), (3, 30)]) == {(1, 30): [{"Predictor": "A", "KendallTau": 0.5}]}
    journal.remove(path)
    assert not (tmp_path / ".out.resume").exists()


def test_a_directory_at_a_task_file_is_refused_before_the_work(tmp_path):
    path = tmp_path / ".out.resume" / "key"
    journal.open_journal(path)
    (path / "task_1_30.pkl").mkdir()
    with pytest.raises(InputError, match="task_1_30.pkl: not a regular file, expected a resume journal"):
        journal.read_done(path, [(1, 30)])


def _lock_in_child(path, queue):
    try:
        journal.lock_journal(path, "out")
        queue.put("locked")
    except InputError as e:
        queue.put(str(e))


def test_a_second_run_on_one_out_dir_is_refused(tmp_path):
    path = tmp_path / ".out.resume" / "key"
    journal.lock_journal(path, "out")
    journal.lock_journal(path, "out")  # the same process again: still its own lock
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    # another run's key (other settings) in the same .resume folder: refused all the same
    child = context.Process(target=_lock_in_child, args=(tmp_path / ".out.resume" / "other", queue))
    child.start()
    child.join()
    assert queue.get(timeout=10).startswith("out: another run is making it")
    assert not (tmp_path / ".out.resume" / "other").exists()
    journal.open_journal(path)
    journal.remove(path)  # releases the lock
    child = context.Process(target=_lock_in_child, args=(path, queue))
    child.start()
    child.join()
    assert queue.get(timeout=10) == "locked"


def test_a_full_disk_while_recording_is_one_line_and_status_1(tmp_path, monkeypatch, capsys):
    path = tmp_path / ".out.resume" / "key"
    journal.open_journal(path)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("naap.files.os.fsync", no_space)
    with pytest.raises(SystemExit) as stop:
        run_cli(lambda _: journal.record(path, (1, 30), [{"Predictor": "A"}]), None)
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: {path / 'task_1_30.pkl'}: cannot write (No space left on device)"]
    assert list(path.iterdir()) == []  # no half-written file left
