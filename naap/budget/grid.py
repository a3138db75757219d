"""The budget map's grid and what each cell costs.

A cell is (n, k): the predictor is fitted on n fully trained models (the initialization budget of
White et al. 2021) and each test model is trained for its first k epochs (the query budget).
Split s (naap.uncertainty.split_table: one random test model per MaxAccuracy bin) fixes the test
models; its n train models are the first n of a random order of the split's train models
(train_subset), so a larger n holds every smaller one. The cell's cost is the GPU time of
training those n models for all 90 epochs plus the test models for k epochs (naap.data.costs).
"""
import numpy as np

from naap.data import FULL_SCHEME_FEATURES, NUM_EPOCHS_TOTAL, QUANT_EPOCHS, epoch_column, features_at
from naap.data.columns import EPOCH_FEATURES

GRID_TRAIN_SIZES = (10, 25, 50, 100, 200, 400)  # n: fully trained models the predictor is fitted on
GRID_EPOCHS = (0, 3, 6, 9, 30, 90)  # k: epochs each test model trains; 3, 6, 9 are paper 1's budgets
NUM_SPLITS = 20
SUBSET_SEED = 20221206  # split s orders its train models with default_rng([SUBSET_SEED, s])
# paper 1's regressors mapped by default: one of each family (all 24: --regressors all), sized so
# that the default map fits 20 minutes on 2 cores
DEFAULT_REGRESSORS = ("9-NN", "Linear Regression", "SVR (RBF kernel)", "Decision Tree", "Random Forest (N=25)",
                      "Gradient Boosting (N=25)", "AdaBoost (N=25)")
# budget.md: the best cell within each of these budgets, in GPU hours
BUDGET_LIMITS = (0.25, 0.5, 1, 2, 5, 10, 20, 50, 100)
SECONDS_PER_HOUR = 3600
# after k > 9 epochs a fit sees the last WINDOW_EPOCHS epochs' features (paper 1's largest set,
# Quant.9, holds 9): the latest epochs say the most, and a fit then costs no more than at k = 9
WINDOW_EPOCHS = max(QUANT_EPOCHS)


def map_columns(k, extra=()):
    """The features a predictor of the map gets after k epochs: paper 1's sets up to k = 9
    (naap.data.features_at), then the scheme and epochs k - 8..k."""
    if k <= WINDOW_EPOCHS:
        return features_at(k, extra)
    epochs = range(k - WINDOW_EPOCHS + 1, k + 1)
    return FULL_SCHEME_FEATURES + list(extra) + [epoch_column(e, f) for e in epochs for f in EPOCH_FEATURES]


def train_subset(num_train, split, n):
    """Positions (ascending, so in the table's order) of split `split`'s n train models among its
    num_train: the first n of a random order, so the subsets of one split are nested."""
    if not 1 <= n <= num_train:
        raise ValueError(f"train_subset: n = {n} of {num_train} train models")
    order = np.random.default_rng([SUBSET_SEED, split]).permutation(num_train)
    return np.sort(order[:n])


def cell_seconds(epoch_seconds, train_ids, test_ids, k):
    """GPU seconds of a cell: the train models' 90 epochs and the test models' first k.
    epoch_seconds: {ModelId: per-epoch GPU seconds} (naap.data.costs.gpu_seconds)."""
    full = sum(sum(epoch_seconds[m][:NUM_EPOCHS_TOTAL]) for m in train_ids)
    return full + sum(sum(epoch_seconds[m][:k]) for m in test_ids)
