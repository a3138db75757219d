"""naap/paper2/best_first.py: the search visits subsets in the authors' order (their Python 3.7.1
set order, their seeded shuffle of large groups, the rounds), a reference written out plainly
agrees, and best_of/feature_frequency read the visits (ties to the subset visited first)."""
import math
import random

import pytest

from naap import paper2, protocol
from naap.replica.python37_set import tuple_hash_py37


def bits(text):
    return tuple(int(c) for c in text)


class Py37Key:
    """A mask that CPython's own set files under its Python 3.7 hash: the reference for the
    authors' set order (the set table itself is unchanged since 3.7; the tuple hash is checked
    against 3.7's known values in test_python37_set)."""

    def __init__(self, mask):
        self.mask, self.h = mask, tuple_hash_py37(mask)

    def __hash__(self):
        return self.h

    def __eq__(self, other):
        return self.mask == other.mask


def S(*masks):
    """The masks in the order list({...}) gave under Python 3.7.1 (the authors' de-duplication)."""
    return [k.mask for k in {Py37Key(bits(m) if isinstance(m, str) else m) for m in masks}]


def test_search_three_features_drops_masks_scored_meanwhile():
    # 111 -> queue {5: 011 101 110}. Round 1 scores them (3, 4, 2) in set order (3.7 hashes mod 8:
    # 011 -> 1, 110 -> 1 taken so it probes on, 101 -> 7) and queues {3: 001 010, 4: 001 100,
    # 2: 010 100}. Round 2 takes score 2: 010 (1), 100 (6); their flips are all scored or empty.
    # Round 3 takes score 3: 001 010 -> 010 is already scored -> 001 (7).
    table = {"111": 5, "011": 3, "101": 4, "110": 2, "010": 1, "100": 6, "001": 7}
    visited = paper2.search(lambda m: (table["".join(map(str, m))], 0.0), 3)
    expected = [bits("111"), *S("011", "101", "110"), *S("010", "100"), bits("001")]
    assert S("011", "101", "110") != [bits(t) for t in ("011", "101", "110")]  # not the queue order
    assert [m for m, _ in visited] == expected
    assert [s for _, (s, _) in visited] == [table["".join(map(str, m))] for m in expected]


def test_search_four_features_stops_after_four_rounds_and_merges_equal_parent_scores():
    # score = 4a - b + 3c + 2d.
    # 1111 (8) -> round 1: 0111 (4), 1011 (9), 1101 (5), 1110 (6) in set order;
    #   queued {4: 0011 0101 0110, 9: 0011 1001 1010, 5: 0101 1001 1100, 6: 0110 1010 1100}
    # round 2 (parent 4): 0011 (5), 0101 (1), 0110 (2);
    #   queued {5: ... 0001 0010, 1: 0001 0100, 2: 0010 0100}
    # round 3 (parent 1): 0001 (2), 0100 (-1); 0001 queues 1001 under 2, 0100 queues {-1: 1100}
    # round 4 (parent -1): 1100 (3). Four rounds done: 1000, 0010, 1001, 1010 are never scored.
    weights = (4, -1, 3, 2)
    visited = paper2.search(lambda m: (sum(w * f for w, f in zip(weights, m)), 0.0), 4)
    expected = [bits("1111"), *S("0111", "1011", "1101", "1110"), *S("0011", "0101", "0110"),
                *S("0001", "0100"), bits("1100")]
    assert [m for m, _ in visited] == expected


def test_search_equal_scores_cap_a_group_at_three_per_feature_and_requeue_the_rest():
    # With one score for every mask all queued masks form one group. For n = 6 (limit 18):
    # round 1 = the 6 masks with one feature off, round 2 = the 15 with two off, round 3 = 20
    # masks with three off > 18: in set order, shuffled with Random(20221015), 18 kept, 2 queued
    # back; round 4 = those 2 and the masks with four off; round 5 = one feature on.
    n = 6

    def flip(m, i):
        return m[:i] + (1 - m[i],) + m[i + 1:]

    def children(parents, seen):
        return [c for p in parents for i in range(n) if any(c := flip(p, i)) and c not in seen]

    full = (1,) * n
    r1 = S(*[flip(full, i) for i in range(n)])
    r2 = S(*children(r1, {full, *r1}))
    triples = S(*children(r2, {full, *r1, *r2}))
    assert len(r1) == 6 and len(r2) == 15 and len(triples) == 20
    random.Random(20221015).shuffle(triples)
    kept, rest = triples[:18], triples[18:]
    seen = {full, *r1, *r2, *kept, *rest}
    r4 = S(*rest, *children(kept, seen))
    r5 = S(*children(r4, seen | set(r4)))
    assert len(r4) == 2 + 15 and len(r5) == 6
    visited = [m for m, _ in paper2.search(lambda m: (1.0, 0.0), n)]
    assert visited == [full, *r1, *r2, *kept, *r4, *r5]
    assert len(set(visited)) == 2 ** n - 1


def reference_search(score, n, limit_per_feature=3, seed=20221015):
    """The authors' search written out plainly from their description (a reference for
    paper2.search): queue by parent score, each round the lowest score's masks in Python 3.7
    set order (S), over the cap shuffled by a fresh Random(seed), cut, the rest queued back."""
    def flip_all(mask):
        return [c for i in range(n) if any(c := mask[:i] + (1 - mask[i],) + mask[i + 1:])]

    full = (1,) * n
    done = {full: score(full)}
    queue = {done[full][0]: flip_all(full)}
    for _ in range(n):
        if not queue:
            break
        parent = min(queue)
        group = S(*[m for m in queue.pop(parent) if m not in done])
        if len(group) > limit_per_feature * n:
            random.Random(seed).shuffle(group)
            group, queue[parent] = group[:limit_per_feature * n], group[limit_per_feature * n:]
        for m in group:
            done[m] = score(m)
        for m in group:
            children = [c for c in flip_all(m) if c not in done]
            if children:
                queue.setdefault(done[m][0], []).extend(children)
    return list(done)


@pytest.mark.parametrize("n, levels", [(5, 3), (6, 4), (7, 2), (8, 5)])
def test_search_with_tied_and_distinct_parent_scores_follows_the_reference(n, levels):
    # scores with few distinct values: large groups hit the cap under several parent scores, so
    # the order between parents and the requeued rests are exercised together
    rng = random.Random(n * 100 + levels)
    table = {}

    def score(mask):
        if mask not in table:
            table[mask] = (float(rng.randrange(levels)), 0.0)
        return table[mask]

    expected = reference_search(score, n)
    visited = [m for m, _ in paper2.search(score, n)]
    assert visited == expected
    assert len(set(visited)) == len(visited)


def test_search_calls_on_round_once_per_step():
    calls = []
    paper2.search(lambda m: (float(m[0] - m[1] + m[2]), 0.0), 4, on_round=lambda: calls.append(1))
    assert len(calls) == 1 + 4
    calls.clear()  # n = 3, one score for all: rounds 1 and 2 score all 6 masks, round 3 finds nothing
    assert len(paper2.search(lambda m: (0.0, 0.0), 3, on_round=lambda: calls.append(1))) == 7
    assert len(calls) == 1 + 2


def test_final_score_formula():
    assert protocol.final_score(0.01249, 0.96) == pytest.approx(0.012 * math.sqrt(0.04), abs=0, rel=1e-15)
    assert protocol.final_score(0.0041, 1.0) == 0.0
    assert protocol.final_score(float("nan"), 0.9) == math.inf
    # a tie of the final score goes to the subset visited first, whatever the unrounded MAE
    a = dict(final=protocol.final_score(0.0041, 0.9), mae=0.0041)
    b = dict(final=protocol.final_score(0.0039, 0.9), mae=0.0039)
    c = dict(final=protocol.final_score(0.0049, 0.9), mae=0.0049)
    assert a["final"] == b["final"] < c["final"]
    assert paper2.best_of([((1, 1, 1), c), ((1, 1, 0), a), ((1, 0, 0), b)])[0] == (1, 1, 0)
    assert paper2.best_of([((1, 0, 0), b), ((1, 1, 0), a)])[0] == (1, 0, 0)


def test_feature_frequency_counts_the_best_tenth_of_the_subsets():
    # 20 subsets scored 0..19: the best 10% are the 2 lowest, 111 (0) and 100 (1), whatever the
    # visit order; with 5 subsets, ceil(0.5) = 1: 111 alone
    visited = [((1, 0, i % 2), dict(final=float(i), mae=0.0)) for i in range(20)]
    visited[0] = ((1, 1, 1), visited[0][1])
    visited[1] = ((1, 0, 0), visited[1][1])
    assert paper2.feature_frequency(visited[::-1], ["a", "b", "c"]).tolist() == [1.0, 0.5, 0.5]
    assert paper2.feature_frequency(visited[:5][::-1], ["a", "b", "c"]).tolist() == [1.0, 1.0, 1.0]
    assert paper2.BEST_SHARE == 0.10
