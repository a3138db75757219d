"""Running the budget map: every predictor on every cell (n train models, k epochs) of every split.

Library module (no command line, no work at import); budget.py is the script. The work of one
split and epoch count is one task (run_task): the split's test models, the epoch count's
features, and every train size n, each predictor through protocol.evaluate (seeds, scaling,
median run) on the first n train models of the split (grid.train_subset). Tasks run in forked
workers (process_pool); each finished task is journaled (naap.budget.journal) so that an
interrupted map resumes where it stopped.

The rankers need no train model (TrainModels 0) and are scored once per split (ranker_rows): MACs
and #params (k = 0), early stopping at every k = 1..90 (the plain answer to "how long to train
each candidate"), SoTL, SoTL-E and LCE (naap.learning_curves), and training every candidate to
the end (k = 90; its ranking is the truth).
"""
import metrics
from naap import learning_curves, protocol, uncertainty
from naap.budget import grid, journal
from naap.data import MODEL_ID, NUM_EPOCHS_TOTAL, TARGET, TEST_FLAG
from naap.data.load import split
from naap.predictors.hybrid import curve_column
from naap.workers import process_pool

EARLY_STOPPING, TO_THE_END, SOTL, SOTL_E, LCE = "Early stopping", "Train to the end", "SoTL", "SoTL-E", "LCE"
SIZE_RANKERS = {"MACs": "NumMACs", "#params": "NumParams"}  # rank by the scheme's size (its log: the same order)
RANKERS = (*SIZE_RANKERS, EARLY_STOPPING, SOTL, SOTL_E, LCE, TO_THE_END)
METRIC_COLUMNS = ["KendallTau", "MAE", *protocol.QUALITY_COLUMNS]  # per split, averaged in budget.csv
RUN_COLUMNS = ["Predictor", "TrainModels", "Epochs", "Split", "GPUSeconds", *METRIC_COLUMNS]

_RUN = {}  # the map's inputs, inherited by forked workers (factories need not pickle)


def scores(pred, y_test, std=None, accuracy=True):
    """METRIC_COLUMNS of predictions for the test models in ground-truth order: tau, and the MAE
    and RMSE/Pearson where pred is an accuracy (not for a ranking score)."""
    out = {"KendallTau": metrics.kendall_tau(pred, y_test),
           "MAE": metrics.mae(pred, y_test) if accuracy else float("nan")}
    out.update(protocol.quality_scores(pred, y_test, std, accuracy))
    return out


def setup(table, epoch_seconds, predictors, estimators, sizes=grid.GRID_TRAIN_SIZES):
    """Hand the map's inputs to run_task (and forked workers): the sorted table with ModelId,
    {ModelId: per-epoch GPU seconds}, predictors {name: (factory, columns(k))}."""
    _RUN.clear()
    _RUN.update(table=table, seconds=epoch_seconds, predictors=predictors, estimators=estimators, sizes=sizes)


def _ids(table):
    """(train ModelIds, test ModelIds) in the table's order."""
    is_test = table[TEST_FLAG] == 1
    return table.loc[~is_test, MODEL_ID].to_numpy(), table.loc[is_test, MODEL_ID].to_numpy()


def run_task(task):
    """(task, RUN_COLUMNS rows) of task (split, k): every predictor at every train size."""
    split_no, k = task
    c = _RUN
    table = uncertainty.split_table(c["table"], split_no)
    train_ids, test_ids = _ids(table)
    by_columns = {}  # predictors that share a feature set share its arrays
    for name, (_, columns) in c["predictors"].items():
        by_columns.setdefault(tuple(columns(k)), []).append(name)
    factories = {name: factory for name, (factory, _) in c["predictors"].items()}
    arrays = {columns: split(table, list(columns)) for columns in by_columns}  # the same for every n
    rows = []
    for n in c["sizes"]:
        sub = grid.train_subset(len(train_ids), split_no, n)
        seconds = grid.cell_seconds(c["seconds"], train_ids[sub], test_ids, k)
        for columns, names in by_columns.items():
            X_train, y_train, X_test, y_test = arrays[columns]
            results = protocol.evaluate(names, X_train[sub], y_train[sub], X_test, y_test, c["estimators"],
                                        regressors=factories)
            for name in names:
                run = results[name]
                rows.append({"Predictor": name, "TrainModels": n, "Epochs": k, "Split": split_no, "GPUSeconds": seconds,
                             **scores(run["pred"], y_test, run.get("std"))})
    return task, rows


def ranker_rows(table, epoch_seconds, split_no, epochs=grid.GRID_EPOCHS):
    """RUN_COLUMNS rows of the rankers on one split (no train model, nothing fitted): MACs and
    #params; early stopping at every k = 1..90; SoTL, SoTL-E and, where the table has its column
    (naap.predictors.hybrid.with_curve_features), LCE at the map's epochs; the truth at k = 90."""
    table = uncertainty.split_table(table, split_no)
    _, test_ids = _ids(table)
    test = table[table[TEST_FLAG] == 1]
    y_test = test[TARGET].to_numpy(float)

    def row(name, k, pred, accuracy):
        return {"Predictor": name, "TrainModels": 0, "Epochs": k, "Split": split_no,
                "GPUSeconds": grid.cell_seconds(epoch_seconds, [], test_ids, k), **scores(pred, y_test, None, accuracy)}

    rows = [row(name, 0, test[column].to_numpy(float), False) for name, column in SIZE_RANKERS.items()]
    rows += [row(EARLY_STOPPING, k, learning_curves.early_stopping(test, k), True)
             for k in range(1, NUM_EPOCHS_TOTAL + 1)]
    for k in (k for k in epochs if k > 0):
        rows += [row(SOTL, k, learning_curves.sotl(test, k), False),
                 row(SOTL_E, k, learning_curves.sotl_e(test, k), False)]
        if curve_column("LCE", k) in test:
            rows.append(row(LCE, k, test[curve_column("LCE", k)].to_numpy(float), True))
    rows.append(row(TO_THE_END, NUM_EPOCHS_TOTAL, y_test, True))
    return rows


def tasks_of(num_splits, epochs):
    """The map's tasks (split, k), the costliest first (more epochs: more features to fit on)."""
    return sorted(((s, k) for s in range(1, num_splits + 1) for k in epochs), key=lambda t: (-t[1], t[0]))


def run_tasks(tasks, jobs, on_done, progress=True):
    """Run the tasks (in `jobs` forked workers when jobs > 1); on_done(task, rows) in the parent as
    each finishes, in whatever order they finish."""
    from concurrent.futures import as_completed

    from tqdm import tqdm
    with (tqdm(total=len(tasks), desc="budget cells", unit="task", disable=not progress) as bar,
          process_pool(min(jobs, len(tasks)) if jobs > 1 and len(tasks) > 1 else 0) as pool):
        done = map(run_task, tasks) if pool is None else (
            f.result() for f in as_completed([pool.submit(run_task, t) for t in tasks]))
        for task, rows in done:
            on_done(task, rows)
            bar.update()


def run_map(table, epoch_seconds, predictors, estimators, num_splits, jobs, key_dir=None, progress=True,
            sizes=grid.GRID_TRAIN_SIZES, epochs=grid.GRID_EPOCHS):
    """RUN_COLUMNS rows of the whole map: every task's, then the rankers' of every split; cells by
    epochs, then split. With key_dir, each task is journaled there as it finishes and read back
    from there on a rerun (and stdout says which); without it, nothing is written."""
    tasks = tasks_of(num_splits, epochs)
    done = {}
    if key_dir is not None:
        journal.open_journal(key_dir)
        done = journal.read_done(key_dir, tasks)
        if done:
            print(f"resuming: {len(done)} of {len(tasks)} tasks already done ({key_dir.parent})")
        else:
            print(f"finished tasks are journaled in {key_dir.parent} (rerun the same command to resume)")

    def on_done(task, rows):
        if key_dir is not None:
            journal.record(key_dir, task, rows)
        done[task] = rows

    setup(table, epoch_seconds, predictors, estimators, sizes)
    run_tasks([t for t in tasks if t not in done], jobs, on_done, progress)
    rankers = [row for s in range(1, num_splits + 1) for row in ranker_rows(table, epoch_seconds, s, epochs)]
    return [row for task in sorted(done, key=lambda t: (t[1], t[0])) for row in done[task]] + rankers
