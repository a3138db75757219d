"""The seed of one of today's predictors, drawn from NumPy's global generator.

Library module (no command line, no work at import). The protocol seeds the global generator
(protocol.seed_everything) before it calls a factory, so a seed drawn inside the factory makes
each protocol seed a different fit, and the same protocol seed the same fit in any process.
"""
import numpy as np

SEED_BOUND = 2**31 - 1  # exclusive upper bound: every library below takes a seed in [0, 2**31 - 1)


def draw_seed():
    """One seed for a library's own generator, drawn from NumPy's global generator (one draw)."""
    return int(np.random.randint(SEED_BOUND))
