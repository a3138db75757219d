"""bench/bench_lapack_kernels.py: its feature subsets, its comparison of two kernels' runs, and a
small run that checks each child ran the OpenBLAS kernel it was given."""
from conftest import run_script

from bench import bench_lapack_kernels as bench


def test_problems_are_seeded_non_empty_subsets_in_column_order():
    columns = list("abcdefgh")
    drawn = bench.problems(columns, 50)
    assert drawn == bench.problems(columns, 50) and drawn != bench.problems(columns, 50, seed=1)
    for subset in drawn:
        assert subset and subset == [c for c in columns if c in subset]
    assert {len(s) for s in drawn} >= {1, len(columns)}


def test_compare_counts_bits_relative_difference_and_outputs():
    one, two = 0.5, 0.5 + 2 ** -52
    reference = {"a": ([one.hex(), (2.0).hex()], 0.1, 3), "b": ([one.hex()], 0.2, 1), "c": ([one.hex()], 0.3, 0)}
    other = {"a": ([two.hex(), (2.0).hex()], 0.1, 3), "b": ([one.hex()], 0.2, 2), "c": ([one.hex()], 0.3, 0)}
    runs, bits, largest, outputs = bench.compare(reference, other)
    assert (runs, bits, outputs) == (3, 1, 1)
    assert largest == 2 ** -52 / 2.0  # relative to the largest prediction of the run
    assert bench.compare(reference, reference) == (3, 0, 0.0, 0)


def test_small_run_names_each_kernel_it_ran(ref_dir):
    done = run_script("bench/bench_lapack_kernels.py", ref_dir / "naap440.csv", "--problems", "2",
                      "--kernels", "Haswell,Nehalem")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[2:]}
    runs = str(2 * len(bench.LINEAR) * 2)
    assert rows["Haswell"] == [runs, "0", "0.0e+00", "0"]
    assert rows["Nehalem"][0] == runs and 0 <= int(rows["Nehalem"][1]) <= int(runs)
