"""NAAP-440's published split rule: 40 MaxAccuracy bins, one test model each (no numpy needed)."""
NUM_TEST_BINS = 40  # NAAP-440's split: 40 MaxAccuracy bins, one test model each


def split_bins(n, num_bins=NUM_TEST_BINS):
    """The published split rule on n rows ranked by MaxAccuracy: [(start, stop, middle)] per bin.

    Bins are runs of size = round(n / num_bins) consecutive rows; the bins that reach their middle
    row (start + size // 2 < n) are the test bins, rows start..stop-1 (the last may be cut short
    at n). The published split tests each bin's middle row (data_dir_to_csv.py); a random split
    tests one random member of each bin (uncertainty.py). num_bins bins exactly when n is a
    multiple of num_bins. ValueError if a bin would have fewer than 2 rows (nothing to train on).
    """
    size = round(n / num_bins)
    if size < 2:
        raise ValueError(f"{n} rows are too few for {num_bins} test bins (bins of round({n} / {num_bins}) = "
                         f"{size} row(s); at least 2 needed)")
    return [(start, min(start + size, n), start + size // 2) for start in range(0, n - size // 2, size)]
