"""Benchmark: trees.py against scikit-learn per tree, and, from a run's own visit counts, the CPU
time the N=200 searches' trees need.

For each feature set of FEATURE_SETS and each ensemble family this fits the trees the protocol
fits (Random Forest: full depth on a bootstrap given as weights; Gradient Boosting: depth 3 on
the first stage's residuals; AdaBoost: depth 3 on a uniformly resampled table) on random column
subsets, with scikit-learn and with trees.py. Unless every tree is equal (children, features,
thresholds, values) it prints one error line and exits with status 1. Every figure printed is
measured by this run, except the column `cols` without --visits (a setting, marked so).

Columns (times: per tree, the best of --repeats passes over the same trees, one thread):
  cols            the subset size: with --visits the mean size of the subsets that the family's
                  N=200 search visited there; else SUBSET_SHARE of the feature set's columns
                  (a setting, marked "(setting)")
  sklearn fit     DecisionTreeRegressor(max_depth=..., random_state=s).fit(X, y, sample_weight):
                  its parameter and input validation, set-up, the Cython build and pruning check
  fit_tree        trees.fit_tree(...): its argument checks and conversions, the compiled build
  sklearn build   what that fit runs after validation (BaseDecisionTree._fit): the squared-error
                  criterion, BestSplitter (with its RandomState), Tree and DepthFirstTreeBuilder
                  made as fit makes them, then builder.build(...); the arrays are prepared first
  build_tree      the compiled builder alone (tree_builder.build_tree) on trees.fit_tree_arguments(...),
                  prepared first
  fit x, build x  sklearn's time over trees.py's: entry point against entry point, builder
                  against builder
  paper           trees.fit_tree under the tree rules of the default (paper) estimators, as the
                  default run grows these trees ("0.20.1": scikit-learn 0.20.1's full introsort
                  and leaf rule; Gradient Boosting with FriedmanMSE and presort, its sample
                  order computed once per subset outside the timing, as once per fit in the run).
                  scikit-learn 0.20.1 cannot be installed, so these trees are not compared here:
                  tests/test_trees.py checks them against a transcription of its source
  shortcuts x     the paper time with trees.py's two shortcuts turned off (shortcuts=False: no
                  kept tie-free orders, no 2-value swap) over the paper time; passes of the two
                  alternate. The trees must be equal (else one error line and exit status 1)
  tied sort work  the share of the sort work (n log2 n summed over the split nodes and the
                  features not constant there) done on feature values with a tie at that node:
                  scikit-learn's introsort leaves tied samples in an order that feeds its float
                  sums and the next sort, so there the sort must be replayed swap for swap (one tie
                  puts the whole sort there: an upper bound); only the rest could be sorted faster
  N=200 subsets   with --visits: the subsets the family's N=200 search on that feature set scored
                  (interpolation), counted in VISITS
  N=200 CPU-s     those subsets x SEEDS seeds x N_MAX trees x the paper time per tree: a floor
                  under the default run, since every such tree enters a prediction
VISITS: a feature_selection.py results.csv (every subset scored), or the journal directory of an
unfinished run (.OUT_DIR.resume/<key>/). A search missing there is shown as such and left out of
the sum; without --visits no floor is computed.

Example (about a minute on 2 cores; --subsets 1 --trees 2 --repeats 1 for a smoke test):
  python -m bench.bench_trees ../shared/naap440/naap440v2.csv
  python -m bench.bench_trees ../shared/naap440/naap440v2.csv --visits fs_results/results.csv
"""
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.tree import DecisionTreeRegressor
from sklearn.tree._criterion import MSE
from sklearn.tree._splitter import BestSplitter
from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

from naap import paper2, protocol
from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.input_files import read_csv_input
from naap.replica import ensembles, tree_builder, trees

SEED = 0
FEATURE_SETS = ("Scheme+Quant.9", "Scheme+Quant.6")  # the largest start sets: the costliest searches
MODE = "interpolation"  # the only mode the ensembles run in (they cannot extrapolate)
SUBSET_SHARE = 2 / 3  # without --visits: subsets of this share of the columns (a setting, not a count)
SEEDS, N_MAX = len(protocol.SEEDS), max(protocol.ENSEMBLE_SIZES)
HOUR_ON_2_CORES = 2 * 3600  # CPU seconds in one hour on 2 cores
DEFAULT_SUBSETS, DEFAULT_TREES, DEFAULT_REPEATS = 4, 25, 3


def tree_inputs(family, X, y, rng):
    """(X32, y, sample_weight, splitter seed, max_depth) of one tree as the protocol fits it."""
    n = len(y)
    seed = int(rng.integers(ensembles.MAX_INT))
    if family == "Random Forest":
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        return X, y, weights, seed, None
    if family == "Gradient Boosting":
        return X, y - y.mean(), None, seed, ensembles.BOOST_DEPTH
    rows = rng.integers(0, n, n)
    return np.ascontiguousarray(X[rows]), y[rows], None, seed, ensembles.BOOST_DEPTH


def tied_sort_work(model, X, weights):
    """(work on tied values, all work) over the tree's split nodes: n log2 n per node and feature."""
    members = np.flatnonzero(weights > 0) if weights is not None else np.arange(len(X))
    paths = model.decision_path(X[members]).tocsc()
    tied = total = 0.0
    for node in np.flatnonzero(model.tree_.children_left != -1):
        rows = members[paths.indices[paths.indptr[node]:paths.indptr[node + 1]]]
        work = len(rows) * np.log2(len(rows))
        for f in range(X.shape[1]):
            values = X[rows, f]
            if values.min() == values.max():
                continue  # constant here: sorted once, then skipped (not counted)
            total += work
            tied += work if len(np.unique(values)) < len(values) else 0.0
    return tied, total


def search_name(family):
    return f"{family} (N={N_MAX})"


def count_visits(path):
    """{(feature set, family): list of subset sizes} of the N=N_MAX searches found in path (see
    VISITS in the docstring); InputError (one line naming path) if it cannot be read."""
    path = Path(path)
    found = {}
    if path.is_dir():
        for fs in FEATURE_SETS:
            for family in ensembles.FAMILIES:
                journal = path / paper2.journal_name((MODE, fs, (search_name(family),)))
                if journal.is_file():
                    records = paper2.read_journal(journal)
                    found[(fs, family)] = [sum(mask) for mask, name in records if name == search_name(family)]
        if not found:
            raise InputError(f"{path}: holds no journal of the N={N_MAX} searches on {', '.join(FEATURE_SETS)}")
        return found
    table = read_csv_input(path, dtype={"Flags": str})
    missing = {"Mode", "Model", "FeatureSetName", "Flags"} - set(table.columns)
    if missing:
        raise InputError(f"{path}: not a feature_selection.py results.csv (no {', '.join(sorted(missing))} column)")
    if "ScoredOn" in table.columns:  # held-out selection: the refits on the test rows are no visits
        table = table[table["ScoredOn"] != "test"]
    table = table[table["Mode"] == MODE]
    for fs in FEATURE_SETS:
        for family in ensembles.FAMILIES:
            rows = table[(table["FeatureSetName"] == fs) & (table["Model"] == search_name(family))]
            if len(rows):
                found[(fs, family)] = [flags.count("1") for flags in rows["Flags"]]
    return found


def best_times(function, call_lists, repeats):
    """Seconds per call of function(*args) over each list of calls, the best of `repeats` passes,
    the lists' passes alternating (so that a change in the machine's speed hits them alike); the
    results of each list's last pass."""
    best, results = [float("inf")] * len(call_lists), [None] * len(call_lists)
    for _ in range(repeats):
        for j, calls in enumerate(call_lists):
            t0 = time.perf_counter()
            results[j] = [function(*a) for a in calls]
            best[j] = min(best[j], (time.perf_counter() - t0) / len(calls))
    return best, results


def best_time(function, calls, repeats):
    (best,), (results,) = best_times(function, [calls], repeats)
    return best, results


def paper_fits(family, fits):
    """fit_tree's arguments as the default run grows the trees of `fits` (1.9.1 arguments)."""
    rules = protocol.tree_rules(protocol.DEFAULT_ESTIMATORS)
    gb = family == "Gradient Boosting" and ensembles._gb(rules)
    orders = {}  # one presort order per subset (the run computes it once per fit)
    out = []
    for X, y, w, s, d in fits:
        kw = {"rules": rules}
        if gb:
            if id(X) not in orders:
                orders[id(X)] = trees.presort_order(ensembles.default_argsort_columns(X))
            kw["presort"] = orders[id(X)]
        out.append(((X, y, w, s, d, gb), kw))
    return out


def call_fit_tree(args, kw):
    return trees.fit_tree(*args, **kw)


def sklearn_fit(X, y, w, seed, depth):
    return DecisionTreeRegressor(max_depth=depth, random_state=seed).fit(X, y, sample_weight=w).tree_


def sklearn_build(X, y2d, w, seed, depth):
    # as BaseDecisionTree._fit of scikit-learn 1.9.1 after its validation: the defaults
    # min_samples_split=2, min_samples_leaf=1, min_weight_leaf=0, all features, no constraints
    n, f = X.shape
    splitter = BestSplitter(MSE(1, n), f, 1, 0.0, np.random.RandomState(seed), None)
    tree = Tree(f, np.ones(1, dtype=np.intp), 1)
    DepthFirstTreeBuilder(splitter, 2, 1, 0.0, ensembles.FULL_DEPTH if depth is None else depth, 0.0).build(
        tree, X, y2d, w, None)
    return tree


def tree_arrays(tree):
    return tree.children_left, tree.children_right, tree.feature, tree.threshold, tree.value[:, 0, 0]


def same_trees(ours, theirs):
    return len(ours) == len(theirs) and all(
        all(np.array_equal(u, v) for u, v in zip(a, tree_arrays(t))) for a, t in zip(ours, theirs))


def main(args):
    data, _, _ = paper2.load_modes(args.dataset, [MODE], list(FEATURE_SETS))
    visits = count_visits(args.visits) if args.visits else None
    per_row = args.subsets * args.trees
    print(f"{per_row} trees per row ({args.subsets} random subsets x {args.trees} trees); ms per tree, "
          f"best of {args.repeats} passes, one thread; columns explained in the script's docstring")
    print(f"{'feature set':15} {'family':17} {'cols':>12} {'sklearn fit':>11} {'fit_tree':>8} {'fit x':>5} "
          f"{'sklearn build':>13} {'build_tree':>10} {'build x':>7} {'paper':>6} {'shortcuts x':>11} "
          f"{'tied sort work':>14} {'N=200 subsets':>13} {'N=200 CPU-s':>11}")
    floor, counted, missing = 0.0, [], []
    for fs_name in FEATURE_SETS:
        X_all, y = data[(MODE, fs_name)][:2]
        X_all = np.asarray(X_all, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.float64)
        for family in ensembles.FAMILIES:
            sizes = (visits or {}).get((fs_name, family))
            if visits is not None and not sizes:
                missing.append(f"{fs_name} {family}")
            k = max(1, round(float(np.mean(sizes)))) if sizes else round(SUBSET_SHARE * X_all.shape[1])
            cols_text = f"{k} ({'mean' if sizes else 'setting'})"
            rng = np.random.default_rng(SEED)
            inputs = []
            for _ in range(args.subsets):
                cols = np.sort(rng.choice(X_all.shape[1], k, replace=False))
                X = np.ascontiguousarray(X_all[:, cols])
                inputs += [tree_inputs(family, X, y, rng) for _ in range(args.trees)]
            fits = [(X, yy, w, ensembles._splitter_seed(s), ensembles.FULL_DEPTH if d is None else d)
                    for X, yy, w, s, d in inputs]
            prepared = [trees.fit_tree_arguments(*a) for a in fits]
            builds = [(X, np.ascontiguousarray(yy.reshape(-1, 1)), w, s, d) for X, yy, w, s, d in inputs]
            trees.fit_tree(*fits[0])  # compile (or load numba's cache) outside the timing
            papers = paper_fits(family, fits)
            plain = [(a, dict(kw, shortcuts=False)) for a, kw in papers]
            call_fit_tree(*papers[0])
            call_fit_tree(*plain[0])
            (t_paper, t_plain), (paper_trees, plain_trees) = best_times(call_fit_tree, [papers, plain], args.repeats)
            if not all(all(np.array_equal(u, v) for u, v in zip(a, b)) for a, b in zip(paper_trees, plain_trees)):
                print(f"error: {fs_name}, {family}: the trees with and without trees.py's shortcuts differ",
                      file=sys.stderr)
                sys.exit(1)
            t_fit, ours = best_time(trees.fit_tree, fits, args.repeats)
            t_core, ours_core = best_time(tree_builder.build_tree, prepared, args.repeats)
            t_sk, theirs = best_time(sklearn_fit, inputs, args.repeats)
            t_build, theirs_built = best_time(sklearn_build, builds, args.repeats)
            if not (same_trees(ours, theirs) and same_trees(ours_core, theirs) and same_trees(ours, theirs_built)):
                print(f"error: {fs_name}, {family}: trees.py's trees differ from scikit-learn's", file=sys.stderr)
                sys.exit(1)
            models = [DecisionTreeRegressor(max_depth=d, random_state=s).fit(X, yy, sample_weight=w)
                      for X, yy, w, s, d in inputs]
            work = np.array([tied_sort_work(m, X, w) for m, (X, _, w, _, _) in zip(models, inputs)]).sum(axis=0)
            if sizes:
                cpu = len(sizes) * SEEDS * N_MAX * t_paper
                floor += cpu
                counted.append(f"{fs_name} {family}")
                visit_text, cpu_text = f"{len(sizes):13,}", f"{cpu:11,.0f}"
            else:
                visit_text = f"{'not found' if visits is not None else '-':>13}"
                cpu_text = f"{'-':>11}"
            print(f"{fs_name:15} {family:17} {cols_text:>12} {t_sk * 1e3:11.3f} {t_fit * 1e3:8.3f} "
                  f"{t_sk / t_fit:4.1f}x {t_build * 1e3:13.3f} {t_core * 1e3:10.3f} {t_build / t_core:6.1f}x "
                  f"{t_paper * 1e3:6.3f} {t_plain / t_paper:10.2f}x {work[0] / work[1]:14.0%} {visit_text} {cpu_text}")
    print(f"all {len(FEATURE_SETS) * len(ensembles.FAMILIES) * per_row} trees equal scikit-learn's "
          "(fit and build, trees.py's entry point and builder)")
    if visits is None:
        print("floor: not computed (give --visits to count the N=200 searches' subsets)")
    else:
        print(f"floor: the N=200 trees of the {len(counted)} searches counted in {args.visits} take "
              f"{floor:,.0f} CPU-s = {floor / HOUR_ON_2_CORES:.2f} h on 2 fully used cores"
              + (f"; not found there, left out: {', '.join(missing)}" if missing else ""))


def positive(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", help="naap440v2.csv")
    p.add_argument("--subsets", type=positive, default=DEFAULT_SUBSETS,
                   help=f"random subsets per feature set and family (default {DEFAULT_SUBSETS})")
    p.add_argument("--trees", type=positive, default=DEFAULT_TREES,
                   help=f"trees per subset (default {DEFAULT_TREES})")
    p.add_argument("--repeats", type=positive, default=DEFAULT_REPEATS,
                   help=f"timed passes, the best counts (default {DEFAULT_REPEATS})")
    p.add_argument("--visits", metavar="VISITS",
                   help="a feature_selection.py results.csv or resume journal directory: count the N=200 "
                        "searches' subsets there and compute the floor")
    return p.parse_args(argv)


if __name__ == "__main__":
    run_cli(main, parse_args())
