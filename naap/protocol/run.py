"""Running the protocol: scaling, seeding, scoring and keeping the median run of each regressor
on one feature matrix (evaluate, and evaluate_plain, its literal form), paper 2's noise and final
score, any predictor under the protocol (evaluate_predictor), and paper 1's whole table
(run_table) dealt to worker processes, and the numba kernels of a run compiled once before its
workers fork (load_caching_kernels)."""
import functools
import math
import os
import random
import sys
import warnings

import numpy as np
import sklearn
from sklearn.preprocessing import StandardScaler

import metrics
from naap.cli import RunFailure, check_terminated
from naap.data.columns import FEATURE_SETS
from naap.data.load import split
from naap.protocol.registry import (
    BASELINE_NAMES,
    DETERMINISTIC,
    ENSEMBLE_OF,
    FIT_COST,
    family_of,
    own_regressors,
    paper_rules,
    tree_rules,
)
from naap.protocol.settings import DEFAULT_ESTIMATORS, ENSEMBLE_SIZES, NOISE_STD, SEEDS
from naap.replica import ensembles
from naap.replica.rules import REPLICA_VERSION
from naap.workers import WorkerDied, in_background, process_pool


def scale(X_train, X_test, estimators=DEFAULT_ESTIMATORS):
    """(X_train, X_test) standardised by the train rows' mean and standard deviation, as the
    estimator set's StandardScaler computes them."""
    if "scaler" in paper_rules(estimators):
        # scikit-learn 0.20.1's _incremental_mean_and_var from zero: var = (nanvar * n) / n
        n = X_train.shape[0]
        mean = X_train.sum(axis=0) / n
        deviation = X_train - mean
        variance = (deviation * deviation).sum(axis=0) / n
        variance = (variance * n) / n
        std = np.sqrt(variance)
        std[std == 0.0] = 1.0
        return (X_train - mean) / std, (X_test - mean) / std
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)


def score_run(pred, y_test, seed, estimators=DEFAULT_ESTIMATORS, std=None):
    """A run's scores; the MAE summed left to right under the paper's "mae" rule. std: the
    predictive standard deviations of a predictor that gives them (else None), kept for NLL and
    coverage."""
    violations, max_violations, score = metrics.monotonicity(pred)
    mae = metrics.mae(pred, y_test, sequential="mae" in paper_rules(estimators))
    return dict(pred=pred, mae=mae, violations=violations, max_violations=max_violations, score=score, seed=seed,
                std=std)


def predict_with_std(model, X):
    """(predictions, predictive standard deviations or None), as the model returns them (not cast:
    a plug-in's are checked first, naap.plugins). A model whose predict takes return_std
    (scikit-learn's convention: GaussianProcessRegressor, BayesianRidge) is asked for both; its
    predictions are the same as predict(X)'s."""
    import inspect
    try:
        takes_std = "return_std" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):  # a builtin or C-level predict: no signature to read
        takes_std = False
    return model.predict(X, return_std=True) if takes_std else (model.predict(X), None)


SEED_FREE = "seed_free"  # a factory attribute: its fits draw nothing from the seeded generators


def is_seed_free(factory):
    """Whether a factory (a plug-in's, or one of today's predictors) says that its fits read no
    random state the protocol seeds (factory.seed_free = True): one fit then serves every seed, as
    for the protocol's own k-NN, linear regressions and SVRs."""
    return getattr(factory, SEED_FREE, False) is True


def _as_floats(pred, std):
    return np.asarray(pred, dtype=float), None if std is None else np.asarray(std, dtype=float)


def median_run(runs):
    """The run whose violation count is the median: stable sort by violations, index 2 of 5."""
    return sorted(runs, key=lambda r: r["violations"])[len(runs) // 2]


def prediction_noise(noise_std, n):
    """Paper 2's noise on a run's predictions, N(0, noise_std) from the global NumPy generator,
    drawn where the authors drew it: after the fit and the predict (their run_experiment adds
    np.random.normal(0, 1e-5, size=Y_test.shape) to model.predict's output), so it comes after
    whatever the fit drew. 0.0 without noise."""
    return np.random.normal(0.0, noise_std, n) if noise_std > 0 else 0.0


def _libsvm_seed_draw():
    # BaseLibSVM.fit draws libsvm's seed from the global generator whether libsvm uses it or not
    # (0.20.1 svm/base.py 211, 1.9.1 svm/_base.py 289): a cached SVR prediction must draw it too
    np.random.randint(np.iinfo("i").max)


# what each deterministic family's fit draws from the global generator (k-NN and the linear
# regressions draw nothing): replayed when evaluate() reuses a prediction instead of refitting
FIT_DRAWS = {"SVR": _libsvm_seed_draw}


@functools.lru_cache(maxsize=64)
def _family_draws(family, seed, n_train):
    """What a fit of `family` draws after seeding (ensembles.draws), for the largest size: a
    smaller size draws the same numbers, fewer of them."""
    seed_everything(seed)
    return ensembles.draws(family, max(ENSEMBLE_SIZES), n_train)


@functools.lru_cache(maxsize=32)  # 32 x 201 states x 2.5 KB
def _generator_after_members(family, seed, n_train):
    """The global generator's state after seeding and the draws of 0, 1, ... max(ENSEMBLE_SIZES)
    members: a fit of r members draws what r one-member draws() draw, one after the other (the
    numbers of the first r members of a larger fit). AdaBoost stops early at any round, so its
    noise would otherwise replay up to 200 members' draws per subset and seed."""
    seed_everything(seed)
    after = [np.random.get_state()]
    for _ in range(max(ENSEMBLE_SIZES)):
        ensembles.draws(family, 1, n_train)
        after.append(np.random.get_state())
    return after


@functools.lru_cache(maxsize=1024)
def _ensemble_noise(family, seed, noise_std, n_train, n_test, rounds):
    """prediction_noise after seeding and the draws of a fit of `rounds` members (AdaBoost may
    stop early: ensembles.rounds_drawn)."""
    np.random.set_state(_generator_after_members(family, seed, n_train)[rounds])
    return prediction_noise(noise_std, n_test)


def _check_arrays(X_train, y_train, X_test, y_test):
    X_train, X_test = np.asarray(X_train, dtype=float), np.asarray(X_test, dtype=float)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise ValueError("evaluate: features must be finite")
    return X_train, np.asarray(y_train, dtype=float), X_test, np.asarray(y_test, dtype=float)


def evaluate_plain(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, noise_std=0.0,
                   seeds=SEEDS, regressors=None):
    """The protocol written out literally: one estimator per name, refitted for every seed.

    Same contract and results as evaluate(); kept as the definition that evaluate() is tested
    against, and as the straightforward baseline of bench/bench_experiments.py.
    """
    regressors = own_regressors(estimators) if regressors is None else regressors
    X_train, y_train, X_test, y_test = _check_arrays(X_train, y_train, X_test, y_test)
    results = {}
    for name in names:
        estimator = regressors[name]()
        runs = []
        for seed in seeds:
            check_terminated()  # a SIGTERM noted inside numba (emulated estimators) stops the run here
            seed_everything(seed)
            X_train_s, X_test_s = scale(X_train, X_test, estimators)
            estimator.fit(X_train_s, y_train)
            pred, std = _as_floats(*predict_with_std(estimator, X_test_s))
            runs.append(score_run(pred + prediction_noise(noise_std, len(y_test)), y_test, seed, estimators, std))
        results[name] = median_run(runs)
    return results


def _grown_families(names, regressors, own, rules):
    """{family: {n: name}} of the protocol's own ensembles among names, which the replica grows
    (one fit per family and seed serves every size)."""
    families = {}
    replica_grows = rules != REPLICA_VERSION or ensembles.SUPPORTED
    for name in names:
        if name in ENSEMBLE_OF and regressors[name] is own.get(name) and replica_grows:
            family, n = ENSEMBLE_OF[name]
            families.setdefault(family, {})[n] = name
    return families


def evaluate(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, noise_std=0.0,
             seeds=SEEDS, regressors=None, states=None):
    """Run the protocol for each regressor in `names` on one feature matrix.

    Test rows must be in ground-truth order. With noise_std > 0 (paper 2), Gaussian noise
    N(0, noise_std) is added to the predictions, drawn from the global NumPy generator after the
    fit (prediction_noise), as the authors drew it. Returns {name: result of the median run},
    each result a dict with pred, mae, violations, max_violations, score (unrounded) and seed.

    `regressors` maps names to factories (default: the estimator set's own). `states` (optional,
    a dict the caller keeps between calls on the SAME arrays) holds the grown ensembles per
    (family, seed): a later call asking for a larger N grows them on (paper 2).
    Identical to evaluate_plain(), faster: the scaling is done once (it is deterministic), the
    deterministic regressors are fitted once for all seeds (what their fit draws from the global
    generator is drawn again, FIT_DRAWS, so the noise after it is the same), and the ensembles of
    one family share their fits (the first n members of an N-member fit are the n-member fit).
    """
    own = own_regressors(estimators)
    regressors = own if regressors is None else regressors
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in regressors]
    if unknown:
        raise KeyError(f"unknown regressor(s): {', '.join(unknown)}")
    X_train, y_train, X_test, y_test = _check_arrays(X_train, y_train, X_test, y_test)
    X_train_s, X_test_s = scale(X_train, X_test, estimators)
    rules = tree_rules(estimators)
    families = _grown_families(names, regressors, own, rules)
    grown = {name for members in families.values() for name in members.values()}
    singles = [n for n in names if n not in grown]
    fixed = {}  # deterministic or seed-free name -> its one (prediction, std)
    states = {} if states is None else states
    X32_train, X32_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train_s, X_test_s))
    runs = {name: [] for name in names}
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for seed in seeds:
            check_terminated()  # a SIGTERM noted inside numba (trees, emulated estimators) stops the run here
            for family, members in families.items():
                draws = _family_draws(family, seed, len(y_train))
                state = states.get((family, seed))
                if state is None:
                    state = states[(family, seed)] = ensembles.new_state(
                        family, y_train, len(y_test), ENSEMBLE_SIZES, rules)
                ensembles.grow(state, max(members), X32_train, y_train, X32_test, draws)
                for n, name in members.items():
                    noise = 0.0 if noise_std <= 0 else _ensemble_noise(
                        family, seed, noise_std, len(y_train), len(y_test), ensembles.rounds_drawn(state, n))
                    runs[name].append(score_run(ensembles.predict(state, n) + noise, y_test, seed, estimators))
            for name in singles:
                seed_everything(seed)
                if name in fixed:
                    pred, std = fixed[name]
                    FIT_DRAWS.get(family_of(name), lambda: None)()
                else:
                    pred, std = _as_floats(*predict_with_std(regressors[name]().fit(X_train_s, y_train), X_test_s))
                    if (name in DETERMINISTIC and regressors[name] is own.get(name)) or is_seed_free(regressors[name]):
                        fixed[name] = pred, std
                runs[name].append(score_run(pred + prediction_noise(noise_std, len(y_test)), y_test, seed, estimators,
                                            std))
    return {name: median_run(runs[name]) for name in names}


def final_score(mae, monotonicity_score):
    """Paper 2: round(MAE, 3) * sqrt(1 - monotonicity score); +inf if not a finite number."""
    value = round(mae, 3) * math.sqrt(max(0.0, 1.0 - monotonicity_score)) if math.isfinite(mae) else math.inf
    return value if math.isfinite(value) else math.inf


def best_key(result):
    """Sort key of a scored subset: the lowest final score wins; a tie goes to the subset visited
    first (sort and min are stable), as the authors' `min(results.values(), key=...)` did."""
    return result["final"]


def evaluate_paper2(names, X_train, y_train, X_test, y_test, estimators=DEFAULT_ESTIMATORS, plain=False,
                    states=None):
    """The protocol with paper 2's noise: {name: median run + "final" (the final score)}.
    plain=True uses evaluate_plain (the literal protocol), else evaluate (with `states`)."""
    with np.errstate(all="ignore"):  # Log/Exp may leave their domain; such a subset scores inf
        if plain:
            results = evaluate_plain(names, X_train, y_train, X_test, y_test, estimators, noise_std=NOISE_STD)
        else:
            results = evaluate(names, X_train, y_train, X_test, y_test, estimators, noise_std=NOISE_STD,
                               states=states)
    for r in results.values():
        r["final"] = final_score(r["mae"], r["score"])
    return results


def evaluate_predictor(factory, table, feature_set, estimators=DEFAULT_ESTIMATORS, seeds=SEEDS):
    """Any predictor under the protocol on one of paper 1's feature sets, every seed's run kept.

    factory() returns a fresh object with fit(X, y) (returning itself) and predict(X), as in
    scikit-learn; it is called after each seed is set, and sees what the baselines see: the
    StandardScaler-scaled features of FEATURE_SETS[feature_set]. table: the sorted table of
    load_dataset (test rows IsTest == 1). Returns {"runs": one run per seed (dicts as evaluate()
    gives: pred, mae, violations, max_violations, score, seed), "median": the kept run (the
    protocol's median by violations), "y_test": the test rows' MaxAccuracy in ground-truth order}.
    """
    if feature_set not in FEATURE_SETS:
        raise KeyError(f"unknown feature set {feature_set!r} (choose from {', '.join(FEATURE_SETS)})")
    data = split(table, FEATURE_SETS[feature_set])
    own = {"predictor": factory}
    # evaluate() with one seed at a time is the protocol's own loop, and keeps every seed's run
    runs = [evaluate(list(own), *data, estimators=estimators, seeds=(seed,), regressors=own)["predictor"]
            for seed in seeds]
    return {"runs": runs, "median": median_run(runs), "y_test": data[3]}


# ----------------------------------------------------------------------------- the whole table
def regressor_tasks(df, feature_sets, names):
    """The protocol's units of work: [(cost, (feature set key, family, names, data))], one per
    feature set of feature_sets ({key: columns}) and regressor family, longest first (cost:
    FIT_COST x the number of columns; ties in the given order). names: in table order, grouped by
    family_of; data: split(df, columns), shared by the family's regressors. run_table runs
    FEATURE_SETS' tasks, baselines.py those of its epoch counts."""
    groups = {}
    for name in names:
        groups.setdefault(family_of(name), []).append(name)
    tasks = []
    for key, columns in feature_sets.items():
        data = split(df, columns)
        for family, group in groups.items():
            tasks.append((FIT_COST.get(family, 1) * len(columns), (key, family, group, data)))
    return sorted(tasks, key=lambda t: -t[0])


_TABLE_TASKS = []  # run_table's tasks, inherited by forked workers (factories need not pickle)
_TABLE_RUNNING = []  # shared with forked workers: the pid of the worker running each task, 0 when none


def _run_table_task(index):
    features, names, data, estimators, regressors, on_result, announce = _TABLE_TASKS[index]
    if announce:  # a plug-in that hangs is then known by name (and process, for py-spy or gdb)
        from tqdm import tqdm
        tqdm.write(f"predictor {', '.join(announce)}: fitting on feature set {features} (process {os.getpid()})",
                   file=sys.stderr)
    if _TABLE_RUNNING:
        _TABLE_RUNNING[0][index] = os.getpid()
    results = evaluate(names, *data, estimators=estimators, regressors=regressors)
    if on_result is not None:
        on_result(features, results, data[3])
    if _TABLE_RUNNING:
        _TABLE_RUNNING[0][index] = 0
    return features, results


def _worker_died(error, builtin):
    """The RunFailure for run_table's pool broken by a worker's death (WorkerDied): naming the
    predictor whose task that worker was running (builtin: the protocol's own names)."""
    running = _TABLE_RUNNING[0]
    lines = []
    for index, pid in enumerate(running):
        if pid in error.dead:
            features, names = _TABLE_TASKS[index][:2]
            plugins = [name for name in names if name not in builtin]
            who = f"predictor {', '.join(plugins)}" if plugins else f"regressor(s) {', '.join(names)}"
            lines.append(f"{who} (feature set {features}): its worker process died ({error.dead[pid]})")
    return RunFailure("; ".join(lines) if lines else str(error))


def run_table(df, estimators=DEFAULT_ESTIMATORS, jobs=1, names=None, regressors=None, on_result=None,
              progress=True):
    """Every regressor on every paper-1 feature set: {features: {name: median run}}.

    names: the regressors, in table order (default the 24 baselines); regressors: {name: factory}
    for names that are not the protocol's own. on_result(features, results, y_test) is called in
    the worker once per finished task (figures). With jobs > 1 the tasks run in forked worker
    processes; results do not depend on jobs. With progress, a line on stderr names each plug-in
    (a name not the protocol's own) as its fitting starts; a worker that dies is a RunFailure
    naming the predictor it was running.
    """
    from tqdm import tqdm
    names = list(BASELINE_NAMES if names is None else names)
    table = dict(own_regressors(estimators))
    table.update(regressors or {})
    builtin = set(own_regressors(estimators))
    _TABLE_TASKS[:] = [(features, group, data, estimators, table, on_result,
                        [name for name in group if name not in builtin] if progress else [])
                       for _, (features, _, group, data) in regressor_tasks(df, FEATURE_SETS, names)]
    tasks = range(len(_TABLE_TASKS))
    results = {}
    workers = min(jobs, len(tasks)) if jobs > 1 and len(tasks) > 1 else 0
    if workers:
        from multiprocessing.sharedctypes import RawArray  # before the pool forks its workers
        _TABLE_RUNNING[:] = [RawArray("q", len(tasks))]
    try:
        with (tqdm(total=len(FEATURE_SETS) * len(names), desc="runs", unit="run", disable=not progress) as bar,
              process_pool(workers) as pool):
            for features, runs in (pool.map if pool else map)(_run_table_task, tasks):
                results.setdefault(features, {}).update(runs)
                bar.update(len(runs))
    except WorkerDied as e:
        raise _worker_died(e, builtin) from None
    finally:
        _TABLE_RUNNING.clear()
    return {features: {name: results[features][name] for name in names} for features in FEATURE_SETS}



# ----------------------------------------------------------------------------- compiling first
FEW_TRAIN_ROWS, FEW_TEST_ROWS = 24, 8  # more train rows than the largest k of k-NN
TREE_FAMILIES = frozenset({"Decision Tree", *(family for family, _ in ENSEMBLE_OF.values())})


def _random_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((FEW_TRAIN_ROWS + FEW_TEST_ROWS, 3))
    y = 0.5 + 0.4 * rng.random(FEW_TRAIN_ROWS + FEW_TEST_ROWS)  # accuracies
    return X[:FEW_TRAIN_ROWS], y[:FEW_TRAIN_ROWS], X[FEW_TRAIN_ROWS:], np.sort(y[FEW_TRAIN_ROWS:])


def _fit_few_rows(names, estimators, data):
    """evaluate() of names on a few rows, one seed, so that numba compiles the kernels their fits
    run and stores them in its on-disk cache. data: split()'s arrays, whose first rows are copied
    in their memory layout (numba compiles a kernel once per layout of its arrays), or None for
    random rows (the ensembles copy their input into one layout)."""
    if data is None:
        data = _random_rows()
    else:
        data = tuple(np.array(a[:n], order="K") for a, n in zip(data, (FEW_TRAIN_ROWS, FEW_TRAIN_ROWS,
                                                                         FEW_TEST_ROWS, FEW_TEST_ROWS)))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        evaluate(names, *data, estimators=estimators, seeds=SEEDS[:1])


def load_caching_kernels(load, estimators=DEFAULT_ESTIMATORS, names=BASELINE_NAMES):
    """load() (a table as naap.data.load.load_dataset returns it), and meanwhile numba's on-disk
    cache filled with the kernels of the fits of names (the protocol's own), for the workers of a
    process pool started next: they load the kernels from there instead of each compiling them.
    Two cores compile, each kernel once: a forked process the trees' kernels (the costliest)
    from the start, this one the table's parser and sort while loading it, then a second forked
    process the other regressors' kernels on a few rows of the table's first feature set. The
    fits run in forked processes because this one must not run OpenMP code (scikit-learn's k-NN)
    before a pool forks. Without the cache (not writable) the workers compile as before."""
    own = [name for name in names if name in BASELINE_NAMES]
    # the tree kernels' regressors, Gradient Boosting last: its presort sorts with the kernel that
    # this process compiles meanwhile, loading the table, and by then has stored in the cache
    trees = sorted((name for name in own if family_of(name) in TREE_FAMILIES),
                   key=lambda name: family_of(name) == "Gradient Boosting")
    rest = [name for name in own if name not in trees]
    with in_background(_fit_few_rows, trees, estimators, None):
        table = load()
        with in_background(_fit_few_rows, rest, estimators, split(table, next(iter(FEATURE_SETS.values())))):
            pass  # waits for it
    return table
