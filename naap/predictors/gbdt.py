"""Gradient-boosted trees of today: XGBoost and LightGBM regressors, single-threaded and seeded.

Library module (no command line, no work at import: xgboost and lightgbm load when a factory is
first called). Each factory returns a fresh, unfitted scikit-learn-style regressor with
fit(X, y) and predict(X), as the protocol's plug-ins do (naap.plugins), seeded from NumPy's
global generator (seeding.draw_seed): each protocol seed is a different, reproducible fit.
The settings suit 10 to 400 train rows and 6 to about 100 (scaled) features.
"""
from naap.predictors.seeding import draw_seed

N_ESTIMATORS = 100  # boosting rounds: with LEARNING_RATE, enough for 400 rows, and a fit stays fast
LEARNING_RATE = 0.1  # shrinkage per round
MAX_DEPTH = 3  # shallow trees: 10..400 rows support few interactions
NUM_LEAVES = 2 ** MAX_DEPTH  # LightGBM grows leaf-wise: as many leaves as a depth-MAX_DEPTH tree
ROW_SUBSAMPLE = 0.8  # rows drawn per tree (stochastic boosting): the seed changes the fit
COLUMN_SUBSAMPLE = 0.8  # features drawn per tree, as rows are
MIN_CHILD_ROWS = 2  # LightGBM's default 20 leaves a 10-row fit without a split (a constant)
MIN_CHILD_WEIGHT = 1.0  # XGBoost: a leaf's summed hessian, 1 per row under squared error (XGBoost's default)
MIN_BIN_ROWS = 1  # LightGBM's default 3 rows per histogram bin would leave 10 rows ~3 split points
THREADS = 1  # one thread: bit-identical results at any OMP_NUM_THREADS, and the protocol runs fits in parallel


def make_xgboost():
    """A fresh XGBoost regressor (histogram trees, squared error), its seed drawn now."""
    seed = draw_seed()  # before the import, so that nothing the import might draw comes first
    from xgboost import XGBRegressor
    return XGBRegressor(n_estimators=N_ESTIMATORS, learning_rate=LEARNING_RATE, max_depth=MAX_DEPTH,
                        subsample=ROW_SUBSAMPLE, colsample_bytree=COLUMN_SUBSAMPLE,
                        min_child_weight=MIN_CHILD_WEIGHT, tree_method="hist", n_jobs=THREADS,
                        random_state=seed, verbosity=0)


def make_lightgbm():
    """A fresh LightGBM regressor (squared error), deterministic, its seed drawn now."""
    seed = draw_seed()
    from lightgbm import LGBMRegressor
    # subsample_freq=1: LightGBM bags rows only when a frequency is set; force_row_wise: the
    # histogram layout is fixed rather than timed and chosen at each fit
    return LGBMRegressor(n_estimators=N_ESTIMATORS, learning_rate=LEARNING_RATE, max_depth=MAX_DEPTH,
                         num_leaves=NUM_LEAVES, subsample=ROW_SUBSAMPLE, subsample_freq=1,
                         colsample_bytree=COLUMN_SUBSAMPLE, min_child_samples=MIN_CHILD_ROWS,
                         min_data_in_bin=MIN_BIN_ROWS, n_jobs=THREADS, deterministic=True,
                         force_row_wise=True, random_state=seed, verbosity=-1)
