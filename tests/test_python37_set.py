"""python37_set reproduces CPython 3.7's tuple hash and the iteration order of its sets."""
import random

from naap.replica.python37_set import set_order_py37, tuple_hash_py37


def test_tuple_hash_is_cpython_37s():
    # hash(()) and hash((1, 2)) of CPython <= 3.7 on 64-bit (3.8 changed the tuple hash)
    assert tuple_hash_py37(()) == 3527539
    assert tuple_hash_py37((1, 2)) == 3713081631934410656
    assert tuple_hash_py37((-1,)) == tuple_hash_py37((-2,))  # hash(-1) is -2


def test_set_order_is_cpythons_set_table():
    # CPython's own set (its table has not changed since 3.7) with today's hash is the reference:
    # collisions, the linear probes, the perturbed jumps and each resize on the way to 600 keys
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randrange(1, 40)
        keys = [tuple(rng.randrange(2) for _ in range(n)) for _ in range(rng.randrange(1, 600))]
        assert set_order_py37(keys, hash) == list(set(keys))
        ints = [rng.randrange(-2 ** 40, 2 ** 40) for _ in range(rng.randrange(1, 300))]
        assert set_order_py37(ints, hash) == list(set(ints))


def test_set_order_by_hand():
    # 3.7 hashes mod 8 (table of 8): 011 -> 1, 101 -> 7, 110 -> 1 (taken; 1 + 9 > 7, so it jumps
    # to (1 * 5 + 1 + (hash >> 5)) & 7)
    h = tuple_hash_py37((1, 1, 0))
    jump = (1 * 5 + 1 + (h >> 5)) & 7
    order = set_order_py37([(0, 1, 1), (1, 0, 1), (1, 1, 0), (0, 1, 1)])
    expected = sorted([(1, (0, 1, 1)), (7, (1, 0, 1)), (jump, (1, 1, 0))])
    assert jump not in (1, 7) and order == [k for _, k in expected]
