"""naap/budget/grid.py: the nested train subsets, a cell's GPU seconds and the features per k."""
import numpy as np
import pytest

from naap import budget
from naap.data import FULL_SCHEME_FEATURES, NUM_EPOCHS_TOTAL, features_at


def test_train_subsets_are_nested_sorted_and_differ_by_split():
    subsets = {n: budget.train_subset(400, 3, n) for n in budget.GRID_TRAIN_SIZES}
    for n, rows in subsets.items():
        assert len(rows) == n == len(set(rows.tolist())) and np.all(np.diff(rows) > 0) and rows.max() < 400
    sizes = sorted(subsets)
    for small, large in zip(sizes, sizes[1:]):
        assert set(subsets[small].tolist()) <= set(subsets[large].tolist())
    assert not np.array_equal(budget.train_subset(400, 4, 25), subsets[25])
    assert np.array_equal(budget.train_subset(400, 3, 25), subsets[25])  # the same split: the same subset
    for n in (0, 401):
        with pytest.raises(ValueError):
            budget.train_subset(400, 3, n)


def test_cell_seconds_add_the_train_models_whole_training_and_the_test_models_first_epochs():
    seconds = {m: [float(m * 1000 + e) for e in range(1, NUM_EPOCHS_TOTAL + 1)] for m in (1, 2, 3)}
    full = {m: sum(m * 1000 + e for e in range(1, NUM_EPOCHS_TOTAL + 1)) for m in (1, 2)}
    assert budget.cell_seconds(seconds, [1, 2], [3], 2) == full[1] + full[2] + 3001 + 3002
    assert budget.cell_seconds(seconds, [], [3], 0) == 0.0


def test_map_columns_are_the_papers_up_to_9_epochs_then_the_last_9():
    for k in (0, 1, 3, 9):
        assert budget.map_columns(k) == features_at(k)
    columns = budget.map_columns(30)
    assert columns[:len(FULL_SCHEME_FEATURES)] == FULL_SCHEME_FEATURES
    epochs = sorted({int(c[1:].split("L")[0].split("A")[0]) for c in columns[len(FULL_SCHEME_FEATURES):]})
    assert epochs == list(range(22, 31)) and len(columns) == len(features_at(9))
    assert budget.map_columns(90, ["zen"])[len(FULL_SCHEME_FEATURES)] == "zen"
