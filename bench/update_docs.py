"""Rewrite every generated block of the docs from the command that produces it.

README.md and docs/*.md hold measured tables between `<!-- BEGIN generated: NAME -->` and
`<!-- END generated: NAME -->` (bench/docs_blocks.py). BLOCKS below names, for every block, what
produces it; each block opens with a line giving that command, the machine and the date.

- results-paper, results-sklearn, fidelity, budget, leaderboard: recomputed here by running
  `run_experiments.py` (the table it prints), `python -m bench.bench_fidelity` (about 4 min on
  2 cores), `budget.py` (its best-per-budget table; about 10 min) and `python -m bench.leaderboard`
  (the last two on the costs that data_dir_to_csv.py --costs makes from the release's raw logs
  first).
- paper2-q3, paper2-heldout-q3, paper2-extrapolation, paper2-heldout-best: rendered from
  feature_selection.py runs (hours on 2 cores; PAPER2_RUNS lists their commands) given as
  `--paper2-run ROLE=DIR`: best.md of the q3 run, `python -m bench.paper2_heldout` and
  `python -m bench.paper2_leaders` over the runs' results.csv. docs/records/paper2.json records
  the runs each block came from and the SHA-256 of its table. Without the runs a block keeps its
  table if the record vouches for it; a block that needs a run given only in part, or whose table
  differs from its record, is refused.
- paper2-whole-run: rendered from the whole default run's measurements in docs/records/paper2.json.

Inputs: block names (default: all), --data DIR (the release; default: found as the tests find it),
--jobs N, --paper2-run ROLE=DIR (repeatable), --paper2-machine TEXT (where those runs ran).
Outputs: the Markdown files holding the blocks and docs/records/paper2.json, rewritten
atomically, and only once every block asked for has been produced. A block that cannot be
produced is one error line and exit status 2, with nothing written.

Examples:
  python -m bench.update_docs results-paper results-sklearn
  python -m bench.update_docs paper2-q3 paper2-heldout-q3 --paper2-run q3=fs_q3/ --paper2-run q3-validation=fs_q3_val/
"""
import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.docs_blocks import (
    RECORD,
    ROOT,
    block_body,
    digest,
    doc_paths,
    generated_blocks,
    machine_description,
    read_record,
    record_text,
    replace_generated_block,
    split_body,
)
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.files import atomic_write_text
from naap.input_files import input_error
from naap.paths import reference_data_dir
from naap.workers import available_cores, jobs_option

EXTRAPOLATION = "left_extrapolation,right_extrapolation,dual_extrapolation"
ALL_SETS = ("Scheme", "Scheme+Quant.3", "Scheme+Quant.6", "Scheme+Quant.9")
# role: (the feature_selection.py command of the run, its modes, its start sets, --select-on validation)
PAPER2_RUNS = {
    "q3": ("python feature_selection.py naap440v2.csv fs_q3/ --modes interpolation --feature-sets Scheme+Quant.3 "
           "--jobs 2", ("interpolation",), ("Scheme+Quant.3",), False),
    "q3-validation": ("python feature_selection.py naap440v2.csv fs_q3_val/ --modes interpolation --feature-sets "
                      "Scheme+Quant.3 --select-on validation --jobs 2", ("interpolation",), ("Scheme+Quant.3",), True),
    "extrapolation": (f"python feature_selection.py naap440v2.csv fs_extra/ --modes {EXTRAPOLATION} --jobs 2",
                      tuple(EXTRAPOLATION.split(",")), ALL_SETS, False),
    "extrapolation-validation": (f"python feature_selection.py naap440v2.csv fs_extra_val/ --modes {EXTRAPOLATION} "
                                 "--select-on validation --jobs 2", tuple(EXTRAPOLATION.split(",")), ALL_SETS, True),
}

# name: (kind, what produces it). run: the command run here (its stdout is the table); fidelity:
# bench_fidelity's table, provenance line included; paper2: (runs it needs, the renderer named in its
# provenance line); whole-run: the record's measurements.
BLOCKS = {
    "results-paper": ("run", ["run_experiments.py", "{naap440.csv}", "--jobs", "{jobs}", "--no-progress"]),
    "results-sklearn": ("run", ["run_experiments.py", "{naap440.csv}", "--estimators", "sklearn", "--jobs", "{jobs}",
                                "--no-progress"]),
    "fidelity": ("fidelity", ["-m", "bench.bench_fidelity", "--jobs", "{jobs}"]),
    "budget": ("run", ["budget.py", "{naap440.csv}", "{costs.csv}", "--jobs", "{jobs}", "--no-progress"]),
    "leaderboard": ("run", ["-m", "bench.leaderboard", "{naap440.csv}", "{costs.csv}", "--jobs", "{jobs}",
                            "--no-progress"]),
    "paper2-q3": ("paper2", (("q3",), "its best.md")),
    "paper2-heldout-q3": ("paper2", (("q3", "q3-validation"),
                                     "`python -m bench.paper2_heldout` over their results.csv")),
    "paper2-extrapolation": ("paper2", (("extrapolation",), "`python -m bench.paper2_leaders` over its results.csv")),
    "paper2-heldout-best": ("paper2", (("q3", "extrapolation", "q3-validation", "extrapolation-validation"),
                                       "`python -m bench.paper2_heldout --best-only` over their concatenated "
                                       "results.csv (test-selected runs, then validation-selected)")),
    "paper2-whole-run": ("whole-run", None),
}


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"blocks to rewrite (default: all: {', '.join(BLOCKS)})")
    p.add_argument("--data", help="the release holding naap440.csv and published_results.csv (default: found "
                                  "as the tests find it)")
    p.add_argument("--jobs", default=str(available_cores()), help="worker processes of the recomputed blocks")
    p.add_argument("--paper2-run", action="append", default=[], metavar="ROLE=DIR",
                   help=f"a feature_selection.py output directory; ROLE one of {', '.join(PAPER2_RUNS)}")
    p.add_argument("--paper2-machine", help="where the --paper2-run runs ran (default: this machine)")
    return p.parse_args(argv)


def today():
    return datetime.date.today().isoformat()


def run_here(argv, what):
    """stdout of `python ARGV` run from the repository root, or InputError with its last error line."""
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"{what}: `python {' '.join(argv)}` failed (exit {done.returncode}): {last}")
    return done.stdout


def produce_run(name, template, data_dir, jobs):
    """A recomputed block: the table its command prints (run_experiments.py, bench.leaderboard),
    under its provenance line. {costs.csv} is made first from the release's raw logs
    (data_dir_to_csv.py --costs)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {"{naap440.csv}": str(data_dir / "naap440.csv"), "{costs.csv}": str(Path(tmp) / "costs.csv"),
                 "{jobs}": jobs}
        if "{costs.csv}" in template:
            run_here(["data_dir_to_csv.py", str(data_dir / "raw_data"), str(Path(tmp) / "v1.csv"), "--costs",
                      files["{costs.csv}"]], name)
        table = run_here([files.get(a, a) for a in template], name)
    shown = " ".join(a.strip("{}") if a in files and a != "{jobs}" else jobs if a == "{jobs}" else a for a in template)
    return block_body(f"Produced by `python {shown}` on {machine_description()}, {today()}; written here by "
                      "`python -m bench.update_docs`.", table)


def produce_fidelity(template, data_dir, jobs):
    """bench_fidelity's --out table (its first line names its command, machine, date and time)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fidelity.md"
        argv = [jobs if a == "{jobs}" else a for a in template] + [
            "--dataset", str(data_dir / "naap440.csv"), "--published", str(data_dir / "published_results.csv"),
            "--out", str(out)]
        run_here(argv, "fidelity")
        return out.read_text()


def parse_runs(items):
    """{role: DIR} of the --paper2-run options."""
    runs = {}
    for item in items:
        role, sep, path = item.partition("=")
        if not sep or role not in PAPER2_RUNS or not path:
            raise InputError(f"--paper2-run {item}: expected ROLE=DIR, ROLE one of {', '.join(PAPER2_RUNS)}")
        runs[role] = Path(path)
    return runs


def read_run(role, path):
    """The results.csv of a --paper2-run directory, checked against its role."""
    from naap import paper2
    _, modes, sets, held_out = PAPER2_RUNS[role]
    table = paper2.read_results(path / "results.csv", held_out)
    if tuple(sorted(set(table["Mode"]))) != tuple(sorted(modes)) or \
            tuple(sorted(set(table["FeatureSetName"]))) != tuple(sorted(sets)):
        raise InputError(f"--paper2-run {role}={path}: expected modes {', '.join(modes)} and start sets "
                         f"{', '.join(sets)} (the run of `{PAPER2_RUNS[role][0]}`)")
    return table


def render_paper2(name, tables, dirs):
    """The table of a paper-2 block from its runs' results (tables) and directories."""
    import pandas as pd

    from bench import paper2_heldout, paper2_leaders
    if name == "paper2-q3":
        try:
            return (dirs["q3"] / "best.md").read_text()
        except OSError as e:
            raise input_error(dirs["q3"] / "best.md", e) from None
    if name == "paper2-extrapolation":
        return paper2_leaders.markdown(paper2_leaders.leaders(tables["extrapolation"]))
    if name == "paper2-heldout-q3":
        return paper2_heldout.report(paper2_heldout.picks(tables["q3"], tables["q3-validation"]))
    test = pd.concat([tables["q3"], tables["extrapolation"]], ignore_index=True)
    val = pd.concat([tables["q3-validation"], tables["extrapolation-validation"]], ignore_index=True)
    return paper2_heldout.report(paper2_heldout.picks(test, val), best_only=True)


def paper2_provenance(name, record):
    """The provenance line of a paper-2 block: its runs (command, machine, date) and the renderer."""
    roles, renderer = BLOCKS[name][1]
    runs = "; ".join(f"`{record['runs'][r]['command']}` ({record['runs'][r]['machine']}, {record['runs'][r]['date']})"
                     for r in roles)
    return f"From {runs}: {renderer}, written here by `python -m bench.update_docs`."


def whole_run_body(record):
    """The paper2-whole-run block from the record's measurements of the whole default run."""
    rec = record["whole-run"]
    lines = ["| segment | subsets | published figures that agree | wall | CPU-s (user) |",
             "| --- | --- | --- | --- | --- |"]
    for s in rec["segments"]:
        cpu = " " if s["cpu_user_s"] is None else f" {s['cpu_user_s']:,} "
        lines.append(f"| {s['segment']} | {s['subsets']:,} | {s['figures'][0]} of {s['figures'][1]} | "
                     f"{s['wall'] or 'not run alone'} |{cpu}|")
    segs = rec["segments"]
    if len(segs) > 1:  # a run measured in parts: their sums
        lines.append(f"| **all** | **{sum(s['subsets'] for s in segs):,}** | **{sum(s['figures'][0] for s in segs)} "
                     f"of {sum(s['figures'][1] for s in segs)}** | | |")
    return block_body(f"Measured: {rec['how']}, on {rec['machine']}, {rec['date']}; written here from "
                      f"{RECORD.relative_to(ROOT)} by `python -m bench.update_docs`.", "\n".join(lines))


def current_bodies():
    """{name: (body, [paths])} of the generated blocks in the docs."""
    found = {}
    for path in doc_paths():
        for name, body in generated_blocks(path.read_text()).items():
            found.setdefault(name, (body, []))[1].append(path)
    return found


def produce_paper2(name, record, runs, tables, current):
    """A paper-2 block's body; updates record when its runs are given."""
    roles = BLOCKS[name][1][0]
    given = [r for r in roles if r in runs]
    if given and len(given) < len(roles):
        missing = ", ".join(r for r in roles if r not in runs)
        raise InputError(f"{name} needs --paper2-run for {missing} too (it uses {', '.join(roles)}); "
                         "or name only the blocks whose runs are given")
    if given:
        table = render_paper2(name, tables, runs)
        record["blocks"][name] = {"sha256": digest(table)}
        return block_body(paper2_provenance(name, record), table)
    if name not in current:
        raise InputError(f"{name}: no such block in the docs and no --paper2-run to render it from")
    table = split_body(current[name][0])[1]
    if record["blocks"].get(name, {}).get("sha256") != digest(table):
        options = " ".join(f"--paper2-run {r}=DIR" for r in roles)
        raise InputError(f"{name}: its table differs from {RECORD.relative_to(ROOT)} (edited by hand?); "
                         f"render it from the runs with {options}")
    return block_body(paper2_provenance(name, record), table)


def record_runs(record, runs, machine):
    """Note in the record where and when each given run ran (its results.csv's date) and its digest."""
    for role, path in runs.items():
        csv = path / "results.csv"
        record["runs"][role] = {
            "command": PAPER2_RUNS[role][0], "machine": machine,
            "date": datetime.date.fromtimestamp(csv.stat().st_mtime).isoformat(),
            "results_sha256": digest(csv.read_text())}


def produce_all(names, args, current):
    """({name: body}, the updated record) of the blocks asked for (current: current_bodies());
    nothing is written here."""
    record = read_record()
    runs = parse_runs(args.paper2_run)
    jobs = str(jobs_option(args.jobs))
    tables = {role: read_run(role, path) for role, path in runs.items()}
    record_runs(record, runs, args.paper2_machine or machine_description())
    data_dir = Path(args.data) if args.data else None
    bodies = {}
    # the blocks that are only checked or rendered first: a refusal there costs no run
    for name in sorted(names, key=lambda n: BLOCKS[n][0] in ("run", "fidelity")):
        kind, how = BLOCKS[name]
        if kind in ("run", "fidelity") and data_dir is None:
            data_dir = reference_data_dir(("naap440.csv", "published_results.csv", "raw_data"))
        if kind == "run":
            bodies[name] = produce_run(name, how, data_dir, jobs)
        elif kind == "fidelity":
            bodies[name] = produce_fidelity(how, data_dir, jobs)
        elif kind == "paper2":
            bodies[name] = produce_paper2(name, record, runs, tables, current)
        else:
            bodies[name] = whole_run_body(record)
    return bodies, record


def main(args):
    names = args.names or list(BLOCKS)
    unknown = [n for n in names if n not in BLOCKS]
    if unknown:
        raise InputError(f"no producer for {', '.join(unknown)}; the blocks are {', '.join(BLOCKS)}")
    holders = current_bodies()
    missing = [n for n in names if n not in holders]
    if missing:
        raise InputError(f"no generated block named {', '.join(missing)} in README.md or docs/*.md")
    bodies, record = produce_all(names, args, holders)
    texts = {path: path.read_text() for path in doc_paths()}
    changed = dict(texts)
    for name, body in bodies.items():
        for path in holders[name][1]:
            changed[path] = replace_generated_block(changed[path], name, body)
    for path, text in changed.items():
        if text != texts[path]:
            atomic_write_text(path, text)
            print(f"{path.relative_to(ROOT)}: updated")
    if record_text(record) != RECORD.read_text():
        atomic_write_text(RECORD, record_text(record))
        print(f"{RECORD.relative_to(ROOT)}: updated")


if __name__ == "__main__":
    run_cli(main, parse_args())
