"""The columns of the NAAP-440 CSVs and the feature sets the papers name.

Light on purpose (no numpy, pandas, scikit-learn or torch): data_dir_to_csv.py writes these
columns, and the protocol, paper 2 and the baselines read them.
"""
from naap.training.recipe import EPOCHS

TARGET = "MaxAccuracy"
TEST_FLAG = "IsTest"
MODEL_ID = "ModelId"
LOG_COLUMNS = ("NumParams", "NumMACs")
SCHEME_FEATURES = ["NumParams", "NumStages"]  # paper 1's "Scheme" feature set
FULL_SCHEME_FEATURES = ["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth"]
SCHEME_V2_FEATURES = FULL_SCHEME_FEATURES + ["NumSkipConnections", "NumPartialRFLayers"]  # NAAP-440e
EPOCH_FEATURES = ("LossMean", "LossMedian", "Accuracy")
QUANT_EPOCHS = (3, 6, 9)
NUM_EPOCHS_TOTAL = EPOCHS  # every NAAP-440 model was trained this long
COST_COLUMNS = (MODEL_ID, "Epoch", "Start", "TrainSeconds", "TestSeconds")  # data_dir_to_csv.py --costs
MAX_VALUE = 1e150  # larger features are refused: the scaler squares them


def epoch_column(k, feature):
    """The column of one epoch feature (one of EPOCH_FEATURES): epoch_column(9, "Accuracy") -> 'e9Accuracy'."""
    return f"e{k}{feature}"


def is_accuracy(column):
    """Whether a column holds a test accuracy, a fraction from 0 to 1: MaxAccuracy and every eKAccuracy."""
    middle = column[1:-len("Accuracy")] if column.startswith("e") and column.endswith("Accuracy") else ""
    return column == TARGET or (middle.isascii() and middle.isdigit())


def epoch_features(k):
    """e1LossMean, e1LossMedian, e1Accuracy, ... up to epoch k."""
    return [epoch_column(e, f) for e in range(1, k + 1) for f in EPOCH_FEATURES]


# paper 1's feature sets, and how many epochs of training each needs
FEATURE_SETS = {"Scheme": SCHEME_FEATURES}
FEATURE_SET_EPOCHS = {"Scheme": 0}
for _k in QUANT_EPOCHS:
    FEATURE_SETS[f"Scheme + Quantitative {_k} epochs"] = FULL_SCHEME_FEATURES + epoch_features(_k)
    FEATURE_SET_EPOCHS[f"Scheme + Quantitative {_k} epochs"] = _k
# paper 2's start feature sets
FEATURE_SETS_V2 = {"Scheme": SCHEME_V2_FEATURES}
for _k in QUANT_EPOCHS:
    FEATURE_SETS_V2[f"Scheme+Quant.{_k}"] = SCHEME_V2_FEATURES + epoch_features(_k)
    FEATURE_SET_EPOCHS[f"Scheme+Quant.{_k}"] = _k


def features_at(k, extra=()):
    """Paper 1's features after k epochs of training, for any k: its "Scheme" set (NumParams,
    NumStages) at k = 0, else Scheme + Quant.k (the six scheme columns, then epochs 1..k's
    EPOCH_FEATURES); `extra` columns (zero-cost proxies) come after the scheme."""
    if k == 0:
        return FEATURE_SETS["Scheme"] + list(extra)
    return FULL_SCHEME_FEATURES + list(extra) + epoch_features(k)


def acceleration(features):
    """'100%' for a scheme-only feature set, else the share of the 90 epochs not trained."""
    saved = 100.0 * (1 - FEATURE_SET_EPOCHS[features] / NUM_EPOCHS_TOTAL)
    return f"{saved:.1f}".removesuffix(".0") + "%"
