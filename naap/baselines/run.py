"""What one baselines.py run computes: its zero-cost proxies, its tasks and their scored rows.

Library module (no command line, no work at import). baselines.py's docstring says what each
method is; naap.learning_curves holds the learning-curve methods, naap.baselines.report the tables.

- Zero-cost proxies: load_zero_cost reads zero_cost.py's CSV for the dataset's ModelIds;
  proxy_ranking makes a proxy a ranker, impute_proxies makes it a finite feature.
- Tasks (build_tasks, run_tasks): the long work of one split, (kind, key, args) tuples run in a
  pool of forked workers: the paper's regressors per (epoch count, family) (protocol.evaluate),
  LcSVR per epoch count, LCE per chunk of test models; with today, also today's predictors
  (naap.predictors.TODAY) and the OMNI-style hybrid (naap.predictors.hybrid) per epoch count,
  the hybrid on the learning-curve columns of with_hybrid_features.
- Scores (score, split_rows): one baselines.csv row per method and epoch count, on the test
  rows in ground-truth order; regressor_methods names the regressors' rows in table order.
"""
import math
from concurrent.futures import as_completed

import numpy as np
import pandas as pd

import metrics
from naap import learning_curves, protocol
from naap.cli import InputError
from naap.data import FULL_SCHEME_FEATURES, MAX_VALUE, MODEL_ID, TARGET, TEST_FLAG, features_at
from naap.data.load import read_table
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID, hybrid_columns, lce_table, make_hybrid, with_curve_features
from naap.workers import process_pool

TABLE_RANKERS = {"MACs": "NumMACs", "#params": "NumParams"}  # method -> table column (log is monotone)
ZC_SUFFIX = " [Scheme+ZC]"  # regressors given the zero-cost proxies as extra features
COLUMNS = ["Method", "Epochs", "MAE", "NumViolations", "TiedPairs", "MaxViolations", "KendallTau", "SpearmanRho",
           *(f"PrecisionAt{k}" for k in protocol.PRECISION_KS), *protocol.QUALITY_COLUMNS]
LCE_CHUNKS_PER_JOB = 4  # test models split into jobs x this many tasks
# zero-cost proxies that count a model's size: positive, as the dataset's NumMACs and NumParams must be
POSITIVE_PROXIES = ("MACs", "#params")


# ----------------------------------------------------------------------------- zero-cost proxies
def zero_cost_proxies():
    """(the proxies zero_cost.py always writes, those it adds with --data-root): its MACs column and
    naap.zero_cost_proxies' DATA_FREE, then WITH_DATA. Imported here only: it loads PyTorch."""
    from naap import zero_cost_proxies as zcp
    return ["MACs", *zcp.DATA_FREE], list(zcp.WITH_DATA)


def _check_model_ids(path, ids, df, dataset):
    """InputError unless zero_cost.py's ModelIds are numeric, unique and exactly df's."""
    if not pd.api.types.is_numeric_dtype(ids) or ids.isna().any():
        raise InputError(f"{path}: column {MODEL_ID} is not numeric or has missing values")
    if ids.duplicated().any():
        raise InputError(f"{path}: ModelId {ids[ids.duplicated()].iloc[0]:g} appears more than once")
    known = set(df[MODEL_ID].tolist())
    unknown = [i for i in ids.tolist() if i not in known]
    if unknown:
        raise InputError(f"{path}: ModelId {unknown[0]:g} is not in {dataset}")
    absent = sorted(known - set(ids.tolist()))
    if absent:
        raise InputError(f"{path}: no row for ModelId {absent[0]:g} of {dataset} ({len(absent)} missing)")


def _proxy_values(path, rows, p, dataset):
    """The values of proxy column p (NaN kept), or InputError: not numeric, infinite or too large,
    a size (POSITIVE_PROXIES) not positive, or no value at all."""
    column = rows[p]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise InputError(f"{path}: column {p} is not numeric")
    v = column.to_numpy(float)
    bad = np.isinf(v) | (np.abs(v) > MAX_VALUE)  # NaN compares False: kept
    if bad.any():
        i = int(bad.argmax())
        raise InputError(f"{path}: column {p} has an infinite or too large value "
                         f"(ModelId {rows.index[i]:g}: {v[i]})")
    if p in POSITIVE_PROXIES and (v <= 0).any():  # NaN compares False: kept, as a missing value
        i = int((v <= 0).argmax())
        raise InputError(f"{path}: column {p} must be positive (ModelId {rows.index[i]:g}: {v[i]:g})")
    if np.isnan(v).all():
        raise InputError(f"{path}: column {p} has no value for any model of {dataset}")
    return v


def load_zero_cost(path, df, dataset):
    """The proxy columns of zero_cost.py's CSV, in file order, and {proxy: values of df's rows}.

    A missing value (NaN: the proxy failed on that model, as jacov can) is kept: proxy_ranking and
    impute_proxies say how it is scored. InputError (one line naming the file) for a missing
    ModelId column or required proxy, duplicated ModelIds, ModelIds not in the dataset or dataset
    ModelIds without a row, non-numeric columns, infinite or too large values, MACs or #params not
    positive, a column named twice (naap.input_files.read_csv_input), and a proxy with no value at all.
    """
    required, optional = zero_cost_proxies()
    table = read_table(path)
    if MODEL_ID not in table.columns:
        raise InputError(f"{path}: missing column {MODEL_ID}")
    missing = [p for p in required if p not in table.columns]
    if missing:
        raise InputError(f"{path}: missing proxy column(s) {', '.join(missing)}")
    _check_model_ids(path, table[MODEL_ID], df, dataset)
    proxies = [c for c in table.columns if c in required + optional]
    rows = table.set_index(MODEL_ID).loc[df[MODEL_ID]]
    return proxies, {p: _proxy_values(path, rows, p, dataset) for p in proxies}


def proxy_ranking(values):
    """A zero-cost proxy's values as a ranker's predictions. A model where the proxy is missing
    (NaN) ranks last, tied with the other missing ones: a proxy that cannot score a model says
    nothing for it, and TiedPairs and the worst-case P@k show what such ties cost."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isnan(values), -np.inf, values)


def impute_proxies(df, proxies):
    """df with each proxy's missing values replaced by the median of its values over all of df's
    models, so that the regressors' features are finite. Train and test models both count: a proxy
    needs no training and no label, so every model's value is known before anything is fitted."""
    return df.assign(**{p: df[p].fillna(df[p].median()) for p in proxies})


# ----------------------------------------------------------------------------- tasks (run in workers)
def _regressor_task(names, data, estimators, regressors=None):
    return protocol.evaluate(names, *data, estimators=estimators, regressors=regressors)


TASKS = {"regressors": _regressor_task, "lce": learning_curves.lce_rows, "lcsvr": learning_curves.lcsvr}


def _run_task(task):
    kind, key, args = task
    return key, TASKS[kind](*args)


def run_tasks(tasks, jobs, progress):
    """{key: result} of (kind, key, args) tasks, in a pool of `jobs` forked workers when jobs > 1.
    Results do not depend on jobs or on the order of completion."""
    from tqdm import tqdm
    results = {}
    with (tqdm(total=len(tasks), desc="tasks", unit="task", disable=not progress) as bar,
          process_pool(min(jobs, len(tasks)) if jobs > 1 and len(tasks) > 1 else 0) as pool):
        done = map(_run_task, tasks) if pool is None else (
            f.result() for f in as_completed([pool.submit(_run_task, t) for t in tasks]))
        for key, value in done:
            results[key] = value
            bar.update()
    return results


def with_hybrid_features(df, epochs, jobs):
    """df with the hybrid's learning-curve columns (hybrid.with_curve_features) at every k >= 1 of
    epochs, for every model: they need no label, so every split reads the same. LCE's curve fits,
    the costly part, run once, in `jobs` forked workers."""
    ks = [k for k in epochs if k > 0]
    if not ks:
        return df
    accuracies = learning_curves.curve(df, "Accuracy", max(ks))
    with process_pool(jobs if jobs > 1 else 0) as pool:
        lce = lce_table(accuracies, ks, None if pool is None else pool.map)
    return with_curve_features(df, ks, lce)


def _factory_tasks(features, feature_sets, factories, suffix, estimators, split):
    """[(cost, task)] of the regressors `factories` ({name: factory}) as the paper's run: per
    (feature set, family), through protocol.evaluate with regressors={name: factory}."""
    tasks = []
    for cost, (k, family, names, data) in protocol.regressor_tasks(features, feature_sets, list(factories)):
        regressors = {name: factories[name] for name in names}
        tasks.append((cost, ("regressors", (split, suffix, k, family), (names, data, estimators, regressors))))
    return tasks


def build_tasks(df, regressor_epochs, curve_epochs, zc, estimators, jobs, split=0, today=False):
    """[(cost, task)] of the long work on one split: the regressors per (feature set, family), LcSVR
    per epoch count, LCE per chunk of test models; with today, today's predictors and the hybrid
    (df must then hold with_hybrid_features' columns). Keys start with the split."""
    train, test = df[df[TEST_FLAG] == 0], df[df[TEST_FLAG] == 1]
    tasks = []
    variants = [("", ())] + ([(ZC_SUFFIX, zc)] if zc else [])
    features = impute_proxies(df, zc)
    for suffix, proxies in variants:
        feature_sets = {k: features_at(k, proxies) for k in regressor_epochs}
        for cost, (k, family, names, data) in protocol.regressor_tasks(features, feature_sets, protocol.BASELINE_NAMES):
            tasks.append((cost, ("regressors", (split, suffix, k, family), (names, data, estimators))))
        if today:
            tasks += _factory_tasks(features, feature_sets, TODAY, suffix, estimators, split)
    if today:
        hybrid_sets = {k: hybrid_columns(k, zc) for k in regressor_epochs}
        tasks += _factory_tasks(features, hybrid_sets, {HYBRID: make_hybrid}, "", estimators, split)
    if curve_epochs:
        k_max = max(curve_epochs)
        acc_train = learning_curves.curve(train, "Accuracy", k_max)
        acc_test = learning_curves.curve(test, "Accuracy", k_max)
        scheme_train = train[FULL_SCHEME_FEATURES].to_numpy(float)
        scheme_test = test[FULL_SCHEME_FEATURES].to_numpy(float)
        y_train = train[TARGET].to_numpy(float)
        for k in curve_epochs:
            tasks.append((10 + k, ("lcsvr", (split, "LcSVR", k), ((acc_train, scheme_train), (acc_test, scheme_test),
                                                                  y_train, k, estimators))))
        chunks = np.array_split(np.arange(len(acc_test)), min(len(acc_test), jobs * LCE_CHUNKS_PER_JOB))
        for i, rows in enumerate(chunks):
            tasks.append((1000, ("lce", (split, "LCE", i), (acc_test[rows], list(curve_epochs)))))
    return tasks


# ----------------------------------------------------------------------------- scores
def score(method, epochs, pred, y_test, with_mae, std=None):
    """One baselines.csv row (unrounded) of predictions for the test rows in ground-truth order;
    with_mae: pred predicts the accuracy (not only a ranking score); std: predictive deviations."""
    pred = np.asarray(pred, dtype=float)
    violations, max_violations, _ = metrics.monotonicity(pred)  # the protocol's: ties are never violations
    row = {"Method": method, "Epochs": epochs, "MAE": metrics.mae(pred, y_test) if with_mae else math.nan,
           "NumViolations": violations, "TiedPairs": metrics.tied_pairs(pred, y_test), "MaxViolations": max_violations,
           "KendallTau": metrics.kendall_tau(pred, y_test), "SpearmanRho": metrics.spearman_rho(pred, y_test)}
    for k in protocol.PRECISION_KS:  # ties against the method: a tie at the top-k boundary earns no hit
        row[f"PrecisionAt{k}"] = metrics.worst_case_precision_at_k(pred, k) if len(pred) >= k else math.nan
    row.update(protocol.quality_scores(pred, y_test, std, accuracy=with_mae))
    return row


def regressor_methods(zc, today=False):
    """(suffix, name) of the regressors' rows in table order: paper 1's 24, then with today
    TODAY's, each without and (with proxies zc) with ZC_SUFFIX, then the hybrid, whose features
    hold the proxies without a suffix (hybrid_columns)."""
    suffixes = ["", ZC_SUFFIX] if zc else [""]
    methods = [(suffix, name) for suffix in suffixes for name in protocol.BASELINE_NAMES]
    if today:
        methods += [(suffix, name) for suffix in suffixes for name in TODAY] + [("", HYBRID)]
    return methods


def split_rows(df, done, split, regressor_epochs, curve_epochs, zc, today=False):
    """The unrounded baselines.csv rows of one split, from the finished tasks `done`."""
    test = df[df[TEST_FLAG] == 1]
    y_test = test[TARGET].to_numpy(float)
    rows = []
    if 0 in regressor_epochs:
        for method, column in TABLE_RANKERS.items():
            rows.append(score(method, 0, test[column], y_test, False))
        for proxy in zc:
            if proxy not in TABLE_RANKERS:
                rows.append(score(proxy, 0, proxy_ranking(test[proxy]), y_test, False))
    rankers = {"Early stopping": learning_curves.early_stopping, "SoTL": learning_curves.sotl,
               "SoTL-E": learning_curves.sotl_e}  # rank only: no MAE
    for method, rank in rankers.items():
        rows += [score(method, k, rank(test, k), y_test, False) for k in curve_epochs]
    if curve_epochs:
        chunks = sum(key[:2] == (split, "LCE") for key in done)
        lce_pred = np.vstack([done[split, "LCE", i] for i in range(chunks)])
        rows += [score("LCE", k, lce_pred[:, j], y_test, True) for j, k in enumerate(curve_epochs)]
        rows += [score("LcSVR", k, done[split, "LcSVR", k], y_test, True) for k in curve_epochs]
    for suffix, name in regressor_methods(zc, today):
        for k in regressor_epochs:
            run = done[split, suffix, k, protocol.family_of(name)][name]
            rows.append(score(name + suffix, k, run["pred"], y_test, True, run.get("std")))
    return rows
