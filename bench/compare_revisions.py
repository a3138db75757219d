"""Benchmark: do two commits give byte-identical outputs? Runs the users' commands at each commit
and compares every file they write.

For each revision a detached git worktree is made in a temporary directory (removed at the end,
also on an error, Ctrl-C or SIGTERM), and the top-level scripts run there through their command
lines, which a refactor leaves unchanged, on the published data ($NAAP440_DATA, else what
naap.paths.reference_data_dir finds, e.g. ../shared/naap440). The commands (names for --only):
- scheme_generator: scheme_generator.py OUT.json;
- data_dir_to_csv: data_dir_to_csv.py raw_data OUT.csv, with --version 1 and --version 2;
- zero_cost: zero_cost.py on 5 of the published schemes, with --data-root a small synthetic
  CIFAR-10 this script writes (deterministic, cifar-10-batches-py layout);
- run_experiments_paper, run_experiments_sklearn: run_experiments.py naap440.csv with each estimator
  set, figures included;
- baselines: baselines.py naap440.csv at epoch counts BASELINE_EPOCHS, with --zero-cost a synthetic
  proxy CSV for all 440 models (deterministic; zero_cost.py's own CSV holds only 5 models, and all
  440 would take minutes per revision);
- feature_selection: a small paper-2 run, feature_selection.py naap440v2.csv in interpolation mode
  from the Scheme feature set with FS_MODELS.
Both revisions run at the same paths (the same worktree and output paths, one after the other), so
a file that names a path cannot differ for that reason. The commits are checked out as committed:
uncommitted changes of this working tree are not part of either side.

Input:  OLD and NEW, any git revisions of this repository (6da730b, HEAD, a branch, ...).
Output: the machine, the two commits and the date; a progress line per command run; then one line
        per command: identical, or which files differ and which exist on one side only (sha256 of
        every file; zero_cost.py's wall-time columns <proxy>_seconds are left out of its CSV's
        comparison). Exit status 1 if anything differs or a command fails on either side, else 0.
        With --out DIR the outputs stay in DIR/old, DIR/new and the commands' logs in DIR/logs;
        without it they are deleted.
Example (7 minutes on 2 cores shared with other work, load average 9; numba compiles afresh per side):
  python -m bench.compare_revisions 6da730b HEAD
"""
import csv
import hashlib
import io
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from naap import workers
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.paths import DATA_ENV_VAR, reference_data_dir

ROOT = Path(__file__).resolve().parent.parent

BASELINE_EPOCHS = "0,3,9"  # regressors and learning curves; 1,90 alone would take 1 CPU minute more
FS_MODELS = "Linear Regression,SVR (Linear kernel),Decision Tree"  # a closed form, libsvm, the tree replica
ZC_SCHEMES = (0, 109, 219, 329, 439)  # the schemes zero_cost.py scores: first, last and three between
ZC_PROXIES = ("MACs", "#params", "synflow", "logsynflow", "zen", "l2_norm")  # zero_cost.py's data-free columns
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_PER_FILE = 16  # 80 training images: zero_cost.py's minibatch is the first 64
TIMING_SUFFIX = "_seconds"  # zero_cost.py's wall-time columns: they vary from run to run
SHOWN_NAMES = 8  # file names listed per command; the rest are counted


@dataclass
class Command:
    """One user command: its data files, and argv lists (script first) given the data directory,
    the inputs this script writes, and the directory that receives its outputs."""
    name: str
    needs: tuple
    argvs: object
    volatile_columns: bool = False  # a CSV with TIMING_SUFFIX columns to leave out of the comparison


def _jobs(jobs):
    return ["--jobs", str(jobs)]


COMMANDS = [
    Command("scheme_generator", (), lambda d, i, o, j: [["scheme_generator.py", o / "generated_schemes.json"]]),
    Command("data_dir_to_csv", ("raw_data",), lambda d, i, o, j: [
        ["data_dir_to_csv.py", d / "raw_data", o / "naap440.csv", "--version", "1"],
        ["data_dir_to_csv.py", d / "raw_data", o / "naap440v2.csv", "--version", "2"]]),
    Command("zero_cost", ("generated_schemes.json",), lambda d, i, o, j: [
        ["zero_cost.py", i / "schemes.json", o / "zero_cost.csv", "--data-root", i / "cifar"]],
        volatile_columns=True),
    Command("run_experiments_paper", ("naap440.csv",), lambda d, i, o, j: [
        ["run_experiments.py", d / "naap440.csv", o / "results", "--estimators", "paper", "--no-progress", *_jobs(j)]]),
    Command("run_experiments_sklearn", ("naap440.csv",), lambda d, i, o, j: [
        ["run_experiments.py", d / "naap440.csv", o / "results", "--estimators", "sklearn", "--no-progress",
         *_jobs(j)]]),
    Command("baselines", ("naap440.csv",), lambda d, i, o, j: [
        ["baselines.py", d / "naap440.csv", o / "baselines", "--zero-cost", i / "zero_cost_440.csv",
         "--epochs", BASELINE_EPOCHS, "--no-progress", *_jobs(j)]]),
    Command("feature_selection", ("naap440v2.csv",), lambda d, i, o, j: [
        ["feature_selection.py", d / "naap440v2.csv", o / "feature_selection", "--modes", "interpolation",
         "--feature-sets", "Scheme", "--models", FS_MODELS, *_jobs(j)]]),
]
BY_NAME = {c.name: c for c in COMMANDS}


# ---------------------------------------------------------------- inputs this script writes

def write_cifar(root):
    """A small CIFAR-10 in the cifar-10-batches-py layout: random images and labels, seeded. Written
    here with pickle, not with the project's writer, which moves between the compared commits."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in (*CIFAR_TRAIN_FILES, "test_batch"):
        entry = {"batch_label": name, "labels": [int(v) for v in rng.integers(0, 10, CIFAR_PER_FILE)],
                 "data": rng.integers(0, 256, (CIFAR_PER_FILE, 3 * 32 * 32), dtype=np.uint8),
                 "filenames": [f"{name}_{k}.png" for k in range(CIFAR_PER_FILE)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    meta = {"num_cases_per_batch": CIFAR_PER_FILE, "num_vis": 3 * 32 * 32,
            "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))


def write_zero_cost_csv(path, model_ids):
    """A zero_cost.py-shaped CSV of every model: seeded random proxy values, positive like the real ones."""
    rng = np.random.default_rng(1)
    lines = [",".join(("ModelId", *ZC_PROXIES))]
    for model_id in model_ids:
        lines.append(",".join([str(model_id), *(f"{v:.6g}" for v in rng.uniform(1.0, 1e6, len(ZC_PROXIES)))]))
    path.write_text("\n".join(lines) + "\n")


def write_inputs(folder, data_dir, commands):
    """The inputs the selected commands take besides the published files, identical for both sides."""
    folder.mkdir(parents=True)
    names = {c.name for c in commands}
    if "zero_cost" in names:
        schemes = json.loads((data_dir / "generated_schemes.json").read_text())
        (folder / "schemes.json").write_text(json.dumps([schemes[k] for k in ZC_SCHEMES], indent=2))
        write_cifar(folder / "cifar")
    if "baselines" in names:
        with open(data_dir / "naap440.csv", newline="") as f:
            model_ids = [row["ModelId"] for row in csv.DictReader(f)]
        write_zero_cost_csv(folder / "zero_cost_440.csv", model_ids)


# ---------------------------------------------------------------- git

def git(*args, check=True):
    """git's stdout (stripped) in this repository; InputError with git's message if it fails and check."""
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if check and done.returncode:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise InputError(f"git {' '.join(args)}: {message}")
    return done.stdout.strip()


def resolve(revision, role):
    """The full commit id of a revision; InputError naming the argument if it is no commit here."""
    if revision.startswith("-"):
        raise InputError(f"{role} {revision!r}: not a revision")
    sha = git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False)
    if not sha:
        raise InputError(f"{role} {revision!r}: unknown revision in {ROOT}")
    return sha


def describe(sha):
    """`<short id> <commit date> <subject>`, the subject cut to one screen line."""
    line = git("show", "-s", "--format=%h %cs %s", sha)
    return line if len(line) <= 100 else line[:97] + "..."


class Worktree:
    """A detached worktree of one commit at `path`, removed on leaving the with-block."""

    def __init__(self, path, sha):
        self.path, self.sha = path, sha

    def __enter__(self):
        git("worktree", "add", "--quiet", "--detach", str(self.path), self.sha)
        return self.path

    def __exit__(self, *exc):
        try:
            git("worktree", "remove", "--force", str(self.path))
        except InputError as e:  # the directory goes all the same; `git worktree prune` forgets it later
            shutil.rmtree(self.path, ignore_errors=True)
            print(f"warning: {e}; its directory was deleted", file=sys.stderr)


# ---------------------------------------------------------------- running one side

@dataclass
class Side:
    """What one revision's run left: {command: None if it succeeded, else the failure's one line}."""
    label: str
    sha: str
    failures: dict = field(default_factory=dict)


def child_env():
    """The environment of the scripts: this one without PYTHONPATH, so that each worktree's own
    modules (beside its scripts) are the ones imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def run_command(command, tree, data_dir, inputs, out, logs, jobs, label):
    """Run one command's argv lists in the worktree; None, or the failure's line."""
    out.mkdir(parents=True)
    for k, argv in enumerate(command.argvs(data_dir, inputs, out, jobs)):
        argv = [sys.executable, *map(str, argv)]
        log = logs / f"{label}_{command.name}_{k + 1}.log"
        with open(log, "w") as f:
            done = subprocess.run(argv, cwd=tree, env=child_env(), stdin=subprocess.DEVNULL, stdout=f,
                                  stderr=subprocess.STDOUT)
        if done.returncode:
            lines = log.read_text(errors="replace").strip().splitlines() or ["(no output)"]
            return f"{argv[1]} exit {done.returncode}: {lines[-1][:200]}"
    return None


def run_side(side, commands, work, data_dir, inputs, out_root, jobs, step):
    """Run the commands at one commit; its outputs end in out_root/<label>/<command>/."""
    staging, logs = out_root / "run", out_root / "logs"
    logs.mkdir(exist_ok=True)
    with Worktree(work / "tree", side.sha) as tree:
        for k, command in enumerate(commands, 1):
            print(f"[{step} {side.label} {side.sha[:7]}] {k}/{len(commands)} {command.name} ...", end="", flush=True)
            started = time.perf_counter()
            failure = run_command(command, tree, data_dir, inputs, staging / command.name, logs, jobs, side.label)
            print(f" {'FAILED' if failure else 'done'} in {time.perf_counter() - started:.0f} s", flush=True)
            if failure:
                side.failures[command.name] = failure
    staging.rename(out_root / side.label)  # the same paths for both sides while they run


# ---------------------------------------------------------------- comparing

def without_timing_columns(data):
    """A CSV's bytes with its TIMING_SUFFIX columns left out, the other cells byte for byte."""
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    keep = [k for k, name in enumerate(rows[0] if rows else []) if not name.endswith(TIMING_SUFFIX)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([[row[k] for k in keep if k < len(row)] for row in rows])
    return text.getvalue().encode()


def digests(folder, volatile_columns=False):
    """{relative path: sha256} of every file under folder (none if it is missing)."""
    found = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if volatile_columns and path.suffix == ".csv":
            data = without_timing_columns(data)
        found[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


@dataclass
class Comparison:
    same: list
    differ: list
    only_old: list
    only_new: list

    @property
    def identical(self):
        return not (self.differ or self.only_old or self.only_new)


def compare_trees(old, new, volatile_columns=False):
    """Which files of two output trees are equal, differ, or exist on one side only."""
    a, b = digests(old, volatile_columns), digests(new, volatile_columns)
    common = sorted(a.keys() & b.keys())
    return Comparison(same=[p for p in common if a[p] == b[p]], differ=[p for p in common if a[p] != b[p]],
                      only_old=sorted(a.keys() - b.keys()), only_new=sorted(b.keys() - a.keys()))


def names(paths):
    shown = ", ".join(paths[:SHOWN_NAMES])
    return shown + (f" (+{len(paths) - SHOWN_NAMES} more)" if len(paths) > SHOWN_NAMES else "")


def verdict(command, comparison, failures):
    """The command's one line of the report."""
    failed = [f"FAILED on {label}: {failures[label][command.name]}" for label in failures
              if command.name in failures[label]]
    if failed:
        return "; ".join(failed)
    c = comparison
    total = len(c.same) + len(c.differ) + len(c.only_old) + len(c.only_new)
    note = f"; wall-time columns *{TIMING_SUFFIX} not compared" if command.volatile_columns else ""
    if c.identical:
        return f"identical ({total} file{'s' * (total != 1)}{note})"
    parts = [f"{len(c.differ)} of {total} files differ: {names(c.differ)}"] if c.differ else []
    parts += [f"only in old: {names(c.only_old)}"] if c.only_old else []
    parts += [f"only in new: {names(c.only_new)}"] if c.only_new else []
    return "DIFFER: " + "; ".join(parts) + note


# ---------------------------------------------------------------- the command line

def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", help="the revision before the change, e.g. 6da730b")
    p.add_argument("new", help="the revision after it, e.g. HEAD")
    p.add_argument("--out", help="keep the outputs here (DIR/old, DIR/new, DIR/logs); a new or empty directory")
    p.add_argument("--only", metavar="NAME,...", help=f"only these commands: {', '.join(BY_NAME)}")
    p.add_argument("--jobs", default="2", help="the scripts' --jobs (default 2)")
    return p.parse_args(argv)


def selected_commands(only):
    if only is None:
        return list(COMMANDS)
    picked = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in picked if name not in BY_NAME]
    if unknown or not picked:
        raise InputError(f"--only {only!r}: unknown command {', '.join(unknown) or '(none)'}; "
                         f"known: {', '.join(BY_NAME)}")
    return [c for c in COMMANDS if c.name in picked]


def header(old, new):
    return [f"compare_revisions: {platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}), {time.strftime('%Y-%m-%d %H:%M %Z')}",
            f"old: {describe(old)}", f"new: {describe(new)}"]


def out_root(out, work):
    if out is None:
        (work / "out").mkdir()
        return work / "out"
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out {out}: exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def main(args):
    commands = selected_commands(args.only)
    jobs = workers.jobs_option(args.jobs)
    old, new = resolve(args.old, "OLD"), resolve(args.new, "NEW")
    needs = tuple(sorted({n for c in commands for n in c.needs})) or ("naap440.csv",)
    data_dir = reference_data_dir(needs)  # $NAAP440_DATA first
    work = Path(tempfile.mkdtemp(prefix="compare-revisions-"))
    try:
        outputs = out_root(args.out, work)
        print("\n".join(header(old, new)), f"data: {data_dir} (${DATA_ENV_VAR} to choose)", sep="\n", flush=True)
        write_inputs(work / "inputs", data_dir, commands)
        sides = [Side("old", old), Side("new", new)]
        for step, side in enumerate(sides, 1):
            run_side(side, commands, work, data_dir, work / "inputs", outputs, jobs, f"{step}/2")
        failures = {side.label: side.failures for side in sides}
        lines = {c.name: verdict(c, compare_trees(outputs / "old" / c.name, outputs / "new" / c.name,
                                                  c.volatile_columns), failures) for c in commands}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(map(len, lines))
    for name, line in lines.items():
        print(f"{name:<{width}}  {line}")
    differing = sum(not line.startswith("identical") for line in lines.values())
    print(f"{len(lines) - differing} of {len(lines)} commands identical" +
          (f"; outputs in {outputs}" if args.out else ""))
    if differing:
        sys.exit(1)
    return lines


if __name__ == "__main__":
    run_cli(main, parse_args())
