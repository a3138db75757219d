"""Which predictor at which budget: prediction quality against the whole GPU cost of a prediction.

The papers count only the epochs of the models being predicted ("3 of 90 epochs: 96.7%
acceleration"). A predictor must first be fitted on fully trained models, the larger cost. This
map (after White et al. 2021, "How powerful are performance predictors in neural architecture
search?") scores every predictor on a grid of both budgets: n fully trained models to fit on
(10, 25, 50, 100, 200, 400: naap.budget.GRID_TRAIN_SIZES) and k epochs of training per test
model (0, 3, 6, 9, 30, 90: GRID_EPOCHS), each cell on 20 random splits (NUM_SPLITS;
naap.uncertainty's rule: one random test model per MaxAccuracy bin) under the protocol (5 seeds,
scaling, median run), on paper 1's features of k epochs (after k > 9: the scheme and the last 9
epochs, naap.budget.map_columns). A cell's cost is the GPU hours of its n train models' 90
epochs plus its test models' first k epochs, from the timestamps of the authors' logs
(data_dir_to_csv.py --costs; a log second divided by the mean number of trainings that shared
the GPU, naap.data.costs).

Predictors: paper 1's regressors (DEFAULT_REGRESSORS, one per family; --regressors all for the
24), today's (XGBoost, LightGBM, NGBoost: naap.predictors) and an OMNI-style hybrid (LightGBM on
the scheme, zero-cost proxies and learning-curve features: naap.predictors.hybrid), and any
--predictor plug-in (as in run_experiments.py). Beside them, with no model fitted: MACs and
#params (k = 0), early stopping at every k = 1..90, SoTL, SoTL-E and LCE at the grid's k, and
training every test model to the end (k = 90).

Inputs: DATASET.csv (naap440.csv: the scheme and all 90 epochs), COSTS.csv (data_dir_to_csv.py
--costs); optionally zero_cost.py's CSV (--zero-cost) for the hybrid's proxies.
Without OUT_DIR the best-per-budget table of budget.md is printed and nothing is written.
Outputs in OUT_DIR (built in a temp dir and renamed into place):
  budget.csv          Predictor, TrainModels, Epochs, GPUHours, Splits, KendallTau, KendallTauLow,
                      KendallTauHigh (95% percentile interval over the splits), MAE, RMSE, PearsonR,
                      RegretAt1/5/10, NLL, Coverage90 (means over the splits): one row per
                      predictor and cell
  budget_runs.csv     the same metrics per split
  budget.md           the best cell within each budget, then each predictor's map of tau
  heatmaps/<name>.png each fitted predictor's tau over n x k
  pareto.png          tau against GPU hours: each predictor's Pareto front, early stopping, and
                      training every candidate to the end
While it runs, finished tasks are journaled in .<OUT_DIR name>.resume/ beside OUT_DIR; the same
command resumes an interrupted map, and a completed map deletes the journal. A second run on the
same OUT_DIR while the first one runs is refused.

Example:
  python budget.py naap440.csv costs.csv budget/
"""
import os
import time

import pandas as pd

from naap import budget, figures, plugins, protocol, uncertainty, workers
from naap.budget import inputs, journal
from naap.cli import OneLineArgumentParser, run_cli, whole_number
from naap.data import TEST_FLAG
from naap.files import atomic_output_dir, atomic_write_text, check_output_dir, check_outputs_not_inputs

HEATMAP_DIR = "heatmaps"


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV with all 90 epochs, e.g. naap440.csv")
    parser.add_argument("costs", help="COSTS.csv of data_dir_to_csv.py --costs")
    parser.add_argument("out_dir", nargs="?",
                        help="output directory (without it the best-per-budget table is printed, nothing written)")
    parser.add_argument("--regressors", default=",".join(budget.DEFAULT_REGRESSORS), metavar="NAMES",
                        help="paper 1's regressors to map: comma-separated names, 'all' or 'none' "
                             f"(default: {', '.join(budget.DEFAULT_REGRESSORS)})")
    parser.add_argument("--no-today", action="store_true", help="leave out XGBoost, LightGBM, NGBoost and the hybrid")
    parser.add_argument("--predictor", action="append", default=[], metavar="NAME=MODULE:FACTORY",
                        help="a plug-in predictor to map too (repeatable), as in run_experiments.py")
    parser.add_argument("--zero-cost", metavar="ZC.csv",
                        help="zero_cost.py's CSV: its proxies join the hybrid's features")
    parser.add_argument("--splits", default=str(budget.NUM_SPLITS), metavar="N",
                        help=f"random splits per cell (default {budget.NUM_SPLITS})")
    parser.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS, help="estimator set: "
                        f"{' or '.join(protocol.ESTIMATOR_SETS)} (default {protocol.DEFAULT_ESTIMATORS})")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def write_outputs(tmp, runs, concurrency, num_test):
    """budget.csv, budget_runs.csv, budget.md and the figures in tmp; returns budget.csv's frame."""
    frame = budget.budget_frame(runs)
    atomic_write_text(tmp / "budget.csv", frame.to_csv(index=False, lineterminator="\n"))
    per_split = pd.DataFrame(runs, columns=budget.RUN_COLUMNS)
    atomic_write_text(tmp / "budget_runs.csv",
                      per_split.round(protocol.OUTPUT_DECIMALS).to_csv(index=False, lineterminator="\n"))
    atomic_write_text(tmp / "budget.md", budget.markdown(frame, num_test, concurrency))
    (tmp / HEATMAP_DIR).mkdir()
    fitted = frame[frame["TrainModels"] > 0]
    fronts = {}
    for name, rows in fitted.groupby("Predictor", sort=False):
        figures.plot_budget_heatmap(rows, name, tmp / HEATMAP_DIR / f"{protocol.slug(name)}.png")
        fronts[name] = budget.pareto_front(rows)
    early = frame[frame["Predictor"] == budget.EARLY_STOPPING]
    end = frame[frame["Predictor"] == budget.TO_THE_END].iloc[0]
    figures.plot_budget_pareto(fronts, {budget.EARLY_STOPPING: early}, {budget.TO_THE_END: end}, tmp / "pareto.png")
    return frame


def main(args):
    """Map every predictor; returns budget.csv as a DataFrame."""
    started = time.perf_counter()
    jobs = workers.jobs_option(args.jobs)
    num_splits = whole_number("--splits", args.splits, 1, uncertainty.MAX_SPLITS)
    protocol.check_estimator_set(args.estimators)
    regressors = inputs.parse_regressors(args.regressors)
    sources = [args.dataset, args.costs] + ([args.zero_cost] if args.zero_cost else [])
    if args.out_dir is not None:
        check_outputs_not_inputs([args.out_dir], sources + plugins.source_files(args.predictor))
        check_output_dir(args.out_dir, args.force)  # fail before the long run, and before the journal beside it
    table, seconds, concurrency, proxies, input_bytes = inputs.load_inputs(
        args.dataset, args.costs, args.zero_cost, max(budget.GRID_TRAIN_SIZES))
    predictors = inputs.predictor_table(table, regressors, not args.no_today, args.predictor, proxies,
                                        budget.map_columns, args.estimators)
    progress = not args.no_progress
    key_dir = None
    if args.out_dir is not None:
        settings = (budget.GRID_TRAIN_SIZES, budget.GRID_EPOCHS, budget.SUBSET_SEED, num_splits, args.estimators,
                    list(predictors), protocol.SEEDS,
                    [os.path.abspath(p) for p in plugins.source_files(args.predictor)])
        key_dir = journal.journal_dir(args.out_dir, input_bytes, settings)
        journal.lock_journal(key_dir, args.out_dir)  # another run on OUT_DIR, or a journal that cannot be
        journal.open_journal(key_dir)  # made, is refused before the curve fits
    table = inputs.add_curve_features(table, budget.GRID_EPOCHS, jobs, progress)
    num_test = int((table[TEST_FLAG] == 1).sum())
    if args.out_dir is None:
        runs = budget.run_map(table, seconds, predictors, args.estimators, num_splits, jobs, None, progress)
        text = budget.best_markdown(budget.budget_frame(runs), num_test, concurrency)
        print(text, end="")
        return text
    runs = budget.run_map(table, seconds, predictors, args.estimators, num_splits, jobs, key_dir, progress)
    with atomic_output_dir(args.out_dir, args.force) as tmp:
        frame = write_outputs(tmp, runs, concurrency, num_test)
    journal.remove(key_dir)
    print(f"{args.out_dir}: {len(frame)} cells of {len(predictors)} predictors and "
          f"{len(budget.RANKERS)} rankers on {num_splits} splits in {time.perf_counter() - started:.1f} s")
    return frame

if __name__ == "__main__":
    run_cli(main, parse_args())
