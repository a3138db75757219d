"""Paper 2's leaders: the lowest final score per mode and start feature set, from a results.csv.

Reads the results.csv of feature_selection.py (every scored subset, in visit order) and writes a
Markdown table with one row per (mode, start set): the regressor(s) whose best subset has the
lowest final score (a tie between regressors lists the others after the first, whose row it is;
within one search a tie goes to the subset visited first, as in paper2.best_of), the subset's
size, MAE, violations and final score, and the same regressor on its whole start set (the first
row of its search). The docs' generated block `paper2-extrapolation` is this table
(bench/update_docs.py).

Inputs: RESULTS_CSV. Output: the table on stdout, and with --out also in that file.

Example:
  python -m bench.paper2_leaders fs_extra/results.csv --out leaders.md
"""
from pathlib import Path

from naap import paper2, protocol
from naap.cli import OneLineArgumentParser, run_cli
from naap.data import FEATURE_SETS_V2
from naap.files import atomic_write_text, check_outputs_not_inputs
from naap.paper2 import MODE_LABEL

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="feature_selection.py's results.csv")
    p.add_argument("--out", help="also write the Markdown table here")
    return p.parse_args(argv)


def leaders(table):
    """[(mode, start set, [names], best row, {name: whole-start-set row}), ...] in protocol order."""
    out = []
    for mode in protocol.MODES:
        for fs in FEATURE_SETS_V2:
            part = table[(table["Mode"] == mode) & (table["FeatureSetName"] == fs)]
            if part.empty:
                continue
            best = {}
            for name, rows in part.groupby("Model", sort=False):
                # idxmin takes the first of equal values: the subset visited first
                best[name] = (rows.loc[rows["FinalScore"].idxmin()], rows.iloc[0])
            low = min(r["FinalScore"] for r, _ in best.values())
            names = [n for n in protocol.PAPER2_NAMES if n in best and best[n][0]["FinalScore"] == low]
            out.append((mode, fs, names, best[names[0]][0], {n: best[n][1] for n in names}))
    return out


def markdown(rows):
    lines = ["| mode | start set | best regressor | subset | MAE | violations | final score | "
             "all features: MAE / violations |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for mode, fs, names, r, whole in rows:
        used, n = str(r["Flags"]).count("1"), len(str(r["Flags"]))
        w = whole[names[0]]
        who = names[0] + (f" (tied: {', '.join(names[1:])})" if names[1:] else "")
        lines.append(f"| {MODE_LABEL[mode]} | {fs} | {who} | {used} of {n} | {r['MAE']:.4f} "
                     f"| {int(r['NumViolations'])} | {r['FinalScore']:.6f} | {w['MAE']:.4f} / "
                     f"{int(w['NumViolations'])} |")
    return "\n".join(lines) + "\n"


def main(args):
    path = Path(args.results)
    if args.out:
        check_outputs_not_inputs([Path(args.out)], [path])
    table = paper2.read_results(path, held_out=False)
    text = markdown(leaders(table))
    print(text, end="")
    if args.out:
        atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    run_cli(main, parse_args())
