"""naap.predictors.seeding: the seed is one draw of NumPy's global generator."""
import numpy as np

from naap.predictors.seeding import SEED_BOUND, draw_seed


def test_the_seed_is_one_draw_of_the_global_generator():
    np.random.seed(7)
    expected = [np.random.randint(2**31 - 1), np.random.random()]
    np.random.seed(7)
    seed = draw_seed()
    assert seed == expected[0] and isinstance(seed, int)
    assert np.random.random() == expected[1]  # exactly one draw consumed


def test_seeds_differ_between_protocol_seeds_and_fit_every_library():
    seeds = []
    for s in range(20):
        np.random.seed(s)
        seeds.append(draw_seed())
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < SEED_BOUND <= 2**31 - 1 for s in seeds)
