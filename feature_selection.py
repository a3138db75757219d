"""NAAP-440e (paper 2): extrapolation splits and a best-first feature-subset search per regressor.

Builds on the baseline protocol (naap.data and naap.protocol: same loading, sorting, log features,
seeds, median-violation run, and the same two estimator sets); the search runs in the naap.paper2
package. For each mode, start feature set and regressor it searches binary feature masks
best-first and keeps the subset with the lowest final score.

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
standard deviation NOISE_STD added to the predictions (drawn from the global NumPy generator after
the fit, as the authors' run_experiment drew it: protocol.prediction_noise), then
final score = round(MAE, 3) * sqrt(1 - monotonicity score)
(Python's round; a non-finite result, e.g. the Log regressor predicting log of a negative number,
scores +inf). The best subset has the lowest final score; a tie goes to the subset visited first,
as in the authors' search (their set order: see paper2.search).

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
completed run deletes it. A journal of another input table, settings or code version (one made
before a code change included) is not replayed: the run starts fresh and says so in one line.

--select-on test (default, the paper's way) picks each regressor's best subset by its score on
the test rows it is reported on. --select-on validation picks it on validation rows taken from the
mode's train rows (the published rule, naap.data.split_bins: the middle row of each of 40
MaxAccuracy bins; 40 of 400 in interpolation, 40 of 200 in the extrapolation modes), fitting on
the other train rows, then refits that subset and the whole start set on all the mode's train
rows and scores them once on the test rows: best.md/best.tex and the figures show those test
scores and say "selected on validation"; results.csv gets a ScoredOn column (validation rows of
the searches, test rows of the refits).

--shard I/N runs only task I's share of the (mode, feature set, family) jobs, dealt longest first
over N tasks (paper2.deal_jobs), journaling into the shared resume directory; it writes no
OUT_DIR. The same command without --shard then assembles OUT_DIR from the journals (fitting only
what no shard finished). Run it after all N tasks have ended.

Speed: jobs (mode, feature set, and one regressor or one ensemble family) run two per worker at
once (threads, costliest first), and the subsets of each search round are scored in parallel by
--jobs worker processes (one BLAS/OpenMP thread each). The searches of an ensemble family
(Random Forest, Gradient Boosting, AdaBoost; N = 25, 50, 100, 200) share their fits: the
smallest N searches first, a subset's ensembles are kept per seed and grown when a larger N
visits the subset (naap.replica.ensembles: the first n members of an N-member fit are the n-member fit),
and each evaluation also scores the smaller sizes. Trees are fitted by naap.replica.trees, an exact and
faster replica of scikit-learn's builder. Each evaluation is deterministic given (mode, columns,
regressor), so the results equal those of a plain per-regressor search (run_job(...,
shared=False)); `python -m bench.bench_feature_selection` measures the difference. The whole run takes
hours on 2 cores (docs/performance.md); --shard spreads it over an array of machines.

Bad input (a v1 CSV without NumSkipConnections, an unknown mode, model or feature set, nothing
to run, an existing OUT_DIR without --force, an unknown --select-on value, a --shard that is not
I/N with 1 <= I <= N): one error line, exit status 2, nothing written (no resume directory either).

Example:
  python feature_selection.py naap440v2.csv fs_results/
  python feature_selection.py naap440v2.csv fs_q3/ --modes interpolation --feature-sets Scheme+Quant.3
"""

import os
import shutil
import threading
from pathlib import Path

import numpy as np

from naap import figures, paper2, protocol, workers
from naap.cli import InputError, OneLineArgumentParser, parse_shard, run_cli
from naap.data import FEATURE_SETS_V2
from naap.files import atomic_output_dir, atomic_write_text, check_output_dir, check_outputs_not_inputs, resume_root
from naap.input_files import input_error

DEFAULT_OUT_DIR = "results/feature_selection"
MODES = protocol.MODES
FEATURE_SETS = FEATURE_SETS_V2
REGRESSOR_NAMES = protocol.PAPER2_NAMES


def write_figures(out, results, modes, feature_sets, models, test_truth, tests=None):
    """Per mode and start set: each regressor's best subset's rank matrix and scatter (on the test
    rows: with tests, held-out selection, those of its refit), and the feature-frequency heatmap."""
    for mode in modes:
        for fs in feature_sets:
            names = [n for n in models if (mode, fs, n) in results]
            if not names:
                continue
            fig_dir = out / "figures" / mode / protocol.slug(fs)
            fig_dir.mkdir(parents=True, exist_ok=True)
            for name in names:
                mask, best = paper2.best_of(results[(mode, fs, name)])
                title = f"{name}, {fs} ({sum(mask)} of {len(mask)} features), {mode}"
                if tests is not None:
                    best = tests[(mode, fs, name)][mask]
                    title += ", selected on validation"
                stem = protocol.slug(name)
                figures.plot_rank_matrix(best["pred"], test_truth[mode], title, fig_dir / f"{stem}_rank.png")
                figures.plot_scatter(best["pred"], test_truth[mode], title, fig_dir / f"{stem}_scatter.png")
            freq = np.array([paper2.feature_frequency(results[(mode, fs, n)], FEATURE_SETS[fs]) for n in names])
            figures.plot_feature_frequency(freq, names, FEATURE_SETS[fs], f"{mode}, {fs}: features in the best subsets",
                                           out / "figures" / mode / f"feature_frequency_{protocol.slug(fs)}.png",
                                           paper2.BEST_SHARE)


def open_journal(args, table_bytes, jobs):
    """(resume root, this run's journal directory), made: scored subsets are journaled beside
    OUT_DIR, per input table (its bytes, as read once), settings and code version
    (paper2.journal_key), so that an interrupted run resumes. Journals of another key there are
    left alone and never replayed: a run after a code change (the move to the naap package
    included) starts fresh, and says so. A job's journal that is not a file is refused before any
    job runs (paper2.check_journals)."""
    out_dir = Path(os.path.abspath(args.out_dir))  # "a/.." has a name to put the journal beside
    root = resume_root(out_dir)
    journal_dir = root / paper2.journal_key(table_bytes, args.estimators, args.select_on)
    paper2.check_journals(journal_dir, jobs)
    try:
        others = [p for p in root.iterdir() if p.is_dir() and p != journal_dir] if root.is_dir() else []
        journal_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{journal_dir}: cannot create ({e.strerror or e})") from None
    if others:
        print(f"{root}: {len(others)} journal(s) of another input table, settings or code version left "
              "unused (not replayed: this run starts fresh)")
    print(f"scored subsets are journaled in {root} (rerun the same command to resume)")
    return root, journal_dir


# ----------------------------------------------------------------------------- CLI
def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", help="NAAP-440e CSV (naap440v2.csv)")
    p.add_argument("out_dir", nargs="?", default=DEFAULT_OUT_DIR, help=f"output directory (default {DEFAULT_OUT_DIR})")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (default all)")
    p.add_argument("--models", default=",".join(REGRESSOR_NAMES),
                   help="comma-separated regressor names as in results.csv (default all 28)")
    p.add_argument("--feature-sets", default=",".join(FEATURE_SETS), help="comma-separated start feature sets")
    p.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS,
                   help=f"estimator set: {' or '.join(protocol.ESTIMATOR_SETS)} "
                        f"(default {protocol.DEFAULT_ESTIMATORS})")
    p.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    p.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    p.add_argument("--select-on", choices=paper2.SELECT_ON, default=paper2.SELECT_ON[0],
                   help="models whose scores pick each regressor's best subset: test (default, the paper's way) or "
                        "validation (held out from the train rows; the best subsets are then scored on the test rows)")
    p.add_argument("--shard", metavar="I/N",
                   help="run only task I of N's share of the jobs (an array job), journaling into the resume "
                        "directory; rerun without --shard to assemble OUT_DIR")
    return p.parse_args(argv)


def main(args):
    modes = paper2.parse_list(args.modes, MODES, "mode", "--modes")
    models = paper2.parse_list(args.models, REGRESSOR_NAMES, "model", "--models")
    models = [n for n in REGRESSOR_NAMES if n in models]  # table order
    feature_sets = paper2.parse_list(args.feature_sets, list(FEATURE_SETS), "feature set", "--feature-sets")
    feature_sets = [fs for fs in FEATURE_SETS if fs in feature_sets]
    protocol.check_estimator_set(args.estimators)
    num_workers = workers.jobs_option(args.jobs)
    shard = parse_shard(args.shard) if args.shard is not None else None
    jobs = paper2.plan_jobs(modes, feature_sets, models)
    if not jobs:
        raise InputError("none of the selected models can extrapolate, and interpolation is not selected")
    check_outputs_not_inputs([args.out_dir], [args.dataset])
    check_output_dir(args.out_dir, args.force)  # fail before the long run, and before the journal beside it
    try:  # once: a pipe (<(zcat naap440v2.csv.gz)) cannot be read again for the journal's key
        table_bytes = Path(args.dataset).read_bytes()
    except OSError as e:
        raise input_error(args.dataset, e, "CSV file") from None
    data, sizes, truth = paper2.load_modes(args.dataset, modes, feature_sets, content=table_bytes)
    # held-out selection searches on arrays from the train rows alone; the test rows wait for the refits
    held_out = args.select_on == "validation"
    search_data, test_data = (paper2.validation_data(data), data) if held_out else (data, None)
    if shard:
        mine = paper2.deal_jobs(jobs, shard[1])[shard[0] - 1]
        print(f"shard {shard[0]}/{shard[1]}: {len(mine)} of {len(jobs)} jobs")
        if not mine:
            return
        jobs = mine

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

    journal_root, journal_dir = open_journal(args, table_bytes, jobs)
    if shard:  # the shard's journals are its whole output: the plain run assembles OUT_DIR from them
        paper2.run_jobs(jobs, search_data, num_workers, args.estimators, progress=progress, journal_dir=journal_dir,
                        test_data=test_data)
        print(f"shard {shard[0]}/{shard[1]} done; once every shard has ended, run the command without --shard "
              f"to write {args.out_dir}")
        return
    with atomic_output_dir(args.out_dir, args.force) as out:
        results = paper2.run_jobs(jobs, search_data, num_workers, args.estimators, progress=progress,
                                  journal_dir=journal_dir, test_data=test_data)
        results, tests = results if held_out else (results, None)
        table = paper2.results_table(results, modes, feature_sets, models, tests)
        atomic_write_text(out / "results.csv", table.to_csv(index=False, lineterminator="\n"))
        atomic_write_text(out / "best.md", paper2.best_markdown(results, modes, feature_sets, models, sizes, tests))
        atomic_write_text(out / "best.tex", paper2.best_latex(results, modes, feature_sets, models, sizes, tests))
        write_figures(out, results, modes, feature_sets, models, truth, tests)
    shutil.rmtree(journal_dir, ignore_errors=True)
    try:
        journal_root.rmdir()  # unless journals of another input table wait there
    except OSError:
        pass
    print(f"{len(table)} subsets scored ({len(jobs)} jobs); results in {args.out_dir}")


if __name__ == "__main__":
    run_cli(main, parse_args())
