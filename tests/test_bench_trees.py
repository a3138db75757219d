"""bench/bench_trees.py: its visit counts, its per-tree table, and its exit status 1 when the
trees differ from scikit-learn's or with and without the shortcuts."""
import re

import numpy as np
import pytest
from conftest import run_script

from naap.replica import trees


def test_benchmark_script_counts_visits_and_checks_its_trees_against_sklearn(ref_dir, tmp_path):
    # a results.csv whose only N=200 visits are three Random Forest subsets of Scheme+Quant.9;
    # the N=25 search, another mode and a held-out refit are no N=200 visits
    flags = ["1" * 20 + "0" * 15, "1" * 21 + "0" * 14, "1" * 25 + "0" * 10]
    rows = [("interpolation", "Random Forest (N=200)", "Scheme+Quant.9", f, "validation") for f in flags]
    rows += [("interpolation", "Random Forest (N=25)", "Scheme+Quant.9", flags[0], "validation"),
             ("left_extrapolation", "Random Forest (N=200)", "Scheme+Quant.9", flags[0], "validation"),
             ("interpolation", "Random Forest (N=200)", "Scheme+Quant.9", flags[0], "test")]
    visits = tmp_path / "results.csv"
    visits.write_text("Mode,Model,FeatureSetName,Flags,ScoredOn\n" + "".join(",".join(r) + "\n" for r in rows))
    r = run_script("bench/bench_trees.py", ref_dir / "naap440v2.csv", "--subsets", "1", "--trees", "2",
                   "--repeats", "1", "--visits", visits)
    assert r.returncode == 0, r.stderr
    assert "all 12 trees equal scikit-learn's" in r.stdout, r.stdout
    row = re.search(r"^Scheme\+Quant\.9 +Random Forest +(\d+) \(mean\) +[\d.]+ +[\d.]+ +[\d.]+x +[\d.]+ +[\d.]+ +"
                    r"[\d.]+x +([\d.]+) +[\d.]+x +\d+% +(\d+) +([\d,]+)$", r.stdout, re.M)
    assert row, r.stdout
    assert int(row[1]) == round((20 + 21 + 25) / 3) and int(row[3]) == 3
    paper_ms, cpu = float(row[2]), float(row[4].replace(",", ""))  # the floor is the default run's
    assert abs(cpu - 3 * 5 * 200 * paper_ms / 1e3) <= 0.5 + 3 * 5 * 200 * 0.0005e-3  # printed roundings
    assert len(re.findall(r"\(setting\) .* not found +-$", r.stdout, re.M)) == 5
    assert re.search(r"^floor: the N=200 trees of the 1 searches counted in .* take [\d,]+ CPU-s", r.stdout, re.M)
    assert "not found there, left out: Scheme+Quant.9 Gradient Boosting" in r.stdout


def load_bench_trees():
    from bench import bench_trees
    return bench_trees


def test_benchmark_counts_the_visits_in_a_resume_journal(tmp_path):
    from naap import paper2
    from naap.cli import InputError
    bench = load_bench_trees()
    with pytest.raises(InputError, match="holds no journal"):
        bench.count_visits(tmp_path)
    masks = [(1,) * 26, (0,) + (1,) * 25, (0, 0) + (1,) * 24]
    journal = tmp_path / paper2.journal_name(("interpolation", "Scheme+Quant.6", ("Random Forest (N=25)",)))
    paper2.append_journal(journal, {(m, "Random Forest (N=25)"): {} for m in masks})
    paper2.append_journal(journal, {(m, "Random Forest (N=200)"): {} for m in masks[1:]})
    assert bench.count_visits(tmp_path) == {("Scheme+Quant.6", "Random Forest"): [25, 24]}


def off_by_one_ulp(tree):
    left, right, feature, threshold, value = tree
    return left, right, feature, np.nextafter(threshold, np.inf), value


@pytest.mark.parametrize("changed, message", [
    (lambda args: True, "differ from scikit-learn's"),  # every tree a ulp off
    (lambda args: not args[-1], "with and without trees.py's shortcuts differ"),  # shortcuts=False only
])
def test_benchmark_script_fails_when_the_trees_differ(ref_dir, monkeypatch, capsys, changed, message):
    bench = load_bench_trees()
    real = trees.build_tree  # the compiled builder, as fit_tree calls it
    monkeypatch.setattr(trees, "build_tree", lambda *args:
                        off_by_one_ulp(real(*args)) if changed(args) else real(*args))
    with pytest.raises(SystemExit) as e:
        bench.main(bench.parse_args([str(ref_dir / "naap440v2.csv"), "--subsets", "1", "--trees", "1",
                                     "--repeats", "1"]))
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
