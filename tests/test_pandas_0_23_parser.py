"""pandas_0_23_parser reproduces pandas 0.23.4's read_csv float parse (xstrtod) bit for bit.

Expected values come from outside the module: hand traces of the old C code (written out in the
comments), exact rational arithmetic and counts measured independently (FIDELITY_2022.md).
"""
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from naap.replica.pandas_0_23_parser import read_csv_2022, xstrtod


def nearest_double(q):
    """The double nearest to the rational q (ties to even): int / int true division in CPython is
    correctly rounded, so this is exact reasoning, not float arithmetic on q's parts."""
    return q.numerator / q.denominator


@pytest.mark.parametrize("text, digits, divisors", [
    # "0.694": digits 6, 69, 694 (exact), exponent -3 = -(1 + 2): divide by 10, then by 100
    ("0.694", 694, (10, 100)),
    ("0.646", 646, (10, 100)),
    ("-0.694", -694, (10, 100)),     # the sign is applied before the scaling
    # "3.14159": exponent -5 = -(1 + 4): divide by 10, then by 1e4 (p10 squared twice)
    ("3.14159", 314159, (10, 10_000)),
])
def test_xstrtod_two_roundings_in_the_scaling(text, digits, divisors):
    """The scaling loop divides once per set bit of the exponent, rounding each time."""
    by_floats = float(digits)
    for d in divisors:
        by_floats /= float(d)
    by_fractions = Fraction(digits)
    for d in divisors:
        by_fractions = Fraction(nearest_double(by_fractions / d))
    correct = nearest_double(Fraction(digits, math.prod(divisors)))
    assert by_floats == float(by_fractions)
    assert correct == float(text)
    assert by_floats != correct
    assert abs(by_floats - correct) == math.ulp(correct)   # one unit in the last place
    assert xstrtod(text) == by_floats


def test_xstrtod_rounds_while_accumulating_digits():
    """Each digit is number * 10 + d in doubles. In "9007199254740993.5" the 16th digit makes
    9007199254740993 = 2**53 + 1, which rounds (tie, to even) to 2**53; the '5' then gives
    2**53 * 10 + 5, which rounds to 2**53 * 10 (spacing 16 there); exponent -1 divides by 10."""
    assert 900719925474099 * 10 + 3 == 2**53 + 1
    step16 = nearest_double(Fraction(2**53 + 1))
    assert step16 == 2.0**53
    step17 = nearest_double(Fraction(int(step16)) * 10 + 5)
    assert step17 == 2.0**53 * 10
    expected = nearest_double(Fraction(int(step17)) / 10)
    assert expected == 9007199254740992.0
    assert float("9007199254740993.5") == 9007199254740994.0
    assert xstrtod("9007199254740993.5") == expected


@pytest.mark.parametrize("text, expected", [
    ("0.6521", 6521 / 1e4),      # one division (exponent -4 has one bit set): correctly rounded
    ("0.1", 1 / 10.0),
    ("12", 12.0),
    (" -2.5\t", -2.5),           # C isspace skipped on both sides; 25 / 10 is exact
    ("+7", 7.0),
    ("5.", 5.0),
    (".5", 0.5),
    ("1E5", 1e5),
    ("1e+5", 1e5),
    ("1e23", 1e23),              # 1 * 10 * 100 * 1e4 * 1e16: only the last product rounds
    ("1.5e-3", 15 / 1e4),        # exponent -1 - 3 = -4: one division
])
def test_xstrtod_agrees_with_a_correct_parse(text, expected):
    assert xstrtod(text) == expected == float(text)


@pytest.mark.parametrize("text", [
    "", " ", "abc", ".", "-", "+-1", "1.5x", "1 2",
    "1e", "1e+",        # no exponent digits: the C code steps back onto 'e'/'+', which remains
    "1e400",            # decimal exponent 400 <= 1024 but the product overflows to +inf (errno)
    "1e1025",           # exponent above DBL_MAX_EXP
    "1e-1022",          # exponent below DBL_MIN_EXP (-1021), although 1e-1022 is a double
    "inf", "nan",
])
def test_xstrtod_rejects_what_pandas_0_23_4_did_not_parse(text):
    with pytest.raises(ValueError):
        xstrtod(text)


def test_read_csv_2022_naap440_differs_in_the_measured_cells(ref_dir):
    """FIDELITY_2022.md item 1: 2,875 cells of naap440.csv differ in the last bit from today's
    parse, 12 of them MaxAccuracy."""
    path = ref_dir / "naap440.csv"
    old, new = read_csv_2022(path), pd.read_csv(path)
    assert old.columns.equals(new.columns) and old.dtypes.equals(new.dtypes)
    assert old.index.equals(new.index)
    floats = [c for c in new.columns if new[c].dtype == np.float64]
    others = [c for c in new.columns if c not in floats]
    assert old[others].equals(new[others])
    a, b = old[floats].to_numpy(), new[floats].to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    differs = (a != b) & ~np.isnan(b)
    assert int(differs.sum()) == 2875
    assert int((old["MaxAccuracy"] != new["MaxAccuracy"]).sum()) == 12
    # every difference is one unit in the last place
    assert np.all(np.abs(a - b)[differs] == np.spacing(np.abs(b))[differs])


def test_read_csv_2022_small_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'id,name,x,y\r\n1,a,0.694,1.5\r\n2,b,,2\r\n'
                     b'3,c,"0.646",inf\r\n4,d,NA,-0.0\r\n')
    got, today = read_csv_2022(path), pd.read_csv(path)
    assert got.dtypes.equals(today.dtypes)
    assert got[["id", "name"]].equals(today[["id", "name"]])
    x = got["x"].to_numpy()
    assert x[0] == (694.0 / 10.0) / 100.0 != float("0.694")
    assert math.isnan(x[1]) and math.isnan(x[3])
    assert x[2] == (646.0 / 10.0) / 100.0
    y = got["y"].to_numpy()
    assert y[0] == 1.5 and y[1] == 2.0 and y[2] == math.inf     # "inf" keeps today's value
    assert y[3] == 0.0 and math.copysign(1.0, y[3]) == -1.0


@pytest.mark.parametrize("make", [lambda d: d / "missing.csv", lambda d: d])
def test_read_csv_2022_raises_what_read_csv_raises(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(Exception) as theirs:
        pd.read_csv(path)
    with pytest.raises(theirs.type):
        read_csv_2022(path)
