"""Paper 2's best-first search over binary feature masks, and what is read off its visits.

search() visits the masks of one start feature set best-first in the authors' order (their
Python 3.7.1 set order, python37_set.set_order_py37, and their seeded shuffle of large groups);
it is pure: it takes score_fn(mask) -> (final, MAE) and knows nothing of regressors or files.
best_of() picks a search's winner (protocol.best_key: lowest final score, ties to the subset
visited first) and feature_frequency() the share of its best subsets that use each feature.
"""
import math
import random

import numpy as np

from naap import protocol
from naap.replica.python37_set import set_order_py37

SEARCH_SEED = 20221015
GROUP_LIMIT_PER_FEATURE = 3  # at most 3 * |features| masks scored per round
BEST_SHARE = 0.10  # the feature-frequency figure looks at each regressor's best 10% of subsets


def flips(mask):
    """Every one-feature flip of mask, by feature index; never the empty mask."""
    for i in range(len(mask)):
        child = mask[:i] + (1 - mask[i],) + mask[i + 1:]
        if any(child):
            yield child


def search(score_fn, n_features, on_round=None, prefetch=None):
    """Best-first search over binary feature masks; returns [(mask, (final, mae)), ...] in visit order.

    score_fn(mask) -> (final score, MAE), mask a tuple of n_features 0/1 (1 = feature used).
    1. Score the all-features mask; queue its flips under its score.
    2. Then n_features rounds, stopping early only if nothing is queued. A round takes the group
       of masks queued under the lowest parent score (all masks queued under exactly that value)
       and removes it from the queue; drops the masks already scored and puts the rest in the
       order of a Python 3.7.1 set of them (python37_set.set_order_py37: the authors de-duplicated
       through a set, so this order decides which subset is visited first). If more than
       3 * n_features remain, shuffles them with random.Random(SEARCH_SEED) (a fresh generator
       each time), keeps the first 3 * n_features and queues the rest back under the same parent
       score (ahead of anything queued there later). It scores the kept masks in order, then, for
       each in that order, queues its flips that are not yet scored under that mask's own score.
       A mask may sit in several groups; it is scored once, when first taken. A group whose masks
       were all scored meanwhile still uses up its round.
    on_round() is called after step 1 and after each round. prefetch(masks), if given, is called
    with each batch of masks about to be scored, in scoring order (a caller may score them in
    parallel); score_fn is then called for each mask as without it.
    """
    limit = GROUP_LIMIT_PER_FEATURE * n_features
    scored = {}  # mask -> (final, mae); dicts keep insertion (= visit) order
    queue = {}  # parent score -> masks queued under it, in queue order

    def score_and_queue(masks):
        if prefetch:
            prefetch(masks)
        for mask in masks:
            scored[mask] = score_fn(mask)
        for mask in masks:
            children = [c for c in flips(mask) if c not in scored]
            if children:
                queue.setdefault(scored[mask][0], []).extend(children)

    score_and_queue([(1,) * n_features])
    if on_round:
        on_round()
    for _ in range(n_features):
        if not queue:
            break
        parent = min(queue)
        # the authors' `list({s for s in group if s not in done})` under Python 3.7.1: set order
        group = set_order_py37([m for m in queue.pop(parent) if m not in scored])
        if len(group) > limit:
            random.Random(SEARCH_SEED).shuffle(group)
            group, queue[parent] = group[:limit], group[limit:]
        score_and_queue(group)
        if on_round:
            on_round()
    return list(scored.items())


def best_of(visited):
    """(mask, result) of the best subset; the first visited wins a full tie (min is stable)."""
    return min(visited, key=lambda v: protocol.best_key(v[1]))


def feature_frequency(visited, features):
    """Share of the best BEST_SHARE of visited subsets (at least one) that contain each feature."""
    ranked = sorted(visited, key=lambda v: protocol.best_key(v[1]))
    top = ranked[:max(1, math.ceil(BEST_SHARE * len(ranked)))]
    return np.array([[m[i] for m, _ in top] for i in range(len(features))], dtype=float).mean(axis=1)
