"""NAAP-440 baseline: 24 regressors x 4 feature sets predict a CNN's final CIFAR-10 accuracy.

Each regressor predicts MaxAccuracy of the test models (IsTest == 1; 40 in NAAP-440) from the
scheme alone (100% acceleration) or with the first 3/6/9 of 90 epochs (96.7%, 93.3%, 90%
acceleration), scored by MAE and the monotonicity score (metrics.py). The protocol is reproduced
exactly (PROTOCOL NOTES below); feature_selection.py (paper 2) reuses it from here.

Usage:  python run_experiments.py naap440.csv results/ [--force] [--jobs N] [--compare PUBLISHED.csv]

Inputs: a NAAP-440 CSV (naap440.csv, downloaded by download_naap440.py); optionally a published
results file (the original README table as CSV, e.g. published_results.csv) to compare against.
Outputs in OUT_DIR (built in a temp dir and renamed into place, so a failure leaves nothing):
  results.csv       Model, Features, MeanAbsoluteError, NumViolations, MaxViolations,
                    MonotonicityScore (96 rows, table order; on naap440.csv it equals the
                    reference_results.csv of the release byte for byte)
  results_extended.csv   the same plus KendallTau and SpearmanRho of the kept run
  results.md        the README table: "MAE / Monotonicity Score / #Violations" per acceleration
  figures/rank_matrix/<model>__<features>.png   predicted rank against true rank (96 figures)
  figures/scatter/<model>__<features>.png       true against predicted accuracy (96 figures)
  summary.png       MAE and #violations against acceleration, one line per regressor
  comparison.csv, comparison.md   with --compare: per-cell differences to the published table
Without OUT_DIR nothing is written: the table (and the comparison) is printed.

PROTOCOL NOTES (what decides exactness)
- the table is sorted with pandas sort_values('MaxAccuracy') (default, unstable kind); that order
  is the ground-truth rank of the test rows (IsTest == 1);
- NumParams and NumMACs are replaced by their natural log before anything else;
- per (regressor, feature set) the estimator is built once; for each seed in SEEDS: random.seed,
  numpy.random.seed, StandardScaler fitted on the train rows, fit, predict; no random_state;
- of the 5 runs the one with the median violation count is kept (stable sort by violations,
  index 2); MAE and score are rounded to 4 decimals on output.
evaluate_plain() is that protocol written out literally; evaluate() gives identical results
faster (SPEED NOTES); tests check the two agree on other splits and subsets of the data.

SPEED NOTES (why evaluate() may skip work and still be bit-identical)
- the scaler is fitted once: StandardScaler is deterministic, refitting it per seed is a no-op;
- DETERMINISTIC regressors (k-NN, linear, SVR) do not depend on the global random state: they
  are fitted once and the same prediction serves all seeds (noise is still drawn per seed);
- ensembles: Random Forest, Gradient Boosting and AdaBoost with random_state=None draw every
  random number from the global NumPy generator in an order that does not depend on the
  features, and the first n members of an N-member fit ARE the n-member fit. ensembles.py
  replicates the three fits of scikit-learn 1.9.1 exactly on those draws (trees by trees.py, the
  replica of its tree builder): per seed one model is grown to the largest requested N and the
  smaller N are read off it; with `states` (paper 2) a later call grows it further. Under another
  scikit-learn version evaluate() fits each ensemble plainly;
- the command line asks OpenMP threads to sleep rather than spin between calls (see the top);
- run_all() spreads (feature set, regressor group) tasks over --jobs processes (seeding is per
  fit, so results do not depend on the process); figures are drawn in the workers by blitting
  onto a pre-rendered background (axes, ticks, labels are drawn once per process and layout).

Public API used by feature_selection.py: FEATURE_SETS, REGRESSORS, SEEDS, load_dataset, split,
evaluate(names, X_train, y_train, X_test, y_test, noise_std=0.0, seeds=SEEDS, regressors=None,
states=None) (and evaluate_plain, the same without states), median_run, score_run, and the figures plot_rank_matrix(pred, y_test, title, path)
and plot_scatter(pred, y_test, title, path), each writing one PNG (title: any text, lines split
on newlines; figure_title() makes the one used here).
"""
import os

if __name__ == "__main__":
    # GNU OpenMP threads (k-NN's neighbour search) busy-wait after every call by default, which
    # steals the other worker's core: ~1.7 s of CPU per run, no effect on results. Read once,
    # when scikit-learn loads the OpenMP runtime, so it is set before the imports below.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.neighbors import KNeighborsRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVR  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

import ensembles  # noqa: E402
import metrics  # noqa: E402
from common import InputError, atomic_output_dir, atomic_write_text, run_cli  # noqa: E402

# ----------------------------------------------------------------------------- protocol settings
SEEDS = tuple(range(20220905, 20220910))
MEDIAN_RUN = len(SEEDS) // 2
TARGET = "MaxAccuracy"
LOG_COLUMNS = ("NumParams", "NumMACs")
SCHEME_FEATURES = ["NumParams", "NumStages"]
FULL_SCHEME_FEATURES = ["NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth", "LastLayerWidth"]
EPOCH_FEATURES = ("LossMean", "LossMedian", "Accuracy")
QUANT_EPOCHS = (3, 6, 9)
NUM_EPOCHS_TOTAL = 90
ENSEMBLE_SIZES = (25, 50, 100, 200)
KNN_KS = (1, 3, 5, 7, 9)
SVR_KERNELS = (("rbf", "RBF"), ("poly", "Polynomial"), ("linear", "Linear"))
SVR_SETTINGS = dict(epsilon=0.001, C=0.1)

# ----------------------------------------------------------------------------- output settings
RESULT_COLUMNS = ["Model", "Features", "MeanAbsoluteError", "NumViolations", "MaxViolations", "MonotonicityScore"]
EXTRA_COLUMNS = ["KendallTau", "SpearmanRho"]  # what NAS predictor benchmarks report
OUTPUT_DECIMALS = 4  # results.csv, as published
TABLE_DECIMALS = 3  # results.md, as in the README
FIGURE_SIZE = (4.2, 4.2)  # inches
FIGURE_DPI = 80
PNG_COMPRESS_LEVEL = 1  # zlib level: the default 6 costs several ms per figure for ~10% smaller files
TITLE_FONT_PT = 8
SCATTER_GRID = 0.05  # scatter limits snap to this grid, so most figures share one background
SUMMARY_DPI = 110
# relative cost of one (feature set, group) task, to start the longest ones first
TASK_COST = {"Random Forest": 5, "Gradient Boosting": 3, "AdaBoost": 3, None: 1}


def epoch_features(k):
    """e1LossMean, e1LossMedian, e1Accuracy, ... up to epoch k."""
    return [f"e{e}{f}" for e in range(1, k + 1) for f in EPOCH_FEATURES]


FEATURE_SETS = {"Scheme": SCHEME_FEATURES}
for _k in QUANT_EPOCHS:
    FEATURE_SETS[f"Scheme + Quantitative {_k} epochs"] = FULL_SCHEME_FEATURES + epoch_features(_k)


def power_regression(d):
    """Least squares on y^(1/d) - 1, predicting (y_hat + 1)^d: 'Linear Regression (D=d)'."""
    return TransformedTargetRegressor(LinearRegression(), func=lambda y: np.power(y, 1 / d) - 1,
                                      inverse_func=lambda y: np.power(y + 1, d), check_inverse=False)


# name -> factory of a fresh, unfitted estimator; the order is the order of the results table
REGRESSORS = {f"{k}-NN": (lambda k=k: KNeighborsRegressor(n_neighbors=k, algorithm="brute")) for k in KNN_KS}
REGRESSORS["Linear Regression"] = LinearRegression
REGRESSORS["Linear Regression (D=0.5)"] = lambda: power_regression(0.5)
REGRESSORS["Linear Regression (D=0.25)"] = lambda: power_regression(0.25)
REGRESSORS["Decision Tree"] = DecisionTreeRegressor
REGRESSORS.update({f"Gradient Boosting (N={n})": (lambda n=n: GradientBoostingRegressor(n_estimators=n))
                   for n in ENSEMBLE_SIZES})
REGRESSORS.update({f"AdaBoost (N={n})": (lambda n=n: AdaBoostRegressor(n_estimators=n)) for n in ENSEMBLE_SIZES})
REGRESSORS.update({f"SVR ({label} kernel)": (lambda k=k: SVR(kernel=k, **SVR_SETTINGS)) for k, label in SVR_KERNELS})
REGRESSORS.update({f"Random Forest (N={n})": (lambda n=n: RandomForestRegressor(n_estimators=n))
                   for n in ENSEMBLE_SIZES})

# fits that never read the global random state (SVR draws a libsvm seed but only probability
# estimates use it), so one fit serves every seed
DETERMINISTIC = frozenset([f"{k}-NN" for k in KNN_KS]
                          + ["Linear Regression", "Linear Regression (D=0.5)", "Linear Regression (D=0.25)"]
                          + [f"SVR ({label} kernel)" for _, label in SVR_KERNELS])


# ----------------------------------------------------------------------------- data
def read_csv(path):
    """pd.read_csv, with a missing, unreadable or non-CSV file as one InputError line."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None


def load_dataset(path, columns):
    """Read a NAAP-440 CSV, check `columns` (+ IsTest, MaxAccuracy), log-transform, sort.

    Returns the table sorted by MaxAccuracy as the protocol sorts it. Raises InputError (one line
    naming the file) for a missing or unreadable file, missing, non-numeric or NaN columns, fewer
    than 2 test rows, or fewer train rows than the largest k of k-NN.
    """
    df = read_csv(path)
    needed = list(dict.fromkeys(["IsTest", TARGET, *columns]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in needed:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise InputError(f"{path}: column {c} is not numeric")
        if df[c].isna().any():
            raise InputError(f"{path}: column {c} has missing values (row {int(df[c].isna().to_numpy().argmax()) + 2})")
        if not np.isfinite(df[c].to_numpy(float)).all():
            raise InputError(f"{path}: column {c} has infinite values")
    for c in LOG_COLUMNS:
        if c in needed:
            if (df[c] <= 0).any():
                raise InputError(f"{path}: column {c} must be positive (its log is a feature)")
            df[c] = np.log(df[c])
    if not df["IsTest"].isin([0, 1]).all():
        raise InputError(f"{path}: column IsTest must be 0 or 1")
    num_test = int((df["IsTest"] == 1).sum())
    if num_test < 2:
        raise InputError(f"{path}: {num_test} test row(s); the monotonicity score needs at least 2")
    num_train = len(df) - num_test
    if num_train < max(KNN_KS):
        raise InputError(f"{path}: {num_train} train row(s); {max(KNN_KS)}-NN needs at least {max(KNN_KS)}")
    return df.sort_values(TARGET)


def split(df, columns):
    """(X_train, y_train, X_test, y_test) as float arrays, rows in the table's (sorted) order."""
    train, test = df[df["IsTest"] == 0], df[df["IsTest"] == 1]
    return (train[columns].to_numpy(float), train[TARGET].to_numpy(float),
            test[columns].to_numpy(float), test[TARGET].to_numpy(float))


# ----------------------------------------------------------------------------- protocol
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)


def score_run(pred, y_test, seed):
    violations, max_violations, score = metrics.monotonicity(pred)
    return dict(pred=pred, mae=metrics.mae(pred, y_test), violations=violations,
                max_violations=max_violations, score=score, seed=seed)


def median_run(runs):
    """The run whose violation count is the median: stable sort by violations, index 2 of 5."""
    return sorted(runs, key=lambda r: r["violations"])[len(runs) // 2]


def _seeded_noise(seed, noise_std, n):
    """Seed everything, then draw the run's prediction noise (0.0 without noise) before any fit."""
    seed_everything(seed)
    return np.random.normal(0.0, noise_std, n) if noise_std > 0 else 0.0


def evaluate_plain(names, X_train, y_train, X_test, y_test, noise_std=0.0, seeds=SEEDS, regressors=None):
    """The protocol written out literally: one estimator per name, refitted for every seed.

    Same contract and results as evaluate(); kept as the definition that evaluate() is tested
    against, and as the straightforward baseline of bench/bench_experiments.py.
    """
    regressors = REGRESSORS if regressors is None else regressors
    results = {}
    for name in names:
        estimator = regressors[name]()
        runs = []
        for seed in seeds:
            noise = _seeded_noise(seed, noise_std, len(y_test))
            scaler = StandardScaler().fit(X_train)
            estimator.fit(scaler.transform(X_train), y_train)
            pred = estimator.predict(scaler.transform(X_test)) + noise
            runs.append(score_run(pred, y_test, seed))
        results[name] = median_run(runs)
    return results


FAMILY_OF = {f"{family} (N={n})": (family, n) for family in ensembles.FAMILIES for n in ENSEMBLE_SIZES}


@functools.lru_cache(maxsize=64)
def _family_draws(family, seed, noise_std, n_train, n_test):
    """What a fit of `family` draws after seeding and the noise draw (ensembles.draws), for the
    largest size: a smaller size draws the same numbers, fewer of them."""
    _seeded_noise(seed, noise_std, n_test)
    return ensembles.draws(family, max(ENSEMBLE_SIZES), n_train)


def evaluate(names, X_train, y_train, X_test, y_test, noise_std=0.0, seeds=SEEDS, regressors=None, states=None):
    """Run the protocol for each regressor in `names` on one feature matrix.

    Test rows must be in ground-truth order. With noise_std > 0 (paper 2), Gaussian noise
    N(0, noise_std) is drawn from the global NumPy generator right after seeding, before the fit,
    and added to the predictions. Returns {name: result of the median run}, each result a dict
    with pred, mae, violations, max_violations, score (unrounded) and seed.

    `regressors` (default REGRESSORS) maps names to estimator factories; paper 2 passes its own.
    `states` (optional, a dict the caller keeps between calls on the SAME arrays) holds the grown
    ensembles per (family, seed, noise_std): a later call asking for a larger N of a family grows them on
    instead of starting again (paper 2's searches).
    Identical to evaluate_plain(), faster (SPEED NOTES in the module docstring): ask for all
    sizes of an ensemble family in one call to share its fits.
    """
    regressors = REGRESSORS if regressors is None else regressors
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in regressors]
    if unknown:
        raise KeyError(f"unknown regressor(s): {', '.join(unknown)}")
    X_train, X_test = np.asarray(X_train, dtype=float), np.asarray(X_test, dtype=float)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise ValueError("evaluate: features must be finite")  # what fit() would say, checked once
    scaler = StandardScaler().fit(X_train)
    X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)
    # the replica is of the protocol's own ensembles under scikit-learn 1.9.1; any other
    # ensemble (another version, a caller's own factory) is fitted plainly like the rest
    families = {}
    for name in names:
        if name in FAMILY_OF and ensembles.SUPPORTED and regressors[name] is REGRESSORS.get(name):
            family, n = FAMILY_OF[name]
            families.setdefault(family, {})[n] = name
    grown = {name for members in families.values() for name in members.values()}
    singles = [n for n in names if n not in grown]
    fixed = {}  # deterministic name -> its one prediction
    states = {} if states is None else states
    # what every tree fits and predicts on, converted once for all seeds
    X32_train, X32_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train_s, X_test_s))
    runs = {name: [] for name in names}
    # parameters are the factories' own and the input is checked above: skip re-checking per tree
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        for seed in seeds:
            for family, members in families.items():
                noise = _seeded_noise(seed, noise_std, len(y_test))
                draws = _family_draws(family, seed, noise_std, len(y_train), len(y_test))
                state = states.get((family, seed, noise_std))  # the draws depend on all three
                if state is None:
                    state = states[(family, seed, noise_std)] = ensembles.new_state(
                        family, y_train, len(y_test), ENSEMBLE_SIZES)
                ensembles.grow(state, max(members), X32_train, y_train, X32_test, draws)
                for n, name in members.items():
                    runs[name].append(score_run(ensembles.predict(state, n) + noise, y_test, seed))
            for name in singles:
                noise = _seeded_noise(seed, noise_std, len(y_test))
                if name in fixed:
                    pred = fixed[name]
                else:
                    pred = regressors[name]().fit(X_train_s, y_train).predict(X_test_s)
                    if name in DETERMINISTIC:
                        fixed[name] = pred
                runs[name].append(score_run(pred + noise, y_test, seed))
    return {name: median_run(runs[name]) for name in names}


# ----------------------------------------------------------------------------- figures
_CANVASES = {}  # per process: figure kind -> reusable figure, artists, cached backgrounds; "font"


def _new_canvas(xlabel, ylabel):
    # Figure + Agg canvas directly: no pyplot state, no backend switching in library code
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=FIGURE_SIZE, dpi=FIGURE_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.17, 0.12, 0.76, 0.70))  # fixed: room for a 3-line title above
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return dict(fig=fig, ax=ax, backgrounds={}, key=None)


def _title_font():
    """matplotlib's own default font, for PIL: drawing the title costs 0.1 of matplotlib's text path."""
    if "font" not in _CANVASES:
        from matplotlib import font_manager
        from PIL import ImageFont
        path = font_manager.findfont(font_manager.FontProperties())
        _CANVASES["font"] = ImageFont.truetype(path, round(TITLE_FONT_PT * FIGURE_DPI / 72))
    return _CANVASES["font"]


def _blit(canvas, key, set_layout, artists, title, path):
    """Draw `artists` over the background rendered for `key`, add `title` and write a PNG.

    set_layout(key) must put the axes in the state the background was drawn for (limits, ...);
    the background (everything but artists and title) is rendered the first time a key is seen.
    """
    from PIL import Image, ImageDraw
    fig, ax = canvas["fig"], canvas["ax"]
    if canvas["key"] != key:
        set_layout(key)
        canvas["key"] = key
        if key not in canvas["backgrounds"]:
            for a in artists:
                a.set_visible(False)
            fig.canvas.draw()
            canvas["backgrounds"][key] = fig.canvas.copy_from_bbox(fig.bbox)
            for a in artists:
                a.set_visible(True)
    fig.canvas.restore_region(canvas["backgrounds"][key])
    for a in artists:
        ax.draw_artist(a)
    for spine in ax.spines.values():  # spines sit above the data in a full draw too
        ax.draw_artist(spine)
    width, height = fig.canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    draw, font = ImageDraw.Draw(image), _title_font()
    line_height = font.size * 1.3
    for i, line in enumerate(title.splitlines()):
        draw.text((width / 2, 4 + i * line_height), line, font=font, fill="black", anchor="mt")
    png = io.BytesIO()
    image.save(png, format="png", compress_level=PNG_COMPRESS_LEVEL)
    Path(path).write_bytes(png.getvalue())


def plot_rank_matrix(pred, y_test, title, path):
    """PNG at `path`: one dark cell per test model at (predicted rank, true rank), ranks from 1.

    Rows are in ground-truth order (y_test ascending; only its length is used); the predicted
    rank is the position in a stable sort of pred, as in metrics.monotonicity. A perfect ranking
    is the diagonal; each pair of cells off in opposite directions is a violation.
    """
    n = len(pred)
    if len(y_test) != n:
        raise ValueError(f"pred has {n} rows, y_test {len(y_test)}")
    matrix = np.zeros((n, n))
    matrix[np.argsort(np.asarray(pred), kind="stable"), np.arange(n)] = 1.0  # [true rank, predicted rank]
    canvas = _CANVASES.get("rank")
    if canvas is None:
        canvas = _CANVASES["rank"] = _new_canvas("predicted rank", "true rank")
        canvas["image"] = canvas["ax"].imshow(np.zeros((2, 2)), cmap="Greys", vmin=0, vmax=1, origin="lower",
                                              interpolation="nearest", aspect="equal")

    def set_layout(size):
        canvas["image"].set_extent((0.5, size + 0.5, 0.5, size + 0.5))
        canvas["ax"].set_xlim(0.5, size + 0.5)
        canvas["ax"].set_ylim(0.5, size + 0.5)

    canvas["image"].set_data(matrix)
    _blit(canvas, n, set_layout, [canvas["image"]], title, path)


def plot_scatter(pred, y_test, title, path):
    """PNG at `path`: true (x) against predicted (y) MaxAccuracy of each test model, with y = x.

    Both axes share limits snapped outward to SCATTER_GRID around all finite values.
    """
    pred, y_test = np.asarray(pred, dtype=float), np.asarray(y_test, dtype=float)
    if len(y_test) != len(pred):
        raise ValueError(f"pred has {len(pred)} rows, y_test {len(y_test)}")
    values = np.concatenate([pred, y_test])
    values = values[np.isfinite(values)]
    lo = math.floor(values.min() / SCATTER_GRID) if len(values) else 0
    hi = max(math.ceil(values.max() / SCATTER_GRID), lo + 1) if len(values) else 1
    canvas = _CANVASES.get("scatter")
    if canvas is None:
        canvas = _CANVASES["scatter"] = _new_canvas("true MaxAccuracy", "predicted MaxAccuracy")
        canvas["points"] = canvas["ax"].scatter([], [], s=14, color="tab:blue", zorder=3)
        canvas["diagonal"] = canvas["ax"].plot([0, 1], [0, 1], color="0.6", lw=1, zorder=1)[0]

    def set_layout(key):
        limits = (key[0] * SCATTER_GRID, key[1] * SCATTER_GRID)
        canvas["ax"].set_xlim(*limits)
        canvas["ax"].set_ylim(*limits)
        canvas["diagonal"].set_data(limits, limits)

    canvas["points"].set_offsets(np.column_stack([y_test, pred]))
    _blit(canvas, (lo, hi), set_layout, [canvas["points"]], title, path)


def acceleration(features):
    """'100%' for Scheme, else the share of the 90 epochs not trained: '96.7%', '93.3%', '90%'."""
    match = re.search(r"(\d+) epochs", features)
    saved = 100.0 * (1 - (int(match.group(1)) if match else 0) / NUM_EPOCHS_TOTAL)
    return f"{saved:.1f}".removesuffix(".0") + "%"


def plot_summary(frame, path):
    """PNG at `path`: MAE and #violations against acceleration, one line per regressor."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 5.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    x = [float(acceleration(f).rstrip("%")) for f in FEATURE_SETS]
    families = list(dict.fromkeys(name.split(" (")[0].split("-")[-1] for name in frame["Model"]))
    styles = ["-", "--", ":", "-.", (0, (5, 1, 1, 1))]
    seen = {}
    for name in dict.fromkeys(frame["Model"]):
        # one colour per family (k-NN, Random Forest, ...), line styles tell its members apart
        family = name.split(" (")[0].split("-")[-1]
        member = seen[family] = seen.get(family, -1) + 1
        rows = frame[frame["Model"] == name].set_index("Features").reindex(list(FEATURE_SETS))
        style = dict(color=f"C{families.index(family) % 10}", ls=styles[member % len(styles)], marker="o", ms=3,
                     lw=1.2, label=name)
        axes[0].plot(x, rows["MeanAbsoluteError"], **style)
        axes[1].plot(x, rows["NumViolations"], **style)
    for ax, label in zip(axes, ["MAE", "#violations"]):
        ax.set_xlabel("acceleration (share of the 90 epochs not trained)")
        ax.set_ylabel(label)
        ax.set_xticks(x, [acceleration(f) for f in FEATURE_SETS])
        ax.invert_xaxis()  # left to right: more training epochs used
        ax.grid(alpha=0.3)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    fig.suptitle("NAAP-440 baseline: test MAE and monotonicity violations against acceleration")
    fig.subplots_adjust(left=0.06, right=0.8, wspace=0.25)
    fig.savefig(path, dpi=SUMMARY_DPI)


def slug(text):
    """File-name form of a model or feature-set name: 'Random Forest (N=25)' -> 'random_forest_n_25'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def figure_title(name, features, run):
    return (f"{name}\n{features} ({acceleration(features)} acceleration)\n"
            f"MAE {run['mae']:.4f}, {run['violations']}/{run['max_violations']} violations, score {run['score']:.4f}")


def figure_paths(fig_dir, name, features):
    stem = f"{slug(name)}__{slug(features)}.png"
    return Path(fig_dir) / "rank_matrix" / stem, Path(fig_dir) / "scatter" / stem


# ----------------------------------------------------------------------------- running all
def _tasks(df, fig_dir):
    """(features, names, data, fig_dir) per feature set and regressor group, longest first."""
    tasks = []
    for features, columns in FEATURE_SETS.items():
        data = split(df, columns)
        groups = {}
        for name in REGRESSORS:
            groups.setdefault(FAMILY_OF.get(name, (None,))[0], []).append(name)
        for family, names in groups.items():
            tasks.append((TASK_COST[family] * len(columns), (features, names, data, fig_dir)))
    return [task for _, task in sorted(tasks, key=lambda t: -t[0])]


def _run_task(task):
    features, names, data, fig_dir = task
    results = evaluate(names, *data)
    if fig_dir is not None:
        y_test = data[3]
        for name, run in results.items():
            rank_path, scatter_path = figure_paths(fig_dir, name, features)
            title = figure_title(name, features, run)
            plot_rank_matrix(run["pred"], y_test, title, rank_path)
            plot_scatter(run["pred"], y_test, title, scatter_path)
    return features, results


def run_all(df, jobs=1, fig_dir=None, progress=True):
    """Every regressor on every feature set: {features: {name: median run}} (+ figures in fig_dir).

    With jobs > 1 the tasks run in a pool of forked processes; the results do not depend on jobs.
    Fork before the calling process has run OpenMP code (k-NN, ...): GNU OpenMP is not fork-safe.
    main() forks right after loading the data.
    """
    from tqdm import tqdm
    if fig_dir is not None:
        for sub in ("rank_matrix", "scatter"):
            (Path(fig_dir) / sub).mkdir(parents=True, exist_ok=True)
    tasks = _tasks(df, fig_dir)
    if fig_dir is not None and jobs > 1:
        import matplotlib.backends.backend_agg  # noqa: F401  once here, not once per forked worker
        import PIL.Image  # noqa: F401
    results = {}
    with tqdm(total=len(FEATURE_SETS) * len(REGRESSORS), desc="runs", unit="run", disable=not progress,
              file=sys.stderr) as bar:
        if jobs == 1 or len(tasks) == 1:
            done = map(_run_task, tasks)
            pool = None
        else:
            # fork: workers inherit the imported modules; spawn would re-import scikit-learn per worker
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            pool = context.Pool(min(jobs, len(tasks)))
            done = pool.imap_unordered(_run_task, tasks)
        try:
            for features, runs in done:
                results.setdefault(features, {}).update(runs)
                bar.update(len(runs))
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    return {features: {name: results[features][name] for name in REGRESSORS} for features in FEATURE_SETS}


# ----------------------------------------------------------------------------- tables
def results_frame(results, y_tests=None):
    """results.csv rows in table order (REGRESSORS x FEATURE_SETS), values rounded as published.

    y_tests ({features: y_test}) adds KendallTau and SpearmanRho of the kept run.
    """
    rows = []
    for name in REGRESSORS:
        for features in FEATURE_SETS:
            run = results[features][name]
            row = [name, features, round(run["mae"], OUTPUT_DECIMALS), run["violations"], run["max_violations"],
                   round(run["score"], OUTPUT_DECIMALS)]
            if y_tests is not None:
                row += [round(metrics.kendall_tau(run["pred"], y_tests[features]), OUTPUT_DECIMALS),
                        round(metrics.spearman_rho(run["pred"], y_tests[features]), OUTPUT_DECIMALS)]
            rows.append(row)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS + (EXTRA_COLUMNS if y_tests is not None else []))


def _grid_table(frame, cell, note):
    """Markdown: one row per model, one column per acceleration, cell(row of frame) in each."""
    columns = list(FEATURE_SETS)
    lines = [note, "", "| Model | " + " | ".join(f"{acceleration(f)} Acceleration" for f in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    by_cell = {(r.Model, r.Features): r for r in frame.itertuples(index=False)}
    for name in dict.fromkeys(frame["Model"]):
        lines.append(f"| {name} | " + " | ".join(cell(by_cell[name, f]) for f in columns) + " |")
    return "\n".join(lines) + "\n"


def markdown_table(frame):
    """results.md: the README table, 'MAE / Monotonicity Score / #Violations', 3 decimals."""
    d = TABLE_DECIMALS
    max_violations = sorted(set(frame["MaxViolations"]))
    note = ("Each cell: MAE / Monotonicity Score / #Violations (of "
            f"{', '.join(map(str, max_violations))} test pairs), median of {len(SEEDS)} seeds.")
    def cell(r):
        return f"{r.MeanAbsoluteError:.{d}f} / {r.MonotonicityScore:.{d}f} / {r.NumViolations}"
    return _grid_table(frame, cell, note)


def model_key(name):
    """Model name without parentheses: the published table writes 'Linear Regression D=0.5'."""
    return " ".join(name.replace("(", " ").replace(")", " ").split())


def load_published(path):
    """{(model_key, features): (MAE, #violations, max violations, score)} of a published results CSV."""
    table = read_csv(path)
    missing = [c for c in RESULT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in RESULT_COLUMNS[2:]:
        if not pd.api.types.is_numeric_dtype(table[c]) or table[c].isna().any():
            raise InputError(f"{path}: column {c} is not numeric")
    published = {}
    for r in table.itertuples(index=False):
        key = (model_key(str(r.Model)), str(r.Features))
        if key in published:
            raise InputError(f"{path}: duplicate row for {r.Model}, {r.Features}")
        published[key] = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
    return published


def compare_frame(frame, published):
    """Per (model, features): ours, published, difference (ours - published) and exact Match."""
    rows = []
    for r in frame.itertuples(index=False):
        ours = (r.MeanAbsoluteError, r.NumViolations, r.MaxViolations, r.MonotonicityScore)
        theirs = published.get((model_key(r.Model), r.Features))
        row = [r.Model, r.Features]
        for i in (0, 1, 3):
            row += [ours[i], np.nan, np.nan] if theirs is None else [ours[i], theirs[i], ours[i] - theirs[i]]
        rows.append(row + [theirs is not None and tuple(ours) == tuple(theirs)])
    columns = ["Model", "Features"]
    for metric in ("MeanAbsoluteError", "NumViolations", "MonotonicityScore"):
        columns += [metric, f"Published{metric}", f"Diff{metric}"]
    out = pd.DataFrame(rows, columns=columns + ["Match"])
    for c in ("DiffMeanAbsoluteError", "DiffMonotonicityScore"):
        out[c] = out[c].round(OUTPUT_DECIMALS)
    return out


def compare_markdown(comparison):
    """comparison.md: which cells match the published table, and by how much the others differ."""
    matches = int(comparison["Match"].sum())
    note = (f"{matches} of {len(comparison)} rows match the published results exactly. Each other cell: "
            "difference ours - published in MAE / Monotonicity Score / #Violations.")

    def cell(r):
        if r.Match:
            return "="
        if pd.isna(r.PublishedNumViolations):
            return "missing"
        return (f"{r.DiffMeanAbsoluteError:+.4f} / {r.DiffMonotonicityScore:+.4f} / "
                f"{int(r.DiffNumViolations):+d}")
    return _grid_table(comparison, cell, note)


# ----------------------------------------------------------------------------- command line
def available_cores():
    """Cores this process may run on (taskset/cgroup affinity), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="NAAP-440 CSV, e.g. naap440.csv")
    parser.add_argument("out_dir", nargs="?", help="output directory (without it the table is printed)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT_DIR")
    parser.add_argument("--jobs", type=int, default=available_cores(), help="worker processes (default: all cores)")
    parser.add_argument("--compare", metavar="PUBLISHED.csv", help="add a difference table against this results file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(args):
    """Run everything; returns the results table (results.csv as a DataFrame)."""
    if args.jobs < 1:
        raise InputError(f"--jobs {args.jobs}: must be at least 1")
    published = load_published(args.compare) if args.compare else None
    df = load_dataset(args.dataset, list(dict.fromkeys(c for cols in FEATURE_SETS.values() for c in cols)))
    y_tests = {features: split(df, cols)[3] for features, cols in FEATURE_SETS.items()}
    start = time.perf_counter()
    if args.out_dir is None:
        frame = results_frame(run_all(df, args.jobs, progress=not args.no_progress), y_tests)
        print(markdown_table(frame), end="")
        if published is not None:
            print()
            print(compare_markdown(compare_frame(frame, published)), end="")
        return frame
    with atomic_output_dir(args.out_dir, args.force) as tmp:
        results = run_all(df, args.jobs, fig_dir=tmp / "figures", progress=not args.no_progress)
        frame = results_frame(results, y_tests)
        atomic_write_text(tmp / "results.csv", frame[RESULT_COLUMNS].to_csv(index=False))
        atomic_write_text(tmp / "results_extended.csv", frame.to_csv(index=False))
        atomic_write_text(tmp / "results.md", markdown_table(frame))
        plot_summary(frame, tmp / "summary.png")
        comparison = None
        if published is not None:
            comparison = compare_frame(frame, published)
            atomic_write_text(tmp / "comparison.csv", comparison.to_csv(index=False))
            atomic_write_text(tmp / "comparison.md", compare_markdown(comparison))
    print(f"{args.out_dir}: {len(frame)} runs, {2 * len(frame)} figures in {time.perf_counter() - start:.1f} s")
    if comparison is not None:
        print(f"{int(comparison['Match'].sum())} of {len(comparison)} rows match {args.compare}")
    return frame


if __name__ == "__main__":
    run_cli(main, parse_args())
