"""CPython 3.7.1's iteration order of a set of tuples (of small ints), without CPython 3.7.

Paper 2's search de-duplicated each round's subsets through a set comprehension and scored them
in the set's iteration order (then shuffled and cut that list when it was too long), so the
order of the visits, and with it the first-visited winner of a tie, is this order
(naap.paper2.best_first). It depends on the tuple hash, which CPython 3.8 changed, and on the
set's open-addressing table, which has not changed since 3.7 (the 60% load factor dates from
2017). Both are re-done here in plain integer arithmetic, so no running interpreter's hash or set
decides it.

Written from CPython 3.7's `Objects/tupleobject.c` (tuplehash), `Objects/setobject.c`
(set_add_entry, set_insert_clean, set_table_resize) and `Include/pyhash.h` (_PyHASH_MULTIPLIER).
    tuple_hash_py37(items) -> int
    set_order_py37(keys) -> list
"""
_U64 = (1 << 64) - 1
_HASH_MULTIPLIER = 1000003
SET_MINSIZE = 8
LINEAR_PROBES = 9
PERTURB_SHIFT = 5


def int_hash_py37(v):
    """hash(v) of a small Python int (|v| < 2**61 - 1), as CPython 3.7 computes it: v, but -2 for -1."""
    v = int(v)
    if not abs(v) < (1 << 61) - 1:
        raise ValueError(f"int_hash_py37 handles |v| < 2**61 - 1, got {v}")
    return -2 if v == -1 else v


def tuple_hash_py37(items):
    """hash(tuple(items)) of CPython <= 3.7 on a 64-bit build, for a tuple of small ints."""
    x, mult, left = 0x345678, _HASH_MULTIPLIER, len(items)
    for v in items:
        left -= 1
        x = ((x ^ (int_hash_py37(v) & _U64)) * mult) & _U64
        mult = (mult + 82520 + left + left) & _U64
    x = (x + 97531) & _U64
    if x == _U64:  # -1 is the error value
        x = _U64 - 1
    return x - (1 << 64) if x >> 63 else x


def _probe(h, mask):
    """Slot indices in the order CPython's set probes them for a hash h (unsigned)."""
    i, perturb = h & mask, h
    while True:
        yield i
        if i + LINEAR_PROBES <= mask:
            yield from range(i + 1, i + LINEAR_PROBES + 1)
        perturb >>= PERTURB_SHIFT
        i = (i * 5 + 1 + perturb) & mask


def set_order_py37(keys, hash_fn=tuple_hash_py37):
    """list({k for k in keys}) as CPython 3.7 orders it: keys added one by one to an empty set
    (set_add_entry; the table grows to the next power of two above 4 x used once 60% full,
    set_table_resize re-inserting in slot order), then read in slot order. Equal keys keep the
    first. hash_fn(key) gives the hash (default: 3.7's tuple hash of small ints)."""
    table, mask, fill = [None] * SET_MINSIZE, SET_MINSIZE - 1, 0
    for key in keys:
        h = hash_fn(key)
        for i in _probe(h & _U64, mask):
            if table[i] is None or (table[i][0] == h and table[i][1] == key):
                break
        if table[i] is not None:
            continue  # already in the set: the first stays
        table[i] = (h, key)
        fill += 1
        if not fill * 5 < mask * 3:
            minused = fill * 4 if fill <= 50000 else fill * 2  # no deletions: used == fill
            size = SET_MINSIZE
            while size <= minused:
                size <<= 1
            old, table, mask = table, [None] * size, size - 1
            for entry in old:
                if entry is not None:
                    table[next(j for j in _probe(entry[0] & _U64, mask) if table[j] is None)] = entry
    return [entry[1] for entry in table if entry is not None]
