"""naap.baselines.run: the scores of a baselines.csv row (ties against the method), the zero-cost
proxies as rankers and features, the regressors' feature sets and tasks (the protocol's own), and
--today's tasks, rows and hybrid features."""
import math

import numpy as np
import pandas as pd

import metrics
from naap import protocol
from naap.baselines import run as baselines_run
from naap.data import FEATURE_SETS, FULL_SCHEME_FEATURES, epoch_features
from naap.data.load import load_dataset
from naap.predictors import TODAY, hybrid


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


def test_today_tasks_are_the_regressors_with_todays_factories(ref_dir):
    """With today: TODAY's names on the regressors' feature sets (and their ZC variant), the
    hybrid on hybrid_columns with the proxies; each task hands evaluate its factories. Without
    it the tasks are exactly those of before."""
    df = load_dataset(ref_dir / "naap440.csv", FULL_SCHEME_FEATURES + epoch_features(3))
    df = pd.concat([df, pd.DataFrame({"zen": np.arange(len(df), dtype=float)}, index=df.index)], axis=1)
    df = hybrid.with_curve_features(df, [3], lce=np.zeros((len(df), 1)))  # LCE's values do not matter here
    plain = baselines_run.build_tasks(df, (0, 3), (), ["zen"], "paper", 1)
    tasks = baselines_run.build_tasks(df, (0, 3), (), ["zen"], "paper", 1, today=True)
    def summary(ts):
        return [(cost, key, args[0]) for cost, (_, key, args) in ts]
    assert summary(t for t in tasks if len(t[1][2]) == 3) == summary(plain)  # the 24's tasks, in order
    added = {key: args for _, (_, key, args) in tasks if len(args) == 4}
    suffix = baselines_run.ZC_SUFFIX
    expected = {(0, s, k, n) for s in ("", suffix) for k in (0, 3) for n in TODAY}
    expected |= {(0, "", k, hybrid.HYBRID) for k in (0, 3)}
    assert set(added) == expected
    features = baselines_run.impute_proxies(df, ["zen"])
    for (_, s, k, family), (names, data, estimators, regressors) in added.items():
        assert names == [family] and estimators == "paper"
        if family == hybrid.HYBRID:
            assert regressors == {family: hybrid.make_hybrid}
            columns = hybrid.hybrid_columns(k, ["zen"])
        else:
            assert regressors == {family: TODAY[family]}
            proxies = ["zen"] if s else []  # after the scheme, before the epochs' columns
            columns = FEATURE_SETS["Scheme"] + proxies if k == 0 else FULL_SCHEME_FEATURES + proxies + epoch_features(k)
        train, test = features[features.IsTest == 0], features[features.IsTest == 1]
        assert np.array_equal(data[0], train[columns].to_numpy(float))
        assert np.array_equal(data[2], test[columns].to_numpy(float))
    assert "SoTL@3" in hybrid.hybrid_columns(3, ["zen"]) and "zen" in hybrid.hybrid_columns(0, ["zen"])


def test_regressor_methods_in_table_order():
    paper = [("", n) for n in protocol.BASELINE_NAMES]
    zc = [(baselines_run.ZC_SUFFIX, n) for n in protocol.BASELINE_NAMES]
    assert baselines_run.regressor_methods([]) == paper
    assert baselines_run.regressor_methods(["zen"]) == paper + zc
    assert baselines_run.regressor_methods([], today=True) == paper + [("", n) for n in TODAY] + [("", hybrid.HYBRID)]
    assert baselines_run.regressor_methods(["zen"], today=True) == (
        paper + zc + [("", n) for n in TODAY] + [(baselines_run.ZC_SUFFIX, n) for n in TODAY] + [("", hybrid.HYBRID)])


def test_split_rows_score_a_predictive_std():
    """A regressor's run with a std (NGBoost's) fills NLL and Coverage90; one without leaves them empty."""
    y = np.linspace(0.5, 0.9, 8)
    df = pd.DataFrame({"MaxAccuracy": y, "IsTest": 1, "NumMACs": y, "NumParams": y})
    done = {}
    for name in [*protocol.BASELINE_NAMES, *TODAY, hybrid.HYBRID]:
        run = {"pred": y + 0.01}
        if name == "NGBoost":
            run["std"] = np.full(len(y), 0.01)
        done.setdefault((0, "", 0, protocol.family_of(name)), {})[name] = run
    rows = {r["Method"]: r for r in baselines_run.split_rows(df, done, 0, (0,), (), [], today=True)}
    assert not math.isnan(rows["NGBoost"]["NLL"]) and not math.isnan(rows["NGBoost"]["Coverage90"])
    # every error is exactly 1 sd: inside the 90% interval (+-1.645 sd)
    assert rows["NGBoost"]["Coverage90"] == 1.0
    for name in ("XGBoost", "LightGBM", hybrid.HYBRID, protocol.BASELINE_NAMES[0]):
        assert math.isnan(rows[name]["NLL"]) and math.isnan(rows[name]["Coverage90"])
    assert "NGBoost" not in {r["Method"] for r in baselines_run.split_rows(df, done, 0, (0,), (), [])}


def test_hybrid_features_in_workers_are_the_ones_made_here(ref_dir):
    df = load_dataset(ref_dir / "naap440.csv", FULL_SCHEME_FEATURES + epoch_features(9)).head(12)
    ours = baselines_run.with_hybrid_features(df, (0, 3, 9), jobs=2)
    here = hybrid.with_curve_features(df, [3, 9])
    pd.testing.assert_frame_equal(ours, here)
    assert {"SoTL@3", "SoTL-E@9", "LCE@9"} <= set(ours.columns)
    assert baselines_run.with_hybrid_features(df, (0,), jobs=2) is df
