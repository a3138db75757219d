"""The NAAP-440 data: its columns and feature sets, the published split rule, the log format and
the schemes. The modules re-exported here import no numpy, scikit-learn, numba or torch, so that
data_dir_to_csv.py stays light; naap.data.load (the 2022 data path: read, check, sort, split) and
naap.data.modes (paper 2's train and test rows per mode) need numpy and pandas and are imported
by name."""
from naap.data.columns import (
    EPOCH_FEATURES,
    FEATURE_SET_EPOCHS,
    FEATURE_SETS,
    FEATURE_SETS_V2,
    FULL_SCHEME_FEATURES,
    LOG_COLUMNS,
    MAX_VALUE,
    MODEL_ID,
    NUM_EPOCHS_TOTAL,
    QUANT_EPOCHS,
    SCHEME_FEATURES,
    SCHEME_V2_FEATURES,
    TARGET,
    TEST_FLAG,
    acceleration,
    epoch_column,
    epoch_features,
    features_at,
    is_accuracy,
)
from naap.data.log_format import epoch_lines, header_lines, log_text, read_log, stamp
from naap.data.schemes import load_schemes, scheme_size, validate_scheme
from naap.data.split import NUM_TEST_BINS, split_bins

__all__ = [
    # columns
    "TARGET", "TEST_FLAG", "MODEL_ID", "LOG_COLUMNS", "SCHEME_FEATURES", "FULL_SCHEME_FEATURES", "SCHEME_V2_FEATURES",
    "EPOCH_FEATURES", "QUANT_EPOCHS", "NUM_EPOCHS_TOTAL", "MAX_VALUE", "epoch_column", "epoch_features", "features_at",
    "FEATURE_SETS", "FEATURE_SET_EPOCHS", "FEATURE_SETS_V2", "acceleration", "is_accuracy",
    # split
    "NUM_TEST_BINS", "split_bins",
    # log_format, schemes
    "stamp", "header_lines", "epoch_lines", "log_text", "read_log", "load_schemes", "validate_scheme", "scheme_size",
]
