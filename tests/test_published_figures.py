"""Paper 2 against the authors' published scatter figures (bench/check_published_figures.py and
its digitizer, bench/scatter_digitizer.py): the digitizer reads the true values (blue) back to
within the tolerance, and for a few cheap searches our best subset's predictions are the
published orange points."""
import numpy as np
import pytest

from bench import check_published_figures as check
from bench import scatter_digitizer as digitizer
from naap import paper2, protocol
from naap.data import FEATURE_SETS_V2
from naap.data.load import load_dataset
from naap.data.modes import mode_split

# one per mode; with the legend upper left and lower right; interpolation's 40 points with most
# blue markers covered by orange ones
DIGITIZED = [
    ("interpolation", "1-NN", "Scheme+Quant.6"),
    ("interpolation", "Random Forest (N=200)", "Scheme"),
    ("left_extrapolation", "Linear Regression (D=0.5)", "Scheme+Quant.3"),
    ("right_extrapolation", "SVR (Linear kernel)", "Scheme+Quant.6"),
    ("dual_extrapolation", "SVR (Polynomial kernel)", "Scheme+Quant.9"),
]
# cheap searches (seconds each): deterministic regressors, and regressors whose fits draw from the
# global generator before paper 2's noise (SVR: libsvm's seed; trees: the splitter seed; ensembles)
SEARCHED = [
    ("left_extrapolation", "Linear Regression", "Scheme"),
    ("right_extrapolation", "Linear Regression (D=2)", "Scheme"),
    ("dual_extrapolation", "SVR (Polynomial kernel)", "Scheme"),
    ("interpolation", "Decision Tree", "Scheme"),
    ("interpolation", "AdaBoost (N=25)", "Scheme"),
    ("interpolation", "Gradient Boosting (N=25)", "Scheme"),
    # 35 start features: agrees only with the noise drawn after the fit (FIT_DRAWS)
    ("right_extrapolation", "SVR (Polynomial kernel)", "Scheme+Quant.9"),
]


@pytest.fixture(scope="module")
def table(ref_dir):
    columns = list(dict.fromkeys(c for fs in FEATURE_SETS_V2.values() for c in fs))
    return load_dataset(ref_dir / check.DATASET_NAME, columns)


@pytest.fixture(scope="module")
def figures_dir(ref_dir):
    return ref_dir / check.FIGURES_SUBDIR


def test_every_published_figure_name_maps_to_a_protocol_search(figures_dir):
    found = check.list_figures(figures_dir)
    per_mode = {m: sum(1 for f in found if f[0] == m) for m in protocol.MODES}
    assert per_mode == {"interpolation": 28 * 4, "left_extrapolation": 9 * 4, "right_extrapolation": 9 * 4,
                        "dual_extrapolation": 9 * 4}
    assert {f[1] for f in found if f[0] != "interpolation"} == set(protocol.EXTRAPOLATING)
    assert check.parse_figure_name("x/left_extrapolation_Linear Regression D=0.25_Scheme+Quant.3_scatter.jpg") == \
        ("left_extrapolation", "Linear Regression (D=0.25)", "Scheme+Quant.3")
    assert check.parse_figure_name("dual_extrapolation_Linear Regression (D=2)_Scheme_scatter.jpg") == \
        ("dual_extrapolation", "Linear Regression (D=2)", "Scheme")


@pytest.mark.parametrize("mode,name,start_set", DIGITIZED)
def test_digitizer_reads_the_true_values_back_within_the_tolerance(table, figures_dir, mode, name, start_set):
    truth = check.mode_truth(table, mode)
    got = digitizer.digitize(check.figure_path(figures_dir, mode, name, start_set), truth)
    residuals = np.abs(got["blue_residuals"])
    assert len(residuals) >= len(truth) // 3  # enough uncovered blue markers calibrate the y axis
    # markers sit on whole pixels: half a pixel of quantization, well inside the tolerance
    assert residuals.max() < 0.001  # the README: readable to about +-0.001
    assert residuals.max() < 0.8 * got["value_per_pixel"]
    assert np.isnan(got["values"]).sum() <= 1  # every orange point read (one may hide under the legend)


@pytest.mark.parametrize("mode,name,start_set", SEARCHED)
def test_best_subset_reproduces_the_published_points(table, figures_dir, mode, name, start_set):
    data = mode_split(table, FEATURE_SETS_V2[start_set], mode)
    visited = paper2.run_job((mode, start_set, (name,)), data)[name]
    mask, best = paper2.best_of(visited)
    published = digitizer.digitize(check.figure_path(figures_dir, mode, name, start_set), data[3])
    agrees, worst, worst_px, tolerance, points = check.compare(best["pred"], published)
    assert points >= len(data[3]) - 1
    assert agrees, f"best subset {mask}: max difference {worst:.4f} ({worst_px:.1f} px) > {tolerance:.4f}"


def test_a_tie_of_the_final_score_goes_to_the_first_subset_visited(table, figures_dir):
    # here the whole start set ties with smaller subsets of a lower unrounded MAE; the authors kept
    # the first visited, and so does paper2.best_of
    test_best_subset_reproduces_the_published_points(table, figures_dir, "left_extrapolation",
                                                     "Linear Regression (D=0.25)", "Scheme")
