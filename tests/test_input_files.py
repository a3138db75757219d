"""naap.input_files: bad JSON / CSV inputs are refused in one line naming the file, a pipe is read
once, and a header that names a column twice is refused."""
import os
import threading

import pytest

from naap.cli import InputError
from naap.input_files import input_error, read_csv_input, read_json


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
    e = input_error("in/put", error, kind)
    assert isinstance(e, InputError) and str(e) == f"in/put: {message}"
