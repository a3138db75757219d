"""naap/data/split.py: the published split rule, against the rule written out (conftest.bins_of)."""
import pytest
from conftest import bins_of

from naap.data import split_bins


@pytest.mark.parametrize("n", [80, 440, 445, 459])
def test_split_bins_are_the_published_rule(n):
    assert [(s, e) for s, e, _ in split_bins(n)] == bins_of(n)
    size = round(n / 40)
    assert [m for _, _, m in split_bins(n)] == [s + size // 2 for s, _ in bins_of(n)]
    with pytest.raises(ValueError):
        split_bins(59)  # bins of one row: nothing to train on
