"""A plug-in predictor for run_experiments.py: LightGBM's gradient-boosted trees.

make() returns a fresh lightgbm.LGBMRegressor with the settings of naap.predictors.gbdt (the
one home of them, and of run_experiments.py --today's "LightGBM" row): shallow trees on a share
of the rows and features drawn per tree, leaves small enough for 10 train rows (LightGBM's
default of 20 rows a leaf would fit a constant), one thread, deterministic=True. Its seed is
drawn from NumPy's global generator, which the protocol seeds before each call: every protocol
seed is a different fit, and the same seed the same fit.

Inputs: none (a library file); outputs: none.
Example:
  python run_experiments.py naap440.csv results_lgbm/ --predictor "LGBM=examples/lightgbm_predictor.py:make"
"""
from naap.predictors import make_lightgbm


def make():
    """A fresh, unfitted LightGBM regressor."""
    return make_lightgbm()
