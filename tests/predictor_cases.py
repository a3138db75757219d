"""Shared by the tests of naap.predictors: a simple synthetic signal, and a fit run in a fresh
Python process (the determinism checks: nothing of the test process's state carries over)."""
import os
import subprocess
import sys

import numpy as np
from conftest import ROOT

NOISE = 0.02  # of the synthetic target, whose signal spans about +-0.15


def signal(num_rows, num_features, seed):
    """(X, y): standard normal features, y a smooth function of the first two plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(num_rows, num_features))
    y = 0.6 + 0.1 * np.tanh(X[:, 0]) + 0.05 * X[:, 1] + NOISE * rng.normal(size=num_rows)
    return X, y


def fit_predict(factory, seed, num_rows=60, num_features=8, return_std=False):
    """Seed the global generators as the protocol does, call factory, fit on signal(num_rows,
    num_features), predict 20 new rows: the prediction (or (mean, std) with return_std)."""
    import random
    X, y = signal(num_rows + 20, num_features, seed=1)
    random.seed(seed)
    np.random.seed(seed)
    model = factory().fit(X[:num_rows], y[:num_rows])
    return model.predict(X[num_rows:], return_std=True) if return_std else model.predict(X[num_rows:])


CHILD = """
import sys
import numpy as np
from naap import predictors
from predictor_cases import fit_predict
out = fit_predict(getattr(predictors, {factory!r}), {seed}, return_std={return_std})
sys.stdout.write(b"".join(np.asarray(a, dtype=float).tobytes() for a in np.atleast_2d(out)).hex())
"""


def fit_in_fresh_process(factory_name, seed, threads, return_std=False):
    """fit_predict(naap.predictors.<factory_name>, seed) in a new Python process with
    OMP_NUM_THREADS=threads: the predictions' bytes, as hex."""
    code = CHILD.format(factory=factory_name, seed=seed, return_std=return_std)
    paths = os.pathsep.join([str(ROOT), str(ROOT / "tests")])  # naap, and this module for the child
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": paths}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout
