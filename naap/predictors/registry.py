"""Today's predictors as the rows run_experiments.py --today adds after paper 1's 24.

Library module (no command line, no work at import). TODAY maps each display name, in table
order, to its factory (a fresh object with fit(X, y) and predict(X) per call, as a plug-in's).
"""
from naap.predictors.gbdt import make_lightgbm, make_xgboost
from naap.predictors.ngboost_normal import make_ngboost

TODAY = {"XGBoost": make_xgboost, "LightGBM": make_lightgbm, "NGBoost": make_ngboost}
