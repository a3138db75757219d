"""The baselines the field compares against, and prediction quality against training cost.

Which NAAP-440 test models end up most accurate? Paper 1's regressors answer from the scheme and
the first 3/6/9 of 90 epochs. NAS predictor benchmarks (White et al. 2021, "How powerful are
performance predictors in neural architecture search?"; NASLib's predictor evaluator;
NAS-Bench-Suite-Zero) measure such predictors against cheaper answers. This script scores those
answers on the official split (400 train / 40 test models) with the same metrics, at every number
of training epochs k:

  MACs, #params        rank by the scheme's MAC / parameter count (Epochs 0). Taken from the table's
                       NumMACs / NumParams: thop's counts, equal to zero_cost.py's MACs and #params.
  synflow, ...         with --zero-cost: every other proxy of zero_cost.py's CSV (synflow,
                       logsynflow, zen, l2_norm; nwot, jacov, snip, grad_norm, fisher, grasp when
                       computed), each ranking the models by its value (Epochs 0). A model where
                       a proxy is missing (NaN) ranks last, tied with the other missing ones.
  Early stopping       the test accuracy after epoch k (NASLib's early stopping), k = 1..90.
  SoTL                 minus the sum of the mean training losses of epochs 1..k (Ru et al. 2020).
  SoTL-E               minus the mean training loss of epoch k.
  LCE                  learning-curve extrapolation (Domhan et al. 2015 as a point fit): pow3
                       c - a x^-alpha, exponential c - a exp(-b x) and log-power a / (1 + (x/e^b)^c)
                       are each fitted (scipy's curve_fit, bounded, deterministic initial guesses)
                       to the accuracies at the learning-rate cycle ends 3, 6, 9, ... <= k (the
                       learning rate restarts every recipe.LR_CYCLE epochs; the cycle ends, at the
                       smallest rate, are the settled points of the curve) and extrapolated to epoch
                       90; LCE is the mean of the curves whose fit succeeded. Before epoch 3 (no
                       cycle end), with fewer cycle ends than a curve has parameters (3), or when
                       every fit fails, LCE is the last point (the accuracy at epoch k, or at the
                       last cycle end).
  LcSVR                an SVR (Baker et al. 2017; NASLib's LcSVR, with fixed hyper-parameters
                       instead of its random search) trained on the train models' accuracies of
                       epochs 1..k, their differences and the 6 scheme features, scaled by the
                       estimator set's scaler, predicting MaxAccuracy.
  <regressor>          paper 1's 24 regressors through protocol.evaluate (5 seeds, median run) at
                       k = 0..9, 12, 15, 18, 24, 30, 45, 60, 90 epochs, on Scheme + Quant.k
                       (naap.data.FULL_SCHEME_FEATURES + the first k epochs' columns). At k = 0 the
                       set is paper 1's "Scheme" (NumParams, NumStages only), so that the 0/3/6/9
                       rows are the published table's.
  <regressor> [Scheme+ZC]   with --zero-cost: the same with every zero-cost proxy of the CSV as
                       extra features: "Scheme" + proxies at k = 0, Scheme + proxies + Quant.k after.
                       A missing proxy value is the proxy's median over all models (baselines_run.impute_proxies).

--today adds today's predictors as rows after the regressors, at the regressors' epoch counts and
on every split: XGBoost, LightGBM and NGBoost (naap.predictors.TODAY) through protocol.evaluate
exactly as the 24 (same feature sets, 5 seeds, median run; with --zero-cost also their
[Scheme+ZC] rows), NGBoost's predictive deviation giving its NLL and Coverage90; and the
OMNI-style hybrid (naap.predictors.hybrid, White et al. 2021): LightGBM on the six scheme
columns, the zero-cost proxies of --zero-cost if any, and after k epochs each model's accuracy,
SoTL, SoTL-E and LCE at epoch k. The LCE fits of all the table's models, needed by the hybrid,
run once, in the --jobs workers, before the tasks. The figures draw today's rows as one group.

Each method is scored on the test rows in naap.data.load.load_dataset's ground-truth order:
NumViolations and MaxViolations (metrics.monotonicity, the protocol's rule: equal predictions are
never a violation, so the paper's regressors score as in results.csv), TiedPairs (metrics.tied_pairs:
pairs with equal predictions and different MaxAccuracy, which that rule lets pass), KendallTau,
SpearmanRho, PrecisionAt5, PrecisionAt10 (metrics.worst_case_precision_at_k: equal predictions
ordered against the method, so that a constant predictor gets no hit it did not earn), RegretAt1,
RegretAt5, RegretAt10 (metrics.regret_at_k: the true best accuracy minus the best true accuracy
among the k models predicted best, ties against the method) and, for the methods that predict
accuracy (LCE, LcSVR and the regressors), MAE, RMSE and PearsonR; the rankers' are empty. NLL and
Coverage90 (protocol.QUALITY_COLUMNS) are empty but for --today's NGBoost, the one method here that
gives a predictive distribution.
--splits N scores everything again on N random splits (uncertainty.split_table: one random test
model per MaxAccuracy bin; each split costs as much as the official one).

Inputs: a NAAP-440 CSV (naap440.csv); optionally zero_cost.py's CSV for the same ModelIds.
Outputs in OUT_DIR (built in a temp dir and renamed into place, so a failure leaves nothing):
  baselines.csv              Method, Epochs, MAE, NumViolations, TiedPairs, MaxViolations,
                             KendallTau, SpearmanRho, PrecisionAt5, PrecisionAt10, RMSE, PearsonR,
                             RegretAt1, RegretAt5, RegretAt10, NLL, Coverage90 (4 decimals): one
                             row per method and epoch count
  baselines.md               the best method per epoch count, then the full table
  baselines_vs_epochs.png    Kendall tau, #violations and MAE against the epochs trained
  baselines_vs_compute.png   the same against the share of the full training's compute
  baselines_splits.csv       with --splits N: per method and epoch count, the mean, sd and 95%
                             interval over the N splits of each metric (<metric>_mean, _sd, _lo, _hi)
  baselines_splits_runs.csv  with --splits N: Split, then baselines.csv's columns, every split
--epochs K1,K2,... limits every method to those epoch counts (0 only applies to the regressors and
rankers): a quick run, as in the tests. The results do not depend on --jobs.

The methods live in the package: naap/learning_curves.py (early stopping, SoTL, SoTL-E, LCE,
LcSVR), naap/baselines/run.py (the zero-cost proxies, the tasks, the scores) and
naap/baselines/report.py (the tables); this script reads the options and writes the outputs.

Example:
  python baselines.py naap440.csv baselines/ --zero-cost zero_cost.csv --jobs 2
"""
import os

if __name__ == "__main__":
    # GNU OpenMP threads (k-NN of --estimators sklearn) busy-wait after every call by default,
    # which steals the other worker's core; read once, when the runtime loads: set it first
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import time

import pandas as pd

from naap import figures, protocol, uncertainty, workers
from naap.baselines.report import baselines_frame, compute_share, markdown, rounded, splits_markdown, splits_summary
from naap.baselines.run import (
    COLUMNS,
    ZC_SUFFIX,
    build_tasks,
    load_zero_cost,
    regressor_methods,
    run_tasks,
    split_rows,
    with_hybrid_features,
)
from naap.cli import InputError, OneLineArgumentParser, run_cli, whole_number
from naap.data import (
    FULL_SCHEME_FEATURES,
    MODEL_ID,
    NUM_EPOCHS_TOTAL,
    QUANT_EPOCHS,
    TEST_FLAG,
    epoch_features,
    split_bins,
)
from naap.data.load import load_dataset
from naap.files import atomic_output_dir, atomic_write_text, check_outputs_not_inputs
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID
from naap.training import recipe

# ----------------------------------------------------------------------------- settings
REGRESSOR_EPOCHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 18, 24, 30, 45, 60, 90)
CURVE_EPOCHS = tuple(range(1, NUM_EPOCHS_TOTAL + 1))
PAPER_EPOCHS = (0,) + QUANT_EPOCHS  # paper 1's feature sets, marked in the figures
FIGURE_TICKS = (0, 1, 3, 9, 30, 90)  # epoch counts labelled on the figures' symlog axes


# ----------------------------------------------------------------------------- command line
def parse_args(argv=None):
    parser = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV, e.g. naap440.csv")
    parser.add_argument("out_dir", help="output directory")
    parser.add_argument("--zero-cost", metavar="ZC.csv", help="zero_cost.py's CSV: score its proxies too")
    parser.add_argument("--jobs", default=str(workers.available_cores()), help="worker processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    parser.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS, help="estimator set: "
                        f"{' or '.join(protocol.ESTIMATOR_SETS)} (default {protocol.DEFAULT_ESTIMATORS})")
    parser.add_argument("--epochs", metavar="K1,K2,...", help="only these epoch counts (default: regressors at "
                        f"{','.join(map(str, REGRESSOR_EPOCHS))}, learning curves at 1..{NUM_EPOCHS_TOTAL})")
    parser.add_argument("--splits", default="0", metavar="N", help="also score everything on N random splits "
                        "(uncertainty.py's rule: a random test model per MaxAccuracy bin; default 0)")
    parser.add_argument("--today", action="store_true", help=f"also score today's predictors ({', '.join(TODAY)}) "
                        f"and the {HYBRID} (LightGBM on the scheme, proxies and learning-curve features)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def parse_epochs(text):
    """(regressor epochs, curve epochs) of --epochs K1,K2,... (default: REGRESSOR_EPOCHS, CURVE_EPOCHS)."""
    if text is None:
        return REGRESSOR_EPOCHS, CURVE_EPOCHS
    ks = []
    for part in text.split(","):
        try:
            k = int(part)
        except ValueError:
            raise InputError(f"--epochs {text}: {part!r} is not a whole number") from None
        if not 0 <= k <= NUM_EPOCHS_TOTAL:
            raise InputError(f"--epochs {text}: {k} is not an epoch count from 0 to {NUM_EPOCHS_TOTAL}")
        ks.append(k)
    ks = sorted(set(ks))
    return tuple(ks), tuple(k for k in ks if k > 0)


# ----------------------------------------------------------------------------- inputs and outputs
def load_inputs(args, regressor_epochs, num_splits):
    """(the dataset's rows with the zero-cost proxies as columns, the proxies): InputError for a
    table too small for --splits, or a zero-cost CSV that does not fit the dataset."""
    columns = FULL_SCHEME_FEATURES + epoch_features(max(regressor_epochs))
    df = load_dataset(args.dataset, columns + ([MODEL_ID] if args.zero_cost else []))
    if num_splits:
        try:
            split_bins(len(df))
        except ValueError as e:
            raise InputError(f"--splits {num_splits}: {args.dataset}: {e}") from None
    zc, zc_values = load_zero_cost(args.zero_cost, df, args.dataset) if args.zero_cost else ([], {})
    df = pd.concat([df, pd.DataFrame(zc_values, index=df.index)], axis=1)  # one insert, not one per proxy
    return df, zc


def write_tables(tmp, rows, num_test, zero_cost, zc, num_splits, today=False):
    """baselines.csv, baselines.md and, with --splits, baselines_splits(_runs).csv in tmp; returns
    baselines.csv as a DataFrame."""
    frame = baselines_frame(rows[0])
    zc_note = (f"Zero-cost proxies from {os.path.basename(zero_cost)}: {', '.join(zc)}; "
               f"'{ZC_SUFFIX.strip()}' marks the regressors given them as extra features."
               if zc else "No zero-cost proxies besides MACs and #params (no --zero-cost).")
    if today:
        zc_note += (f" Today's predictors ({', '.join(TODAY)}) run as the paper's regressors, on the same "
                    f"features; {HYBRID}: LightGBM on the scheme, the zero-cost proxies and each model's "
                    "accuracy, SoTL, SoTL-E and LCE at k epochs. NGBoost's NLL and Coverage90 are in baselines.csv.")
    atomic_write_text(tmp / "baselines.csv", frame.to_csv(index=False, lineterminator="\n"))
    md = markdown(frame, num_test, zc_note)
    if num_splits:
        runs = pd.concat([pd.DataFrame(rows[s], columns=COLUMNS).assign(Split=s) for s in range(1, num_splits + 1)])
        summary = splits_summary(runs)
        atomic_write_text(tmp / "baselines_splits.csv", summary.to_csv(index=False, lineterminator="\n"))
        atomic_write_text(tmp / "baselines_splits_runs.csv",
                          rounded(runs[["Split"] + COLUMNS]).to_csv(index=False, lineterminator="\n"))
        md += splits_markdown(summary, num_splits)
    atomic_write_text(tmp / "baselines.md", md)
    return frame


def draw_figures(tmp, frame, zc, max_epochs, today=False):
    """baselines_vs_epochs.png and baselines_vs_compute.png in tmp."""
    groups = {"paper regressors": list(protocol.BASELINE_NAMES)}
    if zc:
        groups["paper regressors + ZC"] = [name + ZC_SUFFIX for name in protocol.BASELINE_NAMES]
    if today:  # one group, ZC variants and hybrid included: the figures' three band colours suffice
        groups["today's predictors"] = [name + suffix for suffix, name in regressor_methods(zc, today)
                                        if name not in protocol.BASELINE_NAMES]
    cycle_ends = range(recipe.LR_CYCLE, NUM_EPOCHS_TOTAL + 1, recipe.LR_CYCLE)
    ticks = [k for k in FIGURE_TICKS if k <= max_epochs]
    figures.plot_baselines(frame, tmp / "baselines_vs_epochs.png", x_of=lambda k: k,
                           x_ticks={k: str(k) for k in ticks},
                           xlabel="epochs trained (symlog axis: 0 = no training, linear up to 1)",
                           groups=groups, marks=PAPER_EPOCHS, cycle_ends=cycle_ends)
    share = {k: 100.0 * compute_share(k) for k in ticks}
    figures.plot_baselines(frame, tmp / "baselines_vs_compute.png", x_of=lambda k: 100.0 * compute_share(k),
                           x_ticks={k: f"{share[k]:.3g}%" for k in ticks},
                           xlabel="share of the full training's compute (MACs x epochs / (MACs x 90), mean over "
                                  "the test models; symlog axis: 0 = no training)",
                           groups=groups, marks=PAPER_EPOCHS, cycle_ends=cycle_ends)


def main(args):
    """Score every baseline; returns the baselines.csv table as a DataFrame."""
    started = time.perf_counter()
    jobs = workers.jobs_option(args.jobs)
    num_splits = whole_number("--splits", args.splits, 0, uncertainty.MAX_SPLITS)
    protocol.check_estimator_set(args.estimators)
    regressor_epochs, curve_epochs = parse_epochs(args.epochs)
    inputs = [args.dataset] + ([args.zero_cost] if args.zero_cost else [])
    check_outputs_not_inputs([args.out_dir], inputs)
    df, zc = load_inputs(args, regressor_epochs, num_splits)

    with atomic_output_dir(args.out_dir, args.force) as tmp:  # OUT_DIR checked before the LCE fits
        if args.today:
            if not args.no_progress:
                print(f"fitting LCE's learning curves of {len(df)} models for the {HYBRID}")
            df = with_hybrid_features(df, regressor_epochs, jobs)
        tables = {split: uncertainty.split_table(df, split) for split in range(num_splits + 1)}  # 0: the official
        tasks = [task for split, table in tables.items() for task in
                 build_tasks(table, regressor_epochs, curve_epochs, zc, args.estimators, jobs, split, args.today)]
        done = run_tasks([task for _, task in sorted(tasks, key=lambda t: -t[0])], jobs, not args.no_progress)
        rows = {split: split_rows(table, done, split, regressor_epochs, curve_epochs, zc, args.today)
                for split, table in tables.items()}
        frame = write_tables(tmp, rows, int((df[TEST_FLAG] == 1).sum()), args.zero_cost, zc, num_splits, args.today)
        draw_figures(tmp, frame, zc, max(regressor_epochs + curve_epochs), args.today)
    regressor_runs = len(regressor_epochs) * len(regressor_methods(zc, args.today)) * (num_splits + 1)
    print(f"{args.out_dir}: {len(frame)} rows ({regressor_runs} regressor runs, learning curves at "
          f"{len(curve_epochs)} epoch counts{f', {num_splits} random splits' if num_splits else ''}) "
          f"in {time.perf_counter() - started:.1f} s")
    return frame


if __name__ == "__main__":
    run_cli(main, parse_args())
