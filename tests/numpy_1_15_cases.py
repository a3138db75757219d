"""Shared by the tests of numpy_1_15_quicksort and numpy_1_15_introselect: inputs that drive
numpy 1.15.4's quicksort and introselect into their fallbacks, and one child process with
numpy's SIMD sorts switched off, whose numpy 2.4.6 scalar argsort and argpartition (the C++ port
of 1.15.4's introsort and introselect) are the outside reference for both."""
import functools
import os
import pickle
import subprocess
import sys

import numpy as np
from conftest import ROOT

# numpy 2.4.6 reduced to its baseline: no AVX2/AVX-512 sort or select kernels
NO_SIMD_SORT = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"


def median_of_3_killer(n):
    """A permutation of 0..n-1 on which median-of-3 quicksort peels off two elements per
    partition: going from the whole array inwards, swap the middle element with the second last,
    then drop the last two."""
    d = np.arange(n)
    size = n
    while size > 3:
        mid = size // 2
        d[mid], d[size - 2] = d[size - 2], d[mid]
        size -= 2
    return d


def heapsort_case():
    """The killer with values below 40 merged in threes: still deep enough that heapsort takes over
    (on positions 0..46), with ties inside the heapsorted range."""
    base = median_of_3_killer(100)
    return np.where(base < 40, base // 3 * 3, base).astype(np.float64)


def oracle_cases():
    """Tie-heavy arrays for numpy 2.4.6's scalar sort and select, incl. both fallbacks."""
    rs = np.random.RandomState(2022)
    sorts, parts = [heapsort_case(), median_of_3_killer(300).astype(np.float64)], []
    for t in range(120):
        n = rs.randint(2, 400)
        v = rs.randint(0, n // 4 + 2, n).astype(np.float32 if t % 3 == 0 else np.float64)
        if t % 4 == 0:
            v[rs.randint(0, n, n // 10 + 1)] = np.nan
        if t % 5 == 0:
            v[v == 0] = -0.0
        sorts.append(v)
        parts.append((v.astype(np.float64), int(rs.randint(0, n))))
    killer = (median_of_3_killer(200) // 2).astype(np.float64)
    parts += [(killer, kth) for kth in (5, 66, 100, 150, 199)]
    return sorts, parts


CHILD = r"""
import pickle, sys
import numpy as np
from numpy._core._multiarray_umath import __cpu_features__
from naap.replica.numpy_1_15_introselect import argpartition_1_15_rows
from naap.replica.numpy_1_15_quicksort import argsort_1_15
from naap.replica.pandas_0_23_parser import read_csv_2022
sorts, parts, table = pickle.load(sys.stdin.buffer)
acc = read_csv_2022(table)["MaxAccuracy"].to_numpy()
pickle.dump({
    "dispatch_on": [f for f in sys.argv[1].split() if __cpu_features__.get(f)],
    "numpy_sorts": [np.argsort(v, kind="quicksort") for v in sorts],
    "numpy_parts": [np.argpartition(v[None, :], k, axis=1)[0] for v, k in parts],
    "our_sorts": [argsort_1_15(v) for v in sorts],
    "our_parts": [argpartition_1_15_rows(v[None, :], k)[0] for v, k in parts],
    "table": argsort_1_15(acc).tobytes(),
}, sys.stdout.buffer)
"""


@functools.cache
def scalar_numpy_child(table):
    """Run CHILD once (per test session) on oracle_cases() and the table at path `table`: returns
    (sorts, parts, what the child computed)."""
    sorts, parts = oracle_cases()
    # the child imports the package from the repository through PYTHONPATH, as pytest does
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=NO_SIMD_SORT, PYTHONPATH=python_path)
    done = subprocess.run([sys.executable, "-c", CHILD, NO_SIMD_SORT], env=env, cwd=ROOT,
                          capture_output=True, input=pickle.dumps((sorts, parts, table)), timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return sorts, parts, pickle.loads(done.stdout)
