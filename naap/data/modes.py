"""Paper 2's modes: which train and test rows of the sorted table each one keeps (interpolation
and three extrapolations). The mode names are naap.protocol's MODES.

Needs numpy (naap.data's light modules do not): import it by name, `from naap.data import modes`.
"""
import numpy as np

from naap.data.load import split


def mode_rows(mode, num_train, num_test):
    """(train row indices, test row indices) of a paper-2 mode, counted in the sorted order.

      interpolation        all train rows / all test rows (the baseline split)
      left_extrapolation   upper half of the train rows / lower half of the test rows
      right_extrapolation  lower half of the train rows / upper half of the test rows
      dual_extrapolation   middle half of the train rows / lowest and highest test quarters
    """
    half_tr, half_te, q_tr, q_te = num_train // 2, num_test // 2, num_train // 4, num_test // 4
    if mode == "interpolation":
        return np.arange(num_train), np.arange(num_test)
    if mode == "left_extrapolation":
        return np.arange(half_tr, num_train), np.arange(half_te)
    if mode == "right_extrapolation":
        return np.arange(half_tr), np.arange(half_te, num_test)
    if mode == "dual_extrapolation":
        return (np.arange(q_tr, num_train - q_tr),
                np.concatenate([np.arange(q_te), np.arange(num_test - q_te, num_test)]))
    raise ValueError(mode)


def mode_split(df, columns, mode):
    """(X_train, y_train, X_test, y_test) of a mode; test rows stay in ground-truth order."""
    X_train, y_train, X_test, y_test = split(df, columns)
    tr, te = mode_rows(mode, len(y_train), len(y_test))
    return X_train[tr], y_train[tr], X_test[te], y_test[te]
