"""naap/paper2/journal.py: a job's journal reads back what was appended (a torn tail cut off: see
test_paper2_run), another process's journal is refused, and the journal's key separates what
must not share scores (the selecting models, the code that decides a subset's scores)."""
import errno
import fcntl
import os

import pytest

from naap import paper2
from naap.cli import InputError
from naap.data import FEATURE_SETS_V2
from naap.data.load import load_dataset
from naap.data.modes import mode_split
from naap.paper2 import journal


@pytest.fixture(scope="module")
def table(ref_dir):
    return load_dataset(ref_dir / "naap440v2.csv", FEATURE_SETS_V2["Scheme"])


def test_a_journal_another_process_runs_is_refused(table, tmp_path):
    job = ("interpolation", "Scheme", ("Linear Regression",))
    data = {job[:2]: mode_split(table, FEATURE_SETS_V2["Scheme"][:2], "interpolation")}
    with open(tmp_path / paper2.journal_name(job), "ab") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another open file: to flock, another process
        with pytest.raises(InputError, match="another process"):
            paper2.run_jobs([job], data, 1, journal_dir=tmp_path)
    assert paper2.run_jobs([job], data, 1, journal_dir=tmp_path)[("interpolation", "Scheme", "Linear Regression")]


def test_the_journal_key_separates_the_selecting_models_and_follows_the_code(ref_dir, monkeypatch):
    dataset = (ref_dir / "naap440v2.csv").read_bytes()
    assert paper2.journal_key(dataset, "paper", "test") != paper2.journal_key(dataset, "paper", "validation")
    assert paper2.journal_key(dataset, "paper") != paper2.journal_key(dataset, "sklearn")
    assert paper2.journal_key(dataset, "paper") != paper2.journal_key(dataset + b"\n", "paper")
    key = paper2.journal_key(dataset, "paper")
    monkeypatch.setattr(journal, "code_hash", lambda: "another version")
    assert paper2.journal_key(dataset, "paper") != key


def test_the_code_hash_covers_the_sources_that_decide_a_subsets_scores():
    files = paper2.protocol_files()
    assert {"metrics.py", "naap/paper2/run.py", "naap/paper2/journal.py", "naap/replica/trees.py",
            "naap/data/split.py"} <= set(files)
    assert any(f.startswith("naap/protocol/") for f in files)
    assert not any(f.startswith(("tests/", "bench/")) or f == "feature_selection.py" for f in files)
    assert files == sorted(files) and len(paper2.code_hash()) == 16


def test_append_and_read_back_and_nothing_appended_for_nothing_new(tmp_path):
    path = tmp_path / "job.pkl"
    assert paper2.read_journal(path) == {}
    paper2.append_journal(path, {((1, 0), "1-NN"): {"final": 1.0}})
    paper2.append_journal(path, {})
    size = path.stat().st_size
    paper2.append_journal(path, {((0, 1), "1-NN"): {"final": 2.0}})
    assert path.stat().st_size > size
    assert paper2.read_journal(path) == {((1, 0), "1-NN"): {"final": 1.0}, ((0, 1), "1-NN"): {"final": 2.0}}
    assert paper2.journal_name(("dual_extrapolation", "Scheme+Quant.3", ("AdaBoost (N=25)", "AdaBoost (N=50)"))) == \
        "dual_extrapolation_scheme_quant_3_adaboost.pkl"


def test_a_full_disk_names_the_journal_and_the_torn_record_does_not_poison_the_resume(tmp_path, monkeypatch):
    path = tmp_path / "job.pkl"
    first = {((1, 0), "1-NN"): {"final": 1.0}}
    paper2.append_journal(path, first)
    real_dump = journal.pickle.dump

    def dump_half(obj, f):  # the disk fills halfway through the record
        f.write(journal.pickle.dumps(obj)[:7])
        f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal.pickle, "dump", dump_half)
    with pytest.raises(OSError) as info:
        paper2.append_journal(path, {((0, 1), "1-NN"): {"final": 2.0}})
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    monkeypatch.setattr(journal.pickle, "dump", real_dump)
    assert paper2.read_journal(path) == first  # the torn record cut off ...
    paper2.append_journal(path, {((1, 1), "1-NN"): {"final": 3.0}})
    assert paper2.read_journal(path) == {**first, ((1, 1), "1-NN"): {"final": 3.0}}  # ... so the next reads back


def test_a_record_torn_after_its_first_byte_is_cut_off_too(tmp_path):
    path = tmp_path / "job.pkl"
    paper2.append_journal(path, {((1, 0), "1-NN"): {"final": 1.0}})
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"\x80")  # a pickle's PROTO opcode alone: pickle.load says EOFError, not a torn pickle
    assert paper2.read_journal(path) == {((1, 0), "1-NN"): {"final": 1.0}}
    assert path.stat().st_size == size


def test_a_directory_where_a_journal_should_be_is_one_line(table, tmp_path):
    job = ("interpolation", "Scheme", ("Linear Regression",))
    path = tmp_path / paper2.journal_name(job)
    path.mkdir()
    paper2.check_journals(tmp_path / "absent", [job])  # no journal yet: nothing to refuse
    for call, message in [(lambda: paper2.check_journals(tmp_path, [job]), "not a regular file, expected a resume"),
                          (lambda: paper2.read_journal(path), "cannot read the resume journal (Is a directory)")]:
        with pytest.raises(InputError) as e:
            call()
        assert str(e.value).startswith(f"{path}: {message}") and "\n" not in str(e.value), str(e.value)
    data = {job[:2]: mode_split(table, FEATURE_SETS_V2["Scheme"][:2], "interpolation")}
    with pytest.raises(InputError, match="cannot open the resume journal"):  # the lock, in the job's thread
        paper2.run_jobs([job], data, 1, journal_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and not list(path.iterdir())
