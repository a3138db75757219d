"""naap/protocol/registry.py: the regressors' names in table order, the 0.20.1 rules each
estimator set follows, and the estimator each name builds."""
import pytest

from naap import protocol
from naap.protocol.estimators import PaperKNN, ProtocolLinear, SklearnKNN
from naap.replica.rules import PAPER_VERSION, REPLICA_VERSION


def test_names():
    assert len(protocol.BASELINE_NAMES) == 24
    assert len(protocol.PAPER2_NAMES) == 28
    for estimators in protocol.ESTIMATOR_SETS:
        assert list(protocol.REGRESSORS[estimators]) == protocol.PAPER2_NAMES


def test_families():
    assert protocol.family_of("Random Forest (N=50)") == "Random Forest"
    assert protocol.family_of("Linear Regression (Sigmoid)") == "Linear Regression"
    assert protocol.family_of("My plug-in") == "My plug-in"  # any other name is its own family
    assert [protocol.family_of(n) for n in protocol.BASELINE_NAMES[:6]] == ["k-NN"] * 5 + ["Linear Regression"]
    assert protocol.ENSEMBLE_OF["AdaBoost (N=200)"] == ("AdaBoost", 200)


def test_rules_of_an_estimator_set():
    assert protocol.paper_rules("paper") == frozenset(protocol.PAPER_RULES)
    assert protocol.paper_rules("sklearn") == frozenset()
    assert protocol.paper_rules(frozenset({"knn", "leaf"})) == {"knn", "leaf"}
    assert protocol.tree_rules("paper") == PAPER_VERSION and protocol.tree_rules("sklearn") == REPLICA_VERSION
    assert protocol.tree_rules(frozenset({"knn"})) == REPLICA_VERSION  # no tree part on
    assert protocol.tree_rules(frozenset({"knn", "leaf"})) == frozenset({"leaf"})
    with pytest.raises(ValueError):
        protocol.paper_rules("0.20.1")


def test_each_rule_picks_its_estimator():
    paper, knn_only = protocol.regressors("paper"), protocol.regressors(frozenset({"knn"}))
    sklearn_set = protocol.regressors("sklearn")
    assert isinstance(paper["5-NN"](), PaperKNN) and isinstance(knn_only["5-NN"](), PaperKNN)
    assert isinstance(sklearn_set["5-NN"](), SklearnKNN)
    assert paper["Linear Regression"]().rules == PAPER_VERSION
    assert knn_only["Linear Regression"]().rules == REPLICA_VERSION
    assert isinstance(sklearn_set["Linear Regression (Log)"](), ProtocolLinear)
    assert paper["SVR (RBF kernel)"]().gamma == "auto" and sklearn_set["SVR (RBF kernel)"]().gamma == "scale"
    assert paper["Decision Tree"]().rules == PAPER_VERSION
    assert paper["5-NN"]() is not paper["5-NN"]()  # a fresh estimator per call
    assert protocol.own_regressors("paper") is protocol.REGRESSORS["paper"]


def test_check_estimator_set_is_one_line_naming_the_option():
    from naap.cli import InputError
    assert protocol.check_estimator_set("sklearn") == "sklearn"
    with pytest.raises(InputError, match="^--estimators skl: choose from paper, sklearn$"):
        protocol.check_estimator_set("skl")
