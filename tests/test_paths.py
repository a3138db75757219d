"""naap.paths: the published release is found in $NAAP440_DATA, else the project root, else
../shared/naap440 (the first that holds every required file), or refused naming where it looked."""
import pytest

from naap import paths
from naap.cli import InputError


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Three candidate directories, empty: $NAAP440_DATA, a project root and its ../shared/naap440.
    The real data is never looked at: REPO_ROOT points into tmp_path."""
    env, root = tmp_path / "env", tmp_path / "project" / "repo"
    shared = tmp_path / "project" / "shared" / "naap440"
    for d in (env, root, shared):
        d.mkdir(parents=True)
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(env))
    return env, root, shared


def test_the_first_candidate_holding_the_files_wins(places, monkeypatch):
    env, root, shared = places
    for d in places:
        (d / "naap440.csv").write_text("")
    assert paths.reference_data_dir() == env
    monkeypatch.setenv(paths.DATA_ENV_VAR, "")  # set but empty: not a candidate
    assert paths.reference_data_dir() == root
    monkeypatch.delenv(paths.DATA_ENV_VAR)
    assert paths.reference_data_dir() == root
    (root / "naap440.csv").unlink()
    assert paths.reference_data_dir() == shared


def test_a_candidate_needs_every_required_file(places):
    env, root, shared = places
    (env / "naap440.csv").write_text("")
    (root / "naap440.csv").write_text("")
    (shared / "naap440.csv").write_text("")
    (shared / "raw_data").mkdir()  # a directory counts as present
    assert paths.reference_data_dir(("naap440.csv", "raw_data")) == shared
    assert paths.reference_data_dir(("naap440.csv",)) == env


def test_missing_files_name_the_candidates(places):
    env, root, shared = places
    (root / "naap440.csv").write_text("")
    with pytest.raises(InputError) as e:
        paths.reference_data_dir(("naap440.csv", "raw_data"))
    assert str(e.value) == f"naap440.csv, raw_data not found in {env}, {root}, {shared}: run download_naap440.py"


def test_source_hash_follows_the_bytes_and_names_of_the_sources(tmp_path, monkeypatch):
    from naap import paths
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "notes.txt").write_text("not a source")
    (tmp_path / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    assert paths.source_files(["pkg", "b.py", "missing.py"]) == ["b.py", "pkg/a.py"]
    first = paths.source_hash(["pkg", "b.py"])
    (tmp_path / "pkg" / "notes.txt").write_text("changed")
    assert paths.source_hash(["pkg", "b.py"]) == first  # not a source
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert paths.source_hash(["pkg", "b.py"]) != first and len(first) == 16
