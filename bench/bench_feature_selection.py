"""Benchmark: feature_selection.py's shared, parallel search against the plain per-regressor search.

The plain way runs every regressor's search on its own, serially, with the protocol written out
literally for every visited subset (protocol.evaluate_plain: 5 fits per subset of the set's own
estimators, the project's tree replica for the trees and ensembles, the same code as the fast
way's, so the ratio is what sharing and workers save). The fast way
runs paper2.run_jobs as feature_selection.py does: protocol.evaluate (deterministic regressors
fitted once, ensembles replicated by naap.replica.ensembles/trees and grown on demand), the
searches of an ensemble family sharing their grown ensembles, each search round's subsets
spread over worker processes; it is timed with one worker (the algorithmic savings alone) and
with --jobs workers. Both sides are timed warm: one search of each kind runs untimed first, so
that numba's compilation (or the loading of its cache) is counted on neither side. All results
must be identical (every visited subset, every number and
prediction); the script checks that and prints the times and ratios.

Example (interpolation, 3 regressors, two feature sets; a few minutes on 2 cores):
  python -m bench.bench_feature_selection ../shared/naap440/naap440v2.csv
"""
import argparse
import os
import sys
import time

import numpy as np

from naap import paper2, protocol, workers
from naap.cli import InputError, run_cli
from naap.data import FEATURE_SETS_V2

DEFAULT_MODELS = "Gradient Boosting (N=25),Gradient Boosting (N=50),SVR (Polynomial kernel)"
DEFAULT_FEATURE_SETS = "Scheme,Scheme+Quant.3"


def same(a, b):
    if a.keys() != b.keys():
        return False
    for key in a:
        va, vb = a[key], b[key]
        if [m for m, _ in va] != [m for m, _ in vb]:
            return False
        for (_, ra), (_, rb) in zip(va, vb):
            if any(ra[k] != rb[k] for k in ("mae", "violations", "score", "final", "seed")):
                return False
            if not np.array_equal(ra["pred"], rb["pred"]):
                return False
    return True


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", help="naap440v2.csv")
    p.add_argument("--modes", default="interpolation")
    p.add_argument("--models", default=DEFAULT_MODELS)
    p.add_argument("--feature-sets", default=DEFAULT_FEATURE_SETS)
    p.add_argument("--jobs", type=int, default=workers.available_cores())
    p.add_argument("--estimators", default=protocol.DEFAULT_ESTIMATORS, choices=protocol.ESTIMATOR_SETS)
    return p.parse_args(argv)


def main(args):
    modes = paper2.parse_list(args.modes, protocol.MODES, "mode", "--modes")
    models = paper2.parse_list(args.models, protocol.PAPER2_NAMES, "model", "--models")
    feature_sets = paper2.parse_list(args.feature_sets, list(FEATURE_SETS_V2), "feature set",
                                     "--feature-sets")
    data, _, _ = paper2.load_modes(args.dataset, modes, feature_sets)
    jobs = paper2.plan_jobs(modes, feature_sets, models)
    if not jobs:
        raise InputError("nothing to run")

    # warm both sides: numba compiles (or loads its cache) on first use, which is not what is timed;
    # one untimed evaluation of every regressor, plain and shared, on its whole start set
    for mode, fset, names in jobs:
        for plain in (True, False):
            protocol.evaluate_paper2(names, *data[(mode, fset)], args.estimators, plain=plain, states={})

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())  # other work on the machine skews the times
    t = time.perf_counter()
    plain = {}
    for mode, fset, names in jobs:
        for name in names:  # each regressor on its own, nothing shared, serial
            got = paper2.run_job((mode, fset, (name,)), data[(mode, fset)], args.estimators, shared=False)
            plain[(mode, fset, name)] = got[name]
    t_plain = time.perf_counter() - t

    # the fast way twice: in one process (what sharing alone gives) and with the worker pool
    workers = min(args.jobs, len(jobs))
    timings, identical = {}, True
    for n in dict.fromkeys([1, workers]):
        t = time.perf_counter()
        fast = paper2.run_jobs(jobs, data, n, args.estimators, shared=True)
        timings[n] = time.perf_counter() - t
        identical = identical and same(plain, fast)

    n_subsets = sum(len(v) for v in plain.values())
    print(f"part: modes {', '.join(modes)}; models {', '.join(models)}; feature sets {', '.join(feature_sets)}")
    print(f"subsets scored: {n_subsets} ({len(plain)} searches); load average before: {load}")
    print(f"plain (literal protocol per regressor and subset, serial): {t_plain:8.1f} s")
    for n, t_fast in timings.items():
        print(f"fast (shared fits, {n} worker{'s' if n > 1 else ''}): {t_fast:8.1f} s   "
              f"speed-up {t_plain / t_fast:.2f}x")
    print(f"identical results: {'yes' if identical else 'NO'}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    run_cli(main, parse_args())
