"""Inputs that are read once and refused in one line naming the file.

- input_error(path, error, kind): the one line (an InputError) for an OSError met reading an input,
  for every reader of the project.
- read_json(path) and read_csv_input(path): a JSON / CSV input, or InputError naming it.
- check_columns_once(path, names): refuses a CSV header that names a column twice.
"""
import io
import json
from pathlib import Path

from naap.cli import InputError


def input_error(path, error, kind="file"):
    """The InputError for the OSError `error` met reading the input at path: one line naming it.
    kind is what the path should be: "directory", or the kind of file ("file", "JSON file",
    "training log", ...), named when a directory stands there instead."""
    if isinstance(error, FileNotFoundError):
        return InputError(f"{path}: no such {'directory' if kind == 'directory' else 'file'}")
    if isinstance(error, NotADirectoryError) and kind == "directory":
        return InputError(f"{path}: not a directory")
    if isinstance(error, IsADirectoryError) and kind != "directory":
        return InputError(f"{path}: is a directory, expected a {kind}")
    # no permission, a symlink loop, a regular file in the path (ENOTDIR), an I/O error, ...
    return InputError(f"{path}: cannot read ({error.strerror or error})")


def read_json(path):
    """Parse a JSON file or raise InputError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:
        raise input_error(path, e, "JSON file") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{path}: not valid JSON (nested too deep)") from None
    except ValueError as e:  # JSONDecodeError, or an integer of more than 4300 digits
        raise InputError(f"{path}: not valid JSON ({e})") from None


def read_csv_input(path, read=None, content=None, **options):
    """The table read(source, **options) returns (read: pandas.read_csv unless given, e.g.
    pandas_0_23_parser.read_csv_2022), or InputError naming the file in one line: unreadable
    (input_error), not a CSV (pandas' parser and empty-data errors, bad UTF-8), or a header that
    names a column twice (pandas would rename the second "X.1", and the first be used unnoticed).

    The file is read once, as bytes (content: those bytes, where the caller has read them
    already), and parsed from memory (source: an io.BytesIO): a pipe such as <(zcat x.csv.gz) can
    be read only once, and a reader may parse its source twice (read_csv_2022 does)."""
    if read is None:
        import pandas as pd  # here, not at the top: most importers of this module read no CSV
        read = pd.read_csv
    try:
        if content is None:
            content = Path(path).read_bytes()
        table = read(io.BytesIO(content), **options)
    except OSError as e:
        raise input_error(path, e, "CSV file") from None
    except ValueError as e:  # pandas.errors.ParserError and EmptyDataError, UnicodeDecodeError
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path}: not a readable CSV ({reason})") from None
    if "header" not in options and "names" not in options:
        check_columns_once(path, _raw_header(content))
    return table


def _raw_header(content):
    """The column names of a CSV's header as written: the parsed table has renamed the repeats."""
    import pandas as pd
    try:
        header = pd.read_csv(io.BytesIO(content), header=None, nrows=1, dtype=str, na_filter=False)
    except ValueError:  # nothing to check that the reader has not refused already
        return []
    return header.iloc[0].tolist() if len(header) else []


def check_columns_once(path, names):
    """InputError naming the file and the column if a CSV header names a column twice: a reader
    would use one of the two unnoticed (pandas renames the second "X.1", csv.DictReader keeps the
    last). Blank names (an index column) do not count."""
    seen = set()
    for name in names:
        if name != "" and name in seen:
            raise InputError(f"{path}: column {name} appears more than once in the header")
        seen.add(name)
