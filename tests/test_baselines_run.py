"""naap.baselines.run: the scores of a baselines.csv row (ties against the method), the zero-cost
proxies as rankers and features, the regressors' feature sets and tasks (the protocol's own)."""
import math

import numpy as np
import pandas as pd

import metrics
from naap import protocol
from naap.baselines import run as baselines_run
from naap.data import FEATURE_SETS, FULL_SCHEME_FEATURES, QUANT_EPOCHS, epoch_features
from naap.data.load import load_dataset


def test_a_constant_predictor_scores_its_ties_as_the_worst_case():
    # 12 test rows in ground-truth order, two pairs with equal truth: 66 pairs, 64 with different truth
    y = np.array([0.10, 0.20, 0.20, 0.30, 0.40, 0.50, 0.60, 0.60, 0.70, 0.80, 0.85, 0.90])
    row = baselines_run.score("constant", 0, np.full(len(y), 0.5), y, True)
    assert (row["NumViolations"], row["MaxViolations"]) == (0, 66)  # the protocol's rule: ties never count
    assert row["TiedPairs"] == 64
    # worst case: the predicted top k are the k lowest rows; they hold max(0, 2k - 12) of the true top k
    assert (row["PrecisionAt5"], row["PrecisionAt10"]) == (0.0, 0.8)
    assert list(row) == baselines_run.COLUMNS and baselines_run.COLUMNS.index("TiedPairs") == 4


def test_a_tie_at_the_top_k_boundary_is_no_hit():
    y = np.arange(6.0)
    pred = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 4.0])  # the two best rows tied
    row = baselines_run.score("m", 0, pred, y, False)
    assert (row["NumViolations"], row["TiedPairs"]) == (0, 1)
    # of the tied pair, the worse row (4) takes the predicted top 1: no hit; the top 5 holds both
    assert metrics.worst_case_precision_at_k(pred, 1) == 0.0
    assert row["PrecisionAt5"] == 1.0


def test_impute_and_rank_a_missing_proxy():
    table = pd.DataFrame({"jacov": [1.0, np.nan, 3.0, 10.0, np.nan], "zen": [5.0, 4.0, 3.0, 2.0, 1.0]})
    filled = baselines_run.impute_proxies(table, ["jacov", "zen"])
    assert filled.jacov.tolist() == [1.0, 3.0, 3.0, 10.0, 3.0] and filled.zen.tolist() == table.zen.tolist()
    assert baselines_run.proxy_ranking(table.jacov).tolist() == [1.0, -math.inf, 3.0, 10.0, -math.inf]


def test_regressor_feature_sets_are_the_papers():
    assert baselines_run.regressor_columns(0) == FEATURE_SETS["Scheme"]
    for k in QUANT_EPOCHS:
        assert baselines_run.regressor_columns(k) == FEATURE_SETS[f"Scheme + Quantitative {k} epochs"]
    assert baselines_run.regressor_columns(2, ["zen"]) == (FULL_SCHEME_FEATURES + ["zen"]
                                                       + epoch_features(2))


def test_regressor_tasks_are_the_protocols_own(ref_dir):
    """The paper's regressors run in run_table's units (protocol.regressor_tasks): at k = 0 and 3
    the same families, names and data as paper 1's two feature sets."""
    df = load_dataset(ref_dir / "naap440.csv", FULL_SCHEME_FEATURES + epoch_features(3))
    ours = {key[2:]: args for _, (kind, key, args) in baselines_run.build_tasks(df, (0, 3), (), [], "paper", 1)
            if kind == "regressors"}
    paper_sets = {k: f for k, f in ((0, "Scheme"), (3, "Scheme + Quantitative 3 epochs"))}
    tasks = protocol.regressor_tasks(df, {f: FEATURE_SETS[f] for f in paper_sets.values()},
                                     protocol.BASELINE_NAMES)
    costs = [cost for cost, _ in tasks]
    assert costs == sorted(costs, reverse=True)
    theirs = {(features, family): (names, data) for _, (features, family, names, data) in tasks}
    assert len(ours) == len(theirs) == 2 * len({protocol.family_of(n) for n in protocol.BASELINE_NAMES})
    for (k, family), (names, data, estimators) in ours.items():
        their_names, their_data = theirs[paper_sets[k], family]
        assert names == their_names and {protocol.family_of(n) for n in names} == {family}
        assert all(np.array_equal(a, b) for a, b in zip(data, their_data)) and estimators == "paper"
