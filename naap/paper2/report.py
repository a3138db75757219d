"""Paper 2's outputs: results.csv's table, the best.md and best.tex reports, and reading results.csv back.

results_table lists every scored subset in visit order; summary picks each regressor's best
subset (best_first.best_of) and its whole start set per mode, which best_markdown and best_latex
lay out as the README's tables. read_results is the report scripts' (bench/paper2_*.py) reader.
"""
import re

import pandas as pd

from naap import protocol
from naap.cli import InputError
from naap.data import FEATURE_SETS_V2, acceleration
from naap.input_files import read_csv_input
from naap.paper2.best_first import best_of
from naap.paper2.inputs import validation_rows


def results_table(results, modes, feature_sets, models, tests=None):
    """Every scored subset, in visit order. With tests (held-out selection: run_jobs' second dict)
    a ScoredOn column: 'validation' for the searches' rows, then 'test' for score_on_test's rows
    (the best subset, then the whole start set) after each search's."""
    rows = []
    for mode in modes:
        for name in models:
            for fs in feature_sets:
                key = (mode, fs, name)
                scored = [(mask, r, "validation") for mask, r in results.get(key, [])]
                if tests is not None and key in results:
                    scored += [(mask, r, "test") for mask, r in tests[key].items()]
                for mask, r, scored_on in scored:
                    rows.append(dict(
                        Mode=mode, Model=name, FeatureSetName=fs, Flags="".join(map(str, mask)),
                        FeatureSubset=";".join(c for c, f in zip(FEATURE_SETS_V2[fs], mask) if f),
                        MAE=round(r["mae"], 4), NumViolations=r["violations"],
                        MaxViolations=r["max_violations"], MonotonicityScore=round(r["score"], 4),
                        FinalScore=round(r["final"], 8), ScoredOn=scored_on))
    return pd.DataFrame(rows, columns=["Mode", "Model", "FeatureSetName", "Flags", "FeatureSubset", "MAE",
                                       "NumViolations", "MaxViolations", "MonotonicityScore", "FinalScore"]
                        + ([] if tests is None else ["ScoredOn"]))


RESULTS_NEEDED = ["Mode", "Model", "FeatureSetName", "Flags", "MAE", "NumViolations", "FinalScore"]
MODE_LABEL = {"interpolation": "interpolation", "left_extrapolation": "left", "right_extrapolation": "right",
              "dual_extrapolation": "dual"}  # the docs' tables' short mode names


def read_results(path, held_out=None):
    """A results.csv of feature_selection.py (Flags read as text), or InputError: unreadable, or a
    column the report scripts need is missing. held_out=True requires the ScoredOn column of a
    --select-on validation run, held_out=False refuses it, None takes either."""
    table = read_csv_input(path, dtype={"Flags": str})
    missing = [c for c in RESULTS_NEEDED + (["ScoredOn"] if held_out else []) if c not in table.columns]
    if missing:
        what = "a --select-on validation" if held_out else "a feature_selection.py"
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (not {what} results.csv)")
    if held_out is False and "ScoredOn" in table.columns:
        raise InputError(f"{path}: a held-out --select-on validation run; give a --select-on test run")
    return table


def summary(results, mode, feature_sets, models, tests=None):
    """[(name, {fs: (best mask, best result, all-features result, the result that selected it)})]
    of the regressors run in a mode. With tests (held-out selection) the best and all-features
    results are those on the test rows, the selecting one that on the validation rows."""
    rows = []
    for name in models:
        cells = {}
        for fs in feature_sets:
            visited = results.get((mode, fs, name))
            if visited:
                mask, best = best_of(visited)
                if tests is None:
                    cells[fs] = (mask, best, visited[0][1], best)
                else:
                    tested = tests[(mode, fs, name)]
                    cells[fs] = (mask, tested[mask], tested[visited[0][0]], best)
        if cells:
            rows.append((name, cells))
    return rows


def cell_text(r):
    return protocol.cell_text(r["mae"], r["score"], r["violations"])


def subset_text(fs, mask):
    return ", ".join(c for c, f in zip(FEATURE_SETS_V2[fs], mask) if f)


def mode_tables(results, modes, feature_sets, models, split_sizes, tests=None):
    """Per mode with results: (mode, summary rows, the feature sets present, (n_train, n_test))."""
    for mode in modes:
        rows = summary(results, mode, feature_sets, models, tests)
        if rows:
            sets = [fs for fs in feature_sets if any(fs in cells for _, cells in rows)]
            yield mode, rows, sets, split_sizes[mode]


def validation_text(n_train):
    """The sizes line's note of held-out selection, for a mode with n_train training rows."""
    fit, val = validation_rows(n_train)
    return (f" Selected on validation: {len(val)} validation rows (the middle row of each of {len(val)} MaxAccuracy "
            f"bins of the train rows), fitted on the other {len(fit)}; the best subsets then refitted on all "
            f"{n_train} train rows and scored on the test rows.")


def best_markdown(results, modes, feature_sets, models, split_sizes, tests=None):
    """best.md; with tests (held-out selection) the subsets are chosen on the validation rows and
    the cells are their test scores."""
    lines = ["# NAAP-440e feature selection: best subset per regressor", "",
             "Each cell: MAE / Monotonicity Score / #Violations of the regressor's best subset of the start "
             "feature set (lowest final score = round(MAE, 3) * sqrt(1 - monotonicity score), ties to the subset "
             f"visited first), median of {len(protocol.SEEDS)} seeds, predictions with N(0, {protocol.NOISE_STD:g}) "
             "noise. The '(all "
             "features)' row is the whole start feature set. The subsets are listed under each table.", ""]
    if tests is not None:
        lines += ["Selected on: validation. Each regressor's best subset is the lowest final score on validation "
                  "models taken from the mode's train rows; the cells and the test final scores are that subset, and "
                  "the whole start set, fitted on all the mode's train rows and scored once on its test rows.", ""]
    for mode, rows, sets, (n_train, n_test) in mode_tables(results, modes, feature_sets, models, split_sizes, tests):
        lines += [f"## {mode}", "", f"{n_train} train / {n_test} test rows, {n_test * (n_test - 1) // 2} test pairs."
                  + ("" if tests is None else validation_text(n_train)),
                  "",
                  "| Model | " + " | ".join(f"{fs} ({acceleration(fs)} Acceleration)" for fs in sets) + " |",
                  "| --- |" + " --- |" * len(sets)]
        for name, cells in rows:
            for label, which in ((name, 1), (f"{name} (all features)", 2)):
                lines.append(f"| {label} | " + " | ".join(cell_text(cells[fs][which]) if fs in cells else "-"
                                                          for fs in sets) + " |")
        if tests is None:
            lines += ["", "| Model | Feature set | Final score | #Features | Best subset |",
                      "| --- | --- | --- | --- | --- |"]
        else:
            lines += ["", "| Model | Feature set | Final score (test) | Final score (validation) | #Features | "
                      "Best subset |", "| --- | --- | --- | --- | --- | --- |"]
        for name, cells in rows:
            for fs in sets:
                if fs in cells:
                    mask, best, _, chosen = cells[fs]
                    scores = f"{best['final']:.6f}" + ("" if tests is None else f" | {chosen['final']:.6f}")
                    lines.append(f"| {name} | {fs} | {scores} | {sum(mask)} of {len(mask)} | "
                                 f"{subset_text(fs, mask)} |")
        lines.append("")
    return "\n".join(lines)


def tex_escape(text):
    return re.sub(r"([_&%#$])", r"\\\1", text)


def best_latex(results, modes, feature_sets, models, split_sizes, tests=None):
    lines = ["% NAAP-440e feature selection (feature_selection.py): per regressor the best subset of each start",
             "% feature set and the whole start set; cells: MAE / Monotonicity Score / #Violations"]
    if tests is not None:
        lines.append("% selected on: validation (subsets chosen on validation models from the train rows, "
                     "scored on the test rows)")
    for mode, rows, sets, (n_train, n_test) in mode_tables(results, modes, feature_sets, models, split_sizes, tests):
        lines += [r"\begin{table}[ht]", r"\centering", r"\scriptsize", r"\begin{tabular}{l" + "c" * len(sets) + "}",
                  r"\hline", "Model & " + " & ".join(f"{tex_escape(fs)} ({tex_escape(acceleration(fs))})"
                                                    for fs in sets) + r" \\", r"\hline"]
        for name, cells in rows:
            for label, which in ((name, 1), (f"{name} (all features)", 2)):
                lines.append(tex_escape(label) + " & " + " & ".join(
                    cell_text(cells[fs][which]) if fs in cells else "-" for fs in sets) + r" \\")
        lines += [r"\hline", r"\end{tabular}",
                  f"\\caption{{{tex_escape(mode)} ({n_train} train / {n_test} test rows): best feature subset per "
                  "regressor and start feature set (MAE / monotonicity score / violations)"
                  + ("" if tests is None else "; subsets selected on validation models from the train rows") + "}",
                  f"\\label{{tab:fs-{protocol.slug(mode)}}}", r"\end{table}", ""]
    return "\n".join(lines)
