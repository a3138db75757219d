"""naap/paper2/inputs.py: the option lists, the mode splits of the table, and held-out selection's
validation rows (the published rule on the training rows, never a test row)."""
import numpy as np
import pytest

from naap import paper2, protocol
from naap.cli import InputError
from naap.data import FEATURE_SETS_V2
from naap.data.load import load_dataset
from naap.data.modes import mode_rows, mode_split


@pytest.fixture(scope="module")
def table(ref_dir):
    return load_dataset(ref_dir / "naap440v2.csv", FEATURE_SETS_V2["Scheme"])


def test_validation_rows_take_each_bins_middle_train_row_apart_from_the_test_rows(table):
    # the published rule on n train rows: bins of round(n / 40) rows, the middle one validates
    for n, size in ((400, 10), (200, 5)):
        fit, val = paper2.validation_rows(n)
        assert len(val) == 40 and len(fit) == n - 40
        assert sorted([*fit, *val]) == list(range(n))
        for start in range(0, n, size):
            assert [v for v in val if start <= v < start + size] == [start + size // 2]
    with pytest.raises(ValueError):
        paper2.validation_rows(59)
    cols = FEATURE_SETS_V2["Scheme"]
    train, test = table[table.IsTest == 0], table[table.IsTest == 1]
    data = {(mode, "Scheme"): mode_split(table, cols, mode) for mode in protocol.MODES}
    held = paper2.validation_data(data)
    for mode in protocol.MODES:
        tr, te = mode_rows(mode, len(train), len(test))
        fit, val = paper2.validation_rows(len(tr))
        assert (len(val), len(fit)) == ((40, 360) if mode == "interpolation" else (40, 160))
        val_ids = set(train.index[tr[val]])
        assert not val_ids & set(train.index[tr[fit]]) and not val_ids & set(test.index)
        X_fit, y_fit, X_val, y_val = held[(mode, "Scheme")]
        assert np.array_equal(X_val, train[cols].to_numpy(float)[tr[val]])
        assert np.array_equal(y_fit, train.MaxAccuracy.to_numpy()[tr[fit]])
        assert np.all(np.diff(y_val) >= 0)  # validation rows in ground-truth order, as test rows must be


def test_parse_list_keeps_the_given_order_once_and_refuses_unknown_or_no_items():
    assert paper2.parse_list(" b, a,b ,", ["a", "b", "c"], "letter", "--letters") == ["b", "a"]
    with pytest.raises(InputError, match=r"--letters: unknown letter 'd' \(choose from a, b, c\)"):
        paper2.parse_list("a,d", ["a", "b", "c"], "letter", "--letters")
    with pytest.raises(InputError, match="--letters: no letter given"):
        paper2.parse_list(" , ", ["a", "b", "c"], "letter", "--letters")


def test_load_modes_splits_each_mode_once_per_start_set(ref_dir, table):
    data, sizes, truth = paper2.load_modes(ref_dir / "naap440v2.csv", ["interpolation", "dual_extrapolation"],
                                           ["Scheme", "Scheme+Quant.3"])
    assert sizes == {"interpolation": (400, 40), "dual_extrapolation": (200, 20)}
    assert sorted(data) == sorted((m, fs) for m in sizes for fs in ("Scheme", "Scheme+Quant.3"))
    for mode in sizes:
        expected = mode_split(table, FEATURE_SETS_V2["Scheme"], mode)
        assert all(np.array_equal(a, b) for a, b in zip(data[(mode, "Scheme")], expected))
        assert data[(mode, "Scheme+Quant.3")][0].shape[1] == 17
        assert np.array_equal(truth[mode], expected[3])
