"""The 2022 data path: a NAAP-440 CSV read, checked, log-transformed and sorted as the paper's
run did, and the sorted table split into train and test arrays.

Needs numpy and pandas (naap.data's other modules do not): import it by name,
`from naap.data import load` or `from naap.data.load import load_dataset`.
"""
import numpy as np
import pandas as pd

from naap.cli import InputError
from naap.data.columns import LOG_COLUMNS, MAX_VALUE, MODEL_ID, TARGET, TEST_FLAG, is_accuracy
from naap.input_files import read_csv_input
from naap.replica.fixedmath import c_log
from naap.replica.numpy_1_15_quicksort import argsort_1_15
from naap.replica.pandas_0_23_parser import read_csv_2022
from naap.replica.rules import DATA_PARTS


def read_table(path, data_rules=DATA_PARTS, content=None):
    """The CSV parsed as pandas 0.23.4 parsed it (today's pandas parser without the "parser"
    rule), with a missing, unreadable or non-CSV file, or a column named twice, as one InputError
    line. The file is read once (content: its bytes, where the caller has read them already)."""
    return read_csv_input(path, read_csv_2022 if "parser" in data_rules else pd.read_csv, content=content)


def sort_table(df, data_rules=DATA_PARTS):
    """The table in the order pandas 0.23.4's sort_values(TARGET) gave with numpy 1.15.4
    (without the "order" rule: today's sort_values, whose tie order depends on the CPU)."""
    if "order" not in data_rules:
        return df.sort_values(TARGET)
    order = argsort_1_15(df[TARGET].to_numpy(np.float64))
    return df.iloc[order]


def _numeric_values(column, name, path):
    """The column's values as floats; InputError (naming the file and column) if it is not numeric
    or has a missing or infinite value."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise InputError(f"{path}: column {name} is not numeric")
    if column.isna().any():
        raise InputError(f"{path}: column {name} has missing values (row {int(column.isna().to_numpy().argmax()) + 2})")
    values = column.to_numpy(float)
    if not np.isfinite(values).all():
        raise InputError(f"{path}: column {name} has infinite values")
    return values


def _check_model_ids(ids, path):
    """InputError unless every ModelId is a whole number from 1 (scheme i is ModelId i + 1), each
    once: an id that is not would be joined to another model's proxies or costs, or to none."""
    values = _numeric_values(ids, MODEL_ID, path)
    bad = (values % 1 != 0) | (values < 1)
    if bad.any():
        value = ids.iloc[int(bad.argmax())]
        raise InputError(f"{path}: ModelId {value} is not a whole number" if value % 1 else
                         f"{path}: ModelId {value} must be at least 1")
    if ids.duplicated().any():
        raise InputError(f"{path}: ModelId {ids[ids.duplicated()].iloc[0]} appears more than once")


def load_dataset(path, columns, data_rules=DATA_PARTS, content=None):
    """Read a NAAP-440 CSV, check `columns` (+ IsTest, MaxAccuracy), log-transform, sort.

    Returns the table sorted as the protocol sorts it (content: the file's bytes, where the caller
    has read them already). Raises InputError (one line naming the file) for a missing or
    unreadable file, a column named twice, missing, non-numeric, NaN or too large values, an
    accuracy outside 0..1, a ModelId that is not a whole number from 1 or appears twice, a bad
    IsTest, fewer than 2 test rows, or fewer train rows than the largest k of k-NN.
    """
    # the protocol's k-NN sizes, imported here: naap.protocol imports this module at its top
    from naap.protocol.settings import KNN_KS

    df = read_table(path, data_rules, content)
    needed = list(dict.fromkeys([TEST_FLAG, TARGET, *columns]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    if MODEL_ID in df.columns:
        _check_model_ids(df[MODEL_ID], path)
    for c in needed:
        values = _numeric_values(df[c], c, path)
        # squares of the scaled values and the scaler's sums must stay finite
        if np.abs(values).max(initial=0.0) > MAX_VALUE:
            raise InputError(f"{path}: column {c} has values too large to scale (|x| > {MAX_VALUE:g})")
        outside = (values < 0) | (values > 1)
        if is_accuracy(c) and outside.any():  # a percentage, or another column under this name
            raise InputError(f"{path}: column {c} is an accuracy, from 0 to 1; row {int(outside.argmax()) + 2} "
                             f"has {values[outside.argmax()]:g}")
    for c in LOG_COLUMNS:
        if c in needed:
            if (df[c] <= 0).any():
                raise InputError(f"{path}: column {c} must be positive (its log is a feature)")
            df[c] = c_log(df[c].to_numpy(float))
    if not df[TEST_FLAG].isin([0, 1]).all():
        raise InputError(f"{path}: column {TEST_FLAG} must be 0 or 1")
    num_test = int((df[TEST_FLAG] == 1).sum())
    if num_test < 2:
        raise InputError(f"{path}: {num_test} test row(s); the monotonicity score needs at least 2")
    num_train = len(df) - num_test
    if num_train < max(KNN_KS):
        raise InputError(f"{path}: {num_train} train row(s); {max(KNN_KS)}-NN needs at least {max(KNN_KS)}")
    return sort_table(df, data_rules)


def split(df, columns):
    """(X_train, y_train, X_test, y_test) as float arrays, rows in the table's (sorted) order."""
    train, test = df[df[TEST_FLAG] == 0], df[df[TEST_FLAG] == 1]
    return (train[columns].to_numpy(float), train[TARGET].to_numpy(float),
            test[columns].to_numpy(float), test[TARGET].to_numpy(float))
