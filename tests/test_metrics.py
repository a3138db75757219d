"""metrics.py against the definitions it documents: pairwise inversions, monotonicity, MAE, tau/rho."""
import itertools
import math

import numpy as np
import pytest
import scipy.stats

import metrics


def pairwise_inversions(seq):
    return sum(1 for i, j in itertools.combinations(range(len(seq)), 2) if seq[i] > seq[j])


def pairwise_violations(pred):
    """The definition: rows in truth order; pair (i < j) violates when j is placed before i by a
    stable sort of the predictions, i.e. pred[j] < pred[i] (equal predictions keep truth order)."""
    return sum(1 for i, j in itertools.combinations(range(len(pred)), 2) if pred[j] < pred[i])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 40, 257])
def test_inversions_equal_pairwise_on_random_input(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        seq = rng.normal(size=n).tolist()
        assert metrics.count_inversions(seq) == pairwise_inversions(seq)


@pytest.mark.parametrize("n", [2, 5, 16, 33, 100])
def test_inversions_equal_pairwise_with_ties(n):
    rng = np.random.default_rng(100 + n)
    for values in (2, 3, n // 2 + 1):
        for _ in range(20):
            seq = rng.integers(0, values, size=n).tolist()
            assert metrics.count_inversions(seq) == pairwise_inversions(seq)


def test_inversions_examples():
    assert metrics.count_inversions([]) == 0
    assert metrics.count_inversions([1, 2, 3]) == 0
    assert metrics.count_inversions([3, 2, 1]) == 3
    assert metrics.count_inversions([2, 2, 2]) == 0
    assert metrics.count_inversions([2, 1, 2, 1]) == 3
    assert metrics.count_inversions(range(100, 0, -1)) == 100 * 99 // 2


@pytest.mark.parametrize("n", [2, 3, 10, 40])
def test_monotonicity_equals_pairwise_definition(n):
    rng = np.random.default_rng(7 * n)
    for ties in (False, True):
        for _ in range(30):
            pred = rng.integers(0, 4, size=n).astype(float) if ties else rng.normal(size=n)
            v, vmax, score = metrics.monotonicity(pred)
            assert v == pairwise_violations(pred)
            assert vmax == n * (n - 1) // 2
            assert score == 1.0 - v / vmax


def test_monotonicity_examples():
    assert metrics.monotonicity([0.1, 0.2, 0.3]) == (0, 3, 1.0)
    assert metrics.monotonicity([0.3, 0.2, 0.1]) == (3, 3, 0.0)
    # equal predictions keep ground-truth order: no violation
    assert metrics.monotonicity([0.5, 0.5, 0.5, 0.5]) == (0, 6, 1.0)
    # one swapped neighbour pair of 4 rows: 1 of 6
    assert metrics.monotonicity([0.1, 0.3, 0.2, 0.4]) == (1, 6, 1.0 - 1 / 6)
    with pytest.raises(ValueError):
        metrics.monotonicity([0.1])


def test_mae():
    assert metrics.mae([1.0, 2.0, 3.0], [1.5, 2.0, 2.0]) == pytest.approx(0.5)
    assert metrics.mae(np.zeros(4), np.zeros(4)) == 0.0
    assert isinstance(metrics.mae([1], [2]), float)


def test_rank_correlations():
    truth = np.linspace(0.5, 0.9, 20)
    assert metrics.kendall_tau(truth * 2, truth) == pytest.approx(1.0)
    assert metrics.spearman_rho(-truth, truth) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    pred = truth + rng.normal(0, 0.1, 20)
    assert metrics.kendall_tau(pred, truth) == pytest.approx(scipy.stats.kendalltau(pred, truth).statistic)
    assert metrics.spearman_rho(pred, truth) == pytest.approx(scipy.stats.spearmanr(pred, truth).statistic)
    # tau relates to the violation count when neither side has ties: tau = 1 - 2 v / max
    v, vmax, _ = metrics.monotonicity(pred)
    assert metrics.kendall_tau(pred, truth) == pytest.approx(1 - 2 * v / vmax)
    assert math.isnan(metrics.kendall_tau(np.ones(20), truth))
    assert math.isnan(metrics.spearman_rho(np.ones(20), truth))


def test_precision_at_k_hand_worked():
    # 6 rows in truth order (row 5 is the best). pred ranks them 2, 0, 5, 1, 4, 3 (ascending):
    # predicted top 2 = rows 4, 3 -> of the true top 2 (rows 4, 5) only row 4: 1/2
    pred = [0.3, 0.5, 0.1, 0.9, 0.8, 0.4]
    assert metrics.precision_at_k(pred, 2) == 0.5
    # predicted top 3 = rows 1, 4, 3; true top 3 = rows 3, 4, 5: 2/3
    assert metrics.precision_at_k(pred, 3) == pytest.approx(2 / 3)
    assert metrics.precision_at_k(pred, 6) == 1.0
    assert metrics.precision_at_k(pred, 1) == 0.0  # the best predicted is row 3, truly 3rd
    # equal predictions keep truth order (stable sort): the later rows count as the top
    assert metrics.precision_at_k([0.7, 0.7, 0.7, 0.7], 2) == 1.0
    assert metrics.precision_at_k([0.7, 0.7, 0.1, 0.1], 2) == 0.0
    with pytest.raises(ValueError):
        metrics.precision_at_k(pred, 7)
    with pytest.raises(ValueError):
        metrics.precision_at_k(pred, 0)


def test_sequential_mae_sums_left_to_right():
    # errors 1 and fifteen of 2^-53: left to right each 2^-53 is lost in 1 + 2^-53 (ties to even),
    # so the sum is 1 and the mean 1/16; numpy's pairwise sum adds the small ones first and keeps them
    pred, truth = np.array([1.0] + [2.0 ** -53] * 15), np.zeros(16)
    assert metrics.mae(pred, truth, sequential=True) == 1 / 16
    assert metrics.mae(pred, truth) == float(np.mean(pred)) != 1 / 16


# ----------------------------------------------------------------------------- RMSE, Pearson, regret, NLL
def test_rmse_and_pearson_by_hand():
    pred, truth = [0.5, 0.7, 0.9, 0.6], [0.6, 0.7, 0.8, 0.8]
    # errors -0.1, 0, 0.1, -0.2: squares 0.01 + 0 + 0.01 + 0.04 = 0.06
    assert metrics.rmse(pred, truth) == pytest.approx(math.sqrt(0.06 / 4), rel=1e-12)
    mp, mt = sum(pred) / 4, sum(truth) / 4
    cov = sum((p - mp) * (t - mt) for p, t in zip(pred, truth))
    r = cov / math.sqrt(sum((p - mp) ** 2 for p in pred) * sum((t - mt) ** 2 for t in truth))
    assert metrics.pearson_r(pred, truth) == pytest.approx(r, rel=1e-12)
    assert math.isnan(metrics.pearson_r([1.0, 1.0, 1.0], [0.1, 0.2, 0.3]))


def regret_by_enumeration(pred, truth, k):
    """Worst regret over every ordering consistent with pred: the predictor's top k is any k rows
    whose predictions are >= the k-th largest, adversarially chosen among ties."""
    n = len(pred)
    worst = 0.0
    for top in itertools.combinations(range(n), k):
        rest = [i for i in range(n) if i not in top]
        if all(pred[i] >= pred[j] for i in top for j in rest):
            worst = max(worst, max(truth) - max(truth[i] for i in top))
    return worst


@pytest.mark.parametrize("seed", range(30))
def test_regret_at_k_equals_the_adversarial_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    pred = rng.integers(0, 4, n).astype(float).tolist()  # few values: many ties
    truth = rng.permutation(n).astype(float).tolist()
    for k in range(1, n + 1):
        assert metrics.regret_at_k(pred, truth, k) == regret_by_enumeration(pred, truth, k)


def test_regret_examples():
    truth = [0.5, 0.6, 0.7, 0.9]
    assert metrics.regret_at_k([1, 2, 3, 4], truth, 1) == 0.0  # the best is predicted best
    assert metrics.regret_at_k([4, 3, 2, 1], truth, 1) == pytest.approx(0.4)  # the worst is predicted best
    assert metrics.regret_at_k([4, 3, 2, 1], truth, 4) == 0.0  # every model trained
    assert metrics.regret_at_k([1, 1, 1, 1], truth, 3) == pytest.approx(0.2)  # a constant earns nothing
    with pytest.raises(ValueError):
        metrics.regret_at_k([1, 2], [1, 2], 3)


def test_gaussian_nll_and_coverage_against_scipy():
    rng = np.random.default_rng(4)
    mean, std = rng.normal(0.7, 0.1, 200), rng.uniform(0.01, 0.05, 200)
    truth = mean + std * rng.normal(size=200)
    expected = -np.mean(scipy.stats.norm(mean, std).logpdf(truth))
    assert metrics.gaussian_nll(mean, std, truth) == pytest.approx(expected, rel=1e-12)
    lo, hi = scipy.stats.norm(mean, std).ppf(0.05), scipy.stats.norm(mean, std).ppf(0.95)
    assert metrics.interval_coverage(mean, std, truth, 0.9) == np.mean((truth >= lo) & (truth <= hi))
    # calibrated draws cover about 90%; a 10x too confident predictor far less
    assert 0.8 < metrics.interval_coverage(mean, std, truth, 0.9) < 0.97
    assert metrics.interval_coverage(mean, std / 10, truth, 0.9) < 0.3
    with pytest.raises(ValueError):
        metrics.gaussian_nll([0.5], [0.0], [0.5])
