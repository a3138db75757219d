"""Benchmark: how much the linear regressions depend on the CPU through LAPACK's least squares.

Every sum the protocol would otherwise leave to the CPU is done in a fixed order
(naap/replica/fixedmath.py), except one: the linear regressions' coefficients come from scipy's
lstsq (LAPACK's gelsd), as in both scikit-learn versions, and LAPACK runs on the OpenBLAS kernels
picked for the CPU (OPENBLAS_CORETYPE picks them by hand). This fits paper 1's linear regressions
(protocol.evaluate, both estimator sets) on PROBLEMS random feature subsets of the dataset's
largest feature set, in one child process per kernel of KERNELS, and prints, per kernel against
the first:
  runs            the fits compared: problems x linear regressions x estimator sets
  bits differ     runs whose test predictions differ in any bit
  largest diff    the largest difference of a test prediction, relative to the largest prediction
  outputs differ  runs whose outputs differ: MAE at OUTPUT_DECIMALS decimals or the violation count
A kernel that cannot run on this CPU (the child fails) is shown as such. Unless each child runs
the kernel asked for (threadpoolctl's report of every OpenBLAS it loaded), it prints one error
line and exits with status 1.

Input: DATASET (default: the reference data's naap440.csv). Output: the table on stdout; nothing
is written.
Example (about a minute on 2 cores):
  python -m bench.bench_lapack_kernels --problems 200
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from naap import protocol
from naap.data import FEATURE_SETS
from naap.data.load import load_dataset, split
from naap.paths import reference_data_dir
from naap.protocol.tables import OUTPUT_DECIMALS

KERNELS = ("Haswell", "SkylakeX", "Sandybridge", "Nehalem", "Katmai")  # AVX2+FMA, AVX-512, AVX, SSE4.2, generic
SEED = 0  # the feature subsets
LINEAR = [name for name in protocol.BASELINE_NAMES if name.startswith("Linear Regression")]
ROOT = Path(__file__).resolve().parent.parent


def problems(columns, count, seed=SEED):
    """`count` random non-empty subsets of `columns` (lists, in the columns' order)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        size = int(rng.integers(1, len(columns) + 1))
        chosen = sorted(rng.choice(len(columns), size=size, replace=False))
        out.append([columns[i] for i in chosen])
    return out


def fit_all(dataset, count):
    """{run key: (test predictions as float.hex, MAE rounded, violations)} of every linear
    regression, estimator set and problem (run in the child, under one kernel)."""
    columns = FEATURE_SETS[list(FEATURE_SETS)[-1]]
    table = load_dataset(dataset, columns)
    runs = {}
    for p, subset in enumerate(problems(columns, count)):
        X_train, y_train, X_test, y_test = split(table, subset)
        for estimators in protocol.ESTIMATOR_SETS:
            results = protocol.evaluate(LINEAR, X_train, y_train, X_test, y_test, estimators)
            for name, r in results.items():
                runs[f"{p}|{estimators}|{name}"] = ([float(v).hex() for v in r["pred"]],
                                                    round(float(r["mae"]), OUTPUT_DECIMALS), int(r["violations"]))
    return runs


def child(dataset, count):
    from scipy import linalg  # noqa: F401 (loads scipy's own OpenBLAS, which lstsq runs on)
    from threadpoolctl import threadpool_info
    kernels = sorted({info.get("architecture") for info in threadpool_info() if info["internal_api"] == "openblas"})
    print(json.dumps({"kernels": kernels, "runs": fit_all(dataset, count)}))


def compare(reference, other):
    """(runs, runs whose predictions differ in a bit, largest relative difference, runs whose
    outputs differ) of one kernel's runs against the reference kernel's."""
    bits = outputs = 0
    largest = 0.0
    for key, (pred, mae, violations) in reference.items():
        other_pred, other_mae, other_violations = other[key]
        a = np.array([float.fromhex(v) for v in pred])
        b = np.array([float.fromhex(v) for v in other_pred])
        bits += pred != other_pred
        outputs += (mae, violations) != (other_mae, other_violations)
        largest = max(largest, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
    return len(reference), bits, largest, outputs


def run_child(dataset, count, kernel):
    """The child's parsed output under OPENBLAS_CORETYPE=kernel, or None if it failed."""
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bench.bench_lapack_kernels", str(dataset), "--problems",
                           str(count), "--child"], capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(done.stdout) if done.returncode == 0 else None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="NAAP-440 CSV (default: the reference data's naap440.csv)")
    parser.add_argument("--problems", type=int, default=200, help="random feature subsets (default 200)")
    parser.add_argument("--kernels", default=",".join(KERNELS), help="OpenBLAS core types, the first the reference")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(args):
    dataset = Path(args.dataset) if args.dataset else reference_data_dir() / "naap440.csv"
    if args.child:
        child(dataset, args.problems)
        return
    kernels = [k for k in args.kernels.split(",") if k]
    print(f"{args.problems} feature subsets of {list(FEATURE_SETS)[-1]}, {len(LINEAR)} linear regressions, "
          f"{len(protocol.ESTIMATOR_SETS)} estimator sets; against {kernels[0]}", flush=True)
    print(f"{'kernel':<12} {'runs':>6} {'bits differ':>12} {'largest diff':>13} {'outputs differ':>15}")
    reference = None
    for kernel in kernels:
        found = run_child(dataset, args.problems, kernel)
        if found is None:
            print(f"{kernel:<12} cannot run on this CPU", flush=True)
            continue
        if found["kernels"] != [kernel]:
            sys.exit(f"error: OPENBLAS_CORETYPE={kernel} ran OpenBLAS's {', '.join(map(str, found['kernels']))}")
        if reference is None:
            reference = found["runs"]
        runs, bits, largest, outputs = compare(reference, found["runs"])
        print(f"{kernel:<12} {runs:>6} {bits:>12} {largest:>13.1e} {outputs:>15}", flush=True)


if __name__ == "__main__":
    main(parse_args())
