"""Scoring NAAP-440 predictions: MAE and RMSE, the monotonicity score, rank and linear correlations,
the regret of trusting the predicted best, and the calibration of a predictive distribution.

All functions are pure. Predictions are given for test rows that are already in ground-truth
order (ascending true accuracy; rows with equal true accuracy in whatever order the caller's
ranking gave them, which the monotonicity score then treats as their true order).
"""
import warnings

import numpy as np
import scipy.stats


def mae(pred, truth, sequential=False):
    """Mean absolute error: mean(|pred - truth|) over all rows.

    numpy's mean sums pairwise; sequential=True sums left to right instead, as the papers' code
    did (pandas 0.23.4's Series.mean through bottleneck's nanmean), which can differ in the last
    bit and so, rarely, in the 4th decimal.
    """
    errors = np.abs(np.asarray(pred, dtype=float) - np.asarray(truth, dtype=float))
    if sequential:
        total = 0.0
        for e in errors.tolist():
            total += e
        return total / len(errors)
    return float(np.mean(errors))


def rmse(pred, truth):
    """Root mean squared error: sqrt(mean((pred - truth)^2)) over all rows."""
    errors = np.asarray(pred, dtype=float) - np.asarray(truth, dtype=float)
    return float(np.sqrt(np.mean(errors * errors)))


def count_inversions(seq):
    """Number of pairs i < j with seq[i] > seq[j], by bottom-up merge sort in O(n log n).

    Equal values are not an inversion: when merging, a left element that equals a right one is
    taken first, so the pair is never counted.
    """
    a = list(seq)
    n = len(a)
    buf = [None] * n
    inversions = 0
    width = 1
    while width < n:
        for lo in range(0, n - width, 2 * width):
            mid, hi = lo + width, min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if a[i] <= a[j]:
                    buf[k] = a[i]
                    i += 1
                else:
                    # a[j] is smaller than every remaining left element: one inversion each
                    buf[k] = a[j]
                    inversions += mid - i
                    j += 1
                k += 1
            buf[k:hi] = a[i:mid] if i < mid else a[j:hi]
            a[lo:hi] = buf[lo:hi]
        width *= 2
    return inversions


def monotonicity(pred):
    """(violations, max_violations, score) of predictions for n >= 2 rows in ground-truth order.

    The rows are ordered by prediction with a stable sort, so rows with equal predictions keep
    their ground-truth order and never count. A violation is a pair of rows whose order by
    prediction is the reverse of their ground-truth order (rows with equal true accuracy count
    too: their given order is the truth). max = n(n-1)/2, score = 1 - violations/max.
    """
    order = np.argsort(np.asarray(pred), kind="stable")
    n = len(order)
    if n < 2:
        raise ValueError(f"monotonicity needs at least 2 rows, got {n}")
    violations = count_inversions(order.tolist())
    max_violations = n * (n - 1) // 2
    return violations, max_violations, 1.0 - violations / max_violations


def _correlation(fn, pred, truth):
    # a constant input has no ranking: scipy warns and returns NaN; keep the NaN, drop the warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.stats.ConstantInputWarning)
        return float(fn(np.asarray(pred, dtype=float), np.asarray(truth, dtype=float)).statistic)


def kendall_tau(pred, truth):
    """Kendall's tau-b between predictions and truth (scipy; ties corrected as in tau-b).

    NaN when either input is constant.
    """
    return _correlation(scipy.stats.kendalltau, pred, truth)


def spearman_rho(pred, truth):
    """Spearman's rho between predictions and truth (scipy; tied values get their average rank).

    NaN when either input is constant.
    """
    return _correlation(scipy.stats.spearmanr, pred, truth)


def pearson_r(pred, truth):
    """Pearson's linear correlation between predictions and truth (scipy). NaN when either input
    is constant."""
    return _correlation(scipy.stats.pearsonr, pred, truth)


def regret_at_k(pred, truth, k):
    """The accuracy a NAS user loses by trusting the predictor: the true best value minus the best
    true value among the k rows predicted best. Ties between equal predictions at the boundary of
    the predicted top k are broken against the predictor (the truer row ranks lower), as in
    worst_case_precision_at_k, so a constant predictor gets no regret it did not earn. Any row
    order; 1 <= k <= n."""
    pred, truth = np.asarray(pred, dtype=float), np.asarray(truth, dtype=float)
    n = len(pred)
    if not 1 <= k <= n:
        raise ValueError(f"regret_at_k needs 1 <= k <= {n} rows, got k={k}")
    # by pred ascending; among equal predictions the higher truth first, so it is left out of the top
    predicted_top = np.lexsort((-truth, pred))[n - k:]
    return float(truth.max() - truth[predicted_top].max())


def gaussian_nll(mean, std, truth):
    """Mean negative log-likelihood of truth under independent normals N(mean, std^2): lower is a
    sharper, better calibrated predictive distribution. std must be positive."""
    mean, std, truth = (np.asarray(a, dtype=float) for a in (mean, std, truth))
    if not (std > 0).all():
        raise ValueError("gaussian_nll needs positive standard deviations")
    z = (truth - mean) / std
    return float(np.mean(0.5 * np.log(2 * np.pi) + np.log(std) + 0.5 * z * z))


def interval_coverage(mean, std, truth, level=0.9):
    """Share of rows whose truth lies in the central `level` interval of N(mean, std^2): mean +-
    z std with z the normal quantile of (1 + level) / 2. A calibrated predictor covers ~level."""
    mean, std, truth = (np.asarray(a, dtype=float) for a in (mean, std, truth))
    z = scipy.stats.norm.ppf(0.5 + level / 2)
    return float(np.mean(np.abs(truth - mean) <= z * std))


def precision_at_k(pred, k):
    """Share of the true top-k rows among the predicted top-k, for rows in ground-truth order.

    The true top-k are the last k rows; the predicted top-k are the last k of a stable sort of
    pred, so that equal predictions keep ground-truth order, as in monotonicity(). 1 <= k <= n.
    """
    pred = np.asarray(pred, dtype=float)
    n = len(pred)
    if not 1 <= k <= n:
        raise ValueError(f"precision_at_k needs 1 <= k <= {n} rows, got k={k}")
    predicted_top = np.argsort(pred, kind="stable")[n - k:]
    return float(np.count_nonzero(predicted_top >= n - k)) / k


def tied_pairs(pred, truth):
    """Pairs of rows with equal predictions and different true values: pairs that the prediction
    does not order, which monotonicity() never counts as violations (the protocol's rule) and
    precision_at_k() settles in the prediction's favour."""
    pred, truth = np.asarray(pred, dtype=float), np.asarray(truth, dtype=float)
    unordered = (pred[:, None] == pred[None, :]) & (truth[:, None] != truth[None, :])
    return int(np.count_nonzero(np.triu(unordered, 1)))


def worst_case_precision_at_k(pred, k):
    """precision_at_k with ties between equal predictions broken against the predictor: among
    equal predictions the row lower in ground-truth order ranks higher, so a tie at the boundary of
    the predicted top k is never a hit it did not earn (a constant predictor gets the predicted top
    k = the k lowest rows). Equals precision_at_k when no predictions are equal. 1 <= k <= n."""
    pred = np.asarray(pred, dtype=float)
    n = len(pred)
    if not 1 <= k <= n:
        raise ValueError(f"worst_case_precision_at_k needs 1 <= k <= {n} rows, got k={k}")
    # by pred ascending; equal predictions by position descending: the truer row sorts lower
    predicted_top = np.lexsort((-np.arange(n), pred))[n - k:]
    return float(np.count_nonzero(predicted_top >= n - k)) / k
