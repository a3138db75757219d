"""naap.replica.rules: a rule set is a release name (every part or none) or a frozenset of parts;
parts_on reads one, refusing anything else, and as_release writes one back."""
import itertools

import pytest

from naap.replica.rules import (
    DATA_PARTS,
    ENSEMBLE_PARTS,
    MODEL_PARTS,
    PAPER_VERSION,
    REPLICA_VERSION,
    TREE_PARTS,
    as_release,
    parts_on,
)


def test_the_part_sets_nest():
    assert set(TREE_PARTS) < set(ENSEMBLE_PARTS) < set(MODEL_PARTS)
    assert not set(DATA_PARTS) & set(MODEL_PARTS)
    assert len(set(MODEL_PARTS)) == len(MODEL_PARTS)  # no part named twice


@pytest.mark.parametrize("parts", [TREE_PARTS, ENSEMBLE_PARTS, MODEL_PARTS])
def test_parts_on_releases_and_subsets(parts):
    assert parts_on(PAPER_VERSION, parts) == frozenset(parts)
    assert parts_on(REPLICA_VERSION, parts) == frozenset()
    assert parts_on(frozenset(), parts) == frozenset()
    assert parts_on(frozenset(parts[:2]), parts) == frozenset(parts[:2])
    assert parts_on(PAPER_VERSION) == frozenset(ENSEMBLE_PARTS)  # the default part set


def test_parts_on_other_release_names():
    # naap.protocol.registry names the two ends of the model rules "paper" and "sklearn"
    assert parts_on("paper", MODEL_PARTS, every="paper", none="sklearn") == frozenset(MODEL_PARTS)
    assert parts_on("sklearn", MODEL_PARTS, every="paper", none="sklearn") == frozenset()
    with pytest.raises(ValueError, match="rules must be 'paper', 'sklearn' or a frozenset"):
        parts_on(PAPER_VERSION, MODEL_PARTS, every="paper", none="sklearn")


@pytest.mark.parametrize("rules", ["0.20", "1.9.1 ", None, {"leaf"}, ["leaf"], ("leaf",),
                                   frozenset({"leaf", "knn"}), frozenset({"nonsense"})])
def test_parts_on_refuses_unknown_names_and_parts_outside_the_set(rules):
    with pytest.raises(ValueError) as e:
        parts_on(rules, ENSEMBLE_PARTS)
    assert str(e.value) == (f"rules must be {PAPER_VERSION!r}, {REPLICA_VERSION!r} or a frozenset of "
                            f"{ENSEMBLE_PARTS}, not {rules!r}")


@pytest.mark.parametrize("parts", [TREE_PARTS, ENSEMBLE_PARTS, MODEL_PARTS])
def test_as_release_inverts_parts_on(parts):
    subsets = [frozenset(c) for n in range(len(parts) + 1) for c in itertools.combinations(parts, n)]
    for on in subsets:
        release = as_release(on, parts)
        assert parts_on(release, parts) == on
        if on == frozenset(parts):
            assert release == PAPER_VERSION
        elif not on:
            assert release == REPLICA_VERSION
        else:
            assert release == on
    assert as_release(list(TREE_PARTS), TREE_PARTS) == PAPER_VERSION  # any iterable of parts
    assert as_release(set()) == REPLICA_VERSION
    for rules in (PAPER_VERSION, REPLICA_VERSION):
        assert as_release(parts_on(rules, parts), parts) == rules
