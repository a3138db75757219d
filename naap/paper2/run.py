"""Paper 2's searches run: each job's searches, their subsets scored in parallel and journaled.

run_jobs runs jobs two per worker at once (threads, costliest first), and the subsets of each
search round are scored in parallel by worker processes (one BLAS/OpenMP thread each). The
searches of an ensemble family (N = 25, 50, 100, 200) share their fits (run_job): the smallest N
searches first, a subset's ensembles are kept per seed and grown when a larger N visits the
subset, and each evaluation also scores the smaller sizes. Each evaluation is deterministic given
(mode, columns, regressor, estimator set), so the results equal those of a plain per-regressor
search (run_job(..., shared=False)). Every scored subset goes to the job's journal (journal.py).

Held-out selection (select_on="validation"): the searches score subsets on validation models
taken from the mode's training rows (inputs.validation_data), fitted on the rest; score_on_test
then refits each regressor's best subset (and the whole start set) on all the mode's training
rows and scores it once on the test rows.
"""
from concurrent.futures import ThreadPoolExecutor, as_completed

from naap import protocol
from naap.paper2.best_first import best_of, search
from naap.paper2.jobs import ensemble_size, job_cost
from naap.paper2.journal import append_journal, journal_lock, journal_name, read_journal
from naap.workers import process_pool

JOBS_IN_FLIGHT_PER_WORKER = 2  # searches running at once, per worker process


def _score_subset(task):
    """Score one subset for `names` (a worker's task): (results, the subset's grown ensembles)."""
    names, arrays, idx, estimators, plain, states = task
    X_train, y_train, X_test, y_test = arrays
    results = protocol.evaluate_paper2(names, X_train[:, idx], y_train, X_test[:, idx], y_test, estimators,
                                       plain=plain, states=states)
    return results, states


def run_job(job, arrays, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, progress=None, pool=None,
            journal=None):
    """Search every regressor of one job = (mode, feature set name, names) on its split arrays.

    Returns {name: [(mask, result), ...]} in visit order. With shared=True the names must be one
    ensemble family (or a single regressor): the smallest N searches first, a subset's ensembles
    are kept and grown when a larger N visits it, and each evaluation also scores the smaller
    sizes. shared=False is the plain reference: one literal protocol run
    (protocol.evaluate_plain) per (name, mask), nothing reused. With a `pool`
    (concurrent.futures executor) the subsets of each search round are scored in parallel.
    progress(mode, name, steps) is called once per search round. With a `journal` path, every
    scored subset is appended to it and a rerun starts from what it holds (scores are
    deterministic, so the searches replay them and go on where the first run stopped).
    """
    mode, _, names = job
    n = arrays[0].shape[1]
    cache = read_journal(journal) if journal else {}  # (mask, name) -> result
    states = {}  # mask -> the family's ensembles grown so far on that subset
    order = sorted(names, key=lambda m: ensemble_size(m)[1] or 0) if shared else list(names)
    out = {}
    for name in order:
        size = ensemble_size(name)[1]
        group = [m for m in names if (ensemble_size(m)[1] or 0) <= (size or 0)] if shared else [name]

        def prefetch(masks, name=name, group=group):
            masks = [m for m in dict.fromkeys(masks) if (m, name) not in cache]
            tasks = [([g for g in group if (m, g) not in cache], arrays,
                      [i for i, f in enumerate(m) if f], estimators, not shared, states.get(m, {})) for m in masks]
            done = pool.map(_score_subset, tasks) if pool else map(_score_subset, tasks)
            new = {}
            for mask, (results, grown) in zip(masks, done):
                new.update({(mask, g): r for g, r in results.items()})
                if shared:
                    states[mask] = grown
            cache.update(new)
            if journal:
                append_journal(journal, new)

        def score_fn(mask, name=name, prefetch=prefetch):
            prefetch([mask])
            r = cache[(mask, name)]
            return r["final"], r["mae"]

        rounds = [0]

        def on_round(name=name, rounds=rounds):
            rounds[0] += 1
            if progress:
                progress(mode, name, 1)

        visited = search(score_fn, n, on_round, prefetch)
        if progress and rounds[0] < n + 1:
            progress(mode, name, n + 1 - rounds[0])
        out[name] = [(mask, cache[(mask, name)]) for mask, _ in visited]
    return out


def score_on_test(job, visited, arrays, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, pool=None,
                  journal=None):
    """Held-out selection's last step: {name: {mask: result}} for each regressor's best subset
    (best_of its visited list, scored on the validation rows) and its whole start set, fitted on
    all the mode's training rows and scored on its test rows (arrays: the mode's split arrays).

    visited: run_job's {name: [(mask, result), ...]}. Journaled under ("test", mask, name) in the
    job's journal, so a rerun or an assembly run replays them too."""
    cache = read_journal(journal) if journal else {}
    full = (1,) * arrays[0].shape[1]
    picks = {name: list(dict.fromkeys((best_of(visited[name])[0], full))) for name in job[2]}
    wanted = {}  # mask -> the names still to score on it
    for name, masks in picks.items():
        for mask in masks:
            if ("test", mask, name) not in cache:
                wanted.setdefault(mask, []).append(name)
    # shared: one evaluation per subset for all its names, plain: one per (subset, name); a fresh
    # fit either way (the searches' ensembles were grown on other rows)
    units = list(wanted.items()) if shared else [(mask, [n]) for mask, names in wanted.items() for n in names]
    tasks = [(names, arrays, [i for i, f in enumerate(mask) if f], estimators, not shared, {}) for mask, names in units]
    done = pool.map(_score_subset, tasks) if pool else map(_score_subset, tasks)
    new = {("test", mask, g): r for (mask, _), (results, _) in zip(units, done) for g, r in results.items()}
    cache.update(new)
    if journal:
        append_journal(journal, new)
    return {name: {mask: cache[("test", mask, name)] for mask in masks} for name, masks in picks.items()}


def run_jobs(jobs, data, num_workers, estimators=protocol.DEFAULT_ESTIMATORS, shared=True, progress=None,
             journal_dir=None, test_data=None):
    """Run jobs: {(mode, fs, name): [(mask, result), ...]}. With num_workers > 1 the subsets of
    each search round are scored by a pool of forked worker processes, and several jobs run at
    once (threads, costliest first) so that one search's end of round is another's work. With a
    journal_dir, each job keeps its journal there (see run_job), locked while it runs
    (journal_lock). With test_data (held-out selection: `data` holds the fit/validation arrays,
    test_data the mode's own split arrays), returns (that dict, {(mode, fs, name): {mask: test
    result}}) of score_on_test."""
    from threadpoolctl import threadpool_limits
    results, tests = {}, {}

    def run_one(job):
        journal = journal_dir / journal_name(job) if journal_dir else None
        with journal_lock(journal):
            out = run_job(job, data[job[:2]], estimators, shared, progress, pool, journal)
            if test_data is not None:
                for name, tested in score_on_test(job, out, test_data[job[:2]], estimators, shared, pool,
                                                  journal).items():
                    tests[(job[0], job[1], name)] = tested
        return job, out

    with process_pool(num_workers if num_workers > 1 else 0, one_thread=True) as pool:
        threads = ThreadPoolExecutor(JOBS_IN_FLIGHT_PER_WORKER * num_workers) if pool else None
        try:
            with threadpool_limits(1):
                if threads is None:
                    done = map(run_one, jobs)
                else:
                    done = (f.result() for f in as_completed(
                        [threads.submit(run_one, job) for job in sorted(jobs, key=job_cost, reverse=True)]))
                for job, out in done:
                    for name, visited in out.items():
                        results[(job[0], job[1], name)] = visited
        except BaseException:  # a failed job, Ctrl-C or SIGTERM: process_pool stops the workers,
            if threads:  # which ends the other jobs' threads
                threads.shutdown(wait=False, cancel_futures=True)
            raise
        if threads:
            threads.shutdown()
    return results if test_data is None else (results, tests)
