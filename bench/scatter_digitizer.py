"""Read the authors' published paper-2 scatter figures back: the digitizer of check_published_figures.

The figures (`<mode>_<regressor>_<start set>_scatter.jpg`, matplotlib's default style) show blue
'GT accuracy' points = the true MaxAccuracy of the mode's test models in ground-truth order at
x = 1..n, and orange 'Predicted accuracy' points = the best subset's predictions at the same x.
digitize() reads them:

Marker pixels are those within COLOUR_THRESHOLD (RGB distance) of #1f77b4 (blue) or #ff7f0e
(orange) inside the axes box (the black spines); the grid lines, drawn over the markers, are
healed to find the blobs and count as unknown pixels in the fits. The legend's pair of markers
(same x, the orange one a row below, black text to the right of both; wherever the legend is) is
left out and gives each colour's marker radius. x pixels are a linear map of the index 1..n,
fitted on the marker columns (orange markers are drawn last, so every index shows at least one).
Each marker's centre y is a least-squares fit of an anti-aliased disc to the pixels' colour
coverage, on the pixels that show it: a blue marker under an orange one (values within a
marker's size) is read from its uncovered part, or left out when less than half of it shows. The
y axis is a least-squares linear map from the blue centres to the true values of their indices
(the caller's `truth`: the mode's test rows, which do not depend on the regressor), its slope
fitted together with the horizontal grid lines at their tick values (rounded from that map),
which span the whole axis. Each orange centre is read through that map. The blue points'
residuals are the read-back accuracy.
"""
import math

import numpy as np

BLUE = (0x1F, 0x77, 0xB4)  # matplotlib's C0: 'GT accuracy'
ORANGE = (0xFF, 0x7F, 0x0E)  # C1: 'Predicted accuracy'
COLOUR_THRESHOLD = 60.0  # RGB distance of a marker pixel to its colour (JPEG artefacts, anti-aliasing)
DARK_LEVEL = 90  # a pixel whose channels are all below this is black ink (spines, legend text)
SPINE_SHARE = 0.5  # a spine is a row/column that is dark over this share of the image
GRID_SHARE = 0.6  # a grid line is a row/column grey over this share of the axes box
GRID_HEAL_PX = 1  # pixels beside a grid line that JPEG blurs too
GREY_SPREAD, GREY_RANGE = 25, (130, 225)  # grey: channels within GREY_SPREAD, mean in GREY_RANGE
MIN_FRAGMENT_AREA = 4  # smaller blobs are JPEG specks or slivers of a covered marker
LEGEND_MAX_DX = 2.0  # the legend's two markers share their x (pixels)
LEGEND_DY = (10.0, 40.0)  # the legend's orange marker lies this far below its blue one (pixels)
LEGEND_TEXT_BOX = (8, 60, 5)  # dark pixels counted at x + 8..60, y +- 5 of a legend marker
MIN_LEGEND_TEXT = 15  # dark pixels needed beside each legend marker
LEGEND_MARKER_REACH = 7  # pixels around a legend marker's centre that hold it and nothing else
MARKER_RADIUS_PX = (3.5, 6.0)  # plausible marker radius (matplotlib's s=36 at 100 dpi: ~4.5)
COLUMN_MERGE_PX = 6.0  # blobs within this x distance belong to the same index (markers cut by the legend)
MAX_X_RESIDUAL_PX = 1.0  # the x map must fit every column this well
FIT_SEARCH_PX, FIT_COARSE_PX, FIT_STEP_PX = 3.0, 0.25, 0.02  # a marker's centre is searched this far
# from its blob's, in coarse steps, then in fine steps around the best coarse one
OCCLUSION_DILATION_PX = 1  # orange pixels, grown by this, hide what lies under them (blends too)
# a marker is read when this share of its disc is visible (a blue one half covered by an orange
# one is too uncertain; an orange one is covered only by grid lines: two crossing ones hide 2/3)
MIN_VISIBLE_SHARE = {"blue": 0.5, "orange": 0.25}
MAX_MISFIT = 0.25  # ... the disc explains the coverage around it to this rms (JPEG blurs orange most)
# and its centre lies inside the search range
MIN_CALIBRATION_POINTS = 4  # readable blue markers needed for the y map
MIN_GRID_LINES = 3  # horizontal grid lines (at tick values) that refine the y map's slope
GRID_TICK_SLACK = 0.1  # each grid line must read within this share of the tick step of a tick
TICK_MULTIPLES = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)  # tick steps are these times a power of ten (0.03 seen)
MAX_BLUE_RESIDUAL_PX = 1.0  # a figure whose blue points fit worse than this is unreadable (error)


class DigitizeError(Exception):
    """A figure that the digitizer cannot read reliably."""


def _lines(flags):
    """Runs of consecutive True indices: [(first, last), ...]."""
    runs, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def _axes_box(rgb):
    """(top, bottom, left, right) pixel rows/columns of the axes spines."""
    dark = rgb.max(axis=-1) < DARK_LEVEL
    rows = np.flatnonzero(dark.sum(axis=1) > SPINE_SHARE * rgb.shape[1])
    cols = np.flatnonzero(dark.sum(axis=0) > SPINE_SHARE * rgb.shape[0])
    if len(rows) < 2 or len(cols) < 2:
        raise DigitizeError("axes spines not found")
    return rows[0], rows[-1], cols[0], cols[-1]


def _marker_masks(rgb, box):
    """({colour: raw mask}, {colour: healed mask}, grid band mask, [y of each horizontal grid
    line], offset) inside the axes box.

    Grid lines are drawn over the markers: in the healed masks (used to find the blobs) a grid
    line and GRID_HEAL_PX pixels on each side (JPEG blurs them too) are marker where the pixels
    just beyond both sides are; in the fits those pixels count as unknown (the grid band).
    """
    top, bottom, left, right = box
    inner = rgb[top + 2:bottom - 1, left + 2:right - 1].astype(float)
    grey = (np.ptp(inner, axis=-1) < GREY_SPREAD) & (inner.mean(axis=-1) > GREY_RANGE[0]) & \
           (inner.mean(axis=-1) < GREY_RANGE[1])
    h = GRID_HEAL_PX
    grid_cols = [(a - h, b + h) for a, b in _lines(grey.sum(axis=0) > GRID_SHARE * inner.shape[0])]
    grid_rows = [(a - h, b + h) for a, b in _lines(grey.sum(axis=1) > GRID_SHARE * inner.shape[1])]
    band = np.zeros(inner.shape[:2], dtype=bool)
    for a, b in grid_cols:
        band[:, max(a, 0):b + 1] = True
    for a, b in grid_rows:
        band[max(a, 0):b + 1, :] = True
    raw, healed = {}, {}
    for colour, value in (("blue", BLUE), ("orange", ORANGE)):
        mask = np.sqrt(((inner - np.array(value, dtype=float)) ** 2).sum(axis=-1)) < COLOUR_THRESHOLD
        raw[colour] = mask
        mask = mask.copy()
        for a, b in grid_cols:
            if a > 0 and b + 1 < mask.shape[1]:
                mask[:, a:b + 1] = (mask[:, a - 1] & mask[:, b + 1])[:, None]
        for a, b in grid_rows:
            if a > 0 and b + 1 < mask.shape[0]:
                mask[a:b + 1, :] = (mask[a - 1, :] & mask[b + 1, :])[None, :]
        healed[colour] = mask
    return raw, healed, band, [(a + b) / 2 for a, b in grid_rows], (top + 2, left + 2)


def _blobs(mask):
    """(label image, [dict(label, area, x, y, w, h)]) of the 8-connected blobs of mask, in mask
    coordinates, blobs under MIN_FRAGMENT_AREA left out."""
    from scipy import ndimage
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        ys, xs = np.nonzero(labels[sl] == i)
        if len(xs) >= MIN_FRAGMENT_AREA:
            out.append(dict(label=i, area=len(xs), x=xs.mean() + sl[1].start, y=ys.mean() + sl[0].start,
                            w=xs.max() - xs.min() + 1, h=ys.max() - ys.min() + 1))
    return labels, out


def _find_legend(dark, blue, orange):
    """(blue blob, orange blob) of the legend: same x, orange a row below, black text beside both."""
    x0, x1, half = LEGEND_TEXT_BOX

    def text(b):
        y, x = int(round(b["y"])), int(round(b["x"]))
        return int(dark[max(0, y - half):y + half + 1, x + x0:x + x1].sum())

    best, best_text = None, -1
    for b in blue:
        for o in orange:
            if abs(b["x"] - o["x"]) <= LEGEND_MAX_DX and LEGEND_DY[0] <= o["y"] - b["y"] <= LEGEND_DY[1]:
                t = min(text(b), text(o))
                if t > best_text:
                    best, best_text = (b, o), t
    if best is None or best_text < MIN_LEGEND_TEXT:
        raise DigitizeError("legend markers not found")
    return best


def _columns(blobs):
    """x of each marker column: blobs closer than COLUMN_MERGE_PX in x are one column."""
    xs = sorted(b["x"] for b in blobs)
    groups = [[xs[0]]]
    for x in xs[1:]:
        if x - groups[-1][-1] <= COLUMN_MERGE_PX:
            groups[-1].append(x)
        else:
            groups.append([x])
    return [float(np.mean(g)) for g in groups]


def _index_map(xs, n, centre):
    """(a, b) of x_pixel = a + b * index, fitted on the marker columns' x (sorted), index 1..n.
    centre: x pixel of the axes box's middle."""
    xs = np.asarray(xs, dtype=float)
    if len(xs) < 2:
        raise DigitizeError("fewer than 2 marker columns")
    if len(xs) == n:
        index = np.arange(1, n + 1)
    else:  # some columns hidden (legend): steps of the median spacing, offset from the axes box
        step = np.median(np.diff(xs))
        rel = np.round((xs - xs[0]) / step).astype(int)
        if rel[-1] == n - 1:
            first = 1
        else:  # matplotlib's default margins are symmetric: index (n+1)/2 in the middle of the box
            first = int(round((n + 1) / 2 - (centre - xs[0]) / step))
        index = rel + first
    if len(set(index)) != len(index) or index.min() < 1 or index.max() > n:
        raise DigitizeError(f"marker columns do not map onto indices 1..{n}")
    b, a = np.polyfit(index, xs, 1)
    if np.abs(a + b * index - xs).max() > MAX_X_RESIDUAL_PX:
        raise DigitizeError("marker columns are not evenly spaced")
    return a, b


def _coverage(rgb, colour, backgrounds):
    """Per pixel, the share of it that a marker of `colour` covers (anti-aliased edges, JPEG):
    the pixel projected on the segment background -> colour, for the background (white, or a
    marker below) that explains it best."""
    best_t, best_r = None, None
    for bg in backgrounds:
        d = np.array(colour, dtype=float) - bg
        t = np.clip(((rgb - bg) * d).sum(axis=-1) / (d * d).sum(), 0.0, 1.0)
        r = np.sqrt(((rgb - bg - t[..., None] * d) ** 2).sum(axis=-1))
        if best_t is None:
            best_t, best_r = t, r
        else:
            better = r < best_r
            best_t, best_r = np.where(better, t, best_t), np.where(better, r, best_r)
    return best_t


def _disc(dist, radius):
    """Pixel coverage of a disc edge: 1 inside radius - 0.5, 0 beyond radius + 0.5, linear between."""
    return np.clip(radius + 0.5 - dist, 0.0, 1.0)


def _fit_centre_y(coverage, known, x, y0, radius):
    """(y, visible share, rms misfit) of the disc of `radius` centred at (x, y) that best explains
    `coverage` (least squares) on the `known` pixels within radius + 2 of it. y is searched over
    y0 +- FIT_SEARCH_PX in FIT_STEP_PX steps; visible share: the disc's coverage on known pixels
    over its area."""
    reach = int(math.ceil(radius + FIT_SEARCH_PX + 2))
    r0, r1 = max(0, int(round(y0)) - reach), min(coverage.shape[0], int(round(y0)) + reach + 1)
    c0, c1 = max(0, int(round(x)) - reach), min(coverage.shape[1], int(round(x)) + reach + 1)
    cov, k = coverage[r0:r1, c0:c1], known[r0:r1, c0:c1]
    yy, xx = np.mgrid[r0:r1, c0:c1]

    def misfits(ys):
        dist = np.sqrt((xx[None] - x) ** 2 + (yy[None] - ys[:, None, None]) ** 2)
        model = _disc(dist, radius)
        near = k[None] & (dist <= radius + 2)
        sse = (((model - cov[None]) ** 2) * near).sum(axis=(1, 2)) / np.maximum(near.sum(axis=(1, 2)), 1)
        return sse, model

    # coarse steps over the whole range, then FIT_STEP_PX steps around the best coarse one
    coarse = y0 + np.arange(-FIT_SEARCH_PX, FIT_SEARCH_PX + FIT_COARSE_PX / 2, FIT_COARSE_PX)
    y1 = coarse[int(np.argmin(misfits(coarse)[0]))]
    ys = y1 + np.arange(-FIT_COARSE_PX, FIT_COARSE_PX + FIT_STEP_PX / 2, FIT_STEP_PX)
    sse, model = misfits(ys)
    j = int(np.argmin(sse))
    visible = float((model[j] * k).sum()) / (math.pi * radius ** 2)
    return float(ys[j]), visible, float(math.sqrt(sse[j]))


def _grid_ticks(ys, slope, intercept):
    """(rows, tick values) of the horizontal grid lines at pixel rows `ys`, or None: the lines read
    through the blue points' map and rounded to multiples of their spacing, itself rounded to a
    tick step (TICK_MULTIPLES times a power of ten), when every line is that close to one."""
    if len(ys) < MIN_GRID_LINES:
        return None
    ys = np.sort(np.asarray(ys, dtype=float))
    values = (ys - intercept) / slope
    raw = float(np.median(np.abs(np.diff(values))))
    if not raw > 0:
        return None
    power = 10.0 ** math.floor(math.log10(raw))
    step = min((m * power for m in TICK_MULTIPLES), key=lambda c: abs(math.log(c / raw)))
    ticks = np.round(values / step) * step
    if np.abs(values - ticks).max() > GRID_TICK_SLACK * step or len(set(np.round(ticks / step))) != len(ticks):
        return None
    return ys, ticks


def digitize(path, truth):
    """Read a published scatter back. truth: the mode's true test values, in ground-truth order.

    Returns dict(values: the orange points' values per index 1..n (NaN where none is readable),
    blue_residuals: truth - read-back value of the blue calibration points, calibration: their
    indices, value_per_pixel, x_map: (a, b) of x = a + b * index, legend: (x, y) of the legend's
    blue marker, all in image pixels). Raises DigitizeError when the figure cannot be read reliably.
    """
    from PIL import Image
    from scipy import ndimage
    truth = np.asarray(truth, dtype=float)
    n = len(truth)
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.int16)
    box = _axes_box(rgb)
    raw, healed, band, grid_ys, (oy, ox) = _marker_masks(rgb, box)
    inner = rgb[oy:oy + band.shape[0], ox:ox + band.shape[1]].astype(float)
    dark = inner.max(axis=-1) < DARK_LEVEL
    white = np.full(3, 255.0)
    coverage = {"blue": _coverage(inner, BLUE, [white]),
                "orange": _coverage(inner, ORANGE, [white, np.array(BLUE, dtype=float)])}
    labels, blobs = {}, {}
    for colour in ("blue", "orange"):
        labels[colour], blobs[colour] = _blobs(healed[colour])
    legend = _find_legend(dark, blobs["blue"], blobs["orange"])
    radius = {}
    for colour, marker in zip(("blue", "orange"), legend):
        blobs[colour] = [b for b in blobs[colour] if b is not marker]
        # the legend's markers are whole and drawn over the grid: their coverage gives the disc
        y, x, reach = int(round(marker["y"])), int(round(marker["x"])), LEGEND_MARKER_REACH
        area = float(coverage[colour][max(0, y - reach):y + reach + 1, max(0, x - reach):x + reach + 1].sum())
        radius[colour] = math.sqrt(area / math.pi)
        if not MARKER_RADIUS_PX[0] <= radius[colour] <= MARKER_RADIUS_PX[1]:
            raise DigitizeError(f"the legend's {colour} marker has radius {radius[colour]:.2f} px")

    a, b = _index_map(_columns(blobs["blue"] + blobs["orange"]), n, (box[2] + box[3]) / 2 - ox)
    groups = {"blue": {}, "orange": {}}  # colour -> index -> its blobs (a marker cut in pieces)
    for colour in groups:
        for blob in blobs[colour]:
            i = int(round((blob["x"] - a) / b))
            if not 1 <= i <= n or abs(a + b * i - blob["x"]) > radius[colour]:
                raise DigitizeError(f"a {colour} marker at x={blob['x'] + ox:.1f} lies off the index grid")
            groups[colour].setdefault(i, []).append(blob)

    grow = np.ones((3, 3), dtype=bool)
    # blue under an orange marker is hidden, and their blended edge is neither colour
    hidden = {"blue": ndimage.binary_dilation(raw["orange"], grow, iterations=OCCLUSION_DILATION_PX),
              "orange": np.zeros_like(band)}
    centres = {"blue": {}, "orange": {}}
    for colour in ("orange", "blue"):
        for i, parts in groups[colour].items():
            own = np.isin(labels[colour], [p["label"] for p in parts])
            # the neighbours' pixels (and their blurred edges) say nothing about this marker
            others = ndimage.binary_dilation((labels[colour] > 0) & ~own, grow, iterations=1) & ~own
            known = ~(band | others | hidden[colour])
            y0 = sum(p["y"] * p["area"] for p in parts) / sum(p["area"] for p in parts)
            y, visible, misfit = _fit_centre_y(coverage[colour], known, a + b * i, y0, radius[colour])
            inside = abs(y - y0) < FIT_SEARCH_PX - FIT_COARSE_PX
            if visible >= MIN_VISIBLE_SHARE[colour] and misfit <= MAX_MISFIT and inside:
                centres[colour][i] = y
    calibration = sorted(centres["blue"])
    if len(calibration) < MIN_CALIBRATION_POINTS:
        raise DigitizeError(f"only {len(calibration)} readable blue markers to calibrate the y axis")
    y_pix = np.array([centres["blue"][i] for i in calibration])
    values = truth[np.array(calibration) - 1]
    slope, intercept = np.polyfit(values, y_pix, 1)  # y_pixel = intercept + slope * value
    if slope >= 0:
        raise DigitizeError("y axis not increasing upwards")
    grid = _grid_ticks(grid_ys, slope, intercept)
    if grid is not None:
        # the grid lines span the whole axis: one least-squares slope for the blue markers and the
        # lines together, each with its own offset (lines and markers snap to pixels differently)
        nb, ng = len(values), len(grid[1])
        design = np.zeros((nb + ng, 3))
        design[:, 0] = np.concatenate([values, grid[1]])
        design[:nb, 1], design[nb:, 2] = 1.0, 1.0
        slope, intercept, _ = np.linalg.lstsq(design, np.concatenate([y_pix, grid[0]]), rcond=None)[0]
    residuals = values - (y_pix - intercept) / slope
    if np.abs(residuals).max() > MAX_BLUE_RESIDUAL_PX * abs(1 / slope):
        raise DigitizeError(f"blue points fit the y map only to {np.abs(residuals).max():.4f}")
    out = np.full(n, np.nan)
    for i, y in centres["orange"].items():
        out[i - 1] = (y - intercept) / slope
    return dict(values=out, blue_residuals=residuals, calibration=calibration, value_per_pixel=abs(1 / slope),
                x_map=(a + ox, b), legend=(legend[0]["x"] + ox, legend[0]["y"] + oy))

