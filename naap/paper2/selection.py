"""Paper 2's feature selection: the best-first subset search, run in parallel and resumably.

Library module (no command line, no work at import); feature_selection.py is its script. The
protocol (modes, noise, final score, the estimator sets) is protocol.py's.

For each mode, start feature set and regressor, search() visits binary feature masks best-first
and the subset with the lowest final score wins (protocol.best_key). Jobs (mode, feature set,
and one regressor or one ensemble family) run two per worker at once (threads, costliest first),
and the subsets of each search round are scored in parallel by worker processes (one BLAS/OpenMP
thread each). The searches of an ensemble family (N = 25, 50, 100, 200) share their fits: the
smallest N searches first, a subset's ensembles are kept per seed and grown when a larger N
visits the subset, and each evaluation also scores the smaller sizes. Each evaluation is
deterministic given (mode, columns, regressor, estimator set), so the results equal those of a
plain per-regressor search (run_job(..., shared=False)).

Every scored subset is appended to a journal per job; a rerun replays it and goes on where the
first run stopped. The journal directory is keyed by the input table, the protocol's settings,
the estimator set, the models that select (select_on) and a hash of the protocol's code
(code_hash()), so that a code change never replays stale scores.

Held-out selection (select_on="validation"): the searches score subsets on validation models
taken from the mode's training rows by the published split rule (validation_rows), fitted on the
rest; score_on_test then refits each regressor's best subset (and the whole start set) on all the
mode's training rows and scores it once on the test rows. Sharding: deal_jobs splits the jobs
over array tasks that journal into one shared directory (journal_lock keeps two processes off
one job's journal); a later plain run replays the journals.
"""
import contextlib
import fcntl
import hashlib
import math
import os
import pickle
import random
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from naap import protocol
from naap.cli import InputError
from naap.replica import emulate2022
from naap.workers import process_pool

SEARCH_SEED = 20221015
GROUP_LIMIT_PER_FEATURE = 3  # at most 3 * |features| masks scored per round
BEST_SHARE = 0.10  # the feature-frequency figure looks at each regressor's best 10% of subsets
JOBS_IN_FLIGHT_PER_WORKER = 2  # searches running at once, per worker process
# rough relative cost of one subset's evaluation per feature, to start the longest jobs first
SELECT_ON = ("test", "validation")  # the models whose scores pick each regressor's best subset
VALIDATION_BINS = protocol.NUM_TEST_BINS  # held-out selection: the published rule's 40 bins, on the training rows
ENSEMBLE_NAME = re.compile(r"^(.*) \(N=(\d+)\)$")
# the code that decides a subset's scores: a change to any of them starts a fresh journal (paths
# relative to the repository root; a folder stands for every .py file under it)
PROTOCOL_SOURCES = ("metrics.py", "naap/data", "naap/protocol", "naap/protocol.py", "naap/replica", "naap/paper2")


# ----------------------------------------------------------------------------- search
def flips(mask):
    """Every one-feature flip of mask, by feature index; never the empty mask."""
    for i in range(len(mask)):
        child = mask[:i] + (1 - mask[i],) + mask[i + 1:]
        if any(child):
            yield child


def search(score_fn, n_features, on_round=None, prefetch=None):
    """Best-first search over binary feature masks; returns [(mask, (final, mae)), ...] in visit order.

    score_fn(mask) -> (final score, MAE), mask a tuple of n_features 0/1 (1 = feature used).
    1. Score the all-features mask; queue its flips under its score.
    2. Then n_features rounds, stopping early only if nothing is queued. A round takes the group
       of masks queued under the lowest parent score (all masks queued under exactly that value)
       and removes it from the queue; drops the masks already scored and puts the rest in the
       order of a Python 3.7.1 set of them (emulate2022.set_order_py37: the authors de-duplicated
       through a set, so this order decides which subset is visited first). If more than
       3 * n_features remain, shuffles them with random.Random(SEARCH_SEED) (a fresh generator
       each time), keeps the first 3 * n_features and queues the rest back under the same parent
       score (ahead of anything queued there later). It scores the kept masks in order, then, for
       each in that order, queues its flips that are not yet scored under that mask's own score.
       A mask may sit in several groups; it is scored once, when first taken. A group whose masks
       were all scored meanwhile still uses up its round.
    on_round() is called after step 1 and after each round. prefetch(masks), if given, is called
    with each batch of masks about to be scored, in scoring order (a caller may score them in
    parallel); score_fn is then called for each mask as without it.
    """
    limit = GROUP_LIMIT_PER_FEATURE * n_features
    scored = {}  # mask -> (final, mae); dicts keep insertion (= visit) order
    queue = {}  # parent score -> masks queued under it, in queue order

    def score_and_queue(masks):
        if prefetch:
            prefetch(masks)
        for mask in masks:
            scored[mask] = score_fn(mask)
        for mask in masks:
            children = [c for c in flips(mask) if c not in scored]
            if children:
                queue.setdefault(scored[mask][0], []).extend(children)

    score_and_queue([(1,) * n_features])
    if on_round:
        on_round()
    for _ in range(n_features):
        if not queue:
            break
        parent = min(queue)
        # the authors' `list({s for s in group if s not in done})` under Python 3.7.1: set order
        group = emulate2022.set_order_py37([m for m in queue.pop(parent) if m not in scored])
        if len(group) > limit:
            random.Random(SEARCH_SEED).shuffle(group)
            group, queue[parent] = group[:limit], group[limit:]
        score_and_queue(group)
        if on_round:
            on_round()
    return list(scored.items())


# ----------------------------------------------------------------------------- running searches
def ensemble_size(name):
    """(family, N) of an ensemble regressor name, else (name, None)."""
    m = ENSEMBLE_NAME.match(name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


def read_journal(path):
    """{(mask, name): result} from a job's journal. A record cut short (a kill, a full disk) ends
    it: the file is truncated after the last whole record, so that what is appended next reads
    back too."""
    cache = {}
    try:
        with open(path, "r+b") as f:
            good = 0
            while True:
                try:
                    record = pickle.load(f)
                    if not isinstance(record, dict):
                        raise ValueError("not a journal record")
                except EOFError:
                    break
                except Exception:  # whatever a torn pickle raises
                    f.truncate(good)
                    break
                cache.update(record)
                good = f.tell()
    except FileNotFoundError:
        pass
    return cache


def append_journal(path, records):
    """Append one record ({key: result}) to a job's journal; nothing if there is nothing new."""
    if records:
        with open(path, "ab") as f:
            pickle.dump(records, f)


def _score_subset(task):
    """Score one subset for `names` (a worker's task): (results, the subset's grown ensembles)."""
    names, arrays, idx, estimators, plain, states = task
    X_train, y_train, X_test, y_test = arrays
    results = protocol.evaluate_paper2(names, X_train[:, idx], y_train, X_test[:, idx], y_test, estimators,
                                       plain=plain, states=states)
    return results, states


def run_job(job, arrays, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, progress=None, pool=None,
            journal=None):
    """Search every regressor of one job = (mode, feature set name, names) on its split arrays.

    Returns {name: [(mask, result), ...]} in visit order. With shared=True the names must be one
    ensemble family (or a single regressor): the smallest N searches first, a subset's ensembles
    are kept and grown when a larger N visits it, and each evaluation also scores the smaller
    sizes. shared=False is the plain reference: one literal protocol run
    (run_experiments.evaluate_plain) per (name, mask), nothing reused. With a `pool`
    (concurrent.futures executor) the subsets of each search round are scored in parallel.
    progress(mode, name, steps) is called once per search round. With a `journal` path, every
    scored subset is appended to it and a rerun starts from what it holds (scores are
    deterministic, so the searches replay them and go on where the first run stopped).
    """
    mode, _, names = job
    n = arrays[0].shape[1]
    cache = read_journal(journal) if journal else {}  # (mask, name) -> result
    states = {}  # mask -> the family's ensembles grown so far on that subset
    order = sorted(names, key=lambda m: ensemble_size(m)[1] or 0) if shared else list(names)
    out = {}
    for name in order:
        size = ensemble_size(name)[1]
        group = [m for m in names if (ensemble_size(m)[1] or 0) <= (size or 0)] if shared else [name]

        def prefetch(masks, name=name, group=group):
            masks = [m for m in dict.fromkeys(masks) if (m, name) not in cache]
            tasks = [([g for g in group if (m, g) not in cache], arrays,
                      [i for i, f in enumerate(m) if f], estimators, not shared, states.get(m, {})) for m in masks]
            done = pool.map(_score_subset, tasks) if pool else map(_score_subset, tasks)
            new = {}
            for mask, (results, grown) in zip(masks, done):
                new.update({(mask, g): r for g, r in results.items()})
                if shared:
                    states[mask] = grown
            cache.update(new)
            if journal:
                append_journal(journal, new)

        def score_fn(mask, name=name, prefetch=prefetch):
            prefetch([mask])
            r = cache[(mask, name)]
            return r["final"], r["mae"]

        rounds = [0]

        def on_round(name=name):
            rounds[0] += 1
            if progress:
                progress(mode, name, 1)

        visited = search(score_fn, n, on_round, prefetch)
        if progress and rounds[0] < n + 1:
            progress(mode, name, n + 1 - rounds[0])
        out[name] = [(mask, cache[(mask, name)]) for mask, _ in visited]
    return out


def score_on_test(job, visited, arrays, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, pool=None,
                  journal=None):
    """Held-out selection's last step: {name: {mask: result}} for each regressor's best subset
    (best_of its visited list, scored on the validation rows) and its whole start set, fitted on
    all the mode's training rows and scored on its test rows (arrays: the mode's split arrays).

    visited: run_job's {name: [(mask, result), ...]}. Journaled under ("test", mask, name) in the
    job's journal, so a rerun or an assembly run replays them too."""
    cache = read_journal(journal) if journal else {}
    full = (1,) * arrays[0].shape[1]
    picks = {name: list(dict.fromkeys((best_of(visited[name])[0], full))) for name in job[2]}
    wanted = {}  # mask -> the names still to score on it
    for name, masks in picks.items():
        for mask in masks:
            if ("test", mask, name) not in cache:
                wanted.setdefault(mask, []).append(name)
    # shared: one evaluation per subset for all its names, plain: one per (subset, name); a fresh
    # fit either way (the searches' ensembles were grown on other rows)
    units = list(wanted.items()) if shared else [(mask, [n]) for mask, names in wanted.items() for n in names]
    tasks = [(names, arrays, [i for i, f in enumerate(mask) if f], estimators, not shared, {}) for mask, names in units]
    done = pool.map(_score_subset, tasks) if pool else map(_score_subset, tasks)
    new = {("test", mask, g): r for (mask, _), (results, _) in zip(units, done) for g, r in results.items()}
    cache.update(new)
    if journal:
        append_journal(journal, new)
    return {name: {mask: cache[("test", mask, name)] for mask in masks} for name, masks in picks.items()}


def plan_jobs(modes, feature_sets, models):
    """Jobs (mode, feature set, names): one per ensemble family, else one per regressor."""
    jobs = []
    for mode in modes:
        names = [m for m in models if mode == "interpolation" or m in protocol.EXTRAPOLATING]
        for fs in feature_sets:
            families = {}
            for name in names:
                families.setdefault(ensemble_size(name)[0], []).append(name)
            jobs += [(mode, fs, tuple(group)) for group in families.values()]
    return jobs


def journal_name(job):
    mode, fs, names = job
    return protocol.slug(f"{mode} {fs} {ensemble_size(names[0])[0]}") + ".pkl"


def job_cost(job):
    """Rough relative cost of a job (subsets ~ |features|^2, ensembles cost most)."""
    n = len(protocol.FEATURE_SETS_V2[job[1]])
    return protocol.FIT_COST.get(ensemble_size(job[2][0])[0], protocol.DEFAULT_FIT_COST) * n * n


def deal_jobs(jobs, num_shards):
    """The jobs dealt over num_shards array tasks: [shard 1's jobs, ...], longest first (job_cost),
    each to the shard with the least total cost so far (ties to the lower shard; equal costs keep
    the plan's order), so that every task of an array computes the same deal."""
    shards, loads = [[] for _ in range(num_shards)], [0.0] * num_shards
    for job in sorted(jobs, key=job_cost, reverse=True):
        i = min(range(num_shards), key=loads.__getitem__)
        shards[i].append(job)
        loads[i] += job_cost(job)
    return shards


@contextlib.contextmanager
def journal_lock(path):
    """Hold an exclusive lock on a job's journal while its job runs (nothing without a path): two
    processes on one resume directory (an assembly run started before a shard ended, two arrays
    dealt differently) never append to, or cut a torn tail off, the same journal. A journal locked
    by another process is an InputError: waiting could outlast that process's whole run."""
    if path is None:
        yield
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{path}: another process is running this job into the same resume directory "
                             "(a shard still running?); rerun once it has ended") from None
        try:
            yield
        finally:  # unlock, not only close: forked pool workers hold copies of the descriptor
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def run_jobs(jobs, data, num_workers, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, progress=None,
             journal_dir=None, test_data=None):
    """Run jobs: {(mode, fs, name): [(mask, result), ...]}. With num_workers > 1 the subsets of
    each search round are scored by a pool of forked worker processes, and several jobs run at
    once (threads, costliest first) so that one search's end of round is another's work. With a
    journal_dir, each job keeps its journal there (see run_job), locked while it runs
    (journal_lock). With test_data (held-out selection: `data` holds the fit/validation arrays,
    test_data the mode's own split arrays), returns (that dict, {(mode, fs, name): {mask: test
    result}}) of score_on_test."""
    from threadpoolctl import threadpool_limits
    results, tests = {}, {}

    def run_one(job):
        journal = journal_dir / journal_name(job) if journal_dir else None
        with journal_lock(journal):
            out = run_job(job, data[job[:2]], estimators, shared, progress, pool, journal)
            if test_data is not None:
                for name, tested in score_on_test(job, out, test_data[job[:2]], estimators, shared, pool,
                                                  journal).items():
                    tests[(job[0], job[1], name)] = tested
        return job, out

    with process_pool(num_workers if num_workers > 1 else 0, one_thread=True) as pool:
        threads = ThreadPoolExecutor(JOBS_IN_FLIGHT_PER_WORKER * num_workers) if pool else None
        try:
            with threadpool_limits(1):
                if threads is None:
                    done = map(run_one, jobs)
                else:
                    done = (f.result() for f in as_completed(
                        [threads.submit(run_one, job) for job in sorted(jobs, key=job_cost, reverse=True)]))
                for job, out in done:
                    for name, visited in out.items():
                        results[(job[0], job[1], name)] = visited
        except BaseException:  # a failed job, Ctrl-C or SIGTERM: process_pool stops the workers,
            if threads:  # which ends the other jobs' threads
                threads.shutdown(wait=False, cancel_futures=True)
            raise
        if threads:
            threads.shutdown()
    return results if test_data is None else (results, tests)


# ----------------------------------------------------------------------------- outputs
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
                        FeatureSubset=";".join(c for c, f in zip(protocol.FEATURE_SETS_V2[fs], mask) if f),
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
    try:
        table = pd.read_csv(path, dtype={"Flags": str})
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path}: not a readable CSV ({type(e).__name__})") from None
    missing = [c for c in RESULTS_NEEDED + (["ScoredOn"] if held_out else []) if c not in table.columns]
    if missing:
        what = "a --select-on validation" if held_out else "a feature_selection.py"
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (not {what} results.csv)")
    if held_out is False and "ScoredOn" in table.columns:
        raise InputError(f"{path}: a held-out --select-on validation run; give a --select-on test run")
    return table


def best_of(visited):
    """(mask, result) of the best subset; the first visited wins a full tie (min is stable)."""
    return min(visited, key=lambda v: protocol.best_key(v[1]))


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
    return ", ".join(c for c, f in zip(protocol.FEATURE_SETS_V2[fs], mask) if f)


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
             f"visited first), median of {len(protocol.SEEDS)} seeds, predictions with N(0, {protocol.NOISE_STD:g}) noise. The '(all "
             "features)' row is the whole start feature set. The subsets are listed under each table.", ""]
    if tests is not None:
        lines += ["Selected on: validation. Each regressor's best subset is the lowest final score on validation "
                  "models taken from the mode's train rows; the cells and the test final scores are that subset, and "
                  "the whole start set, fitted on all the mode's train rows and scored once on its test rows.", ""]
    for mode, rows, sets, (n_train, n_test) in mode_tables(results, modes, feature_sets, models, split_sizes, tests):
        lines += [f"## {mode}", "", f"{n_train} train / {n_test} test rows, {n_test * (n_test - 1) // 2} test pairs."
                  + ("" if tests is None else validation_text(n_train)),
                  "", "| Model | " + " | ".join(f"{fs} ({protocol.acceleration(fs)} Acceleration)" for fs in sets) + " |",
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
                  r"\hline", "Model & " + " & ".join(f"{tex_escape(fs)} ({tex_escape(protocol.acceleration(fs))})"
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


def feature_frequency(visited, features):
    """Share of the best BEST_SHARE of visited subsets (at least one) that contain each feature."""
    ranked = sorted(visited, key=lambda v: protocol.best_key(v[1]))
    top = ranked[:max(1, math.ceil(BEST_SHARE * len(ranked)))]
    return np.array([[m[i] for m, _ in top] for i in range(len(features))], dtype=float).mean(axis=1)


def protocol_files():
    """The files of PROTOCOL_SOURCES that exist, as sorted paths relative to the repository root."""
    root = Path(__file__).resolve().parents[2]
    files = set()
    for source in PROTOCOL_SOURCES:
        path = root / source
        files.update(path.rglob("*.py") if path.is_dir() else [path] if path.is_file() else [])
    return sorted(path.relative_to(root).as_posix() for path in files)


def code_hash():
    """sha256 (16 hex digits) of the sources that decide a subset's scores (PROTOCOL_SOURCES)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for name in protocol_files():
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


def journal_key(dataset_bytes, estimators, select_on="test"):
    """Name of a run's journal directory: the input table, the protocol's settings, the estimator
    set, the models that select (with the validation split's bins), the scikit-learn version and
    the code's hash: test- and validation-selected scores never share a journal."""
    settings = repr((protocol.NOISE_STD, protocol.SEEDS, estimators, select_on, VALIDATION_BINS, sklearn.__version__,
                     code_hash()))
    return hashlib.sha256(dataset_bytes + settings.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- inputs
def parse_list(text, allowed, what, option):
    """The comma-separated items of an option, each one of `allowed` (InputError otherwise)."""
    items = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise InputError(f"{option}: unknown {what} {', '.join(map(repr, unknown))} (choose from {', '.join(allowed)})")
    if not items:
        raise InputError(f"{option}: no {what} given")
    return list(dict.fromkeys(items))


def validation_rows(num_train, num_bins=VALIDATION_BINS):
    """(fit rows, validation rows) of a mode's training rows (indices in its sorted order): the
    published split rule (protocol.split_bins) on the training rows, each bin's middle row to
    validation. ValueError if there are too few rows for num_bins bins."""
    middles = [middle for _, _, middle in protocol.split_bins(num_train, num_bins)]
    return np.setdiff1d(np.arange(num_train), middles), np.array(middles)


def validation_data(data):
    """Held-out selection's search arrays: {(mode, fs): (X_fit, y_fit, X_validation, y_validation)}
    of load_modes' {(mode, fs): split arrays}, taken from the training rows alone."""
    out = {}
    for key, (X_train, y_train, _, _) in data.items():
        try:
            fit, val = validation_rows(len(y_train))
        except ValueError as e:
            raise InputError(f"--select-on validation: mode {key[0]}: {e}") from None
        out[key] = X_train[fit], y_train[fit], X_train[val], y_train[val]
    return out


def load_modes(path, modes, feature_sets):
    """Load the table once; {(mode, fs): split arrays}, {mode: (n_train, n_test)}, {mode: y_test}."""
    columns = list(dict.fromkeys(c for fs in feature_sets for c in protocol.FEATURE_SETS_V2[fs]))
    df = protocol.load_dataset(path, columns)
    num_test = int((df["IsTest"] == 1).sum())
    data, sizes, truth = {}, {}, {}
    for mode in modes:
        tr, te = protocol.mode_rows(mode, len(df) - num_test, num_test)
        if len(te) < 2 or len(tr) < 2:
            raise InputError(f"{path}: mode {mode} leaves {len(tr)} train / {len(te)} test rows; need at least 2 each")
        sizes[mode] = (len(tr), len(te))
        for fs in feature_sets:
            data[(mode, fs)] = protocol.mode_split(df, protocol.FEATURE_SETS_V2[fs], mode)
        truth[mode] = data[(mode, feature_sets[0])][3]
    return data, sizes, truth
