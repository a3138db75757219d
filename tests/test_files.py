"""naap.files: outputs are whole or absent, get the umask's permissions, never replace an input, the
program or another run's output, and bad JSON / CSV inputs are refused in one line naming the file;
a full disk is one line naming the file being written, with exit status 1."""
import errno
import os
import threading

import pytest
from conftest import ROOT

from naap import cli, files
from naap.cli import InputError
from naap.files import (
    atomic_output_dir,
    atomic_write_text,
    check_outputs_not_inputs,
    read_csv_input,
    read_json,
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


# ---------------------------------------------------------------- inputs refused in one line

def test_read_json_refusals(tmp_path):
    for text, message in [("[" * 100_000 + "]" * 100_000, "nested too deep"),
                          ("[" + "9" * 5000 + "]", "Exceeds the limit"), ("{", "not valid JSON")]:
        (tmp_path / "x.json").write_text(text)
        with pytest.raises(InputError, match=message):
            read_json(tmp_path / "x.json")


def test_read_csv_input_reads_a_csv(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert read_csv_input(tmp_path / "t.csv").to_dict("list") == {"a": [1], "b": [2]}
    assert read_csv_input(tmp_path / "t.csv", dtype=str)["a"].tolist() == ["1"]  # options reach the reader
    # the reader parses the bytes read once, or those given (a pipe cannot be read twice)
    assert read_csv_input("x.csv", read=lambda source, **options: (source.read(), options), content=b"a;b\n",
                          sep=";") == (b"a;b\n", {"sep": ";"})


def test_read_csv_input_refusals_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    (tmp_path / "latin1.csv").write_bytes("name\ncaf\xe9\n".encode("latin-1"))
    cases = [(tmp_path / "missing.csv", "no such file"),
             (tmp_path, "is a directory, expected a CSV file"),
             (tmp_path / "a_file" / "x.csv", "cannot read (Not a directory)"),  # a path under a regular file
             (tmp_path / "a_file", "not a readable CSV (No columns to parse from file)"),  # empty
             (tmp_path / "ragged.csv", "not a readable CSV (Error tokenizing data"),
             (tmp_path / "latin1.csv", "not a readable CSV ('utf-8' codec can't decode byte 0xe9")]
    if os.geteuid() != 0:  # root reads a file whatever its mode: this case needs an ordinary user
        (tmp_path / "locked.csv").write_text("a\n1\n")
        (tmp_path / "locked.csv").chmod(0)
        cases.append((tmp_path / "locked.csv", "cannot read (Permission denied)"))
    for path, message in cases:
        with pytest.raises(InputError) as e:
            read_csv_input(path)
        assert str(e.value).startswith(f"{path}: {message}") and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize("error, message", [
    (PermissionError(13, "Permission denied"), "cannot read (Permission denied)"),  # as root too
    (ValueError(), "not a readable CSV (ValueError)"),  # an error without a message is named by its type
])
def test_read_csv_input_names_the_readers_error(error, message):
    def read(path, **options):
        raise error

    with pytest.raises(InputError) as e:
        read_csv_input("x.csv", read=read, content=b"a\n1\n")
    assert str(e.value) == f"x.csv: {message}"


def test_read_csv_input_refuses_a_column_named_twice(tmp_path):
    # pandas renames the second MaxAccuracy "MaxAccuracy.1": the first would be used unnoticed
    (tmp_path / "t.csv").write_text("ModelId,MaxAccuracy,NumParams,MaxAccuracy\n1,0.5,10,0.9\n")
    with pytest.raises(InputError) as e:
        read_csv_input(tmp_path / "t.csv")
    assert str(e.value) == f"{tmp_path / 't.csv'}: column MaxAccuracy appears more than once in the header"
    # a name that only looks like a renamed repeat, and blank names (an index column), are fine
    (tmp_path / "u.csv").write_text(",a,a.1,\n0,1,2,3\n")
    assert list(read_csv_input(tmp_path / "u.csv").columns) == ["Unnamed: 0", "a", "a.1", "Unnamed: 3"]


def test_read_csv_input_reads_a_pipe_once(tmp_path):
    # <(zcat x.csv.gz): /dev/fd/N, which a second read finds empty
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_fd, b"a,b\n1,2\n"), os.close(write_fd)))
    writer.start()
    try:
        table = read_csv_input(f"/dev/fd/{read_fd}", read=read_twice)
    finally:
        writer.join()
        os.close(read_fd)
    assert table.to_dict("list") == {"a": [1], "b": [2]}


def read_twice(source, **options):
    """A reader that parses its source twice, as pandas_0_23_parser.read_csv_2022 does."""
    import pandas as pd
    pd.read_csv(source, **options)
    source.seek(0)
    return pd.read_csv(source, **options)


@pytest.mark.parametrize("error, kind, message", [
    (FileNotFoundError(2, "No such file or directory"), "file", "no such file"),
    (FileNotFoundError(2, "No such file or directory"), "directory", "no such directory"),
    (NotADirectoryError(20, "Not a directory"), "directory", "not a directory"),
    (NotADirectoryError(20, "Not a directory"), "JSON file", "cannot read (Not a directory)"),  # a file in the path
    (IsADirectoryError(21, "Is a directory"), "training log", "is a directory, expected a training log"),
    (PermissionError(13, "Permission denied"), "file", "cannot read (Permission denied)"),
    (OSError("I/O error without an errno"), "file", "cannot read (I/O error without an errno)"),
])
def test_input_error_is_one_line_naming_the_path(error, kind, message):
    from naap.files import input_error
    e = input_error("in/put", error, kind)
    assert isinstance(e, InputError) and str(e) == f"in/put: {message}"


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
