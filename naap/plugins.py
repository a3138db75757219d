"""Plug-in predictors: `NAME=MODULE:FACTORY` specs loaded, checked and guarded for the protocol.

Library module (no command line, no work at import). run_experiments.py --predictor uses it.

A plug-in is any factory returning a fresh object with fit(X, y) and predict(X) (scikit-learn's
convention). A predictor that gives a predictive distribution may also take predict(X,
return_std=True) and return (means, standard deviations), as scikit-learn's Gaussian process
does; its runs are then also scored by NLL and 90% coverage. A factory whose fits draw nothing
from the seeded generators may say so (factory.seed_free = True): it is then fitted once for all
seeds. MODULE is an importable module name
(the working directory is searched first) or the path of a .py file. The protocol calls the
factory after seeding, once per seed, on the scaled features of each feature set, exactly as it
calls the baselines' (protocol.evaluate).

What a bad plug-in gets: an InputError whose one line names the predictor and the problem
(`--predictor GP: ...`), for a malformed spec, a NAME that is empty, repeated or a protocol
regressor's (or whose file-name form is one's: figures are named by it) or that holds '|' or a
control character (it is a Markdown table cell and a CSV field), a module that cannot
be imported or a file that is missing, no such factory, a factory that raises or returns an
object without fit/predict, and, in the smoke check (smoke_check) or the run itself (guarded),
fit or predict raising, a prediction of the wrong length, or NaN, infinite or too large
(|x| > naap.data.MAX_VALUE) predictions.
"""
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from naap import protocol
from naap.cli import InputError
from naap.data import FEATURE_SETS, MAX_VALUE
from naap.data.load import split

OPTION = "--predictor"
SPEC_FORM = "NAME=MODULE:FACTORY (MODULE a module name or a .py file)"
SMOKE_TRAIN_ROWS = 40  # the smoke fit: evenly spaced train rows of the first feature set (not a run)
SMOKE_TEST_ROWS = 5
MESSAGE_CHARS = 200  # an exception's message is cut to this in the one error line


def _where(name):
    return f"{OPTION} {name}"


def _describe(error):
    """'ValueError: message' of an exception, its message cut to MESSAGE_CHARS."""
    text = str(error)
    text = text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def parse_spec(spec):
    """(name, module, factory) of 'NAME=MODULE:FACTORY'; InputError if malformed.

    The last ':' starts FACTORY and the last '=' before it starts MODULE, so that NAME may hold
    '=' as the baselines' names do ('GP (nu=2.5)=gp.py:make'); MODULE may not."""
    left, colon, factory = spec.rpartition(":")
    name, eq, module = left.rpartition("=")
    name, module, factory = name.strip(), module.strip(), factory.strip()
    if not eq or not colon or not name or not module or not factory:
        raise InputError(f"{OPTION} {spec!r}: malformed, expected {SPEC_FORM}")
    if not factory.isidentifier():
        raise InputError(f"{_where(name)}: factory {factory!r} is not a Python name (expected {SPEC_FORM})")
    return name, module, factory


def check_names(names, estimators=protocol.DEFAULT_ESTIMATORS, reserved=(), reserved_as="this run's own rows"):
    """InputError unless every plug-in name is new: not a protocol regressor's, not one of
    `reserved` (the run's other rows: today's predictors, the budget map's rankers; described as
    reserved_as), not repeated, and not the same file name (protocol.slug) as another model's,
    since figures are named by it."""
    taken = {protocol.slug(n): n for n in protocol.REGRESSORS[estimators]}
    own = {protocol.slug(n): n for n in reserved}
    for name in names:
        if "|" in name or not name.isprintable():
            raise InputError(f"{_where(name)}: the name may not hold '|' or control characters (it is a cell of "
                             "results.md); choose another NAME")
        if name in protocol.REGRESSORS[estimators]:
            raise InputError(f"{_where(name)}: the name is a baseline regressor's; choose another NAME")
        key = protocol.slug(name)
        if not key:
            raise InputError(f"{_where(name)}: the name needs a letter or digit (figures are named by it)")
        if key in own:
            raise InputError(f"{_where(name)}: the name is one of {reserved_as} ({own[key]!r}); choose another NAME")
        if key in taken:
            other = taken[key]
            what = "given twice" if other == name else f"names the same figure files as {other!r}"
            raise InputError(f"{_where(name)}: {what}; choose another NAME")
        taken[key] = name


def _import(name, module):
    """The module of a spec: a .py file (loaded under a private module name) or an import."""
    if module.endswith(".py") or os.sep in module or "/" in module:
        path = Path(module)
        if not path.is_file():
            raise InputError(f"{_where(name)}: {module}: no such file")
        unique = f"naap440_plugin_{protocol.slug(name)}"
        try:
            spec = importlib.util.spec_from_file_location(unique, path)
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[unique] = loaded  # its classes must be findable by name (pickling results)
            spec.loader.exec_module(loaded)
        except Exception as e:  # anything the plug-in's own code raises while loading
            sys.modules.pop(unique, None)
            raise InputError(f"{_where(name)}: cannot load {module} ({_describe(e)})") from None
        return loaded
    if os.getcwd() not in sys.path:
        # "importable from the working directory": a script's sys.path starts at its own folder
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or anything the module's own code raises
        raise InputError(f"{_where(name)}: cannot import {module} ({_describe(e)})") from None


def _check_object(name, obj):
    missing = [m for m in ("fit", "predict") if not callable(getattr(obj, m, None))]
    if missing:
        raise InputError(f"{_where(name)}: the factory returned a {type(obj).__name__} without "
                         f"{' or '.join(m + '()' for m in missing)}; expected an object with fit(X, y) and predict(X)")


def load_plugin(spec):
    """(name, factory) of a spec, imported and its factory called once to check the object."""
    name, module, factory_name = parse_spec(spec)
    loaded = _import(name, module)
    factory = getattr(loaded, factory_name, None)
    if factory is None:
        raise InputError(f"{_where(name)}: {module} has no {factory_name}")
    if not callable(factory):
        raise InputError(f"{_where(name)}: {module}:{factory_name} is not callable")
    try:
        obj = factory()
    except Exception as e:
        raise InputError(f"{_where(name)}: {factory_name}() raised {_describe(e)}") from None
    _check_object(name, obj)
    return name, factory


def source_files(specs):
    """The files the loaded plug-ins of `specs` were read from (inputs of the run: an OUT_DIR may
    not hold them)."""
    files = []
    for spec in specs:
        _, module, _ = parse_spec(spec)
        path = module if module.endswith(".py") or "/" in module or os.sep in module else \
            getattr(sys.modules.get(module), "__file__", None)
        if path:
            files.append(path)
    return files


def checked_predictions(name, pred, n, context):
    """pred as a float vector of n values, or InputError naming the predictor and what is wrong."""
    try:
        values = np.asarray(pred)
    except (TypeError, ValueError) as e:  # a ragged list, an object whose __array__ fails
        raise InputError(f"{_where(name)}: predict returned something that is not numbers "
                         f"({_describe(e)}){context}") from None
    # the dtype before any cast to float: the cast drops a complex number's imaginary part, makes
    # booleans 0/1 and parses strings, scoring something the plug-in did not predict
    if values.dtype.kind not in "iuf":
        raise InputError(f"{_where(name)}: predict returned {values.dtype} values, not real numbers "
                         f"(int or float){context}")
    values = values.astype(float)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]  # a column vector, as some regressors give for one target
    if values.shape != (n,):
        raise InputError(f"{_where(name)}: predict returned shape {values.shape} for {n} rows; expected {n} "
                         f"predictions{context}")
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise InputError(f"{_where(name)}: predict returned {bad} NaN or infinite value(s) of {n}{context}")
    huge = int(np.count_nonzero(np.abs(values) > MAX_VALUE))
    if huge:  # the scores and figures square the errors; a feature that large is refused too
        raise InputError(f"{_where(name)}: predict returned {huge} value(s) of {n} too large to score "
                         f"(|x| > {MAX_VALUE:g}){context}")
    return values


class Guarded:
    """A plug-in object as the protocol sees it: inputs copied (a plug-in that changes its X in
    place cannot change the next run's), predictions checked, and any exception raised as one
    InputError line naming the predictor. fit returns the guard, whatever the plug-in's returns."""

    def __init__(self, name, obj, context=""):
        self.name, self.obj, self.context = name, obj, context

    def fit(self, X, y):
        try:
            self.obj.fit(np.array(X, dtype=float), np.array(y, dtype=float))
        except (Exception, SystemExit) as e:  # SystemExit too: a plug-in's exit() must not end the run
            raise InputError(f"{_where(self.name)}: fit raised {_describe(e)}{self.context}") from None
        return self

    def predict(self, X, return_std=False):
        """The checked predictions; with return_std, (predictions, checked standard deviations or
        None where the plug-in's predict does not take return_std)."""
        try:
            if return_std:
                pred, std = protocol.predict_with_std(self.obj, np.array(X, dtype=float))
            else:
                pred, std = self.obj.predict(np.array(X, dtype=float)), None
        except (Exception, SystemExit) as e:
            raise InputError(f"{_where(self.name)}: predict raised {_describe(e)}{self.context}") from None
        pred = checked_predictions(self.name, pred, len(X), self.context)
        if not return_std:
            return pred
        if std is not None:
            std = checked_predictions(self.name, std, len(X), " (its return_std)" + self.context)
            if not (std > 0).all():
                raise InputError(f"{_where(self.name)}: predict(X, return_std=True) returned a standard deviation "
                                 f"that is not positive{self.context}")
        return pred, std


def guarded(name, factory):
    """The factory the protocol calls for a plug-in: a Guarded fresh object per call."""
    def make():
        try:
            obj = factory()
        except Exception as e:
            raise InputError(f"{_where(name)}: the factory raised {_describe(e)}") from None
        _check_object(name, obj)
        return Guarded(name, obj)
    if protocol.is_seed_free(factory):
        setattr(make, protocol.SEED_FREE, True)
    return make


def smoke_check(name, factory, table):
    """Fit and predict once on a tiny slice of the first feature set (not a run, no output):
    SMOKE_TRAIN_ROWS evenly spaced train rows, SMOKE_TEST_ROWS test rows, scaled as in the runs."""
    features = next(iter(FEATURE_SETS))
    X_train, y_train, X_test, _ = split(table, FEATURE_SETS[features])
    rows = np.unique(np.linspace(0, len(y_train) - 1, min(SMOKE_TRAIN_ROWS, len(y_train))).round().astype(int))
    X_train_s, X_test_s = protocol.scale(X_train[rows], X_test[:SMOKE_TEST_ROWS])
    protocol.seed_everything(protocol.SEEDS[0])
    model = guarded(name, factory)()
    model.context = " (smoke check on a slice of the train rows)"
    model.fit(X_train_s, y_train[rows]).predict(X_test_s)


_SMOKE = {}  # what the smoke check's forked process runs: it inherits this, nothing is pickled


def _smoke_in_child(name):
    smoke_check(name, _SMOKE["plugins"][name], _SMOKE["table"])


def _smoke_forked(plugins, table):
    """smoke_check each plug-in in a forked process (one at a time, so that a process that dies
    is known to be that plug-in's)."""
    from concurrent.futures.process import BrokenProcessPool

    from naap.workers import process_pool
    _SMOKE.update(plugins=plugins, table=table)
    try:
        for name in plugins:
            try:
                with process_pool(1) as pool:
                    pool.submit(_smoke_in_child, name).result()
            except BrokenProcessPool:
                raise InputError(f"{_where(name)}: the process running its smoke check died (a crash in the "
                                 "plug-in's native code?)") from None
    finally:
        _SMOKE.clear()


def load_plugins(specs, table, estimators=protocol.DEFAULT_ESTIMATORS, reserved=(), reserved_as="this run's own rows"):
    """{name: guarded factory} of --predictor specs, in the order given, each checked up front:
    spec, name (check_names, with `reserved`), import, factory, and a smoke fit on a tiny slice
    of `table`.

    The smoke fits run in a forked process where fork exists: a plug-in may start OpenMP
    threads, after which the protocol's own forked workers could hang (GNU OpenMP is not
    fork-safe)."""
    check_names([parse_spec(spec)[0] for spec in specs], estimators, reserved, reserved_as)
    loaded = dict(load_plugin(spec) for spec in specs)
    import multiprocessing
    if loaded and "fork" in multiprocessing.get_all_start_methods():
        _smoke_forked(loaded, table)
    else:
        for name, factory in loaded.items():
            smoke_check(name, factory, table)
    return {name: guarded(name, factory) for name, factory in loaded.items()}
