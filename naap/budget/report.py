"""The budget map's tables: budget.csv (one row per predictor and cell, averaged over the splits)
and budget.md (the best cell within each budget, then the full map of Kendall tau).

Library module; budget.py writes the files and naap.figures draws them.
"""
import math

import numpy as np
import pandas as pd

from naap import protocol, uncertainty
from naap.budget.grid import BUDGET_LIMITS, SECONDS_PER_HOUR
from naap.budget.run import METRIC_COLUMNS, RUN_COLUMNS

TAU_INTERVAL = ("KendallTauLow", "KendallTauHigh")  # uncertainty.CONFIDENCE percentile interval over the splits
COLUMNS = ["Predictor", "TrainModels", "Epochs", "GPUHours", "Splits", "KendallTau", *TAU_INTERVAL,
           *[c for c in METRIC_COLUMNS if c != "KendallTau"]]
DECIMALS = protocol.OUTPUT_DECIMALS


def budget_frame(runs):
    """budget.csv from RUN_COLUMNS rows: per predictor and cell (in the order of runs), the mean
    over the splits of each metric (NaN-free splits only) and of the GPU hours, the number of
    splits, and tau's percentile interval over them."""
    runs = pd.DataFrame(runs, columns=RUN_COLUMNS)
    out = []
    for (name, n, k), group in runs.groupby(["Predictor", "TrainModels", "Epochs"], sort=False):
        row = {"Predictor": name, "TrainModels": n, "Epochs": k,
               "GPUHours": group["GPUSeconds"].mean() / SECONDS_PER_HOUR, "Splits": group["Split"].nunique()}
        for metric in METRIC_COLUMNS:
            values = group[metric].to_numpy(float)
            finite = values[np.isfinite(values)]
            row[metric] = float(finite.mean()) if len(finite) else math.nan
        taus = group["KendallTau"].to_numpy(float)
        row[TAU_INTERVAL[0]], row[TAU_INTERVAL[1]] = uncertainty.percentile_interval(taus)
        out.append(row)
    frame = pd.DataFrame(out, columns=COLUMNS)
    floats = [c for c in COLUMNS if c not in ("Predictor", "TrainModels", "Epochs", "Splits")]
    return frame.assign(**{c: frame[c].astype(float).round(DECIMALS) for c in floats})


def pareto_front(frame):
    """The rows of one predictor's cells that no cheaper-or-equal cell beats on tau: sorted by GPU
    hours, each with a higher tau than every cheaper one."""
    ordered = frame.sort_values(["GPUHours", "KendallTau"], ascending=[True, False], kind="stable")
    best, keep = -math.inf, []
    for index, tau in zip(ordered.index, ordered["KendallTau"]):
        if tau > best:
            keep.append(index)
            best = tau
    return ordered.loc[keep]


def best_within(frame, limits=BUDGET_LIMITS):
    """[(limit, row or None)]: per budget in GPU hours, the cell of highest mean tau that costs at
    most that (ties: the cheaper, then the first in budget.csv)."""
    ranked = frame.assign(_order=range(len(frame))).sort_values(
        ["KendallTau", "GPUHours", "_order"], ascending=[False, True, True], kind="stable")
    out = []
    for limit in limits:
        within = ranked[(ranked["GPUHours"] <= limit) & ranked["KendallTau"].notna()]
        out.append((limit, None if within.empty else within.iloc[0]))
    return out


def _cell(value, decimals=protocol.TABLE_DECIMALS):
    return "" if pd.isna(value) else f"{value:.{decimals}f}"


def break_even(frame, num_test):
    """Per fitted predictor, the cell that pays off soonest against early stopping: [(row, k_es,
    candidates)], fewest candidates first (empty without the rankers' rows). For a cell (n, k)
    of mean tau T, k_es is the fewest epochs at which early stopping's mean tau reaches T (90 and
    training every candidate to the end, tau 1, if never before). Per candidate, early stopping
    costs E(k_es) and the predictor E(k) GPU hours (E: the early-stopping rows' hours /
    num_test; E(0) = 0), and the predictor's n fully trained models cost its cell's hours less
    its test models'. It is the cheaper of the two for more candidates than those n models'
    hours / (E(k_es) - E(k)); never (inf) where early stopping reaches T by k epochs."""
    from naap.budget.run import EARLY_STOPPING, TO_THE_END
    early = frame[frame["Predictor"] == EARLY_STOPPING].set_index("Epochs")
    ladder = [(k, r.KendallTau, r.GPUHours) for k, r in early.sort_index().iterrows()]
    end = frame[frame["Predictor"] == TO_THE_END]
    ladder += [(r.Epochs, r.KendallTau, r.GPUHours) for r in end.itertuples(index=False)]
    if not ladder:
        return []
    hours = {k: h for k, _, h in ladder}
    out = []
    for _, group in frame[frame["TrainModels"] > 0].groupby("Predictor", sort=False):
        best = None
        for r in group.itertuples(index=False):
            k_es, es_hours = next(((k, h) for k, tau, h in ladder if tau >= r.KendallTau), ladder[-1][::2])
            query = hours.get(r.Epochs, 0.0)
            gain = (es_hours - query) / num_test
            candidates = (r.GPUHours - query) / gain if gain > 0 else math.inf
            if best is None or candidates < best[2]:
                best = (r, k_es, candidates)
        out.append(best)
    return sorted(out, key=lambda b: b[2])


def best_markdown(frame, num_test, concurrency):
    """The best cell within each budget (BUDGET_LIMITS), as a Markdown table under one paragraph."""
    d = protocol.TABLE_DECIMALS
    lines = [f"Kendall tau on the {num_test} test models of each split (mean over the splits, "
             f"{uncertainty.CONFIDENCE:.0%} percentile interval), against the GPU hours spent: the fully trained "
             "models the predictor is fitted on (90 epochs each) plus the test models' first k epochs. GPU hours "
             f"are the logs' seconds divided by {concurrency:.2f}, the mean number of trainings that shared the "
             "GPU.", "",
             "| Budget (GPU h) | Best | Train models | Epochs | GPU h | Kendall tau | Regret@1 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for limit, r in best_within(frame):
        if r is None:
            lines.append(f"| <= {limit:g} | (nothing this cheap) | | | | | |")
            continue
        lines.append(f"| <= {limit:g} | {r.Predictor} | {r.TrainModels} | {r.Epochs} | {r.GPUHours:.2f} | "
                     f"{r.KendallTau:.{d}f} [{r.KendallTauLow:.{d}f}, {r.KendallTauHigh:.{d}f}] | "
                     f"{_cell(r.RegretAt1)} |")
    if not break_even(frame, num_test):
        return "\n".join(lines) + "\n"
    lines += ["", "When a predictor pays off: fitted once, it ranks any number of candidates. Per predictor, its "
              "cell that beats early stopping of the same mean tau with the fewest candidates, and that number "
              "(below it, training each candidate for the early-stopping epochs costs fewer GPU hours).", "",
              "| Predictor | Train models | Epochs | Kendall tau | Early stopping's epochs for that tau | "
              "Pays off from |", "| --- | --- | --- | --- | --- | --- |"]
    for r, k_es, candidates in break_even(frame, num_test):
        shown = "never" if math.isinf(candidates) else f"{math.ceil(candidates):,} candidates"
        lines.append(f"| {r.Predictor} | {r.TrainModels} | {r.Epochs} | {r.KendallTau:.{d}f} | {k_es} | {shown} |")
    return "\n".join(lines) + "\n"


def markdown(frame, num_test, concurrency):
    """budget.md: the best cell within each budget, then each fitted predictor's tau per cell."""
    lines = ["# Which predictor at which budget", "", best_markdown(frame, num_test, concurrency).rstrip("\n")]
    fitted = frame[frame["TrainModels"] > 0]
    epochs = sorted(set(fitted["Epochs"]))
    for name, group in fitted.groupby("Predictor", sort=False):
        lines += ["", f"## {name}", "", "Kendall tau; rows: train models, columns: epochs per test model.", "",
                  "| Train models | " + " | ".join(f"k = {k}" for k in epochs) + " |",
                  "| --- |" + " --- |" * len(epochs)]
        cells = {(r.TrainModels, r.Epochs): r.KendallTau for r in group.itertuples(index=False)}
        for n in sorted(set(group["TrainModels"])):
            lines.append(f"| {n} | " + " | ".join(_cell(cells.get((n, k), math.nan)) for k in epochs) + " |")
    return "\n".join(lines) + "\n"


LEADERBOARD_EPOCHS = (0, 3, 6, 9)  # paper 1's budgets: the scheme alone, then 3, 6, 9 of 90 epochs


def _tau_cell(r, d):
    return "" if r is None or pd.isna(r.KendallTau) else \
        f"{r.KendallTau:.{d}f} [{r.KendallTauLow:.{d}f}, {r.KendallTauHigh:.{d}f}]"


def leaderboard(frame, kinds, train_models, epochs=LEADERBOARD_EPOCHS):
    """docs/leaderboard.md's table from budget.csv rows: one row per predictor of kinds ({name:
    kind}, in table order), the fitted ones at train_models; Kendall tau [interval] at each of
    epochs, the GPU hours each value costs, and regret@1 at the last epoch count. Rows by tau at
    the last epoch count (best first; a predictor without it, by its best tau), then table order."""
    d = protocol.TABLE_DECIMALS
    cells = {(r.Predictor, r.Epochs): r for r in frame.itertuples(index=False)
             if r.TrainModels in (0, train_models)}
    rows = []
    for order, (name, kind) in enumerate(kinds.items()):
        found = [cells.get((name, k)) for k in epochs]
        taus = [r.KendallTau for r in found if r is not None and pd.notna(r.KendallTau)]
        if not taus:
            continue
        last = found[-1]
        key = (last.KendallTau if last is not None and pd.notna(last.KendallTau) else max(taus) - 1.0, -order)
        present = [r for r in found if r is not None]
        hours = f"{present[0].GPUHours:.1f} .. {present[-1].GPUHours:.1f}"
        rows.append((key, f"| {name} | {kind} | " + " | ".join(_tau_cell(r, d) for r in found) +
                     f" | {hours} | {_cell(present[-1].RegretAt1)} |"))
    header = ["| Predictor | Kind | " + " | ".join(f"k = {k}" for k in epochs) + " | GPU h | Regret@1 |",
              "| --- | --- |" + " --- |" * len(epochs) + " --- | --- |"]
    return "\n".join(header + [line for _, line in sorted(rows, key=lambda r: r[0], reverse=True)]) + "\n"
