"""naap.figures: the rank matrix by hand and read back from the drawn pixels, every plot function
writes a PNG that shows its data, the summary with and without interval bars, the splits figure.
The figures of a whole run are checked in test_run_experiments.py."""
import numpy as np
import pandas as pd

from naap import figures, protocol, uncertainty
from naap.data import FEATURE_SETS


def test_rank_matrix_places_each_model_at_its_true_and_predicted_rank():
    # rows in ground-truth order; model 0 is predicted highest, the others in order
    pred = np.array([0.9, 0.1, 0.2, 0.3])
    m = figures.rank_matrix(pred)
    assert m.sum() == 4
    assert m[0, 3] == 1 and m[1, 0] == 1 and m[2, 1] == 1 and m[3, 2] == 1
    # equal predictions keep the ground-truth order (stable), as the violation count does
    assert np.array_equal(figures.rank_matrix(np.array([0.5, 0.5, 0.5])), np.eye(3))


def test_plot_functions_write_pngs(tmp_path):
    y = np.linspace(0.5, 0.8, 12)
    pred = y + np.random.default_rng(0).normal(0, 0.02, 12)
    pred[3] = 2.0  # far off: the scatter's limits widen
    for plot in (figures.plot_rank_matrix, figures.plot_scatter):
        for i in range(2):
            path = tmp_path / f"{plot.__name__}{i}.png"
            plot(pred if i else y, y, f"title {i}", path)
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{plot.__name__}0.png").read_bytes() != (tmp_path / f"{plot.__name__}1.png").read_bytes()


def test_figures_with_intervals(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for name in ("a", "b (N=2)"):
        for features in FEATURE_SETS:
            mae, v = rng.uniform(0.01, 0.02), int(rng.integers(10, 40))
            rows.append([name, features, mae, v, 780, 1 - v / 780] + [0.5] * len(protocol.RANK_COLUMNS)
                        + [0.0] * len(protocol.QUALITY_COLUMNS)
                        + [mae - 0.003, mae + 0.004, 0.4, 0.6, v - 5, v + 7])
    frame = pd.DataFrame(rows, columns=protocol.RESULT_COLUMNS + protocol.EXTRA_COLUMNS)
    figures.plot_summary(frame, tmp_path / "plain.png")
    figures.plot_summary(frame, tmp_path / "bars.png", intervals=True)
    assert (tmp_path / "plain.png").read_bytes() != (tmp_path / "bars.png").read_bytes()
    quality = [0.0] * len(protocol.QUALITY_COLUMNS)
    runs = pd.DataFrame([[s, r[0], r[1], r[2] + s / 1000, r[3] + s, 780, 0.5, *quality] for s in (1, 2, 3)
                         for r in rows], columns=uncertainty.RUN_COLUMNS)
    frame["KendallTau"] = 0.5
    figures.plot_splits(uncertainty.splits_summary(runs, frame), tmp_path / "splits.png")
    assert (tmp_path / "splits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rank_matrix_png_puts_each_model_at_its_predicted_x_and_true_y(tmp_path):
    # read the drawn pixels back: the axes box is the black spines' rectangle, split into n x n
    # cells; x = predicted rank from the left, y = true rank from the bottom (origin lower).
    # Model 0 has the lowest truth and the highest prediction: bottom-right cell.
    from PIL import Image
    pred = np.array([0.9, 0.1, 0.2, 0.3])
    path = tmp_path / "rank.png"
    figures.plot_rank_matrix(pred, np.array([0.1, 0.2, 0.3, 0.4]), "title", path)
    dark = np.asarray(Image.open(path).convert("L")) < 64
    cols = np.flatnonzero(dark.mean(axis=0) > 0.4)  # the two vertical spines span most rows
    rows = np.flatnonzero(dark.mean(axis=1) > 0.4)
    left, right, top, bottom = cols.min(), cols.max(), rows.min(), rows.max()
    n = len(pred)
    cell_w, cell_h = (right - left) / n, (bottom - top) / n
    drawn = np.zeros((n, n), dtype=int)  # drawn[true rank - 1, predicted rank - 1]
    for true_rank in range(1, n + 1):
        for pred_rank in range(1, n + 1):
            x = int(left + (pred_rank - 0.5) * cell_w)
            y = int(bottom - (true_rank - 0.5) * cell_h)
            drawn[true_rank - 1, pred_rank - 1] = dark[y, x]
    expected = np.zeros((n, n), dtype=int)
    for true_rank, pred_rank in [(1, 4), (2, 1), (3, 2), (4, 3)]:
        expected[true_rank - 1, pred_rank - 1] = 1
    assert np.array_equal(drawn, expected), drawn


def test_budget_figures(tmp_path):
    frame = pd.DataFrame({"Predictor": "A", "TrainModels": [10, 10, 400, 400], "Epochs": [0, 3, 0, 3],
                          "GPUHours": [1.5, 1.7, 60.0, 60.2], "KendallTau": [0.3, 0.6, 0.8, np.nan]})
    figures.plot_budget_heatmap(frame, "A", tmp_path / "a.png")
    figures.plot_budget_heatmap(frame.assign(KendallTau=0.1), "A", tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()
    early = pd.DataFrame({"GPUHours": [0.1, 0.5], "KendallTau": [0.5, 0.9]})
    figures.plot_budget_pareto({"A": frame.iloc[:3]}, {"Early stopping": early},
                               {"Train to the end": {"GPUHours": 6.0, "KendallTau": 1.0}}, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
