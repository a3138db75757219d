"""The published table beside ours: a published results CSV read by (model, feature set), and
the per-cell differences as a frame (comparison.csv) and a Markdown table (comparison.md)."""
import numpy as np
import pandas as pd

from naap.cli import InputError
from naap.input_files import read_csv_input
from naap.protocol.tables import OUTPUT_DECIMALS, RESULT_COLUMNS, grid_table


def model_key(name):
    """Model name without parentheses: the published table writes 'Linear Regression D=0.5'."""
    return " ".join(name.replace("(", " ").replace(")", " ").split())


def load_published(path):
    """{(model_key, features): (MAE, #violations, max violations, score)} of a published results CSV."""
    table = read_csv_input(path)
    missing = [c for c in RESULT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in RESULT_COLUMNS[2:]:
        if not pd.api.types.is_numeric_dtype(table[c]) or table[c].isna().any():
            raise InputError(f"{path}: column {c} is not numeric")
    published = {}
    for r in table.itertuples(index=False):
        key = (model_key(str(r.Model)), str(r.Features))
        if key in published:
            raise InputError(f"{path}: duplicate row for {r.Model}, {r.Features}")
        published[key] = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
    return published


def compare_frame(frame, published):
    """Per (model, features): ours, published, difference (ours - published) and exact Match."""
    rows = []
    for r in frame.itertuples(index=False):
        ours = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
        theirs = published.get((model_key(r.Model), r.Features))
        row = [r.Model, r.Features]
        for i in (0, 1, 3):
            row += [ours[i], np.nan, np.nan] if theirs is None else [ours[i], theirs[i], ours[i] - theirs[i]]
        rows.append(row + [theirs is not None and tuple(ours) == tuple(theirs)])
    columns = ["Model", "Features"]
    for metric in ("MeanAbsoluteError", "NumViolations", "MonotonicityScore"):
        columns += [metric, f"Published{metric}", f"Diff{metric}"]
    out = pd.DataFrame(rows, columns=columns + ["Match"])
    for c in ("DiffMeanAbsoluteError", "DiffMonotonicityScore"):
        out[c] = out[c].round(OUTPUT_DECIMALS)
    return out


def compare_markdown(comparison):
    """comparison.md: which cells match the published table, and by how much the others differ."""
    matches = int(comparison["Match"].sum())
    note = (f"{matches} of {len(comparison)} rows match the published results exactly. Each other cell: "
            "difference ours - published in MAE / Monotonicity Score / #Violations.")

    def cell(r):
        if r.Match:
            return "="
        if pd.isna(r.PublishedNumViolations):
            return "missing"
        return (f"{r.DiffMeanAbsoluteError:+.4f} / {r.DiffMonotonicityScore:+.4f} / "
                f"{int(r.DiffNumViolations):+d}")
    return grid_table(comparison, cell, note)
