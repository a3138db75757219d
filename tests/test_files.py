"""naap.files: outputs are whole or absent, get the umask's permissions, never replace an input, the
program or another run's output; a full disk is one line naming the file being written, with exit
status 1."""
import errno
import os

import pytest
from conftest import ROOT, fail_renames_to

from naap import cli, files
from naap.cli import InputError
from naap.files import (
    atomic_output_dir,
    atomic_write_text,
    check_outputs_not_inputs,
)


def test_outputs_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "g").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "g").read_text() == "y"


# ---------------------------------------------------------------- outputs never clobber inputs

def test_check_outputs_not_inputs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.csv").write_text("x")
    (tmp_path / "hard.csv").hardlink_to(data / "in.csv")
    (tmp_path / "soft.csv").symlink_to(data / "in.csv")
    (tmp_path / "soft_dir").symlink_to(data)
    check_outputs_not_inputs([tmp_path / "out.csv", tmp_path / "new" / "out"], [data / "in.csv", data])
    refused = [
        (data / "in.csv", [data / "in.csv"], "is an input of this run"),
        (tmp_path / "hard.csv", [data / "in.csv"], "(a link or another name), an input of this run"),
        (tmp_path / "soft.csv", [data / "in.csv"], "(a link or another name), an input of this run"),
        (tmp_path / "soft_dir" / "in.csv", [data / "in.csv"], "(a link or another name)"),
        (tmp_path, [data / "in.csv"], f"holds {data / 'in.csv'}, an input of this run"),  # a dir replaced whole
        (data / "new.csv", [data], f"lies inside {data}, an input directory"),
        (ROOT / "naap" / "cli.py", [], "one of this program's own files"),
        (ROOT, [], "one of this program's own files"),
    ]
    for out, inputs, message in refused:
        with pytest.raises(InputError) as e:
            check_outputs_not_inputs([out], inputs)
        assert str(e.value).startswith(f"{out}: ") and message in str(e.value), str(e.value)


def test_file_output_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    # two runs started together both pass the "exists" check at the start; the final rename
    # must refuse the second instead of silently replacing the first one's output
    out = tmp_path / "out.csv"
    check = files.check_output_file

    def other_run_finishes_meanwhile(path, replace=True):
        check(path, replace)
        out.write_text("first run\n")

    monkeypatch.setattr(files, "check_output_file", other_run_finishes_meanwhile)
    for no_renameat2 in (False, True):  # renameat2(RENAME_NOREPLACE), and the hard-link fallback
        if no_renameat2:
            monkeypatch.setattr(files, "_renameat2", False)
        out.unlink(missing_ok=True)
        with pytest.raises(cli.InputError, match="appeared while this run was writing it"):
            files.atomic_write_text(out, "second run\n", replace=False)
        assert out.read_text() == "first run\n"
        assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temp file left
        out.unlink()
        files.atomic_write_text(out, "second run\n", replace=True)  # --force replaces it
        assert out.read_text() == "second run\n"


def no_hard_links(*args, **kwargs):
    raise OSError(errno.EPERM, os.strerror(errno.EPERM))


@pytest.mark.parametrize("hard_links", [True, False])
def test_files_written_together_are_all_or_none(tmp_path, monkeypatch, hard_links):
    # the second rename fails after the first replaced a.csv: a.csv must get its old bytes back
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("old a\n")
    b.write_text("old b\n")
    if not hard_links:  # a file system without them: the old file is moved aside instead
        monkeypatch.setattr(files.os, "link", no_hard_links)
    real_replace = os.replace
    fail_renames_to(monkeypatch, "b.csv")
    with pytest.raises(InputError, match=f"{b}: cannot write"):
        files.atomic_write_files([(a, b"new a\n"), (b, b"new b\n")])
    assert (a.read_text(), b.read_text()) == ("old a\n", "old b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
    monkeypatch.setattr(files.os, "replace", real_replace)
    files.atomic_write_files([(a, b"new a\n"), (b, b"new b\n")])
    assert (a.read_text(), b.read_text()) == ("new a\n", "new b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]  # the old files kept aside are gone


@pytest.mark.parametrize("no_renameat2", [False, True])
def test_output_dir_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch, no_renameat2):
    if no_renameat2:
        monkeypatch.setattr(files, "_renameat2", False)
    out = tmp_path / "out"
    with pytest.raises(cli.InputError, match="appeared while this run was working"):
        with files.atomic_output_dir(out) as tmp:
            (tmp / "results.csv").write_text("second run\n")
            out.mkdir()  # the other run, started at the same time, finishes first
            (out / "results.csv").write_text("first run\n")
    assert (out / "results.csv").read_text() == "first run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the staging directory is gone
    with files.atomic_output_dir(out, force=True) as tmp:  # --force: swapped in, the old one removed
        (tmp / "results.csv").write_text("second run\n")
    assert (out / "results.csv").read_text() == "second run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_dir_refusals_are_one_line_and_leave_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("x")
    (tmp_path / "a_file").write_text("")
    cases = [(".", "holds the current directory"),  # was a traceback (rename of "." to "..old")
             (str(tmp_path), "holds the current directory"),
             (str(ROOT), "holds the current directory" if str(ROOT) in str(tmp_path) else "holds this program"),
             ("a_file/out", "cannot create (Not a directory)")]
    for out_dir, message in cases:
        def main(args, out_dir=out_dir):
            with files.atomic_output_dir(out_dir, force=True):
                raise AssertionError("must not get here")
        with pytest.raises(SystemExit) as e:
            cli.run_cli(main, None)
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and err.startswith(f"error: {out_dir}: ") and message in err
    # a failed run takes away the parent directories made for OUT_DIR
    with pytest.raises(ZeroDivisionError):
        with files.atomic_output_dir(tmp_path / "new" / "deeper" / "out"):
            raise ZeroDivisionError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "in.csv"]


# ---------------------------------------------------------------- a full disk

def full_disk(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "fsync", full_disk)  # a full disk met while the data reach it
    with pytest.raises(OSError) as info:
        atomic_write_text(tmp_path / "new" / "out.csv", "a,b\n")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "new" / "out.csv")
    assert os.listdir(tmp_path) == []  # no temp file, no parent directory made for it
    with pytest.raises(OSError) as info, atomic_output_dir(tmp_path / "out") as staging:
        atomic_write_text(staging / "figures" / "a.png", "x")
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == os.path.join(tmp_path / "out", "figures", "a.png")  # named as in OUT_DIR
    assert os.listdir(tmp_path) == []


def test_a_full_disk_while_making_the_parent_folders_is_a_full_disk(tmp_path, monkeypatch):
    real_mkdir = os.mkdir

    def mkdir(path, *args):  # the first folder fits, the second does not
        if os.path.basename(path) == "b":
            full_disk()
        real_mkdir(path, *args)

    monkeypatch.setattr(files.os, "mkdir", mkdir)
    for write in (lambda: atomic_write_text(tmp_path / "a" / "b" / "out.csv", "x"),
                  lambda: atomic_output_dir(tmp_path / "a" / "b" / "out").__enter__()):
        with pytest.raises(OSError) as info:
            write()
        assert not isinstance(info.value, cli.InputError)  # run_cli: exit status 1, not 2
        assert info.value.errno == errno.ENOSPC and str(tmp_path / "a" / "b") in info.value.filename
        assert os.listdir(tmp_path) == []  # "a" taken away again


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_run_cli_shows_a_full_disk_in_one_line_with_status_1(code, tmp_path, capsys):
    def main(args):
        with atomic_output_dir(tmp_path / "out") as staging:
            (staging / "x").write_text("half")
            raise OSError(code, os.strerror(code), str(staging / "x"))

    with pytest.raises(SystemExit) as info:
        cli.run_cli(main, None)
    assert info.value.code == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'out' / 'x'}: cannot write ({os.strerror(code)})\n"
    assert os.listdir(tmp_path) == []


def test_is_journal_file(tmp_path):
    from naap.cli import InputError
    from naap.files import is_journal_file
    assert is_journal_file(tmp_path / "absent.pkl", "remove it") is False
    (tmp_path / "j.pkl").write_bytes(b"")
    assert is_journal_file(tmp_path / "j.pkl", "remove it") is True
    (tmp_path / "d.pkl").mkdir()
    with pytest.raises(InputError, match=r"d.pkl: not a regular file, expected a resume journal \(remove it\)"):
        is_journal_file(tmp_path / "d.pkl", "remove it")
