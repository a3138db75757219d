"""A hybrid in the spirit of White et al.'s OMNI (2021): boosted trees on the scheme, zero-cost
proxies and learning-curve features together.

Library module (no command line, no work at import). The hybrid is LightGBM (gbdt.make_lightgbm)
fitted on hybrid_columns(k): the six scheme columns (NumMACs and NumParams, two zero-cost proxies,
among them), any proxies of zero_cost.py's CSV, and, after k >= 1 epochs, four learning-curve
features of each model: its accuracy at epoch k (early stopping), SoTL and SoTL-E (Ru et al. 2020)
and LCE's extrapolation to epoch 90 (naap.learning_curves). with_curve_features adds those
columns to a table once, for every model and epoch count, so that every split and train size
reads them.
"""
import numpy as np

from naap import learning_curves
from naap.data import FULL_SCHEME_FEATURES, epoch_column
from naap.predictors.gbdt import make_lightgbm

HYBRID = "OMNI-style hybrid"
CURVE_FEATURES = ("SoTL", "SoTL-E", "LCE")  # added columns, named "<feature>@<k>"


def curve_column(feature, k):
    """The column of a learning-curve feature after k epochs: curve_column("LCE", 9) -> 'LCE@9'."""
    return f"{feature}@{k}"


def hybrid_columns(k, proxies=()):
    """The hybrid's features after k epochs (k = 0: the scheme and proxies only)."""
    columns = FULL_SCHEME_FEATURES + list(proxies)
    if k > 0:
        columns += [epoch_column(k, "Accuracy")] + [curve_column(f, k) for f in CURVE_FEATURES]
    return columns


def lce_table(accuracies, epochs, map_rows=None):
    """(models x epochs) LCE extrapolations of the accuracy curves (rows of `accuracies`), through
    map_rows(function, chunks) where given (a worker pool's map over row chunks), else here."""
    epochs = [k for k in epochs if k > 0]
    if map_rows is None:
        return learning_curves.lce_rows(accuracies, epochs)
    chunks = np.array_split(accuracies, max(1, min(len(accuracies), 16)))
    return np.vstack(list(map_rows(_lce_chunk, [(chunk, epochs) for chunk in chunks])))


def _lce_chunk(args):
    chunk, epochs = args
    return learning_curves.lce_rows(chunk, epochs)


def with_curve_features(table, epochs, lce=None):
    """The table with the CURVE_FEATURES columns of every k >= 1 of epochs; lce: lce_table's
    result for the table's rows, computed here when not given."""
    epochs = [k for k in epochs if k > 0]
    if not epochs:
        return table
    if lce is None:
        lce = lce_table(learning_curves.curve(table, "Accuracy", max(epochs)), epochs)
    added = {}
    for j, k in enumerate(epochs):
        added[curve_column("SoTL", k)] = learning_curves.sotl(table, k)
        added[curve_column("SoTL-E", k)] = learning_curves.sotl_e(table, k)
        added[curve_column("LCE", k)] = lce[:, j]
    import pandas as pd
    return pd.concat([table, pd.DataFrame(added, index=table.index)], axis=1)  # one insert, not one per column


def make_hybrid():
    """The hybrid's regressor: a fresh LightGBM, its seed drawn now (fit it on hybrid_columns)."""
    return make_lightgbm()
