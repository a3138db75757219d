"""naap/data/columns.py: paper 1's feature sets and the acceleration labels of both papers'
sets. (Paper 2's feature sets: test_paper2_protocol.test_feature_sets_and_regressors.)"""
from naap.data import FEATURE_SETS, FEATURE_SETS_V2, acceleration, columns


def test_acceleration_labels():
    assert [acceleration(f) for f in FEATURE_SETS] == ["100%", "96.7%", "93.3%", "90%"]
    assert [acceleration(f) for f in FEATURE_SETS_V2] == ["100%", "96.7%", "93.3%", "90%"]


def test_feature_sets():
    assert len(FEATURE_SETS) == 4
    assert FEATURE_SETS["Scheme"] == ["NumParams", "NumStages"]
    assert [len(FEATURE_SETS[f"Scheme + Quantitative {k} epochs"]) for k in (3, 6, 9)] == [15, 24, 33]


def test_features_at_k_epochs_are_the_papers_sets():
    assert columns.features_at(0) == columns.FEATURE_SETS["Scheme"]
    for k in columns.QUANT_EPOCHS:
        assert columns.features_at(k) == columns.FEATURE_SETS[f"Scheme + Quantitative {k} epochs"]
    assert columns.features_at(2, ["zen"]) == (columns.FULL_SCHEME_FEATURES + ["zen"]
                                               + ["e1LossMean", "e1LossMedian", "e1Accuracy",
                                                  "e2LossMean", "e2LossMedian", "e2Accuracy"])


def test_is_accuracy_names_the_target_and_every_epoch_accuracy():
    assert columns.is_accuracy("MaxAccuracy")
    assert all(columns.is_accuracy(columns.epoch_column(k, "Accuracy")) for k in range(1, 91))
    for name in ("e9LossMean", "eAccuracy", "Accuracy", "e٣Accuracy", "NumParams", "synflow", "xe9Accuracy"):
        assert not columns.is_accuracy(name), name
