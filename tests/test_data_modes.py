"""naap/data/modes.py: the rows each of paper 2's modes keeps, and an unknown mode refused. (The
modes on naap440v2.csv: test_paper2_protocol.test_mode_splits.)"""
import numpy as np
import pytest

from naap.data.modes import mode_rows


def test_mode_rows_on_odd_sizes():
    # 11 train rows, 7 test rows: halves 5 and 3, quarters 2 and 1
    rows = {mode: tuple(r.tolist() for r in mode_rows(mode, 11, 7)) for mode in
            ("interpolation", "left_extrapolation", "right_extrapolation", "dual_extrapolation")}
    assert rows["interpolation"] == (list(range(11)), list(range(7)))
    assert rows["left_extrapolation"] == ([5, 6, 7, 8, 9, 10], [0, 1, 2])
    assert rows["right_extrapolation"] == ([0, 1, 2, 3, 4], [3, 4, 5, 6])
    assert rows["dual_extrapolation"] == ([2, 3, 4, 5, 6, 7, 8], [0, 6])
    assert all(r.dtype == np.int64 for r in mode_rows("dual_extrapolation", 11, 7))


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="extrapolation"):
        mode_rows("extrapolation", 8, 4)
