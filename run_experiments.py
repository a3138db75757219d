"""NAAP-440 baseline (paper 1): 24 regressors x 4 feature sets predict a CNN's final CIFAR-10 accuracy.

Each regressor predicts MaxAccuracy of the test models (IsTest == 1; 40 in NAAP-440) from the
scheme alone (100% acceleration) or with the first 3/6/9 of 90 epochs (96.7%, 93.3%, 90%
acceleration), scored by MAE and the monotonicity score. The protocol, both estimator sets and
the tables live in naap.protocol; the figures in naap.figures.

Inputs: a NAAP-440 CSV (naap440.csv, from download_naap440.py); optionally a published results
file to compare against (e.g. published_results.csv of the release).
Outputs in OUT_DIR (built in a temp dir and renamed into place, so a failure leaves nothing):
  results.csv            Model, Features, MeanAbsoluteError, NumViolations, MaxViolations,
                         MonotonicityScore (96 rows, table order). With the default estimators on
                         naap440.csv it equals the published table; with --estimators sklearn,
                         sklearn_results.csv of the release
  results_extended.csv   the same plus KendallTau, SpearmanRho, PrecisionAt5, PrecisionAt10, RMSE,
                         PearsonR, RegretAt1/5/10 (the true best accuracy minus the best among the
                         k predicted best) and, for a predictor whose predict takes return_std,
                         NLL and Coverage90 of the kept run, and the 95% bootstrap intervals of
                         its MAE, Kendall tau and violations over the test models: MAE_lo,
                         MAE_hi, KendallTau_lo, ... (the columns: protocol.EXTRA_COLUMNS; the
                         bootstrap: naap.uncertainty)
  results.md             the README table: "MAE / Monotonicity Score / #Violations" per acceleration
  figures/rank_matrix/<model>__<features>.png   predicted rank against true rank (96 figures)
  figures/scatter/<model>__<features>.png       true against predicted accuracy (96 figures)
  summary.png            MAE and #violations against acceleration, one line per regressor, with
                         the bootstrap intervals as bars
  results_splits.csv, results_splits.md, results_splits_runs.csv, results_splits_pairs.csv,
  splits.png             with --splits N: the protocol on N other splits (one random test model
                         per MaxAccuracy bin): mean, sd and 95% interval of MAE, violations and
                         Kendall tau per regressor x feature set, how often each is best, every
                         split's runs, whether the published split's leader stays ahead; the
                         regressors ranked with their intervals
  comparison.csv, comparison.md   with --compare: per-cell differences to the published table
Without OUT_DIR nothing is written: the table (and the comparison) is printed.

--estimators paper (default) fits the regressors as scikit-learn 0.20.1 did in 2022 (emulated
exactly); --estimators sklearn uses the installed scikit-learn. Results are byte-identical on
every machine, thread count and --jobs.

--predictor "NAME=MODULE:FACTORY" (repeatable) adds your own predictor beside the baselines:
MODULE is importable from the working directory or a .py file, FACTORY() returns a fresh object
with fit(X, y) and predict(X), called after seeding, once per seed, on the same scaled features
(naap.plugins; docs/evaluate_your_predictor.md). --no-baselines runs only the plug-ins. A plug-in
that fails (import, factory, fit, predict, NaN or wrongly sized predictions) stops the run with one
error line naming it, and nothing is written. --splits N (default 0: the published split only)
also runs everything on N other splits (naap.uncertainty, docs/uncertainty.md).
--today adds today's predictors (XGBoost, LightGBM, NGBoost: naap.predictors.TODAY) as rows after the 24.

Example:
  python run_experiments.py naap440.csv results/ --compare ../shared/naap440/published_results.csv
  python run_experiments.py naap440.csv results_gp/ --predictor "GP=examples/gp_predictor.py:make" --splits 100
"""
import os

if __name__ == "__main__":
    # GNU OpenMP threads (k-NN's neighbour search) busy-wait after every call by default, which
    # steals the other worker's core. Read once, when the OpenMP runtime loads: set it first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import functools
import time

from naap import figures, plugins, protocol, uncertainty, workers
from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number
from naap.data import FEATURE_SETS, split_bins
from naap.data.load import load_dataset, split
from naap.files import atomic_output_dir, atomic_write_text, check_outputs_not_inputs
from naap.predictors import TODAY
from naap.protocol.run import load_caching_kernels

# ----------------------------------------------------------------------------- settings
DATASET_COLUMNS = list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols))  # paper 1's 4 sets
TODAY_ROWS = "--today's predictors"  # how a plug-in name clash with them is described
SPLITS_RUNS_DECIMALS = {c: protocol.OUTPUT_DECIMALS for c in ["MAE", "KendallTau", *protocol.QUALITY_COLUMNS]}


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV, e.g. naap440.csv")
    parser.add_argument("out_dir", nargs="?", help="output directory (without it the table is printed)")
    parser.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS,
                        help=f"estimator set: {' or '.join(protocol.ESTIMATOR_SETS)} "
                             f"(default {protocol.DEFAULT_ESTIMATORS})")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    parser.add_argument("--compare", metavar="PUBLISHED.csv", help="add a difference table against this results file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--predictor", action="append", default=[], metavar="NAME=MODULE:FACTORY",
                        help="a plug-in predictor to run beside the baselines (repeatable); MODULE: a module "
                             "importable from the working directory, or a .py file")
    parser.add_argument("--no-baselines", action="store_true", help="run only the --predictor plug-ins")
    parser.add_argument("--today", action="store_true",
                        help=f"add today's predictors ({', '.join(TODAY)}) as rows after the 24 baselines")
    parser.add_argument("--splits", default="0", metavar="N",
                        help="also run everything on N other splits (a random test model per bin; default 0)")
    return parser.parse_args(argv)


def run_splits(df, frame, num_splits, args, jobs, names, regressors):
    """(runs, summary, pairs) of --splits: every split's runs, the per-model summary, the leaders."""
    runs = uncertainty.run_splits(df, num_splits, args.estimators, jobs, names, regressors,
                                  progress=not args.no_progress)
    return runs, uncertainty.splits_summary(runs, frame), uncertainty.pairs_frame(runs, frame)


def in_worker(fig_dir, features, runs, y_test):
    """run_table's on_result, in the worker that fitted the runs: their bootstrap intervals and,
    unless fig_dir is None, their figures, so the parent does neither serially afterwards."""
    uncertainty.attach_intervals(features, runs, y_test)
    if fig_dir is not None:
        figures.write_run_figures(fig_dir, features, runs, y_test)


def print_tables(df, published, num_splits, args, jobs, names, regressors, y_tests):
    """Without OUT_DIR: run everything and print the tables; returns results_extended.csv's frame."""
    results = protocol.run_table(df, args.estimators, jobs, names, regressors, progress=not args.no_progress,
                                 on_result=functools.partial(in_worker, None))
    frame = protocol.results_frame(results, y_tests, uncertainty.bootstrap_table(results, y_tests))
    print(protocol.markdown_table(frame), end="")
    if published is not None:
        print()
        print(protocol.compare_markdown(protocol.compare_frame(frame, published)), end="")
    if num_splits:
        _, summary, pairs = run_splits(df, frame, num_splits, args, jobs, names, regressors)
        print()
        print(uncertainty.splits_markdown(summary, pairs, num_splits), end="")
    return frame


def write_outputs(tmp, df, published, num_splits, args, jobs, names, regressors, y_tests):
    """Run everything and write every output into tmp; returns (results_extended.csv's frame, the
    comparison frame or None)."""
    figures.make_figure_dirs(tmp / "figures")
    figures.preload()
    results = protocol.run_table(df, args.estimators, jobs, names, regressors,
                                 on_result=functools.partial(in_worker, tmp / "figures"),
                                 progress=not args.no_progress)
    frame = protocol.results_frame(results, y_tests, uncertainty.bootstrap_table(results, y_tests))
    atomic_write_text(tmp / "results.csv", frame[protocol.RESULT_COLUMNS].to_csv(index=False))
    atomic_write_text(tmp / "results_extended.csv", frame.to_csv(index=False))
    atomic_write_text(tmp / "results.md", protocol.markdown_table(frame))
    figures.plot_summary(frame, tmp / "summary.png", intervals=True)
    comparison = None
    if published is not None:
        comparison = protocol.compare_frame(frame, published)
        atomic_write_text(tmp / "comparison.csv", comparison.to_csv(index=False))
        atomic_write_text(tmp / "comparison.md", protocol.compare_markdown(comparison))
    if num_splits:
        runs, summary, pairs = run_splits(df, frame, num_splits, args, jobs, names, regressors)
        atomic_write_text(tmp / "results_splits.csv", summary.to_csv(index=False))
        atomic_write_text(tmp / "results_splits_runs.csv", runs.round(SPLITS_RUNS_DECIMALS).to_csv(index=False))
        atomic_write_text(tmp / "results_splits_pairs.csv", pairs.to_csv(index=False))
        atomic_write_text(tmp / "results_splits.md", uncertainty.splits_markdown(summary, pairs, num_splits))
        figures.plot_splits(summary, tmp / "splits.png")
    return frame, comparison


def main(args):
    """Run everything; returns the results table (results_extended.csv as a DataFrame)."""
    jobs = workers.jobs_option(args.jobs)
    num_splits = whole_number("--splits", args.splits, 0, uncertainty.MAX_SPLITS)
    protocol.check_estimator_set(args.estimators)
    if args.no_baselines and not args.predictor and not args.today:
        raise InputError("--no-baselines: nothing left to run (add a --predictor or --today)")
    today = dict(TODAY) if args.today else {}
    # the plug-ins' names, before the dataset is read (load_plugins checks them again)
    plugins.check_names([plugins.parse_spec(spec)[0] for spec in args.predictor], args.estimators, today,
                        TODAY_ROWS)
    published = protocol.load_published(args.compare) if args.compare else None
    load = functools.partial(load_dataset, args.dataset, DATASET_COLUMNS)
    # with workers: numba's kernels compiled once, meanwhile, into its cache (not in each worker)
    df = load_caching_kernels(load, args.estimators, [] if args.no_baselines else protocol.BASELINE_NAMES) if jobs > 1 \
        else load()
    if num_splits:
        try:
            split_bins(len(df))
        except ValueError as e:
            raise InputError(f"--splits {num_splits}: {args.dataset}: {e}") from None
    # today's predictors take the plug-ins' path: factories beside the protocol's own, by name
    # checked before the run
    regressors = {**today, **plugins.load_plugins(args.predictor, df, args.estimators, today, TODAY_ROWS)}
    names = ([] if args.no_baselines else list(protocol.BASELINE_NAMES)) + list(regressors)
    y_tests = {features: split(df, cols)[3] for features, cols in FEATURE_SETS.items()}
    run = (df, published, num_splits, args, jobs, names, regressors, y_tests)
    start = time.perf_counter()
    if args.out_dir is None:
        return print_tables(*run)
    # replacing OUT_DIR (--force) must not delete what this run reads
    check_outputs_not_inputs([args.out_dir], [args.dataset, *([args.compare] if args.compare else []),
                                              *plugins.source_files(args.predictor)])
    with atomic_output_dir(args.out_dir, args.force) as tmp:
        frame, comparison = write_outputs(tmp, *run)
    print(f"{args.out_dir}: {len(frame)} runs, {2 * len(frame)} figures"
          + (f", {num_splits} other splits" if num_splits else "") + f" in {time.perf_counter() - start:.1f} s")
    if comparison is not None:
        print(f"{int(comparison['Match'].sum())} of {len(comparison)} rows match {args.compare}")
    return frame


if __name__ == "__main__":
    run_cli(main, parse_args())
