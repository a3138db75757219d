"""naap/predictors/hybrid.py: the hybrid's columns, its learning-curve features against
naap.learning_curves computed directly, and LCE through a pool's map equal to in-process."""
import numpy as np
import pandas as pd

from naap import learning_curves
from naap.data import FULL_SCHEME_FEATURES, NUM_EPOCHS_TOTAL, epoch_features
from naap.predictors import hybrid


def test_hybrid_columns():
    assert hybrid.hybrid_columns(0) == FULL_SCHEME_FEATURES
    assert hybrid.hybrid_columns(0, ["zen"]) == FULL_SCHEME_FEATURES + ["zen"]
    assert hybrid.hybrid_columns(9) == FULL_SCHEME_FEATURES + ["e9Accuracy", "SoTL@9", "SoTL-E@9", "LCE@9"]


def test_curve_features_are_the_learning_curve_methods(ref_dir):
    columns = FULL_SCHEME_FEATURES + epoch_features(NUM_EPOCHS_TOTAL)
    table = pd.read_csv(ref_dir / "naap440.csv", usecols=columns).head(6)
    out = hybrid.with_curve_features(table, (0, 3, 9))
    accuracies = learning_curves.curve(table, "Accuracy", 9)
    for k in (3, 9):
        assert np.array_equal(out[f"SoTL@{k}"], learning_curves.sotl(table, k))
        assert np.array_equal(out[f"SoTL-E@{k}"], learning_curves.sotl_e(table, k))
        assert np.array_equal(out[f"LCE@{k}"], [learning_curves.lce(row, k) for row in accuracies])
    assert "LCE@0" not in out and out[FULL_SCHEME_FEATURES].equals(table[FULL_SCHEME_FEATURES])
    pooled = hybrid.lce_table(accuracies, (3, 9), map_rows=map)
    assert np.array_equal(pooled, out[["LCE@3", "LCE@9"]].to_numpy())
