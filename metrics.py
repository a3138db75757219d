"""Scoring NAAP-440 predictions: MAE, the monotonicity score, and rank correlations.

All functions are pure. Predictions are given for test rows that are already in ground-truth
order (ascending true accuracy, ties in whatever order the caller's ranking gave them).
"""
import numpy as np
import scipy.stats


def mae(pred, truth):
    """Mean absolute error: mean(|pred - truth|)."""
    return float(np.mean(np.abs(np.asarray(pred, dtype=float) - np.asarray(truth, dtype=float))))


def count_inversions(seq):
    """Number of pairs i < j with seq[i] > seq[j] (equal values are not an inversion), O(n log n)."""
    seq = list(seq)
    if len(seq) < 2:
        return 0
    mid = len(seq) // 2
    left, right = sorted(seq[:mid]), sorted(seq[mid:])
    inversions = count_inversions(seq[:mid]) + count_inversions(seq[mid:])
    # every element of the left half that is larger than a right-half element is one inversion
    j = 0
    for x in right:
        while j < len(left) and left[j] <= x:
            j += 1
        inversions += len(left) - j
    return inversions


def monotonicity(pred):
    """(violations, max_violations, score) of predictions for rows in ground-truth order.

    The rows are ordered by prediction with a stable sort, so rows with equal predictions keep
    their ground-truth order and never count. A violation is a pair of rows whose order by
    prediction is the reverse of their ground-truth order. max = n(n-1)/2, score = 1 - v/max.
    """
    order = np.argsort(np.asarray(pred), kind="stable")
    n = len(order)
    violations = count_inversions(order.tolist())
    max_violations = n * (n - 1) // 2
    return violations, max_violations, 1.0 - violations / max_violations


def kendall_tau(pred, truth):
    """Kendall's tau-b between predictions and truth (scipy; ties handled as tau-b)."""
    return float(scipy.stats.kendalltau(pred, truth).statistic)


def spearman_rho(pred, truth):
    """Spearman's rho between predictions and truth (scipy; tied values get their average rank)."""
    return float(scipy.stats.spearmanr(pred, truth).statistic)
