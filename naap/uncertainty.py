"""How sure each NAAP-440 number is: bootstrap intervals of a run, and the protocol on other splits.

Library module (no command line, no work at import). run_experiments.py and baselines.py use it;
the drawing is in naap.figures, the split rule (bins) in naap.data.split.

1. Fixed split, bootstrap (bootstrap_table): the kept run of a regressor is resampled over its
   test models: BOOTSTRAP_RESAMPLES draws of n test rows with replacement (numpy's default_rng
   seeded with BOOTSTRAP_SEED; the same draws for every run, so intervals of two regressors are
   paired). The drawn row indices are sorted, which keeps them in ground-truth order, and each
   resample is scored as a test set of n models:
     MAE            mean |pred - truth| over the drawn rows;
     KendallTau     Kendall's tau-b over the drawn rows (a row drawn twice is a pair tied in both
                    prediction and truth, as scipy.stats.kendalltau counts it);
     NumViolations  the violation count per max_violations = n(n-1)/2 pairs: violations among
                    the pairs of two different drawn models divided by the number of such pairs,
                    times max_violations. A model paired with its own copy is neither a pair nor a
                    violation (it would otherwise lower the count by about 1/n); pairs of different
                    models count as metrics.monotonicity counts them.
   The interval is the CONFIDENCE percentile interval (2.5th..97.5th, numpy's linear
   interpolation, NaN resamples left out) of each: protocol.INTERVAL_COLUMNS.
2. Other splits (run_splits): split s = 1..N re-draws the test set by the published rule
   (naap.data.split_bins on the table in protocol order: bins of round(n / NUM_TEST_BINS)
   consecutive models by MaxAccuracy), one test model per bin, but a uniformly random member of
   each bin instead of the middle one (default_rng(SPLIT_BASE_SEED + s)). Split 0 is the table's
   own split. The whole protocol (every regressor x the 4 feature sets, 5 seeds, median run) is
   run on each split; splits_summary gives per regressor x feature set the mean, sd and
   CONFIDENCE interval of MAE, violations and Kendall's tau over the N splits, and how often
   each regressor has the fewest violations (ties split evenly); pairs_frame tests, per feature
   set, whether the fixed split's leader stays ahead of each other regressor.
"""
import math
import warnings

import numpy as np
import pandas as pd

import metrics
from naap import protocol
from naap.data import FEATURE_SETS, NUM_TEST_BINS, TEST_FLAG, acceleration, load, split_bins
from naap.workers import process_pool

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20220905  # fixed before any interval was looked at (the protocol's first seed)
CONFIDENCE = 0.95
SPLIT_BASE_SEED = 20221000  # split s draws its test models with default_rng(SPLIT_BASE_SEED + s)
MAX_SPLITS = 10000  # --splits above this is a typo, not a plan: 10,000 splits are ~18 h on 2 cores
SPLIT_METRICS = ("MAE", "NumViolations", "KendallTau")  # RUN_COLUMNS summarised over the splits
SPLIT_STATS = ("mean", "sd", "lo", "hi")
SUMMARY_COLUMNS = (["Model", "Features", "Splits"]
                   + [f"{m}_{s}" for m in SPLIT_METRICS for s in SPLIT_STATS]
                   + [f"{m}_fixed" for m in SPLIT_METRICS] + ["BestShare"])
RUN_COLUMNS = ["Split", "Model", "Features", "MAE", "NumViolations", "MaxViolations", "KendallTau",
               *protocol.QUALITY_COLUMNS]
PAIR_COLUMNS = ["Features", "Leader", "Model", "Splits", "ViolationsDiff_fixed", "ViolationsDiff_mean",
                "ViolationsDiff_lo", "ViolationsDiff_hi", "LeaderAheadShare", "MAEDiff_mean", "MAEDiff_lo",
                "MAEDiff_hi", "Survives"]
SUMMARY_DECIMALS = 4


def percentile_interval(values, confidence=CONFIDENCE):
    """(lo, hi): the central `confidence` percentile interval of values; NaNs left out, (nan, nan)
    if none is left."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return math.nan, math.nan
    tail = 50.0 * (1.0 - confidence)
    lo, hi = np.percentile(values, [tail, 100.0 - tail])
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- 1. the bootstrap
def resample_indices(n, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """(resamples, n) test-row indices drawn with replacement, each row sorted ascending (so a
    resample lists its models in ground-truth order)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.integers(0, n, size=(resamples, n)), axis=1)


def resample_counts(indices, num_models):
    """(resamples, num_models) int64: how often each test model was drawn in each resample."""
    resamples = indices.shape[0]
    offsets = indices + num_models * np.arange(resamples)[:, None]
    return np.bincount(offsets.ravel(), minlength=resamples * num_models).reshape(resamples, num_models)


def bootstrap_values(pred, y_test, indices):
    """{MAE, KendallTau, NumViolations: one value per resample} of a run's predictions (test rows
    in ground-truth order) over the resamples `indices` (resample_indices); see the docstring.

    A resample is scored from its draw counts c (a drawn model's copies sit together, in
    ground-truth order): a statistic summed over pairs of positions is the sum over pairs of
    models a < b of c[a] c[b] times that pair's value, plus c[a](c[a]-1)/2 pairs of copies of one
    model (tied in prediction and truth: neither a violation nor concordant). Integer arithmetic
    (no BLAS): the same counts on every machine."""
    pred, y_test = np.asarray(pred, dtype=float), np.asarray(y_test, dtype=float)
    m, n = len(pred), indices.shape[1]
    counts = resample_counts(indices, m)
    upper = np.triu(np.ones((m, m), dtype=bool), 1)  # pairs of models a < b (ground-truth order)
    dp, dy = np.sign(pred[None, :] - pred[:, None]), np.sign(y_test[None, :] - y_test[:, None])  # [a, b]: b - a

    def pair_sum(mask):
        """Per resample: the pairs of positions on two different models a < b where mask[a, b]."""
        return ((counts @ (mask & upper).astype(np.int64)) * counts).sum(axis=1)

    same = (counts * (counts - 1) // 2).sum(axis=1)  # pairs of copies of one model
    total = n * (n - 1) // 2
    # a violation: the later model in ground-truth order predicted strictly lower (equal
    # predictions keep ground-truth order under metrics.monotonicity's stable sort)
    violations, different_pairs = pair_sum(dp < 0), total - same
    tied_pred, tied_truth = same + pair_sum(dp == 0), same + pair_sum(dy == 0)
    concordant, discordant = pair_sum(dp * dy > 0), pair_sum(dp * dy < 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        num_violations = np.where(different_pairs > 0, violations / different_pairs * total, np.nan)
        # tau-b = (concordant - discordant) / sqrt((pairs - ties in pred) (pairs - ties in truth))
        denominator = np.sqrt((total - tied_pred) * (total - tied_truth).astype(float))
        tau = np.where(denominator > 0, (concordant - discordant) / denominator, np.nan)
    mae = (counts * np.abs(pred - y_test)).sum(axis=1) / n
    return {"MAE": mae, "KendallTau": tau, "NumViolations": num_violations}


def bootstrap_intervals(pred, y_test, indices=None, confidence=CONFIDENCE):
    """{column of protocol.INTERVAL_COLUMNS: value}: the percentile intervals of one run."""
    if indices is None:
        indices = resample_indices(len(pred))
    values = bootstrap_values(pred, y_test, indices)
    out = {}
    for metric in protocol.INTERVAL_METRICS:
        out[f"{metric}_lo"], out[f"{metric}_hi"] = percentile_interval(values[metric], confidence)
    return out


INTERVALS_KEY = "intervals"  # a kept run's bootstrap_intervals, when attach_intervals made them


def attach_intervals(features, runs, y_test, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """run_table's on_result hook: each run's bootstrap_intervals under run[INTERVALS_KEY],
    computed in the worker that fitted it instead of in the parent afterwards (the same numbers:
    bootstrap_table's resamples of that feature set)."""
    indices = resample_indices(len(y_test), resamples, seed)
    for run in runs.values():
        run[INTERVALS_KEY] = bootstrap_intervals(run["pred"], y_test, indices)


def bootstrap_table(results, y_tests, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """{(name, features): bootstrap_intervals} of every kept run of run_table's results, each
    feature set's runs over the same resamples (those attach_intervals already made are taken)."""
    out = {}
    for features, runs in results.items():
        indices = None
        for name, run in runs.items():
            if INTERVALS_KEY in run:
                out[name, features] = run[INTERVALS_KEY]
                continue
            if indices is None:
                indices = resample_indices(len(y_tests[features]), resamples, seed)
            out[name, features] = bootstrap_intervals(run["pred"], y_tests[features], indices)
    return out


# ----------------------------------------------------------------------------- 2. other splits
def split_test_rows(n, split, num_bins=NUM_TEST_BINS, base_seed=SPLIT_BASE_SEED):
    """Row positions (in protocol order) of split `split` >= 1's test models: one uniformly random
    member of each bin of split_bins(n, num_bins), drawn by default_rng(base_seed + split)."""
    if split < 1:
        raise ValueError(f"split {split}: random splits are numbered from 1 (0 is the table's own)")
    rng = np.random.default_rng(base_seed + split)
    return np.array([rng.integers(start, stop) for start, stop, _ in split_bins(n, num_bins)])


def split_table(table, split, num_bins=NUM_TEST_BINS, base_seed=SPLIT_BASE_SEED):
    """The table (sorted as naap.data.load.load_dataset sorts it) with the IsTest of split `split`:
    0 keeps the table's own; s >= 1 tests split_test_rows(len(table), s) and trains on the rest."""
    if split == 0:
        return table
    is_test = np.zeros(len(table), dtype=int)
    is_test[split_test_rows(len(table), split, num_bins, base_seed)] = 1
    return table.assign(**{TEST_FLAG: is_test})


_SPLITS = {}  # run_splits' arguments, inherited by its forked workers (factories need not pickle)


def _run_split(split):
    """RUN_COLUMNS rows of the whole protocol on one split (in a worker, or in the caller)."""
    c = _SPLITS
    table = split_table(c["table"], split, c["num_bins"], c["base_seed"])
    results = protocol.run_table(table, c["estimators"], 1, c["names"], c["regressors"], progress=False)
    rows = []
    for features, runs in results.items():
        y_test = load.split(table, FEATURE_SETS[features])[3]
        for name, run in runs.items():
            quality = protocol.quality_scores(run["pred"], y_test, run.get("std"))
            rows.append([split, name, features, run["mae"], run["violations"], run["max_violations"],
                         metrics.kendall_tau(run["pred"], y_test), *(quality[c] for c in protocol.QUALITY_COLUMNS)])
    return rows


def run_splits(table, num_splits, estimators=protocol.DEFAULT_ESTIMATORS, jobs=1, names=None, regressors=None,
               progress=True, num_bins=NUM_TEST_BINS, base_seed=SPLIT_BASE_SEED):
    """The protocol on splits 1..num_splits: a RUN_COLUMNS DataFrame (unrounded), rows by split,
    then as run_table orders them. With jobs > 1 whole splits run in forked workers (a split is
    one task: no worker waits for another's slow family); results do not depend on jobs.

    names / regressors as for protocol.run_table. ValueError if the table is too small for
    num_bins bins (split_bins)."""
    from tqdm import tqdm
    split_bins(len(table), num_bins)  # too few rows: fail before any work
    names = list(protocol.BASELINE_NAMES if names is None else names)
    _SPLITS.update(table=table, estimators=estimators, names=names, regressors=regressors,
                   num_bins=num_bins, base_seed=base_seed)
    splits = range(1, num_splits + 1)
    rows = []
    try:
        with (tqdm(total=num_splits, desc="splits", unit="split", disable=not progress) as bar,
              process_pool(min(jobs, num_splits) if jobs > 1 and num_splits > 1 else 0) as pool):
            # in split order, whatever order the workers finish in
            for split_rows in (pool.map if pool else map)(_run_split, splits):
                rows += split_rows
                bar.update(1)
    finally:
        _SPLITS.clear()
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def best_shares(runs):
    """{(model, features): share of splits in which it has the fewest violations}; a tie of k
    regressors gives each 1/k of that split."""
    shares = {}
    for (_, features), group in runs.groupby(["Split", "Features"], sort=False):
        best = group[group["NumViolations"] == group["NumViolations"].min()]
        for model in best["Model"]:
            shares[model, features] = shares.get((model, features), 0.0) + 1.0 / len(best)
    num_splits = runs["Split"].nunique()
    return {key: value / num_splits for key, value in shares.items()}


def splits_summary(runs, fixed, confidence=CONFIDENCE):
    """SUMMARY_COLUMNS per (model, features) in the order of `fixed` (results_frame of the fixed
    split, which gives the *_fixed columns): mean, sd (ddof 1; NaN for one split), interval."""
    shares = best_shares(runs)
    groups = {key: group for key, group in runs.groupby(["Model", "Features"], sort=False)}
    fixed_values = {"MAE": "MeanAbsoluteError", "NumViolations": "NumViolations", "KendallTau": "KendallTau"}
    rows = []
    for r in fixed.itertuples(index=False):
        group = groups[r.Model, r.Features]
        row = [r.Model, r.Features, len(group)]
        for metric in SPLIT_METRICS:
            values = group[metric].to_numpy(float)
            sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN tau column: NaN, no warning
                mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
            row += [mean, sd, *percentile_interval(values, confidence)]
        row += [getattr(r, fixed_values[m]) for m in SPLIT_METRICS]
        row.append(shares.get((r.Model, r.Features), 0.0))
        rows.append(row)
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    numeric = [c for c in SUMMARY_COLUMNS[3:] if not c.endswith("_fixed")]
    out[numeric] = out[numeric].round(SUMMARY_DECIMALS)
    return out


def fixed_leader(fixed, features):
    """The fixed split's best regressor on a feature set: fewest violations, then lowest MAE, then
    table order."""
    rows = fixed[fixed["Features"] == features]
    order = sorted(range(len(rows)),
                   key=lambda i: (rows["NumViolations"].iloc[i], rows["MeanAbsoluteError"].iloc[i], i))
    return rows["Model"].iloc[order[0]]


def pairs_frame(runs, fixed, confidence=CONFIDENCE):
    """PAIR_COLUMNS: per feature set, the fixed split's leader against every other regressor, paired
    by split. ViolationsDiff = other's violations - leader's (positive: the leader is ahead), MAEDiff
    likewise; LeaderAheadShare: splits with strictly fewer violations for the leader; Survives: the
    leader's lead holds on the other splits, i.e. the interval of ViolationsDiff lies above 0."""
    rows = []
    for features in dict.fromkeys(fixed["Features"]):
        leader = fixed_leader(fixed, features)
        here = runs[runs["Features"] == features]
        lead = here[here["Model"] == leader].set_index("Split")
        at_fixed = fixed[fixed["Features"] == features].set_index("Model")
        for model in dict.fromkeys(fixed.loc[fixed["Features"] == features, "Model"]):
            if model == leader:
                continue
            other = here[here["Model"] == model].set_index("Split").loc[lead.index]
            dv = other["NumViolations"].to_numpy(float) - lead["NumViolations"].to_numpy(float)
            dm = other["MAE"].to_numpy(float) - lead["MAE"].to_numpy(float)
            v_lo, v_hi = percentile_interval(dv, confidence)
            m_lo, m_hi = percentile_interval(dm, confidence)
            fixed_diff = int(at_fixed.loc[model, "NumViolations"] - at_fixed.loc[leader, "NumViolations"])
            rows.append([features, leader, model, len(dv), fixed_diff, dv.mean(), v_lo, v_hi, float(np.mean(dv > 0)),
                         dm.mean(), m_lo, m_hi, bool(v_lo > 0)])
    out = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    numeric = [c for c in PAIR_COLUMNS if c.startswith(("ViolationsDiff_", "MAEDiff_")) or c == "LeaderAheadShare"]
    out[numeric] = out[numeric].round(SUMMARY_DECIMALS)
    return out


def splits_markdown(summary, pairs, num_splits):
    """results_splits.md: per feature set the regressors ranked by mean violations over the splits
    (mean +- sd [interval]), then the fixed split's leader against the others."""
    pct = f"{CONFIDENCE:.0%}"
    lines = [f"The protocol on {num_splits} other splits (one random test model per MaxAccuracy bin, "
             f"{NUM_TEST_BINS} bins), every regressor x feature set. Cells: mean +- sd [{pct} interval] "
             "over the splits; 'fixed': the published split (results.csv); 'best': share of splits with the "
             "fewest violations (ties split).", ""]
    for features in dict.fromkeys(summary["Features"]):
        rows = summary[summary["Features"] == features].sort_values(["NumViolations_mean", "MAE_mean"], kind="stable")
        lines += [f"## {features} ({acceleration(features)} acceleration)", "",
                  "| Model | #Violations | fixed | MAE | fixed | Kendall tau | best |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in rows.itertuples(index=False):
            lines.append(
                f"| {r.Model} | {r.NumViolations_mean:.1f} +- {r.NumViolations_sd:.1f} [{r.NumViolations_lo:.1f}, "
                f"{r.NumViolations_hi:.1f}] | {r.NumViolations_fixed} | {r.MAE_mean:.4f} +- {r.MAE_sd:.4f} "
                f"[{r.MAE_lo:.4f}, {r.MAE_hi:.4f}] | {r.MAE_fixed:.4f} | {r.KendallTau_mean:.3f} "
                f"[{r.KendallTau_lo:.3f}, {r.KendallTau_hi:.3f}] | {r.BestShare:.0%} |")
        lines.append("")
    lines += ["## Does the published split's leader stay ahead?", "",
              "Per feature set, the regressor with the fewest violations on the published split (the leader) "
              "against each other one, paired by split: difference in violations (other - leader; > 0: the "
              f"leader is ahead), mean [{pct} interval] over the splits, and on how many splits the leader has "
              f"strictly fewer. 'holds': the {pct} interval lies above 0.", "",
              "| Features | Leader | Model | fixed diff | diff over splits | leader ahead | MAE diff | holds |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in pairs.itertuples(index=False):
        lines.append(f"| {acceleration(r.Features)} | {r.Leader} | {r.Model} | {r.ViolationsDiff_fixed:+d} | "
                     f"{r.ViolationsDiff_mean:+.1f} [{r.ViolationsDiff_lo:+.1f}, {r.ViolationsDiff_hi:+.1f}] | "
                     f"{r.LeaderAheadShare:.0%} | {r.MAEDiff_mean:+.4f} [{r.MAEDiff_lo:+.4f}, {r.MAEDiff_hi:+.4f}] | "
                     f"{'yes' if r.Survives else 'no'} |")
    return "\n".join(lines) + "\n"
