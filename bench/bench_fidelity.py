"""What each part of the 2022 emulation changes: the published table with each part switched off.

The default estimators ("paper") reproduce the published baseline table through the parts listed
in protocol.DATA_RULES (how the table is loaded) and protocol.PAPER_RULES (what scikit-learn
0.20.1 did). This script runs the whole table once with everything on, once with each part off
(all others on), and once with everything off (today's scikit-learn on today's data path), and
counts per regressor family the rows equal to the published table. A part that changes nothing
on this table still belongs to the emulation: it decides rows of other tables.

Inputs: naap440.csv and published_results.csv (default: the release found by
naap.paths.reference_data_dir). Output: a Markdown table on stdout (and --out FILE, written
atomically). Note: switching "order" off uses today's numpy sort, whose tie order depends on the
CPU, so that row depends on the machine; every other row does not.

Example:
  python -m bench.bench_fidelity --jobs 2
"""
import argparse
import platform
import sys
import time
from datetime import date

from naap import protocol, workers
from naap.cli import run_cli
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset
from naap.files import atomic_write_text
from naap.paths import reference_data_dir

FAMILY_ORDER = list(protocol.FAMILIES)


def matches(results, published):
    """{family: (rows equal to the published table, rows)} of one run_table result."""
    frame = protocol.results_frame(results)
    count = {}
    for r in frame.itertuples(index=False):
        family = protocol.family_of(r.Model)
        ours = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
        same = tuple(ours) == tuple(published[(protocol.model_key(r.Model), r.Features)])
        hit, total = count.get(family, (0, 0))
        count[family] = (hit + same, total + 1)
    return count


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", help="naap440.csv (default: the reference release)")
    p.add_argument("--published", help="published_results.csv (default: the reference release)")
    p.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes")
    p.add_argument("--out", help="also write the Markdown table here")
    return p.parse_args(argv)


def main(args):
    jobs = workers.jobs_option(args.jobs)
    if args.dataset is None or args.published is None:
        ref = reference_data_dir(("naap440.csv", "published_results.csv"))
    dataset = args.dataset or ref / "naap440.csv"
    published = protocol.load_published(args.published or ref / "published_results.csv")
    columns = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))
    all_rules = protocol.DATA_RULES + protocol.PAPER_RULES
    variants = [("everything on (the default)", ())] + [(f"without {rule}", (rule,)) for rule in all_rules]
    variants.append(("everything off (today's libraries)", all_rules))
    rows = []
    start = time.perf_counter()
    for label, off in variants:
        data_rules = tuple(r for r in protocol.DATA_RULES if r not in off)
        estimators = frozenset(r for r in protocol.PAPER_RULES if r not in off)
        df = load_dataset(dataset, columns, data_rules)
        count = matches(protocol.run_table(df, estimators, jobs, progress=False), published)
        total = sum(hit for hit, _ in count.values())
        rows.append((label, total, count))
        print(f"{label}: {total}/96", file=sys.stderr)
    lines = [f"Rows equal to the published table (of {sum(n for _, n in rows[0][2].values())}), "
             f"with each part of the emulation switched off. `python -m bench.bench_fidelity --jobs {jobs}`, "
             f"{platform.machine()}, {workers.available_cores()} cores, {date.today().isoformat()}, "
             f"{time.perf_counter() - start:.0f} s.", "",
             "| emulation | all | " + " | ".join(FAMILY_ORDER) + " |",
             "| --- | --- |" + " --- |" * len(FAMILY_ORDER)]
    for label, total, count in rows:
        cells = [f"{count[f][0]}/{count[f][1]}" for f in FAMILY_ORDER]
        lines.append(f"| {label} | {total} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        atomic_write_text(args.out, text)


if __name__ == "__main__":
    run_cli(main, parse_args())
