"""Paper 2's inputs: the option lists, the mode splits of the table, and held-out selection's rows.

load_modes loads the table once and splits it per mode and start feature set (protocol's rules);
validation_rows/validation_data take held-out selection's fit and validation rows from a mode's
training rows (the published split rule, naap.data.split_bins); the test rows are never among them.
"""
import numpy as np

from naap.cli import InputError
from naap.data import FEATURE_SETS_V2, NUM_TEST_BINS, split_bins
from naap.data.load import load_dataset
from naap.data.modes import mode_rows, mode_split

SELECT_ON = ("test", "validation")  # the models whose scores pick each regressor's best subset
VALIDATION_BINS = NUM_TEST_BINS  # held-out selection: the published rule's 40 bins, on the training rows


def parse_list(text, allowed, what, option):
    """The comma-separated items of an option, each one of `allowed` (InputError otherwise)."""
    items = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise InputError(f"{option}: unknown {what} {', '.join(map(repr, unknown))} (choose from {', '.join(allowed)})")
    if not items:
        raise InputError(f"{option}: no {what} given")
    return list(dict.fromkeys(items))


def validation_rows(num_train, num_bins=VALIDATION_BINS):
    """(fit rows, validation rows) of a mode's training rows (indices in its sorted order): the
    published split rule (naap.data.split_bins) on the training rows, each bin's middle row to
    validation. ValueError if there are too few rows for num_bins bins."""
    middles = [middle for _, _, middle in split_bins(num_train, num_bins)]
    return np.setdiff1d(np.arange(num_train), middles), np.array(middles)


def validation_data(data):
    """Held-out selection's search arrays: {(mode, fs): (X_fit, y_fit, X_validation, y_validation)}
    of load_modes' {(mode, fs): split arrays}, taken from the training rows alone."""
    out = {}
    for key, (X_train, y_train, _, _) in data.items():
        try:
            fit, val = validation_rows(len(y_train))
        except ValueError as e:
            raise InputError(f"--select-on validation: mode {key[0]}: {e}") from None
        out[key] = X_train[fit], y_train[fit], X_train[val], y_train[val]
    return out


def load_modes(path, modes, feature_sets, content=None):
    """Load the table once; {(mode, fs): split arrays}, {mode: (n_train, n_test)}, {mode: y_test}.
    content: the file's bytes, where the caller has read them already (load_dataset)."""
    columns = list(dict.fromkeys(c for fs in feature_sets for c in FEATURE_SETS_V2[fs]))
    df = load_dataset(path, columns, content=content)
    num_test = int((df["IsTest"] == 1).sum())
    data, sizes, truth = {}, {}, {}
    for mode in modes:
        tr, te = mode_rows(mode, len(df) - num_test, num_test)
        if len(te) < 2 or len(tr) < 2:
            raise InputError(f"{path}: mode {mode} leaves {len(tr)} train / {len(te)} test rows; need at least 2 each")
        sizes[mode] = (len(tr), len(te))
        for fs in feature_sets:
            data[(mode, fs)] = mode_split(df, FEATURE_SETS_V2[fs], mode)
        truth[mode] = data[(mode, feature_sets[0])][3]
    return data, sizes, truth
