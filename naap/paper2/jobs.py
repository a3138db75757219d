"""Paper 2's jobs: what runs, how costly it is, and which array task (shard) runs it.

A job is (mode, start feature set name, names): one ensemble family (its N = 25, 50, 100, 200
share their fits, see run.run_job) or one regressor. plan_jobs lists them; deal_jobs deals them
over the tasks of an array job by job_cost, longest first, the same deal in every task.
"""
import re

from naap import protocol
from naap.data import FEATURE_SETS_V2

ENSEMBLE_NAME = re.compile(r"^(.*) \(N=(\d+)\)$")


def ensemble_size(name):
    """(family, N) of an ensemble regressor name, else (name, None)."""
    m = ENSEMBLE_NAME.match(name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


def plan_jobs(modes, feature_sets, models):
    """Jobs (mode, feature set, names): one per ensemble family, else one per regressor."""
    jobs = []
    for mode in modes:
        names = [m for m in models if mode == "interpolation" or m in protocol.EXTRAPOLATING]
        for fs in feature_sets:
            families = {}
            for name in names:
                families.setdefault(ensemble_size(name)[0], []).append(name)
            jobs += [(mode, fs, tuple(group)) for group in families.values()]
    return jobs


def job_cost(job):
    """Rough relative cost of a job (subsets ~ |features|^2, ensembles cost most)."""
    n = len(FEATURE_SETS_V2[job[1]])
    return protocol.FIT_COST.get(ensemble_size(job[2][0])[0], protocol.DEFAULT_FIT_COST) * n * n


def deal_jobs(jobs, num_shards):
    """The jobs dealt over num_shards array tasks: [shard 1's jobs, ...], longest first (job_cost),
    each to the shard with the least total cost so far (ties to the lower shard; equal costs keep
    the plan's order), so that every task of an array computes the same deal."""
    shards, loads = [[] for _ in range(num_shards)], [0.0] * num_shards
    for job in sorted(jobs, key=job_cost, reverse=True):
        i = min(range(num_shards), key=loads.__getitem__)
        shards[i].append(job)
        loads[i] += job_cost(job)
    return shards
