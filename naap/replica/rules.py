"""The two scikit-learn releases the replica follows, and the parts of the old one's behaviour.

REPLICA_VERSION is today's scikit-learn, whose trees and ensembles the replica grows bit for bit;
PAPER_VERSION is the scikit-learn of the paper's 2022 run. Each way 0.20.1 behaved differently
is a part that can be switched on alone, so that bench/bench_fidelity.py can measure what it
changes. A rule set is a release name (every part or none) or a frozenset of parts.

  TREE_PARTS      leaf (min_impurity_split 1e-7), sort (3-way introsort), rand_r (no seed-0 fix)
  ENSEMBLE_PARTS  + gb (presorted FriedmanMSE boosting), ada_clip (no weight clipping)
  MODEL_PARTS     + knn, lstsq, scaler, svr_gamma, svr_dot, mae (the other regressors and the score)
  DATA_PARTS      parser, order: the 2022 data path (pandas 0.23.4's parser, numpy 1.15.4's sort)
"""
REPLICA_VERSION = "1.9.1"
PAPER_VERSION = "0.20.1"
RULES = (REPLICA_VERSION, PAPER_VERSION)  # the releases the tree builder knows
TREE_PARTS = ("leaf", "sort", "rand_r")
ENSEMBLE_PARTS = TREE_PARTS + ("gb", "ada_clip")
MODEL_PARTS = ENSEMBLE_PARTS + ("knn", "lstsq", "scaler", "svr_gamma", "svr_dot", "mae")
DATA_PARTS = ("parser", "order")


def parts_on(rules, parts=ENSEMBLE_PARTS, every=PAPER_VERSION, none=REPLICA_VERSION):
    """The parts of `parts` that a rule set switches on: all for `every`, none for `none`, or the
    frozenset given. ValueError for anything else."""
    if rules == every:
        return frozenset(parts)
    if rules == none:
        return frozenset()
    if isinstance(rules, frozenset) and rules <= frozenset(parts):
        return rules
    raise ValueError(f"rules must be {every!r}, {none!r} or a frozenset of {parts}, not {rules!r}")


def as_release(on, parts=ENSEMBLE_PARTS):
    """The inverse of parts_on: PAPER_VERSION when every part is on, REPLICA_VERSION when none is,
    else the frozenset itself."""
    on = frozenset(on)
    if on == frozenset(parts):
        return PAPER_VERSION
    return REPLICA_VERSION if not on else on
