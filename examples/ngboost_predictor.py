"""A plug-in predictor for run_experiments.py: NGBoost, a mean and a standard deviation per model.

make() returns a fresh naap.predictors.NGBoostNormal (the settings: naap.predictors.ngboost_normal,
also run_experiments.py --today's "NGBoost" row): ngboost.NGBRegressor with a Normal
distribution fitted by natural-gradient boosting of the log score, shallow trees on a share of
the rows each round. predict(X) gives the predicted mean (what the
protocol scores); predict(X, return_std=True) gives (mean, std), as scikit-learn's
GaussianProcessRegressor does. Its seed is drawn from NumPy's global generator, which the
protocol seeds before each call.

Inputs: none (a library file); outputs: none.
Example:
  python run_experiments.py naap440.csv results_ngb/ --predictor "NGB=examples/ngboost_predictor.py:make"
"""
from naap.predictors import make_ngboost


def make():
    """A fresh, unfitted NGBoost (Normal) regressor."""
    return make_ngboost()
