"""The NAAP-440 protocol: one home for the regressors, seeds, scaling, scoring and result tables.

Library package (no command line, no work at import). run_experiments.py (paper 1's table),
feature_selection.py (paper 2), bench/ and tests all import it; it imports no script. The table
it runs on (columns, feature sets, loading and splitting) is naap.data's. Its modules:
  settings    seeds, regressor sizes and hyperparameters, estimator sets, paper 2's noise and modes
  estimators  the machine-independent estimators and the linear regressions' target transforms
  registry    the regressors by name and family, the rules of an estimator set, fit costs
  run         scaling, seeding, scoring, the median run, evaluate*, run_table (paper 1's table)
  tables      results.csv / results_extended.csv frames, the Markdown table, file-name slugs
  published   a published results CSV and the comparison against it

Around the protocol: scores beyond paper 1's (tables.QUALITY_COLUMNS: RMSE, Pearson r,
regret@k, and NLL and 90% coverage for a predictor whose predict takes return_std).

THE PROTOCOL (what decides every published number)
- The CSV is parsed as pandas 0.23.4 parsed it (naap.data.load, pandas_0_23_parser.read_csv_2022: its
  xstrtod float parser differs from today's in the last bit of 2,875 cells of naap440.csv).
- NumParams and NumMACs are replaced by their natural log (the C library's log, math.log: numpy's
  SIMD log differs in the last bit on some CPUs).
- The table is sorted by MaxAccuracy in the order numpy 1.15.4's quicksort gave (pandas 0.23.4's
  sort_values); that order is the ground-truth rank of the test rows (IsTest == 1), and tied rows
  keep it on every CPU (numpy_1_15_quicksort.argsort_1_15).
- Per (regressor, feature set) the estimator is built once. For each seed in SEEDS: random.seed
  and numpy.random.seed, a StandardScaler fitted on the train rows, fit on the scaled train rows,
  predict the scaled test rows. No estimator gets a random_state.
- Violations: test rows ordered by prediction with a stable sort, pairs out of ground-truth
  order counted (metrics.monotonicity). Of the 5 seeds the run with the median violation count
  is kept (stable sort by violations, index 2). MAE is summed left to right (metrics.mae); MAE
  and score are rounded with Python's round(x, 4) on output.

TWO ESTIMATOR SETS (ESTIMATOR_SETS), the same protocol around them:
- "paper" (default): the 24 regressors as scikit-learn 0.20.1 fitted them in 2022, emulated on
  today's libraries (FIDELITY notes below, docs/protocol.md). It reproduces the published table.
- "sklearn": the installed scikit-learn's estimators (on 1.9.1 the exact fast replicas of its
  trees and ensembles, naap/replica/trees.py and ensembles.py).
Both are made machine-independent: no result depends on numpy's SIMD dispatch, BLAS kernel,
thread count or --jobs. Where today's library would (numpy's log/pow, BLAS dot products in SVR
and LinearRegression, k-NN's OpenMP heaps, numpy's argsort), the same arithmetic is done in a
fixed order instead.

FIDELITY notes of the "paper" set (scikit-learn 0.20.1 against today, each a switch in
PAPER_RULES so that bench/bench_fidelity.py can measure what it changes):
  parser      CSV floats by pandas 0.23.4's xstrtod                       (both sets: data path)
  order       table order of numpy 1.15.4's quicksort                    (both sets: data path)
  leaf        a node with impurity <= 1e-7 is a leaf (min_impurity_split)
  sort        the splitter's introsort runs 3-way partitions all the way down
  rand_r      the splitter's generator has no seed-0 fix (a seed of 0 stays 0)
  gb          Gradient Boosting presorts X (numpy 1.15.4 argsort) and scores splits by FriedmanMSE
  ada_clip    AdaBoost does not clip sample weights at machine epsilon
  knn         k-NN picks neighbours by numpy 1.15.4's argpartition + argsort
  lstsq       LinearRegression's least squares with scipy's default singular-value cutoff
  scaler      StandardScaler's variance as (var * n) / n
  svr_gamma   SVR's default gamma 'auto' = 1 / n_features
  svr_dot     SVR's kernel dot products summed left to right (off: OpenBLAS Haswell's ddot, whose
              blocks of 16 use fused multiply-adds, computed exactly on any CPU)
  mae         MAE summed left to right (bottleneck's nanmean, as pandas used it)
An estimator set may also be given as a frozenset of these names (the paper set with some
switched off); ESTIMATOR_SETS are the two that users choose from.
"""

from naap.protocol.estimators import (
    TARGET_TRANSFORMS,
    PaperKNN,
    ProtocolEnsemble,
    ProtocolLinear,
    ProtocolSVR,
    ProtocolTree,
    SklearnKNN,
    power_target,
)
from naap.protocol.published import compare_frame, compare_markdown, load_published, model_key
from naap.protocol.registry import (
    BASELINE_NAMES,
    DEFAULT_FIT_COST,
    DETERMINISTIC,
    ENSEMBLE_OF,
    EXTRAPOLATING,
    FAMILIES,
    FAMILY_OF_NAME,
    FIT_COST,
    PAPER2_EXTRA,
    PAPER2_NAMES,
    REGRESSORS,
    check_estimator_set,
    family_of,
    own_regressors,
    paper_rules,
    regressors,
    tree_rules,
)
from naap.protocol.run import (
    FIT_DRAWS,
    SEED_FREE,
    best_key,
    evaluate,
    evaluate_paper2,
    evaluate_plain,
    evaluate_predictor,
    final_score,
    is_seed_free,
    median_run,
    predict_with_std,
    prediction_noise,
    regressor_tasks,
    run_table,
    scale,
    score_run,
    seed_everything,
)
from naap.protocol.settings import (
    DATA_RULES,
    DEFAULT_ESTIMATORS,
    ENSEMBLE_SIZES,
    ESTIMATOR_SETS,
    KNN_KS,
    KNN_OMP_THREADS,
    MODES,
    NOISE_STD,
    PAPER_RULES,
    SEEDS,
    SVR_C,
    SVR_COEF0,
    SVR_DEGREE,
    SVR_EPSILON,
    SVR_KERNELS,
)
from naap.protocol.tables import (
    COVERAGE_LEVEL,
    DISTRIBUTION_COLUMNS,
    EXTRA_COLUMNS,
    INTERVAL_COLUMNS,
    INTERVAL_METRICS,
    OUTPUT_DECIMALS,
    PRECISION_KS,
    QUALITY_COLUMNS,
    RANK_COLUMNS,
    REGRET_KS,
    RESULT_COLUMNS,
    TABLE_DECIMALS,
    cell_text,
    grid_table,
    markdown_table,
    precision_or_nan,
    quality_scores,
    results_frame,
    slug,
)

__all__ = [
    # settings
    "SEEDS", "ENSEMBLE_SIZES", "KNN_KS", "SVR_KERNELS", "SVR_EPSILON", "SVR_C", "SVR_DEGREE", "SVR_COEF0",
    "KNN_OMP_THREADS", "ESTIMATOR_SETS", "DEFAULT_ESTIMATORS", "PAPER_RULES", "DATA_RULES", "NOISE_STD",
    "MODES",
    # estimators
    "ProtocolLinear", "ProtocolSVR", "PaperKNN", "SklearnKNN", "ProtocolTree", "ProtocolEnsemble",
    "power_target", "TARGET_TRANSFORMS",
    # registry
    "PAPER2_EXTRA", "FAMILIES", "BASELINE_NAMES", "PAPER2_NAMES", "FAMILY_OF_NAME", "ENSEMBLE_OF",
    "EXTRAPOLATING", "DETERMINISTIC", "check_estimator_set", "family_of", "paper_rules", "tree_rules", "regressors",
    "REGRESSORS",
    "own_regressors", "FIT_COST", "DEFAULT_FIT_COST",
    # run
    "scale", "seed_everything", "score_run", "predict_with_std", "SEED_FREE", "is_seed_free", "median_run",
    "prediction_noise", "FIT_DRAWS",
    "evaluate_plain",
    "evaluate", "final_score", "best_key", "evaluate_paper2", "evaluate_predictor", "regressor_tasks",
    "run_table",
    # tables
    "RESULT_COLUMNS", "PRECISION_KS", "RANK_COLUMNS", "REGRET_KS", "COVERAGE_LEVEL", "DISTRIBUTION_COLUMNS",
    "QUALITY_COLUMNS",
    "INTERVAL_METRICS", "INTERVAL_COLUMNS", "EXTRA_COLUMNS", "OUTPUT_DECIMALS", "TABLE_DECIMALS",
    "precision_or_nan", "quality_scores", "results_frame", "grid_table", "cell_text",
    "markdown_table", "slug",
    # published
    "model_key", "load_published", "compare_frame", "compare_markdown",
]
