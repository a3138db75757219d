"""The NAAP-440 leaderboard: every predictor on the same random splits, at 0, 3, 6 and 9 epochs.

Rows: paper 1's 24 regressors, the field's baselines (MACs, #params, early stopping, SoTL, SoTL-E,
LCE), today's predictors (XGBoost, LightGBM, NGBoost), the OMNI-style hybrid, and any
--predictor plug-in (as in run_experiments.py: a user's own row, by the same command). Each
fitted predictor is fitted on all the train models of each of NUM_SPLITS random splits
(naap.uncertainty's rule) under the protocol (5 seeds, scaling, median run) on paper 1's features
of k epochs; each value is the mean Kendall tau on the split's test models, with the 95%
percentile interval over the splits, beside the GPU hours it costs (the train models' 90 epochs
and the test models' first k, from the logs' timestamps: naap.data.costs). docs/leaderboard.md
holds its table, rewritten by `python -m bench.update_docs leaderboard`.

Inputs: DATASET.csv (naap440.csv), COSTS.csv (data_dir_to_csv.py --costs). Output: the Markdown
table on stdout (--out FILE: written there instead, an existing FILE replaced only with --force);
nothing else is written.
Examples:
  python data_dir_to_csv.py raw_data naap440.csv --costs costs.csv
  python -m bench.leaderboard naap440.csv costs.csv --jobs 2
  python -m bench.leaderboard naap440.csv costs.csv --predictor "Mine=my_predictor.py:make"
"""

from naap import budget, plugins, protocol, uncertainty, workers
from naap.budget import inputs, report
from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number
from naap.data import TEST_FLAG
from naap.files import atomic_write_text, check_output_file, check_outputs_not_inputs
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID

KIND_BASELINE, KIND_PAPER, KIND_TODAY, KIND_HYBRID, KIND_PLUGIN = (
    "baseline (no fit)", "paper 1", "today", "hybrid", "plug-in")


def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV with all 90 epochs, e.g. naap440.csv")
    parser.add_argument("costs", help="COSTS.csv of data_dir_to_csv.py --costs")
    parser.add_argument("--predictor", action="append", default=[], metavar="NAME=MODULE:FACTORY",
                        help="a plug-in predictor's row (repeatable), as in run_experiments.py")
    parser.add_argument("--regressors", default="all", metavar="NAMES",
                        help="paper 1's regressors: comma-separated names, 'all' (default) or 'none'")
    parser.add_argument("--no-today", action="store_true", help="leave out XGBoost, LightGBM, NGBoost and the hybrid")
    parser.add_argument("--splits", default=str(budget.NUM_SPLITS), metavar="N",
                        help=f"random splits (default {budget.NUM_SPLITS})")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    parser.add_argument("--out", metavar="FILE", help="write the table here instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace an existing --out FILE")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def kinds_of(predictors):
    """{name: kind} of the leaderboard's rows in table order: the baselines, then the predictors."""
    kinds = {name: KIND_BASELINE for name in budget.RANKERS if name != budget.TO_THE_END}
    for name in predictors:
        kinds[name] = (KIND_PAPER if name in protocol.BASELINE_NAMES else KIND_TODAY if name in TODAY
                       else KIND_HYBRID if name == HYBRID else KIND_PLUGIN)
    return kinds


def main(args):
    jobs = workers.jobs_option(args.jobs)
    num_splits = whole_number("--splits", args.splits, 1, uncertainty.MAX_SPLITS)
    regressors = inputs.parse_regressors(args.regressors)
    if args.out == "":
        raise InputError("--out: an empty path; name a file")
    if args.out is not None:  # refused before the run, not after it
        check_outputs_not_inputs([args.out], [args.dataset, args.costs, *plugins.source_files(args.predictor)])
        check_output_file(args.out, replace=args.force)
    table, seconds, _, proxies, _ = inputs.load_inputs(args.dataset, args.costs)
    num_train = int((table[TEST_FLAG] == 0).sum())
    predictors = inputs.predictor_table(table, regressors, not args.no_today, args.predictor, proxies,
                                        budget.map_columns)
    epochs = report.LEADERBOARD_EPOCHS
    table = inputs.add_curve_features(table, epochs, jobs, False)
    runs = budget.run_map(table, seconds, predictors, protocol.DEFAULT_ESTIMATORS, num_splits, jobs, None,
                          not args.no_progress, sizes=(num_train,), epochs=epochs)
    text = report.leaderboard(budget.budget_frame(runs), kinds_of(predictors), num_train, epochs)
    if args.out is not None:
        atomic_write_text(args.out, text, replace=args.force)
    else:
        print(text, end="")
    return text


if __name__ == "__main__":
    run_cli(main, parse_args())
