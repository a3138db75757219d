"""The budget map: which predictor to use at which cost, counting the fully trained models a
predictor is fitted on (n) as well as the epochs each candidate trains (k).

- grid: the cells (GRID_TRAIN_SIZES x GRID_EPOCHS), the nested train subsets, a cell's GPU seconds.
- run: one task per (split, k), every predictor on every n; the rankers per split.
- journal: the resume journal beside OUT_DIR.
- inputs: the table with its learning-curve columns, the GPU seconds, the predictors by name.
- report: budget.csv (means and tau intervals over the splits), the Pareto front, budget.md.
"""
from naap.budget.grid import (
    BUDGET_LIMITS,
    DEFAULT_REGRESSORS,
    GRID_EPOCHS,
    GRID_TRAIN_SIZES,
    NUM_SPLITS,
    SECONDS_PER_HOUR,
    SUBSET_SEED,
    WINDOW_EPOCHS,
    cell_seconds,
    map_columns,
    train_subset,
)
from naap.budget.report import (
    COLUMNS,
    LEADERBOARD_EPOCHS,
    TAU_INTERVAL,
    best_markdown,
    best_within,
    break_even,
    budget_frame,
    leaderboard,
    markdown,
    pareto_front,
)
from naap.budget.run import (
    EARLY_STOPPING,
    LCE,
    METRIC_COLUMNS,
    RANKERS,
    RUN_COLUMNS,
    SIZE_RANKERS,
    SOTL,
    SOTL_E,
    TO_THE_END,
    ranker_rows,
    run_map,
    run_task,
    run_tasks,
    scores,
    setup,
    tasks_of,
)

__all__ = ["GRID_TRAIN_SIZES", "GRID_EPOCHS", "NUM_SPLITS", "SUBSET_SEED", "DEFAULT_REGRESSORS", "BUDGET_LIMITS",
           "SECONDS_PER_HOUR", "WINDOW_EPOCHS", "map_columns", "train_subset", "cell_seconds",
           "EARLY_STOPPING", "TO_THE_END", "SOTL", "SOTL_E", "LCE", "SIZE_RANKERS", "RANKERS", "METRIC_COLUMNS",
           "RUN_COLUMNS", "scores", "setup", "run_task", "run_map", "ranker_rows", "tasks_of", "run_tasks",
           "COLUMNS", "TAU_INTERVAL", "budget_frame", "pareto_front", "best_within", "best_markdown", "break_even",
           "markdown", "LEADERBOARD_EPOCHS", "leaderboard"]
