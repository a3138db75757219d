"""A plug-in predictor for run_experiments.py: XGBoost's gradient-boosted trees.

make() returns a fresh xgboost.XGBRegressor with the settings of naap.predictors.gbdt (the one
home of them, and of run_experiments.py --today's "XGBoost" row): shallow trees on a share of
the rows and features drawn per tree, one thread. Its seed is drawn
from NumPy's global generator, which the protocol seeds before each call: every protocol seed is
a different fit, and the same seed the same fit on any machine and thread count.

Inputs: none (a library file); outputs: none.
Example:
  python run_experiments.py naap440.csv results_xgb/ --predictor "XGB=examples/xgboost_predictor.py:make"
"""
from naap.predictors import make_xgboost


def make():
    """A fresh, unfitted XGBoost regressor."""
    return make_xgboost()
