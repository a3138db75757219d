"""naap/budget/journal.py: where the journal lives, what its key depends on, and a task's rows
written and read back (an unreadable file is computed again)."""
from naap.budget import journal


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
