"""All drawing of the NAAP-440 scripts: rank matrices, scatters, the summary and paper 2's figures.

Library module (no command line, nothing drawn at import). Every figure is one PNG written at a
given path. Matplotlib's Figure and Agg canvas are used directly: no pyplot state and no backend
switching in library code.

Speed: the per-run figures (rank matrix, scatter) are drawn by blitting onto a background
rendered once per process and layout, with the title drawn by PIL, because run_experiments.py
writes 192 of them and paper 2 hundreds more.
"""
import io
import math
from pathlib import Path

import numpy as np

from naap import protocol
from naap.data import FEATURE_SET_EPOCHS, NUM_EPOCHS_TOTAL, acceleration

FIGURE_SIZE = (4.2, 4.2)  # inches
FIGURE_DPI = 80
PNG_COMPRESS_LEVEL = 1  # zlib level: the default 6 costs several ms per figure for ~10% smaller files
TITLE_FONT_PT = 8
SCATTER_GRID = 0.05  # scatter limits snap to this grid, so most figures share one background
SUMMARY_DPI = 110
RANK_MATRIX_DIR, SCATTER_DIR = "rank_matrix", "scatter"

_CANVASES = {}  # per process: figure kind -> reusable figure, artists, cached backgrounds; "font"


def figure_paths(fig_dir, name, features):
    """(rank matrix PNG, scatter PNG) of one regressor on one feature set, under fig_dir."""
    stem = f"{protocol.slug(name)}__{protocol.slug(features)}.png"
    return Path(fig_dir) / RANK_MATRIX_DIR / stem, Path(fig_dir) / SCATTER_DIR / stem


def figure_title(name, features, run):
    return (f"{name}\n{features} ({acceleration(features)} acceleration)\n"
            f"MAE {run['mae']:.4f}, {run['violations']}/{run['max_violations']} violations, score {run['score']:.4f}")


def preload():
    """Import matplotlib's Agg canvas and PIL now: called before the workers fork, they inherit
    them instead of each importing them (about 0.5 s a process)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from PIL import Image, ImageDraw, ImageFont  # noqa: F401


def _new_canvas(xlabel, ylabel):
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


def rank_matrix(pred):
    """matrix[true rank, predicted rank] = 1 for each test row (rows in ground-truth order; the
    predicted rank is the position in a stable sort of pred, as in metrics.monotonicity)."""
    n = len(pred)
    matrix = np.zeros((n, n))
    matrix[np.arange(n), np.argsort(np.argsort(np.asarray(pred), kind="stable"), kind="stable")] = 1.0
    return matrix


def plot_rank_matrix(pred, y_test, title, path):
    """PNG at `path`: one dark cell per test model at (predicted rank, true rank), ranks from 1.

    A perfect ranking is the diagonal; each pair of cells off in opposite directions is a
    violation. y_test gives the ground-truth order (only its length is used).
    """
    n = len(pred)
    if len(y_test) != n:
        raise ValueError(f"pred has {n} rows, y_test {len(y_test)}")
    canvas = _CANVASES.get("rank")
    if canvas is None:
        canvas = _CANVASES["rank"] = _new_canvas("predicted rank", "true rank")
        canvas["image"] = canvas["ax"].imshow(np.zeros((2, 2)), cmap="Greys", vmin=0, vmax=1, origin="lower",
                                              interpolation="nearest", aspect="equal")

    def set_layout(size):
        canvas["image"].set_extent((0.5, size + 0.5, 0.5, size + 0.5))
        canvas["ax"].set_xlim(0.5, size + 0.5)
        canvas["ax"].set_ylim(0.5, size + 0.5)

    canvas["image"].set_data(rank_matrix(pred))
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


def write_run_figures(fig_dir, features, results, y_test):
    """The rank matrix and scatter of every run in results ({name: median run}) on one feature set."""
    for name, run in results.items():
        rank_path, scatter_path = figure_paths(fig_dir, name, features)
        title = figure_title(name, features, run)
        plot_rank_matrix(run["pred"], y_test, title, rank_path)
        plot_scatter(run["pred"], y_test, title, scatter_path)


def make_figure_dirs(fig_dir):
    for sub in (RANK_MATRIX_DIR, SCATTER_DIR):
        (Path(fig_dir) / sub).mkdir(parents=True, exist_ok=True)


def _confidence():
    """'95%': uncertainty.CONFIDENCE, the intervals' level, for the figures' titles."""
    from naap import uncertainty  # here, not at the top: only the titles of two figures need it
    return f"{uncertainty.CONFIDENCE:.0%}"


SUMMARY_INTERVALS = {"MeanAbsoluteError": "MAE", "NumViolations": "NumViolations"}  # panel: protocol.INTERVAL_METRICS
SUMMARY_SPREAD = 2.4  # x units (acceleration %) over which the regressors' error bars are spread apart


def plot_summary(frame, path, intervals=False):
    """PNG at `path`: MAE and #violations against acceleration, one line per regressor.

    frame: results.csv rows (Model, Features, MeanAbsoluteError, NumViolations). intervals=True
    draws each point's bootstrap interval (the frame's <metric>_lo, <metric>_hi columns,
    protocol.INTERVAL_COLUMNS) as a vertical bar; the regressors' points are then spread
    slightly along x (SUMMARY_SPREAD) so that their bars stay apart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 5.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    feature_sets = list(dict.fromkeys(frame["Features"]))
    x = [100.0 * (1 - FEATURE_SET_EPOCHS[f] / NUM_EPOCHS_TOTAL) for f in feature_sets]
    names = list(dict.fromkeys(frame["Model"]))
    families = list(dict.fromkeys(protocol.family_of(name) for name in names))
    styles = ["-", "--", ":", "-.", (0, (5, 1, 1, 1))]
    seen = {}
    for name in names:
        # one colour per family (k-NN, Random Forest, ...), line styles tell its members apart
        family = protocol.family_of(name)
        member = seen[family] = seen.get(family, -1) + 1
        rows = frame[frame["Model"] == name].set_index("Features").reindex(feature_sets)
        style = dict(color=f"C{families.index(family) % 10}", ls=styles[member % len(styles)], marker="o", ms=3,
                     lw=1.2, label=name)
        offset = (names.index(name) / max(len(names) - 1, 1) - 0.5) * SUMMARY_SPREAD if intervals else 0.0
        for ax, column in zip(axes, SUMMARY_INTERVALS):
            ax.plot([v + offset for v in x], rows[column], **style)
            if intervals:  # the interval need not contain the point (percentile bootstrap): no yerr
                metric = SUMMARY_INTERVALS[column]
                ax.vlines([v + offset for v in x], rows[f"{metric}_lo"], rows[f"{metric}_hi"], color=style["color"],
                          lw=0.7, alpha=0.6)
    for ax, label in zip(axes, ["MAE", "#violations"]):
        ax.set_xlabel("acceleration (share of the 90 epochs not trained)")
        ax.set_ylabel(label)
        ax.set_xticks(x, [acceleration(f) for f in feature_sets])
        ax.invert_xaxis()  # left to right: more training epochs used
        ax.grid(alpha=0.3)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    fig.suptitle("NAAP-440 baseline: test MAE and monotonicity violations against acceleration"
                 + (f"\n(bars: {_confidence()} bootstrap intervals over the test models)" if intervals else ""))
    fig.subplots_adjust(left=0.06, right=0.8, wspace=0.25)
    fig.savefig(path, dpi=SUMMARY_DPI)


def plot_feature_frequency(freq, names, features, title, path, best_share):
    """Heatmap PNG: regressors (rows) x features (columns), the share of each regressor's best
    subsets (best_share of them) that contain each feature."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.5 + 0.3 * len(features), 2.2 + 0.25 * len(names)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(freq, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(features)), features, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_title(title, fontsize=9)
    bar = fig.colorbar(im, ax=ax)
    bar.set_label(f"share of the best {best_share:.0%} subsets", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


BASELINE_PANELS = (("KendallTau", "Kendall tau", max), ("NumViolations", "#violations", min), ("MAE", "MAE", min))


def plot_baselines(frame, path, x_of, xlabel, x_ticks, groups, marks, cycle_ends):
    """PNG at `path`: Kendall tau, #violations and MAE (3 panels) of every method of a baselines
    table (baselines.py's Method, Epochs and metric columns) against x_of(epochs).

    The x axis is symlog, linear between 0 and x_of(1), logarithmic above, so that 0 (no training)
    is on it; x_ticks: {epoch count: tick label}. groups: {label: [methods]}, each drawn as one line
    of the best value per epoch count (highest tau, fewest violations, lowest MAE) over a band of all
    of them; every other method is a line, or a marker at its one epoch count (the zero-cost rankers
    at 0), in the same colour in every panel. marks: epoch counts drawn as dashed verticals (paper
    1's 0/3/6/9); cycle_ends: faint verticals (the learning-rate restarts). Empty MAE values
    (rankers) are not drawn.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(17, 5.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    grouped = {m for members in groups.values() for m in members}
    singles = [m for m in dict.fromkeys(frame["Method"]) if m not in grouped]
    counts = frame.groupby("Method")["Epochs"].nunique()
    markers = "osD^v<>PX*hp"
    styles, point, line = {}, 0, 0
    for method in singles:  # one style per method, whichever panels it appears in
        if counts[method] == 1:
            styles[method] = dict(ls="none", marker=markers[point % len(markers)], ms=7,
                                  color=f"C{(point + 5) % 10}", clip_on=False)
            point += 1
        else:
            styles[method] = dict(lw=1.3, color=f"C{line % 5}")
            line += 1
    for ax, (column, label, best) in zip(axes, BASELINE_PANELS):
        for i, (group, members) in enumerate(groups.items()):
            rows = frame[frame["Method"].isin(members)].dropna(subset=[column])
            if rows.empty:
                continue
            by_k = rows.groupby("Epochs")[column]
            ks = np.array(sorted(by_k.groups))
            xs = [x_of(k) for k in ks]
            color = ("0.15", "darkgoldenrod", "teal")[i % 3]  # apart from the methods' C0..C9
            ax.fill_between(xs, by_k.min().loc[ks], by_k.max().loc[ks], color=color, alpha=0.12, lw=0)
            ax.plot(xs, (by_k.max() if best is max else by_k.min()).loc[ks], color=color, lw=2, marker="o", ms=3,
                    label=f"{group}: best per epoch count (band: all)")
        for method in singles:
            rows = frame[frame["Method"] == method].dropna(subset=[column]).sort_values("Epochs")
            if not rows.empty:
                suffix = f" ({rows['Epochs'].iloc[0]} epochs)" if counts[method] == 1 else ""
                ax.plot([x_of(k) for k in rows["Epochs"]], rows[column], label=method + suffix, **styles[method])
        # one collection each, in axes coordinates vertically (as axvline, without an artist per line)
        transform = ax.get_xaxis_transform()
        ax.vlines([x_of(k) for k in cycle_ends], 0, 1, transform=transform, color="0.5", lw=0.5, alpha=0.15, zorder=0)
        ax.vlines([x_of(k) for k in marks], 0, 1, transform=transform, color="tab:red", lw=1, ls="--", alpha=0.5,
                  zorder=0)
        ax.set_xscale("symlog", linthresh=x_of(1), linscale=0.5)
        ax.set_xticks([x_of(k) for k in x_ticks], list(x_ticks.values()))
        ax.minorticks_off()
        ax.set_xlim(0, max(x_of(max(x_ticks)), x_of(1)) * 1.05)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[2].set_yscale("log")  # the early LCE fallbacks are 50x the regressors' MAE
    axes[0].text(0.01, 0.01, "dashed red: paper 1's 0/3/6/9 epochs; faint grey: learning-rate cycle ends",
                 transform=axes[0].transAxes, fontsize=7, color="0.3")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=7)
    fig.suptitle("NAAP-440 test models: the paper's regressors against the field's baselines")
    fig.subplots_adjust(left=0.04, right=0.8, wspace=0.25)
    fig.savefig(path, dpi=SUMMARY_DPI)


SPLITS_PANELS = (("NumViolations", "#violations"), ("MAE", "MAE"))  # uncertainty.SPLIT_METRICS shown


def plot_splits(summary, path):
    """PNG at `path`: the regressors ranked on other splits, one column per feature set.

    summary: uncertainty.splits_summary rows. In each column the regressors are ordered by mean
    violations over the splits (fewest at the top; ties by mean MAE); each row shows the mean
    (dot), the interval <metric>_lo..<metric>_hi (bar) and the published split's value (cross),
    for #violations (top) and MAE (bottom).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    feature_sets = list(dict.fromkeys(summary["Features"]))
    num_models = summary["Model"].nunique()
    fig = Figure(figsize=(4.6 * len(feature_sets), 2 * (1.2 + 0.17 * num_models)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(SPLITS_PANELS), len(feature_sets), squeeze=False)
    for col, features in enumerate(feature_sets):
        rows = summary[summary["Features"] == features].sort_values(["NumViolations_mean", "MAE_mean"], kind="stable")
        y = np.arange(len(rows))[::-1]  # the best at the top
        for row, (metric, label) in enumerate(SPLITS_PANELS):
            ax = axes[row][col]
            ax.hlines(y, rows[f"{metric}_lo"], rows[f"{metric}_hi"], color="tab:blue", lw=2, alpha=0.5)
            ax.plot(rows[f"{metric}_mean"], y, "o", color="tab:blue", ms=3, label="mean over splits")
            ax.plot(rows[f"{metric}_fixed"], y, "x", color="tab:red", ms=4, label="published split")
            ax.set_yticks(y, rows["Model"], fontsize=6)
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(5))  # MAE tick labels are long: fewer of them
            ax.grid(axis="x", alpha=0.3)
            if row == 0:
                ax.set_title(f"{features}\n({acceleration(features)} acceleration)", fontsize=8)
    splits = int(summary["Splits"].max()) if len(summary) else 0
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.suptitle(f"NAAP-440 regressors on {splits} other splits: mean and {_confidence()} interval over the splits "
                 "(ranked by mean #violations)", fontsize=10)
    # fixed margins, room for the model names left of each column (tight_layout would cost a draw)
    fig.subplots_adjust(left=0.075, right=0.99, bottom=0.05, top=0.93, wspace=0.62, hspace=0.12)
    fig.savefig(path, dpi=SUMMARY_DPI)


def plot_budget_heatmap(frame, name, path):
    """PNG at `path`: one predictor's mean Kendall tau per cell, train models (rows) by epochs per
    test model (columns), each cell annotated. frame: budget.csv rows of that predictor."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    sizes, epochs = sorted(set(frame["TrainModels"])), sorted(set(frame["Epochs"]))
    tau = np.full((len(sizes), len(epochs)), np.nan)
    for r in frame.itertuples(index=False):
        tau[sizes.index(r.TrainModels), epochs.index(r.Epochs)] = r.KendallTau
    fig = Figure(figsize=(1.0 + 0.9 * len(epochs), 1.2 + 0.5 * len(sizes)))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.2, 0.18, 0.62, 0.66))
    image = ax.imshow(tau, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower", aspect="auto")
    for i in range(len(sizes)):
        for j in range(len(epochs)):
            if np.isfinite(tau[i, j]):
                ax.text(j, i, f"{tau[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if tau[i, j] > 0.6 else "white")
    ax.set_xticks(range(len(epochs)), [str(k) for k in epochs])
    ax.set_yticks(range(len(sizes)), [str(n) for n in sizes])
    ax.set_xlabel("epochs each test model trains (k)")
    ax.set_ylabel("fully trained models (n)")
    fig.colorbar(image, cax=fig.add_axes((0.85, 0.18, 0.03, 0.66)), label="Kendall tau")
    ax.set_title(f"{name}: mean Kendall tau over the splits", fontsize=9)
    fig.savefig(path, dpi=SUMMARY_DPI)


def plot_budget_pareto(fronts, lines, points, path):
    """PNG at `path`: Kendall tau against GPU hours (log scale). fronts: {predictor: budget.csv rows
    of its Pareto front} drawn as steps; lines: {name: rows} drawn as plain lines (early stopping
    over k); points: {name: row} drawn as stars (training every candidate to the end)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(9, 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.08, 0.1, 0.62, 0.8))
    for i, (name, rows) in enumerate(fronts.items()):
        ax.step(rows["GPUHours"], rows["KendallTau"], where="post", color=f"C{i % 10}", lw=1.2, marker="o", ms=3,
                label=f"{name} (front)")
    for name, rows in lines.items():
        ax.plot(rows["GPUHours"], rows["KendallTau"], color="black", lw=1.5, ls="--", label=name)
    for name, row in points.items():
        ax.plot([row["GPUHours"]], [row["KendallTau"]], "*", color="tab:red", ms=12, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("GPU hours: fully trained models (90 epochs each) + the test models' first k epochs")
    ax.set_ylabel("Kendall tau on the test models")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    ax.set_title("Prediction quality against its whole cost (mean over the splits)", fontsize=10)
    fig.savefig(path, dpi=SUMMARY_DPI)
