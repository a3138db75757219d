"""Paper 2 with and without peeking: test-selected against validation-selected best subsets.

Reads two results.csv of feature_selection.py over the same modes, start sets and regressors: one
run with --select-on test (the paper's way: each regressor's best subset is picked by its score
on the test models it is reported on) and one with --select-on validation (picked on validation
models held out of the training models, then refitted on all of them and scored once on the test
models: the rows with ScoredOn == 'test', the best subset's first). Writes a Markdown report:

1. per (mode, start set, regressor): the test scores (MAE / violations / final score) of the
   test-selected subset and of the validation-selected one, and the subsets' sizes;
2. per mode and start set, the best (--best-only: this part alone): test-selected, the lowest
   test final score over the regressors; validation-selected, the regressor whose subset has the
   lowest *validation* final score (so nothing about the test models picks it), with its test
   scores.

Ties: within a search the subset visited first (paper2.best_of); between regressors the first
in protocol.PAPER2_NAMES order.

Inputs: TEST_RESULTS VALIDATION_RESULTS. Output: the report on stdout, and with --out in that file.

Example:
  python -m bench.paper2_heldout fs_q3/results.csv fs_q3_val/results.csv --out heldout.md
"""
from pathlib import Path

from naap import paper2, protocol
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.data import FEATURE_SETS_V2
from naap.files import atomic_write_text, check_outputs_not_inputs
from naap.paper2 import MODE_LABEL

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("test_results", help="results.csv of a --select-on test run")
    p.add_argument("validation_results", help="results.csv of the same run with --select-on validation")
    p.add_argument("--best-only", action="store_true", help="only part 2, the best per mode and start set")
    p.add_argument("--out", help="also write the report here")
    return p.parse_args(argv)


def picks(test_table, val_table):
    """{(mode, fs, name): (test-selected row, validation-selected search row, its test row)}."""
    out = {}
    for key, rows in test_table.groupby(["Mode", "FeatureSetName", "Model"], sort=False):
        vrows = val_table[(val_table["Mode"] == key[0]) & (val_table["FeatureSetName"] == key[1])
                          & (val_table["Model"] == key[2])]
        searched, tested = vrows[vrows["ScoredOn"] == "validation"], vrows[vrows["ScoredOn"] == "test"]
        if searched.empty or tested.empty:
            continue
        chosen = searched.loc[searched["FinalScore"].idxmin()]  # idxmin: the first visited of equals
        test_row = tested[tested["Flags"] == chosen["Flags"]].iloc[0]
        out[key] = (rows.loc[rows["FinalScore"].idxmin()], chosen, test_row)
    if not out:
        raise InputError("the two results.csv share no (mode, start set, regressor) search")
    return out


def cell(r):
    return f"{r['MAE']:.4f} / {int(r['NumViolations'])} / {r['FinalScore']:.6f}"


def size(r):
    return f"{str(r['Flags']).count('1')} of {len(str(r['Flags']))}"


def report(found, best_only=False):
    order = {n: i for i, n in enumerate(protocol.PAPER2_NAMES)}
    keys = sorted(found, key=lambda k: (list(protocol.MODES).index(k[0]), list(FEATURE_SETS_V2).index(k[1]),
                                        order[k[2]]))
    lines = ["Cells: test MAE / violations / final score of the chosen subset.", ""]
    if not best_only:
        lines += ["| mode | start set | regressor | selected on test | subset | selected on validation | subset |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for k in keys:
            t, _, v = found[k]
            lines.append(f"| {MODE_LABEL[k[0]]} | {k[1]} | {k[2]} | {cell(t)} | {size(t)} | {cell(v)} | {size(v)} |")
        lines.append("")
    lines += ["Best per mode and start set (on validation: the lowest validation final score picks the "
              "regressor too; its test scores shown):", "",
              "| mode | start set | selected on test | scores | selected on validation | scores |",
              "| --- | --- | --- | --- | --- | --- |"]
    groups = {}
    for k in keys:
        groups.setdefault(k[:2], []).append(k)
    for (mode, fs), ks in groups.items():
        bt = min(ks, key=lambda k: found[k][0]["FinalScore"])  # min is stable: the first name of equals
        bv = min(ks, key=lambda k: found[k][1]["FinalScore"])
        lines.append(f"| {MODE_LABEL[mode]} | {fs} | {bt[2]} ({size(found[bt][0])}) | {cell(found[bt][0])} "
                     f"| {bv[2]} ({size(found[bv][2])}) | {cell(found[bv][2])} |")
    return "\n".join(lines) + "\n"


def main(args):
    paths = [Path(args.test_results), Path(args.validation_results)]
    if args.out:
        check_outputs_not_inputs([Path(args.out)], paths)
    text = report(picks(paper2.read_results(paths[0], False), paper2.read_results(paths[1], True)),
                  args.best_only)
    print(text, end="")
    if args.out:
        atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    run_cli(main, parse_args())
