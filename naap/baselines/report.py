"""baselines.py's tables: baselines.csv rounded, the --splits summary, and baselines.md.

Library module (no command line, no work at import). The rows come from naap.baselines.run.score
(columns: naap.baselines.run.COLUMNS); the figures are naap.figures.plot_baselines.
"""
import math

import numpy as np
import pandas as pd

from naap import protocol, uncertainty
from naap.baselines.run import COLUMNS
from naap.data import NUM_EPOCHS_TOTAL

SPLIT_METRICS = ("KendallTau", "SpearmanRho", "NumViolations", "PrecisionAt5", "PrecisionAt10", "MAE",  # --splits
                 *(c for c in protocol.QUALITY_COLUMNS if c.startswith(("RMSE", "PearsonR", "RegretAt"))))


def compute_share(epochs):
    """Share of the full training's compute that k epochs cost, averaged over the test models:
    MACs x k / (MACs x 90) per model. Every model trains the same epochs, so the MACs cancel and
    it is k / 90 for every method here."""
    return epochs / NUM_EPOCHS_TOTAL


# ----------------------------------------------------------------------------- CSV tables
def rounded(frame):
    """The frame with its metric floats rounded to protocol.OUTPUT_DECIMALS, as written out."""
    floats = ("MAE", "KendallTau", "SpearmanRho", "PrecisionAt5", "PrecisionAt10", *protocol.QUALITY_COLUMNS)
    return frame.assign(**{c: frame[c].astype(float).round(protocol.OUTPUT_DECIMALS) for c in floats})


def baselines_frame(rows):
    """baselines.csv: COLUMNS, rounded."""
    return rounded(pd.DataFrame(rows, columns=COLUMNS))


def splits_summary(runs):
    """Per method and epoch count (in the order of `runs`): the number of splits, and the mean, sd
    (ddof 1) and uncertainty.CONFIDENCE percentile interval of each SPLIT_METRICS column over them."""
    out = []
    for (method, epochs), group in runs.groupby(["Method", "Epochs"], sort=False):
        row = {"Method": method, "Epochs": epochs, "Splits": len(group)}
        for metric in SPLIT_METRICS:
            values = group[metric].to_numpy(float)
            finite = values[np.isfinite(values)]
            row[f"{metric}_mean"] = float(finite.mean()) if len(finite) else math.nan
            row[f"{metric}_sd"] = float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan
            row[f"{metric}_lo"], row[f"{metric}_hi"] = uncertainty.percentile_interval(values)
        out.append(row)
    return pd.DataFrame(out).round(protocol.OUTPUT_DECIMALS)


# ----------------------------------------------------------------------------- baselines.md
def _interval(r, metric, decimals=protocol.TABLE_DECIMALS):
    """'mean [lo, hi]' of a splits_summary row."""
    mean, lo, hi = (getattr(r, f"{metric}_{s}") for s in ("mean", "lo", "hi"))
    return "" if pd.isna(mean) else f"{mean:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"


def splits_markdown(summary, num_splits):
    """The --splits section of baselines.md: per epoch count the method with the highest mean tau
    over the random splits, the best paper regressor's and early stopping's beside it."""
    pct = f"{uncertainty.CONFIDENCE:.0%}"
    lines = ["", f"## On {num_splits} random splits", "",
             f"Each split tests one random model per MaxAccuracy bin (uncertainty.py's rule). Cells: mean "
             f"[{pct} interval] over the splits; all methods in baselines_splits.csv.", "",
             "| Epochs | Best method (mean tau) | KendallTau | #Violations | MAE | Best paper regressor "
             "| its KendallTau | Early stopping KendallTau |",
             "| ---: | --- | --- | --- | --- | --- | --- | --- |"]
    ranked = summary.assign(_order=range(len(summary))).sort_values(
        ["Epochs", "KendallTau_mean", "_order"], ascending=[True, False, True], kind="stable")
    best = ranked.groupby("Epochs", sort=True).head(1)
    paper = ranked[ranked["Method"].isin(protocol.BASELINE_NAMES)].groupby("Epochs").head(1).set_index("Epochs")
    early = summary[summary["Method"] == "Early stopping"].set_index("Epochs")
    for r in best.itertuples(index=False):
        p = paper.loc[r.Epochs] if r.Epochs in paper.index else None
        e = early.loc[r.Epochs] if r.Epochs in early.index else None
        lines.append(f"| {r.Epochs} | {r.Method} | {_interval(r, 'KendallTau')} | {_interval(r, 'NumViolations', 1)} | "
                     f"{_interval(r, 'MAE')} | {p.Method if p is not None else ''} | "
                     f"{_interval(p, 'KendallTau') if p is not None else ''} | "
                     f"{_interval(e, 'KendallTau') if e is not None else ''} |")
    return "\n".join(lines) + "\n"


def _cell(value, decimals=protocol.TABLE_DECIMALS):
    return "" if pd.isna(value) else f"{value:.{decimals}f}"


def best_rows(frame):
    """Per epoch count the method with the highest Kendall tau (then fewest violations, then
    table order)."""
    ranked = frame.assign(_order=range(len(frame)), _tau=frame["KendallTau"].fillna(-np.inf))
    ranked = ranked.sort_values(["Epochs", "_tau", "NumViolations", "_order"], ascending=[True, False, True, True],
                                kind="stable")
    return ranked.groupby("Epochs", sort=True).head(1).drop(columns=["_order", "_tau"])


def markdown(frame, num_test, zc_note):
    """baselines.md: the best method per epoch count, the best paper regressor beside it, then
    every row."""
    paper = frame[frame["Method"].isin(protocol.BASELINE_NAMES)]
    best_paper = {r.Epochs: r for r in best_rows(paper).itertuples(index=False)}
    early = frame[frame["Method"] == "Early stopping"].set_index("Epochs")["KendallTau"]
    lines = ["# Baselines on the official NAAP-440 split", "",
             f"{num_test} test models in ground-truth order. KendallTau and SpearmanRho of the predictions "
             "against MaxAccuracy; #Violations of MaxViolations pairs out of order (metrics.monotonicity: pairs "
             "with equal predictions are never violations, the protocol's rule); Tied: pairs with equal "
             "predictions and different MaxAccuracy, which the method does not order; "
             "P@5, P@10: share of the true top 5 / 10 among the predicted top 5 / 10, equal predictions "
             "ordered against the method (the worst case). MAE only for the methods "
             "that predict accuracy (LCE, LcSVR, the regressors). "
             "Regressors: median of 5 seeds (naap/protocol/run.py); "
             f"Epochs 0 = paper 1's Scheme set (NumParams, NumStages). {zc_note}", "",
             "## Best method per epoch count (highest Kendall tau)", "",
             f"The regressors run at {', '.join(map(str, sorted(set(paper['Epochs']))))} epochs; at the other epoch "
             "counts only the learning-curve methods compete. Picked on the test models: an optimistic envelope.", "",
             "| Epochs | Best method | KendallTau | SpearmanRho | #Violations | P@5 | P@10 | MAE "
             "| Best paper regressor | its KendallTau | Early stopping KendallTau |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for r in best_rows(frame).itertuples(index=False):
        p = best_paper.get(r.Epochs)
        lines.append(f"| {r.Epochs} | {r.Method} | {_cell(r.KendallTau)} | {_cell(r.SpearmanRho)} | "
                     f"{r.NumViolations} / {r.MaxViolations} | {_cell(r.PrecisionAt5, 1)} | "
                     f"{_cell(r.PrecisionAt10, 1)} | {_cell(r.MAE)} | {p.Method if p is not None else ''} | "
                     f"{_cell(p.KendallTau) if p is not None else ''} | {_cell(early.get(r.Epochs, math.nan))} |")
    lines += ["", "## All methods", "",
              "| Method | Epochs | MAE | #Violations | Tied | KendallTau | SpearmanRho | P@5 | P@10 |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in frame.itertuples(index=False):
        lines.append(f"| {r.Method} | {r.Epochs} | {_cell(r.MAE)} | {r.NumViolations} / {r.MaxViolations} | "
                     f"{r.TiedPairs} | {_cell(r.KendallTau)} | {_cell(r.SpearmanRho)} | {_cell(r.PrecisionAt5, 1)} | "
                     f"{_cell(r.PrecisionAt10, 1)} |")
    return "\n".join(lines) + "\n"
