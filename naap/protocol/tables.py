"""How the protocol's results are written: results.csv and results_extended.csv frames (values
rounded as published), the README's Markdown table, and file-name slugs of model and feature-set
names."""
import math
import re

import pandas as pd

import metrics
from naap.data.columns import acceleration
from naap.protocol.settings import SEEDS

RESULT_COLUMNS = ["Model", "Features", "MeanAbsoluteError", "NumViolations", "MaxViolations", "MonotonicityScore"]
PRECISION_KS = (5, 10)  # PrecisionAt5, PrecisionAt10: how many of the true top k the predicted top k hold
RANK_COLUMNS = ["KendallTau", "SpearmanRho"] + [f"PrecisionAt{k}" for k in PRECISION_KS]  # as NAS benchmarks report
REGRET_KS = (1, 5, 10)  # RegretAt1, ...: accuracy lost by training only the k models predicted best
COVERAGE_LEVEL = 0.9  # Coverage90: share of test accuracies inside the predicted central 90% interval
# what NAS predictor benchmarks also compare on; NLL and Coverage90 only for a predictive distribution
DISTRIBUTION_COLUMNS = ["NLL", f"Coverage{round(100 * COVERAGE_LEVEL)}"]  # empty without a predictive std
QUALITY_COLUMNS = ["RMSE", "PearsonR", *(f"RegretAt{k}" for k in REGRET_KS), *DISTRIBUTION_COLUMNS]
# 95% bootstrap intervals of the kept run over its test models (naap.uncertainty): MAE, Kendall's
# tau and the violation count (per max_violations pairs)
INTERVAL_METRICS = ("MAE", "KendallTau", "NumViolations")
INTERVAL_COLUMNS = [f"{metric}_{end}" for metric in INTERVAL_METRICS for end in ("lo", "hi")]
EXTRA_COLUMNS = RANK_COLUMNS + QUALITY_COLUMNS + INTERVAL_COLUMNS  # results_extended.csv: RESULT_COLUMNS + these
OUTPUT_DECIMALS = 4  # results.csv, as published
TABLE_DECIMALS = 3  # results.md, as in the README


def precision_or_nan(pred, k):
    """metrics.precision_at_k, NaN where the test set has fewer than k rows (no top k to find)."""
    return metrics.precision_at_k(pred, k) if k <= len(pred) else math.nan


def quality_scores(pred, truth, std=None, accuracy=True):
    """{column of QUALITY_COLUMNS: value} of predictions for the test rows: RMSE and Pearson r
    where pred predicts the accuracy itself (accuracy=False: a ranking score, NaN), regret@k
    (NaN where there are fewer than k rows), NLL and coverage where std (predictive standard
    deviations) is given."""
    nan = math.nan
    scores = {"RMSE": metrics.rmse(pred, truth) if accuracy else nan,
              "PearsonR": metrics.pearson_r(pred, truth) if accuracy else nan}
    for k in REGRET_KS:
        scores[f"RegretAt{k}"] = metrics.regret_at_k(pred, truth, k) if k <= len(pred) else nan
    nll, coverage = DISTRIBUTION_COLUMNS
    scores[nll] = metrics.gaussian_nll(pred, std, truth) if std is not None else nan
    scores[coverage] = metrics.interval_coverage(pred, std, truth, COVERAGE_LEVEL) if std is not None else nan
    return scores


def results_frame(results, y_tests=None, intervals=None):
    """results.csv rows in table order (names x FEATURE_SETS), values rounded as published.

    y_tests ({features: y_test}) adds RANK_COLUMNS and QUALITY_COLUMNS of the kept run; intervals ({(name, features):
    {column: value}} of uncertainty.bootstrap_table) adds INTERVAL_COLUMNS.
    """
    rows = []
    names = list(dict.fromkeys(name for runs in results.values() for name in runs))
    for name in names:
        for features in results:
            run = results[features][name]
            row = [name, features, round(run["mae"], OUTPUT_DECIMALS), run["violations"], run["max_violations"],
                   round(run["score"], OUTPUT_DECIMALS)]
            if y_tests is not None:
                row += [round(metrics.kendall_tau(run["pred"], y_tests[features]), OUTPUT_DECIMALS),
                        round(metrics.spearman_rho(run["pred"], y_tests[features]), OUTPUT_DECIMALS)]
                row += [round(precision_or_nan(run["pred"], k), OUTPUT_DECIMALS) for k in PRECISION_KS]
                quality = quality_scores(run["pred"], y_tests[features], run.get("std"))
                row += [round(quality[c], OUTPUT_DECIMALS) for c in QUALITY_COLUMNS]
            if intervals is not None:
                row += [round(intervals[name, features][c], OUTPUT_DECIMALS) for c in INTERVAL_COLUMNS]
            rows.append(row)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS + (RANK_COLUMNS + QUALITY_COLUMNS if y_tests is not None else [])
                        + (INTERVAL_COLUMNS if intervals is not None else []))


def grid_table(frame, cell, note):
    """Markdown: one row per model, one column per acceleration, cell(row of frame) in each."""
    columns = list(dict.fromkeys(frame["Features"]))
    lines = [note, "", "| Model | " + " | ".join(f"{acceleration(f)} Acceleration" for f in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    by_cell = {(r.Model, r.Features): r for r in frame.itertuples(index=False)}
    for name in dict.fromkeys(frame["Model"]):
        lines.append(f"| {name} | " + " | ".join(cell(by_cell[name, f]) for f in columns) + " |")
    return "\n".join(lines) + "\n"


def cell_text(mae, score, violations):
    """A README table cell: MAE / Monotonicity Score / #Violations."""
    d = TABLE_DECIMALS
    return f"{mae:.{d}f} / {score:.{d}f} / {violations}"


def markdown_table(frame):
    """results.md: the README table, 'MAE / Monotonicity Score / #Violations', 3 decimals."""
    max_violations = sorted(set(frame["MaxViolations"]))
    note = ("Each cell: MAE / Monotonicity Score / #Violations (of "
            f"{', '.join(map(str, max_violations))} test pairs), median of {len(SEEDS)} seeds.")
    return grid_table(frame, lambda r: cell_text(r.MeanAbsoluteError, r.MonotonicityScore, r.NumViolations), note)


def slug(text):
    """File-name form of a model or feature-set name: 'Random Forest (N=25)' -> 'random_forest_n_25'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")

