"""Today's predictors (XGBoost, LightGBM, NGBoost) under the protocol, beside paper 1's 24.

gbdt: the XGBoost and LightGBM factories; ngboost_normal: NGBoost (Normal) with a predicted
standard deviation; seeding: the seed each factory draws from NumPy's global generator;
registry: TODAY, {display name: factory} in table order (run_experiments.py --today). The
libraries load only when a factory is called.
"""
from naap.predictors.gbdt import make_lightgbm, make_xgboost
from naap.predictors.ngboost_normal import NGBoostNormal, make_ngboost
from naap.predictors.registry import TODAY
from naap.predictors.seeding import draw_seed

__all__ = ["TODAY", "NGBoostNormal", "draw_seed", "make_lightgbm", "make_ngboost", "make_xgboost"]
