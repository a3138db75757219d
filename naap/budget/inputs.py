"""What a budget map runs on: the dataset with its learning-curve columns, every model's GPU
seconds per epoch, the zero-cost proxies, and the predictors by name.

Library module (no command line, no work at import); budget.py and bench/leaderboard.py use it.
"""
from pathlib import Path

import pandas as pd

from naap import learning_curves, plugins, protocol, workers
from naap.baselines.run import load_zero_cost
from naap.budget.run import RANKERS
from naap.cli import InputError
from naap.data import MODEL_ID, NUM_EPOCHS_TOTAL, TEST_FLAG, features_at, split_bins
from naap.data.costs import gpu_seconds
from naap.data.load import load_dataset
from naap.input_files import input_error
from naap.predictors import TODAY
from naap.predictors.hybrid import HYBRID, hybrid_columns, lce_table, make_hybrid, with_curve_features


def read_bytes(path, kind):
    """A file's bytes, read once (a pipe cannot be read again); InputError naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise input_error(path, e, kind) from None


def parse_regressors(text):
    """The protocol regressors of --regressors NAMES (comma-separated), 'all' or 'none'."""
    if text == "all":
        return list(protocol.BASELINE_NAMES)
    if text == "none":
        return []
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:  # an empty value (a shell variable unset?) is not a way to say 'none'
        raise InputError(f"--regressors {text!r}: no name (give names, 'all' or 'none')")
    unknown = [name for name in names if name not in protocol.BASELINE_NAMES]
    if unknown:
        raise InputError(f"--regressors: {unknown[0]!r} is not one of paper 1's regressors "
                         f"({', '.join(protocol.BASELINE_NAMES)})")
    return list(dict.fromkeys(names))


def predictor_table(table, regressors, today, specs, proxies, columns, estimators=protocol.DEFAULT_ESTIMATORS):
    """{name: (factory, columns(k))} in output order: paper 1's `regressors`, with today=True
    naap.predictors.TODAY and the OMNI-style hybrid, then the --predictor plug-ins of `specs`
    (checked and smoke-fitted on `table`). columns(k): the features after k epochs."""
    own = protocol.own_regressors(estimators)
    predictors = {name: (own[name], columns) for name in regressors}
    if today:
        predictors.update({name: (factory, columns) for name, factory in TODAY.items()})
        predictors[HYBRID] = (make_hybrid, lambda k: hybrid_columns(k, proxies))
    # every name the map's rows and figures may use, mapped or not (--no-today, --regressors): a
    # plug-in named so would share their rows in budget.csv, their figure or their leaderboard kind
    predictors.update({name: (factory, columns) for name, factory in plugins.load_plugins(
        specs, table, estimators, reserved=(*protocol.BASELINE_NAMES, *TODAY, HYBRID, *RANKERS),
        reserved_as="the map's own predictors and rankers").items()})
    if not predictors:
        raise InputError("nothing to map: --regressors names none, --no-today leaves out today's predictors, "
                         "and there is no --predictor")
    return predictors


def load_inputs(dataset, costs, zero_cost=None, min_train=1):
    """(table sorted as the protocol sorts it, with ModelId and any zero-cost proxies as columns;
    {ModelId: per-epoch GPU seconds}; the costs' concurrency; the proxies; the inputs' bytes).
    InputError (one line naming the file) for a table too small for the split rule or with fewer
    than min_train train models, a costs CSV without one of its models' epochs, a bad proxy CSV."""
    data = read_bytes(dataset, "CSV file")
    cost_bytes = read_bytes(costs, "costs CSV")
    columns = list(dict.fromkeys(features_at(NUM_EPOCHS_TOTAL) + features_at(0)))
    table = load_dataset(dataset, columns + [MODEL_ID], content=data)
    try:
        split_bins(len(table))
    except ValueError as e:
        raise InputError(f"{dataset}: {e}") from None
    num_test = int((table[TEST_FLAG] == 1).sum())
    if len(table) - num_test < min_train:
        raise InputError(f"{dataset}: {len(table) - num_test} train models; the map fits on up to {min_train}")
    concurrency, seconds = gpu_seconds(costs, table[MODEL_ID].astype(int).tolist(), content=cost_bytes)
    inputs = [data, cost_bytes]
    proxies, values = [], {}
    if zero_cost:
        proxies, values = load_zero_cost(zero_cost, table, dataset)
        # the journal's key hashes what the map uses of the file: reading its bytes as well would
        # be a second read, and find a pipe (--zero-cost <(...)) empty
        inputs.append(pd.DataFrame(values, columns=proxies).to_csv(index=False).encode())
    table = pd.concat([table, pd.DataFrame(values, index=table.index)], axis=1)
    return table, {int(m): s for m, s in seconds.items()}, concurrency, proxies, inputs


def add_curve_features(table, epochs, jobs, progress):
    """The table with the learning-curve columns (SoTL, SoTL-E, LCE) of `epochs`; LCE's curve fits
    in `jobs` forked workers."""
    accuracies = learning_curves.curve(table, "Accuracy", NUM_EPOCHS_TOTAL)
    if progress:
        print(f"fitting LCE's learning curves of {len(table)} models at {len([k for k in epochs if k])} epoch counts")
    with workers.process_pool(jobs if jobs > 1 else 0) as pool:
        lce = lce_table(accuracies, epochs, None if pool is None else pool.map)
    return with_curve_features(table, epochs, lce)
