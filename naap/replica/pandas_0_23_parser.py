"""pandas 0.23.4's read_csv float parser (xstrtod), bit for bit.

The paper's table was made with pandas 0.23.4, whose default float parser is not correctly
rounded: it accumulates the digits in doubles and scales by binary powers of ten, rounding on
the way, so some cells of naap440.csv come out one unit in the last place away from today's
(correctly rounded) parse; FIDELITY_2022.md counts 2,875 such cells, 12 of them MaxAccuracy.
Those last bits move tied and near-tied accuracies, and so the table order and the scores.
This module re-does the old C arithmetic operation for operation (numba without fastmath), so
the project reads the CSV as the paper did (naap.data.load, the "parser" data rule).

Written from pandas 0.23.4's `pandas/_libs/src/parser/tokenizer.c` 1501-1620: `xstrtod`, the
default float parser of read_csv (chosen in `pandas/_libs/parsers.pyx` 477; called with
skip_trailing=1 and its failure test, errno or characters left over, at parsers.pyx 1750-1761).
    xstrtod(text) -> float
    read_csv_2022(path) -> DataFrame
"""
import numpy as np
import pandas as pd
from numba import njit

# <float.h> values for IEEE double: xstrtod rejects decimal exponents outside [DBL_MIN_EXP,
# DBL_MAX_EXP] (the binary-exponent limits, used by the old code as if they were decimal ones).
DBL_MIN_EXP = -1021
DBL_MAX_EXP = 1024
# read_csv's defaults as passed to xstrtod: decimal='.', sci='E' (compared case-blind),
# thousands=None (tsep '\0', so never skipped)
DECIMAL_POINT = ord(".")
EXPONENT_CHAR = ord("E")

_SPACE, _TAB, _NEWLINE, _VTAB, _FORMFEED, _CR = 32, 9, 10, 11, 12, 13
_ZERO, _NINE = ord("0"), ord("9")
_PLUS, _MINUS = ord("+"), ord("-")
_INT32_WRAP = 1 << 32


@njit(cache=True)
def _is_c_space(c):
    """C isspace() in the "C" locale."""
    return c == _SPACE or c == _TAB or c == _NEWLINE or c == _VTAB or c == _FORMFEED or c == _CR


@njit(cache=True)
def _is_c_digit(c):
    return _ZERO <= c <= _NINE


@njit(cache=True)
def _to_int32(n):
    """C int arithmetic wraps at 32 bits (formally undefined, in practice two's complement)."""
    n = n % _INT32_WRAP
    if n >= _INT32_WRAP // 2:
        n -= _INT32_WRAP
    return n


@njit(cache=True)
def _skip_spaces(buf, p, stop):
    while p < stop and _is_c_space(buf[p]):
        p += 1
    return p


@njit(cache=True)
def _read_sign(buf, p, stop):
    """An optional '-' or '+' at p: (whether it was '-', the position after it)."""
    if p < stop and buf[p] == _MINUS:
        return True, p + 1
    if p < stop and buf[p] == _PLUS:
        return False, p + 1
    return False, p


@njit(cache=True)
def _read_exponent(buf, p, stop, exponent):
    """The [+-]digits after the exponent character (p is past it), added to the decimal exponent
    in C int arithmetic: (exponent, the position where the C code stops)."""
    exp_negative, p = _read_sign(buf, p, stop)
    exp_digits = 0
    n = 0
    while p < stop and _is_c_digit(buf[p]):
        n = _to_int32(n * 10 + (buf[p] - _ZERO))
        exp_digits += 1
        p += 1
    if exp_negative:
        exponent = _to_int32(exponent - n)
    else:
        exponent = _to_int32(exponent + n)
    # the C code steps back one character only, so after "e+" or "e-" it is left on the sign:
    # either way a character remains and the caller rejects the cell
    if exp_digits == 0:
        p -= 1
    return exponent, p


@njit(cache=True)
def _scale(number, exponent):
    """number * 10**exponent through binary powers 10, 1e2, 1e4, 1e8, 1e16, 1e32 (inexact), ...,
    dividing for negative exponents: this, not the digit loop, is where most last-bit differences
    from a correctly rounded parse come from."""
    p10 = 10.0
    n = exponent
    if n < 0:
        n = -n
    while n:
        if n & 1:
            if exponent < 0:
                number /= p10
            else:
                number *= p10
        n >>= 1
        p10 *= p10
    return number


@njit(cache=True)
def _xstrtod_span(buf, start, stop):
    """xstrtod on the bytes buf[start:stop] (stop plays the C string's terminating NUL).

    Returns (value, ok); ok is False where pandas 0.23.4's caller saw a failure: errno set (no
    digits, exponent out of range, +HUGE_VAL) or characters left after the number and its trailing
    spaces. The arithmetic is the C code's, operation for operation, in double precision.
    """
    negative, p = _read_sign(buf, _skip_spaces(buf, start, stop), stop)

    number = 0.0
    num_digits = 0
    num_decimals = 0
    # every digit, before and after the point, goes through number * 10 + digit (rounded twice)
    while p < stop and _is_c_digit(buf[p]):
        number = number * 10.0 + float(buf[p] - _ZERO)
        p += 1
        num_digits += 1
    if p < stop and buf[p] == DECIMAL_POINT:
        p += 1
        while p < stop and _is_c_digit(buf[p]):
            number = number * 10.0 + float(buf[p] - _ZERO)
            p += 1
            num_digits += 1
            num_decimals += 1
    if num_digits == 0:
        return 0.0, False
    if negative:
        number = -number

    exponent = -num_decimals
    if p < stop and (buf[p] == EXPONENT_CHAR or buf[p] == EXPONENT_CHAR + 32):
        exponent, p = _read_exponent(buf, p + 1, stop, exponent)
    if exponent < DBL_MIN_EXP or exponent > DBL_MAX_EXP:
        return np.inf, False
    number = _scale(number, exponent)

    ok = True
    if number == np.inf:  # only +HUGE_VAL sets errno; -inf passes
        ok = False
    p = _skip_spaces(buf, p, stop)
    if p != stop:
        ok = False
    return number, ok


@njit(cache=True)
def _xstrtod_many(buf, starts, stops):
    """_xstrtod_span for each (start, stop) pair; returns (values, ok)."""
    n = starts.shape[0]
    values = np.empty(n, np.float64)
    ok = np.empty(n, np.bool_)
    for i in range(n):
        values[i], ok[i] = _xstrtod_span(buf, starts[i], stops[i])
    return values, ok


def xstrtod(text):
    """pandas 0.23.4's default read_csv float parser applied to one cell's text.

    Leading and trailing C whitespace is skipped, then [+-]digits[.digits][(e|E)[+-]digits].
    Raises ValueError where pandas 0.23.4 would not have taken the cell as this float (no digits,
    trailing characters, decimal exponent outside [-1021, 1024], overflow to +inf); read_csv then
    fell back to "inf"/"-inf" spellings or to a non-float column.
    """
    buf, starts, stops = _pack_cells([text])
    values, ok = _xstrtod_many(buf, starts, stops)
    if not ok[0]:
        raise ValueError(f"xstrtod (pandas 0.23.4) cannot parse {text!r}")
    return float(values[0])


def read_csv_2022(path):
    """pd.read_csv(path) with every float64 column's cells re-parsed from the file's text by
    xstrtod, as pandas 0.23.4 parsed them.

    Column types, names, int and string columns and NaN cells are today's read_csv's (the same as
    0.23.4's for a numeric CSV). Cells that xstrtod rejects but today's parser accepts ("inf",
    "1e400") keep today's value; in 0.23.4 a cell like "1e400" made the whole column non-float,
    which is not reproduced. Errors for missing or unreadable files are pd.read_csv's own. path:
    a file's path or a seekable buffer (it is read twice).
    """
    frame = pd.read_csv(path)
    float_positions = [j for j, dtype in enumerate(frame.dtypes) if dtype == np.float64]
    if not float_positions or len(frame) == 0:
        return frame
    # the same tokenizer on the same file, keeping every cell's text as it was
    if hasattr(path, "seek"):  # a buffer (naap.input_files.read_csv_input's): read it again from its start
        path.seek(0)
    text = pd.read_csv(path, dtype=object, na_filter=False)
    if text.shape != frame.shape:
        raise ValueError(f"{path}: raw text has shape {text.shape}, parsed table {frame.shape}")
    cells = text.iloc[:, float_positions].to_numpy(dtype=object).ravel()
    buf, starts, stops = _pack_cells(cells)
    values, ok = _xstrtod_many(buf, starts, stops)
    values = values.reshape(len(frame), len(float_positions))
    ok = ok.reshape(values.shape)
    parsed = frame.iloc[:, float_positions].to_numpy(dtype=np.float64, copy=True)
    # NaN cells (empty, "NA", ...) stay NaN; cells xstrtod rejects keep today's value
    use = ok & ~np.isnan(parsed)
    parsed[use] = values[use]
    frame.iloc[:, float_positions] = parsed
    return frame


def _pack_cells(cells):
    """All cells' UTF-8 bytes in one buffer, with each cell's (start, stop) in it."""
    try:
        joined = "\x00".join(cells).encode("utf-8")
    except TypeError:  # not all str (read with dtype=object they are; stay safe)
        cells = [str(c) for c in cells]
        joined = "\x00".join(cells).encode("utf-8")
    buf = np.frombuffer(joined, dtype=np.uint8)
    seps = np.flatnonzero(buf == 0)
    if len(seps) == len(cells) - 1:
        starts = np.concatenate(([0], seps + 1)).astype(np.int64)
        stops = np.concatenate((seps, [len(buf)])).astype(np.int64)
        return buf, starts, stops
    # a cell holds a NUL character itself: lay the cells out one by one instead
    encoded = [c.encode("utf-8") for c in cells]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    stops = np.cumsum(lengths)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), stops - lengths, stops

