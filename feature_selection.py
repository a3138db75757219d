"""NAAP-440e (paper 2): extrapolation splits and a best-first feature-subset search per regressor.

Builds on the baseline protocol of run_experiments.py (same loading, sorting, log features, seeds,
median-violation run). For each mode, start feature set and regressor it searches binary feature
masks best-first and keeps the subset with the lowest final score.

Input: DATASET_V2.csv, the NAAP-440e table (naap440v2.csv: v1 plus NumSkipConnections and
NumPartialRFLayers). Rows are sorted by MaxAccuracy as in the baseline (400 train / 40 test).

Modes (train rows / test rows, both taken in that sorted order):
  interpolation        all train rows / all test rows (the baseline split)
  left_extrapolation   upper half of the train rows / lower half of the test rows
  right_extrapolation  lower half of the train rows / upper half of the test rows
  dual_extrapolation   middle half of the train rows (quarter..three quarters) /
                       lowest and highest quarters of the test rows
Trees, boosting, forests, k-NN and the RBF SVR cannot extrapolate: in the extrapolation modes
only the linear-regression family and the linear and polynomial SVRs run.

Start feature sets: Scheme (the 8 scheme features) and Scheme+Quant.K (plus the 3 per-epoch
features of epochs 1..K), K = 3, 6, 9.

Scoring a subset: the baseline protocol (5 seeds, median-violation run) with Gaussian noise of
standard deviation NOISE_STD added to the predictions (drawn right after seeding, as
run_experiments.evaluate does), then final score = round(MAE, 3) * sqrt(1 - monotonicity score)
(Python's round; a non-finite result, e.g. the Log regressor predicting log of a negative number,
scores +inf). The best subset has the lowest final score; ties go to the lower unrounded MAE, then
to the subset visited first.

Search: see search(). Masks are tuples of 0/1 in feature-set column order; the Flags column
writes them as a '0101...' string (read it back as text, not as a number).

Outputs in OUT_DIR (default results/feature_selection), written atomically:
  results.csv  Mode, Model, FeatureSetName, Flags, FeatureSubset (';'-joined), MAE,
               NumViolations, MaxViolations, MonotonicityScore (MAE and score rounded to 4
               decimals), FinalScore: every subset scored, in visit order
  best.md      per mode, the README table (cells MAE / Monotonicity Score / #Violations, one
               column per start feature set) with each regressor's best subset and its
               all-features row, then the list of best subsets
  best.tex     the same tables in LaTeX
  figures/<mode>/<feature set>/<model>_rank.png, _scatter.png   the best subset's predictions
  figures/<mode>/feature_frequency_<feature set>.png   for each regressor, the share of its best
               10% of subsets (at least one) that contain each feature
               (names in file-name form as in run_experiments, e.g.
               figures/interpolation/scheme_quant_3/random_forest_n_25_rank.png)
While it runs, every scored subset is journaled in .<OUT_DIR name>.resume/ beside OUT_DIR (per
input table and job); rerunning the same command after an interruption resumes from it, and a
completed run deletes it.

Speed: jobs (mode, feature set, and one regressor or one ensemble family) run two per worker at
once (threads, costliest first), and the subsets of each search round are scored in parallel by
--jobs worker processes (one BLAS/OpenMP thread each). The searches of an ensemble family
(Random Forest, Gradient Boosting, AdaBoost; N = 25, 50, 100, 200) share their fits: the
smallest N searches first, a subset's ensembles are kept per seed and grown when a larger N
visits the subset (ensembles.py: the first n members of an N-member fit are the n-member fit),
and each evaluation also scores the smaller sizes. Trees are fitted by trees.py, an exact and
faster replica of scikit-learn's builder. Each evaluation is deterministic given (mode, columns,
regressor), so the results equal those of a plain per-regressor search (run_job(...,
shared=False)); bench/bench_feature_selection.py measures the difference. The whole run is about
2.4 hours on 2 cores (README).

Bad input (a v1 CSV without NumSkipConnections, an unknown mode, model or feature set, nothing
to run, an existing OUT_DIR without --force): one error line, exit status 2, nothing written.

Example:
  python feature_selection.py naap440v2.csv fs_results/
  python feature_selection.py naap440v2.csv fs_q3/ --modes interpolation --feature-sets Scheme+Quant.3
"""
import argparse
import hashlib
import math
import pickle
import random
import re
import shutil
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from scipy.special import expit, logit
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression

import run_experiments as rx
from common import InputError, atomic_output_dir, atomic_write_text, run_cli, stop_pool

# ----------------------------------------------------------------------------- settings
SEARCH_SEED = 20221015
NOISE_STD = 1e-5
GROUP_LIMIT_PER_FEATURE = 3  # at most 3 * |features| masks scored per round
BEST_SHARE = 0.10  # the feature-frequency figure looks at each regressor's best 10% of subsets
DEFAULT_OUT_DIR = "results/feature_selection"

JOBS_IN_FLIGHT_PER_WORKER = 2  # searches running at once, per worker process
# rough relative cost of one subset's evaluation per feature, to start the longest jobs first
JOB_COST = {"Random Forest": 5.0, "AdaBoost": 3.0, "Gradient Boosting": 3.0, "SVR (Linear kernel)": 0.6}

MODES = ("interpolation", "left_extrapolation", "right_extrapolation", "dual_extrapolation")
SCHEME_V2_FEATURES = rx.FULL_SCHEME_FEATURES + ["NumSkipConnections", "NumPartialRFLayers"]
FEATURE_SETS = {"Scheme": SCHEME_V2_FEATURES}
for _k in rx.QUANT_EPOCHS:
    FEATURE_SETS[f"Scheme+Quant.{_k}"] = SCHEME_V2_FEATURES + rx.epoch_features(_k)

# paper 2's linear regression with an activation on the target: fit on f(y), predict f^-1(y_hat)
EXTRA_REGRESSORS = {
    "Linear Regression (D=2)": lambda: rx.power_regression(2),
    "Linear Regression (Exp)": lambda: TransformedTargetRegressor(
        LinearRegression(), func=np.log, inverse_func=np.exp, check_inverse=False),
    "Linear Regression (Log)": lambda: TransformedTargetRegressor(
        LinearRegression(), func=np.exp, inverse_func=np.log, check_inverse=False),
    "Linear Regression (Sigmoid)": lambda: TransformedTargetRegressor(
        LinearRegression(), func=logit, inverse_func=expit, check_inverse=False),
}
ALL_REGRESSORS = {**rx.REGRESSORS, **EXTRA_REGRESSORS}
# table order: the baseline's, with the extra linear regressions after its linear ones
REGRESSOR_NAMES = []
for _name in rx.REGRESSORS:
    REGRESSOR_NAMES.append(_name)
    if _name == "Linear Regression (D=0.25)":
        REGRESSOR_NAMES += list(EXTRA_REGRESSORS)
EXTRAPOLATING = {n for n in REGRESSOR_NAMES if n.startswith("Linear Regression")} | {
    "SVR (Linear kernel)", "SVR (Polynomial kernel)"}
ENSEMBLE_NAME = re.compile(r"^(.*) \(N=(\d+)\)$")


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
       of masks queued under the lowest parent score (all masks queued under exactly that value,
       in the order they were queued) and removes it from the queue; drops the masks already
       scored and repeats within the group (first occurrence kept). If more than
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
        group = list(dict.fromkeys(m for m in queue.pop(parent) if m not in scored))
        if len(group) > limit:
            random.Random(SEARCH_SEED).shuffle(group)
            group, queue[parent] = group[:limit], group[limit:]
        score_and_queue(group)
        if on_round:
            on_round()
    return list(scored.items())


# ----------------------------------------------------------------------------- scoring
def final_score(mae, monotonicity_score):
    """round(MAE, 3) * sqrt(1 - monotonicity score); +inf if that is not a finite number."""
    value = round(mae, 3) * math.sqrt(max(0.0, 1.0 - monotonicity_score)) if math.isfinite(mae) else math.inf
    return value if math.isfinite(value) else math.inf


def best_key(result):
    """Sort key of a scored subset: lowest final score, then lowest unrounded MAE."""
    return result["final"], result["mae"] if math.isfinite(result["mae"]) else math.inf


def mode_rows(mode, num_train, num_test):
    """(train row indices, test row indices) of a mode, counted in the sorted order."""
    half_tr, half_te, q_tr, q_te = num_train // 2, num_test // 2, num_train // 4, num_test // 4
    if mode == "interpolation":
        return np.arange(num_train), np.arange(num_test)
    if mode == "left_extrapolation":
        return np.arange(half_tr, num_train), np.arange(half_te)
    if mode == "right_extrapolation":
        return np.arange(half_tr), np.arange(half_te, num_test)
    if mode == "dual_extrapolation":
        return (np.arange(q_tr, num_train - q_tr),
                np.concatenate([np.arange(q_te), np.arange(num_test - q_te, num_test)]))
    raise ValueError(mode)


def mode_split(df, columns, mode):
    """(X_train, y_train, X_test, y_test) of a mode; test rows stay in ground-truth order."""
    X_train, y_train, X_test, y_test = rx.split(df, columns)
    tr, te = mode_rows(mode, len(y_train), len(y_test))
    return X_train[tr], y_train[tr], X_test[te], y_test[te]


def evaluate_names(names, X_train, y_train, X_test, y_test, plain=False, states=None):
    """The protocol with paper 2's noise for baseline and extra regressors: {name: result}.

    Each result is run_experiments' median-run dict plus "final" (the final score). plain=True
    uses run_experiments.evaluate_plain (the protocol written out literally) for the baseline
    regressors, else the faster, identical evaluate() (with `states`: its grown ensembles for
    these arrays, kept by the caller).
    """
    with np.errstate(all="ignore"):  # Log/Exp may leave their domain; such a subset scores inf
        if plain:
            results = rx.evaluate_plain(names, X_train, y_train, X_test, y_test, noise_std=NOISE_STD,
                                        regressors=ALL_REGRESSORS)
        else:
            results = rx.evaluate(names, X_train, y_train, X_test, y_test, noise_std=NOISE_STD,
                                  regressors=ALL_REGRESSORS, states=states)
    for r in results.values():
        r["final"] = final_score(r["mae"], r["score"])
    return results


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


def _score_subset(task):
    """Score one subset for `names` (a worker's task): (results, the subset's grown ensembles)."""
    names, arrays, idx, plain, states = task
    X_train, y_train, X_test, y_test = arrays
    results = evaluate_names(names, X_train[:, idx], y_train, X_test[:, idx], y_test, plain=plain, states=states)
    return results, states


def run_job(job, arrays, shared=True, progress=None, pool=None, journal=None):
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
                      [i for i, f in enumerate(m) if f], not shared, states.get(m, {})) for m in masks]
            done = pool.map(_score_subset, tasks) if pool else map(_score_subset, tasks)
            new = {}
            for mask, (results, grown) in zip(masks, done):
                new.update({(mask, g): r for g, r in results.items()})
                if shared:
                    states[mask] = grown
            cache.update(new)
            if journal and new:
                with open(journal, "ab") as f:
                    pickle.dump(new, f)

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


def plan_jobs(modes, feature_sets, models):
    """Jobs (mode, feature set, names): one per ensemble family, else one per regressor."""
    jobs = []
    for mode in modes:
        names = [m for m in models if mode == "interpolation" or m in EXTRAPOLATING]
        for fs in feature_sets:
            families = {}
            for name in names:
                families.setdefault(ensemble_size(name)[0], []).append(name)
            jobs += [(mode, fs, tuple(group)) for group in families.values()]
    return jobs


def journal_name(job):
    mode, fs, names = job
    return rx.slug(f"{mode} {fs} {ensemble_size(names[0])[0]}") + ".pkl"


def _init_worker():
    from threadpoolctl import threadpool_limits
    global _WORKER_LIMITS  # kept alive: one BLAS/OpenMP thread per worker
    _WORKER_LIMITS = threadpool_limits(1)


def job_cost(job):
    """Rough relative cost of a job (subsets ~ |features|^2, ensembles cost most)."""
    n = len(FEATURE_SETS[job[1]])
    return JOB_COST.get(ensemble_size(job[2][0])[0], 0.2) * n * n


def run_jobs(jobs, data, num_workers, shared=True, progress=None, journal_dir=None):
    """Run jobs: {(mode, fs, name): [(mask, result), ...]}. With num_workers > 1 the subsets of
    each search round are scored by a pool of forked worker processes, and several jobs run at
    once (threads, costliest first) so that one search's end of round is another's work. With a
    journal_dir, each job keeps its journal there (see run_job)."""
    from threadpoolctl import threadpool_limits
    results = {}
    pool = threads = None

    def run_one(job):
        journal = journal_dir / journal_name(job) if journal_dir else None
        return job, run_job(job, data[job[:2]], shared, progress, pool, journal)

    if num_workers > 1:
        import multiprocessing
        pool = ProcessPoolExecutor(num_workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker)
        threads = ThreadPoolExecutor(JOBS_IN_FLIGHT_PER_WORKER * num_workers)
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
    except BaseException:
        if pool:  # a failed job, Ctrl-C or SIGTERM: stopping the workers ends the other jobs' threads
            stop_pool(pool)
            threads.shutdown(wait=False, cancel_futures=True)
        raise
    if pool:
        threads.shutdown()
        pool.shutdown()
    return results


# ----------------------------------------------------------------------------- outputs
def results_table(results, modes, feature_sets, models):
    rows = []
    for mode in modes:
        for name in models:
            for fs in feature_sets:
                for mask, r in results.get((mode, fs, name), []):
                    rows.append(dict(
                        Mode=mode, Model=name, FeatureSetName=fs, Flags="".join(map(str, mask)),
                        FeatureSubset=";".join(c for c, f in zip(FEATURE_SETS[fs], mask) if f),
                        MAE=round(r["mae"], 4), NumViolations=r["violations"],
                        MaxViolations=r["max_violations"], MonotonicityScore=round(r["score"], 4),
                        FinalScore=round(r["final"], 8)))
    return pd.DataFrame(rows, columns=["Mode", "Model", "FeatureSetName", "Flags", "FeatureSubset", "MAE",
                                       "NumViolations", "MaxViolations", "MonotonicityScore", "FinalScore"])


def best_of(visited):
    """(mask, result) of the best subset; the first visited wins a full tie (min is stable)."""
    return min(visited, key=lambda v: best_key(v[1]))


def acceleration(fs):
    """The baseline's acceleration label of a start feature set: '100%', '96.7%', '93.3%', '90%'."""
    k = len(FEATURE_SETS[fs]) - len(SCHEME_V2_FEATURES)
    return rx.acceleration(f"{k // len(rx.EPOCH_FEATURES)} epochs" if k else "Scheme")


def summary(results, mode, feature_sets, models):
    """[(name, {fs: (best mask, best result, all-features result)})] of the regressors run in a mode."""
    rows = []
    for name in models:
        cells = {}
        for fs in feature_sets:
            visited = results.get((mode, fs, name))
            if visited:
                mask, best = best_of(visited)
                cells[fs] = (mask, best, visited[0][1])
        if cells:
            rows.append((name, cells))
    return rows


def cell_text(r):
    # the README table's cell: MAE / Monotonicity Score / #Violations
    d = rx.TABLE_DECIMALS
    return f"{r['mae']:.{d}f} / {r['score']:.{d}f} / {r['violations']}"


def subset_text(fs, mask):
    return ", ".join(c for c, f in zip(FEATURE_SETS[fs], mask) if f)


def mode_tables(results, modes, feature_sets, models, split_sizes):
    """Per mode with results: (mode, summary rows, the feature sets present, (n_train, n_test))."""
    for mode in modes:
        rows = summary(results, mode, feature_sets, models)
        if rows:
            sets = [fs for fs in feature_sets if any(fs in cells for _, cells in rows)]
            yield mode, rows, sets, split_sizes[mode]


def best_markdown(results, modes, feature_sets, models, split_sizes):
    lines = ["# NAAP-440e feature selection: best subset per regressor", "",
             "Each cell: MAE / Monotonicity Score / #Violations of the regressor's best subset of the start "
             "feature set (lowest final score = round(MAE, 3) * sqrt(1 - monotonicity score), ties to the lower "
             f"MAE), median of {len(rx.SEEDS)} seeds, predictions with N(0, {NOISE_STD:g}) noise. The '(all "
             "features)' row is the whole start feature set. The subsets are listed under each table.", ""]
    for mode, rows, sets, (n_train, n_test) in mode_tables(results, modes, feature_sets, models, split_sizes):
        lines += [f"## {mode}", "", f"{n_train} train / {n_test} test rows, {n_test * (n_test - 1) // 2} test pairs.",
                  "", "| Model | " + " | ".join(f"{fs} ({acceleration(fs)} Acceleration)" for fs in sets) + " |",
                  "| --- |" + " --- |" * len(sets)]
        for name, cells in rows:
            for label, which in ((name, 1), (f"{name} (all features)", 2)):
                lines.append(f"| {label} | " + " | ".join(cell_text(cells[fs][which]) if fs in cells else "-"
                                                          for fs in sets) + " |")
        lines += ["", "| Model | Feature set | Final score | #Features | Best subset |", "| --- | --- | --- | --- | --- |"]
        for name, cells in rows:
            for fs in sets:
                if fs in cells:
                    mask, best, _ = cells[fs]
                    lines.append(f"| {name} | {fs} | {best['final']:.6f} | {sum(mask)} of {len(mask)} | "
                                 f"{subset_text(fs, mask)} |")
        lines.append("")
    return "\n".join(lines)


def tex_escape(text):
    return re.sub(r"([_&%#$])", r"\\\1", text)


def best_latex(results, modes, feature_sets, models, split_sizes):
    lines = ["% NAAP-440e feature selection (feature_selection.py): per regressor the best subset of each start",
             "% feature set and the whole start set; cells: MAE / Monotonicity Score / #Violations"]
    for mode, rows, sets, (n_train, n_test) in mode_tables(results, modes, feature_sets, models, split_sizes):
        lines += [r"\begin{table}[ht]", r"\centering", r"\scriptsize", r"\begin{tabular}{l" + "c" * len(sets) + "}",
                  r"\hline", "Model & " + " & ".join(f"{tex_escape(fs)} ({tex_escape(acceleration(fs))})"
                                                    for fs in sets) + r" \\", r"\hline"]
        for name, cells in rows:
            for label, which in ((name, 1), (f"{name} (all features)", 2)):
                lines.append(tex_escape(label) + " & " + " & ".join(
                    cell_text(cells[fs][which]) if fs in cells else "-" for fs in sets) + r" \\")
        lines += [r"\hline", r"\end{tabular}",
                  f"\\caption{{{tex_escape(mode)} ({n_train} train / {n_test} test rows): best feature subset per "
                  "regressor and start feature set (MAE / monotonicity score / violations)}",
                  f"\\label{{tab:fs-{rx.slug(mode)}}}", r"\end{table}", ""]
    return "\n".join(lines)


def feature_frequency(visited, features):
    """Share of the best BEST_SHARE of visited subsets (at least one) that contain each feature."""
    ranked = sorted(visited, key=lambda v: best_key(v[1]))
    top = ranked[:max(1, math.ceil(BEST_SHARE * len(ranked)))]
    return np.array([[m[i] for m, _ in top] for i in range(len(features))], dtype=float).mean(axis=1)


def plot_feature_frequency(freq, names, features, title, path):
    """Heatmap PNG: regressors (rows) x features (columns), the share from feature_frequency()."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.5 + 0.3 * len(features), 2.2 + 0.25 * len(names)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(freq, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(features)), features, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_title(title, fontsize=9)
    bar = fig.colorbar(im, ax=ax)
    bar.set_label(f"share of the best {BEST_SHARE:.0%} subsets", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def write_figures(out, results, modes, feature_sets, models, test_truth):
    for mode in modes:
        for fs in feature_sets:
            names = [n for n in models if (mode, fs, n) in results]
            if not names:
                continue
            fig_dir = out / "figures" / mode / rx.slug(fs)
            fig_dir.mkdir(parents=True, exist_ok=True)
            for name in names:
                mask, best = best_of(results[(mode, fs, name)])
                title = f"{name}, {fs} ({sum(mask)} of {len(mask)} features), {mode}"
                rx.plot_rank_matrix(best["pred"], test_truth[mode], title, fig_dir / f"{rx.slug(name)}_rank.png")
                rx.plot_scatter(best["pred"], test_truth[mode], title, fig_dir / f"{rx.slug(name)}_scatter.png")
            freq = np.array([feature_frequency(results[(mode, fs, n)], FEATURE_SETS[fs]) for n in names])
            plot_feature_frequency(freq, names, FEATURE_SETS[fs], f"{mode}, {fs}: features in the best subsets",
                                   out / "figures" / mode / f"feature_frequency_{rx.slug(fs)}.png")


# ----------------------------------------------------------------------------- CLI
def parse_list(text, allowed, what, option):
    items = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise InputError(f"{option}: unknown {what} {', '.join(map(repr, unknown))} (choose from {', '.join(allowed)})")
    if not items:
        raise InputError(f"{option}: no {what} given")
    return list(dict.fromkeys(items))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", help="NAAP-440e CSV (naap440v2.csv)")
    p.add_argument("out_dir", nargs="?", default=DEFAULT_OUT_DIR, help=f"output directory (default {DEFAULT_OUT_DIR})")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (default all)")
    p.add_argument("--models", default=",".join(REGRESSOR_NAMES),
                   help="comma-separated regressor names as in results.csv (default all 28)")
    p.add_argument("--feature-sets", default=",".join(FEATURE_SETS), help="comma-separated start feature sets")
    p.add_argument("--jobs", type=int, default=rx.available_cores(), help="worker processes (default: all cores)")
    p.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    return p.parse_args(argv)


def load_modes(path, modes, feature_sets):
    """Load the table once; {(mode, fs): split arrays}, {mode: (n_train, n_test)}, {mode: y_test}."""
    columns = list(dict.fromkeys(c for fs in feature_sets for c in FEATURE_SETS[fs]))
    df = rx.load_dataset(path, columns)
    num_test = int((df["IsTest"] == 1).sum())
    data, sizes, truth = {}, {}, {}
    for mode in modes:
        tr, te = mode_rows(mode, len(df) - num_test, num_test)
        if len(te) < 2 or len(tr) < 2:
            raise InputError(f"{path}: mode {mode} leaves {len(tr)} train / {len(te)} test rows; need at least 2 each")
        sizes[mode] = (len(tr), len(te))
        for fs in feature_sets:
            data[(mode, fs)] = mode_split(df, FEATURE_SETS[fs], mode)
        truth[mode] = data[(mode, feature_sets[0])][3]
    return data, sizes, truth


def main(args):
    modes = parse_list(args.modes, MODES, "mode", "--modes")
    models = parse_list(args.models, REGRESSOR_NAMES, "model", "--models")
    models = [n for n in REGRESSOR_NAMES if n in models]  # table order
    feature_sets = parse_list(args.feature_sets, list(FEATURE_SETS), "feature set", "--feature-sets")
    feature_sets = [fs for fs in FEATURE_SETS if fs in feature_sets]
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    jobs = plan_jobs(modes, feature_sets, models)
    if not jobs:
        raise InputError("none of the selected models can extrapolate, and interpolation is not selected")
    if Path(args.out_dir).exists() and not args.force:  # fail before the long run
        raise InputError(f"{args.out_dir}: output directory already exists (use --force to replace it)")
    data, sizes, truth = load_modes(args.dataset, modes, feature_sets)

    from tqdm import tqdm
    totals = {}
    for mode, fs, names in jobs:
        for name in names:
            totals[(mode, name)] = totals.get((mode, name), 0) + len(FEATURE_SETS[fs]) + 1
    bars = {}

    lock = threading.Lock()  # jobs report from several threads

    def progress(mode, name, steps):
        with lock:
            _progress(mode, name, steps)

    def _progress(mode, name, steps):
        if (mode, name) not in bars:
            bars[(mode, name)] = tqdm(total=totals[(mode, name)], desc=f"{mode} | {name}", unit="round",
                                      mininterval=2)
        bar = bars[(mode, name)]
        bar.update(steps)
        if bar.n >= bar.total:
            bar.close()

    # scored subsets are journaled beside OUT_DIR, per input table, so an interrupted run resumes
    out_dir = Path(args.out_dir)
    resume_root = out_dir.with_name(f".{out_dir.name}.resume")
    # keyed by what decides the scores besides the code: the table and the protocol's settings
    key = hashlib.sha256(Path(args.dataset).read_bytes() + repr((NOISE_STD, rx.SEEDS, sklearn.__version__)).encode())
    journal_dir = resume_root / key.hexdigest()[:16]
    try:
        journal_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{journal_dir}: cannot create ({e.strerror or e})") from None
    print(f"scored subsets are journaled in {resume_root} (rerun the same command to resume)")
    with atomic_output_dir(args.out_dir, args.force) as out:
        results = run_jobs(jobs, data, args.jobs, progress=progress, journal_dir=journal_dir)
        table = results_table(results, modes, feature_sets, models)
        atomic_write_text(out / "results.csv", table.to_csv(index=False, lineterminator="\n"))
        atomic_write_text(out / "best.md", best_markdown(results, modes, feature_sets, models, sizes))
        atomic_write_text(out / "best.tex", best_latex(results, modes, feature_sets, models, sizes))
        write_figures(out, results, modes, feature_sets, models, truth)
    shutil.rmtree(journal_dir, ignore_errors=True)
    try:
        resume_root.rmdir()  # unless journals of another input table wait there
    except OSError:
        pass
    print(f"{len(table)} subsets scored ({len(jobs)} jobs); results in {args.out_dir}")


if __name__ == "__main__":
    run_cli(main, parse_args())
