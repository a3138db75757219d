"""run_experiments.py: the published protocol reproduced exactly, fast == plain on other data, outputs, bad input.

The full run (96 fits x 5 seeds, 192 figures) happens once per session, in a subprocess, as a
user would run it; everything else uses small subsets of the data.
"""
import numpy as np
import pandas as pd
import pytest

import run_experiments as rx
from common import run_cli
from conftest import run_script

ALL_COLUMNS = list(dict.fromkeys(c for cols in rx.FEATURE_SETS.values() for c in cols))
RUN_KEYS = ("mae", "violations", "max_violations", "score", "seed")


@pytest.fixture(scope="session")
def full_run(ref_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "results"
    done = run_script("run_experiments.py", ref_dir / "naap440.csv", out,
                      "--compare", ref_dir / "published_results.csv", "--no-progress")
    assert done.returncode == 0, done.stderr
    return out, done


def resplit(df, num_rows, test_share, seed):
    """A different NAAP-440 problem: a random subset of the rows with a new random test split."""
    rng = np.random.default_rng(seed)
    sub = df.iloc[rng.permutation(len(df))[:num_rows]].copy()
    sub["IsTest"] = (rng.random(len(sub)) < test_share).astype(int)
    return sub


def assert_same_runs(fast, plain):
    assert list(fast) == list(plain)
    for name in plain:
        assert np.array_equal(fast[name]["pred"], plain[name]["pred"]), name
        assert all(fast[name][k] == plain[name][k] for k in RUN_KEYS), name


# ----------------------------------------------------------------------------- the full run
def test_results_equal_reference_exactly(full_run, ref_dir):
    out, _ = full_run
    assert (out / "results.csv").read_bytes() == (ref_dir / "reference_results.csv").read_bytes()
    extended = (out / "results_extended.csv").read_text().splitlines()
    assert len(extended) == 97
    # the same rows, then KendallTau and SpearmanRho
    assert [",".join(line.split(",")[:6]) for line in extended] == (out / "results.csv").read_text().splitlines()
    assert extended[0].split(",")[6:] == rx.EXTRA_COLUMNS


def test_results_md_is_the_readme_table(full_run):
    out, _ = full_run
    table = (out / "results.md").read_text()
    assert "| Model | 100% Acceleration | 96.7% Acceleration | 93.3% Acceleration | 90% Acceleration |" in table
    assert "| 1-NN | 0.007 / 0.933 / 52 | 0.009 / 0.929 / 55 | 0.007 / 0.940 / 47 | 0.006 / 0.959 / 32 |" in table
    assert sum(line.startswith("| ") for line in table.splitlines()) == 2 + len(rx.REGRESSORS)  # header, rule


def test_figures(full_run):
    out, _ = full_run
    for kind in ("rank_matrix", "scatter"):
        pngs = sorted((out / "figures" / kind).glob("*.png"))
        assert len(pngs) == len(rx.REGRESSORS) * len(rx.FEATURE_SETS)
        assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000 for p in pngs)
    assert (out / "figures" / "rank_matrix" / "random_forest_n_200__scheme_quantitative_9_epochs.png").is_file()
    summary = out / "summary.png"
    assert summary.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and summary.stat().st_size > 10000
    assert not list(out.parent.glob(".*"))  # no temp dirs left beside OUT_DIR


def test_compare_with_published(full_run):
    out, done = full_run
    comparison = pd.read_csv(out / "comparison.csv")
    assert len(comparison) == 96 and int(comparison["Match"].sum()) == 53
    assert "53 of 96 rows match" in (out / "comparison.md").read_text()
    assert "53 of 96 rows match" in done.stdout
    # published names lack the parentheses; every row found a published counterpart
    assert comparison["PublishedNumViolations"].notna().all()
    row = comparison[(comparison["Model"] == "Linear Regression (D=0.5)") & (comparison["Features"] == "Scheme")]
    assert len(row) == 1


# ----------------------------------------------------------------------------- the protocol, not the file
def test_fast_equals_plain_on_another_split(ref_dir):
    df = rx.load_dataset(ref_dir / "naap440.csv", ALL_COLUMNS)
    sub = resplit(df, 160, 0.25, seed=1).sort_values(rx.TARGET)
    names = list(rx.REGRESSORS)
    data = rx.split(sub, rx.FEATURE_SETS["Scheme"])
    assert_same_runs(rx.evaluate(names, *data), rx.evaluate_plain(names, *data))
    # noise (paper 2), fewer seeds, and a partial mix of names sharing fits
    data = rx.split(sub, rx.FEATURE_SETS["Scheme + Quantitative 3 epochs"])
    seeds = rx.SEEDS[:3]
    assert_same_runs(rx.evaluate(names, *data, noise_std=0.004, seeds=seeds),
                     rx.evaluate_plain(names, *data, noise_std=0.004, seeds=seeds))
    mix = ["AdaBoost (N=100)", "Random Forest (N=50)", "3-NN", "Gradient Boosting (N=200)", "Gradient Boosting (N=25)"]
    assert_same_runs(rx.evaluate(mix, *data), rx.evaluate_plain(mix, *data))
    # a caller's own ensemble factories are fitted as given, not replaced by the replica
    from sklearn.ensemble import RandomForestRegressor
    own = {"Random Forest (N=25)": lambda: RandomForestRegressor(n_estimators=25, max_depth=1)}
    assert_same_runs(rx.evaluate(list(own), *data, regressors=own), rx.evaluate_plain(list(own), *data, regressors=own))


def test_cli_on_a_small_split_pool_equals_serial(ref_dir, tmp_path, capsys):
    raw = pd.read_csv(ref_dir / "naap440.csv")
    csv = tmp_path / "small.csv"
    resplit(raw, 50, 0.25, seed=3).to_csv(csv, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")  # replaced: --force
    done = run_script("run_experiments.py", csv, out, "--jobs", 2, "--force", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert not (out / "old.txt").exists()
    # in-process, serial, no OUT_DIR: prints the table, same numbers as the pool of workers
    frame = rx.main(rx.parse_args([str(csv), "--jobs", "1", "--no-progress"]))
    assert capsys.readouterr().out == (out / "results.md").read_text()
    assert frame.to_csv(index=False) == (out / "results_extended.csv").read_text()


# ----------------------------------------------------------------------------- small pieces
def test_names_and_labels():
    assert [rx.acceleration(f) for f in rx.FEATURE_SETS] == ["100%", "96.7%", "93.3%", "90%"]
    assert rx.slug("Random Forest (N=25)") == "random_forest_n_25"
    assert rx.model_key("Linear Regression (D=0.5)") == rx.model_key("Linear Regression D=0.5")
    assert rx.model_key("Gradient Boosting (N=25)") == "Gradient Boosting N=25"
    assert len(rx.REGRESSORS) == 24 and len(rx.FEATURE_SETS) == 4


def test_plot_functions_write_pngs(tmp_path):
    y = np.linspace(0.5, 0.8, 12)
    pred = y + np.random.default_rng(0).normal(0, 0.02, 12)
    pred[3] = 2.0  # far off: the scatter's limits widen
    for plot in (rx.plot_rank_matrix, rx.plot_scatter):
        for i in range(2):
            path = tmp_path / f"{plot.__name__}{i}.png"
            plot(pred if i else y, y, f"title {i}", path)
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{plot.__name__}0.png").read_bytes() != (tmp_path / f"{plot.__name__}1.png").read_bytes()


# ----------------------------------------------------------------------------- bad input
def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(rx.main, rx.parse_args([str(a) for a in argv]))
    err = capsys.readouterr().err
    return exit_info.value.code, err


def write_variant(ref_dir, path, change):
    df = pd.read_csv(ref_dir / "naap440.csv")
    df = change(df)
    df.to_csv(path, index=False)
    return path


def _set(df, column, row, value):
    df[column] = df[column].astype(object)
    df.loc[row, column] = value
    return df


def _tests(df, count):
    df["IsTest"] = 0
    df.loc[df.index[:count], "IsTest"] = 1
    return df


BAD_TABLES = {
    "missing column": lambda df: df.drop(columns=["NumMACs"]),
    "non-numeric column": lambda df: _set(df, "e3Accuracy", 5, "n/a?"),
    "NaN": lambda df: _set(df, "e2LossMean", 7, np.nan).astype({"e2LossMean": float}),
    "one test row": lambda df: _tests(df, 1),
    "no test rows": lambda df: _tests(df, 0),
    "too few train rows": lambda df: df[df["IsTest"] == 1].head(8).pipe(
        lambda t: pd.concat([t.assign(IsTest=0), df[df["IsTest"] == 1].tail(5)])),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables(case, ref_dir, tmp_path, capsys):
    csv = write_variant(ref_dir, tmp_path / "bad.csv", BAD_TABLES[case])
    code, err = run_main([csv, tmp_path / "out"], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "bad.csv" in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_bad_files_and_arguments(ref_dir, tmp_path, capsys):
    good = ref_dir / "naap440.csv"
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 10)
    (tmp_path / "json.csv").write_text('{"a": [1, 2],\n "b": {"c": 3}}\n')
    (tmp_path / "exists").mkdir()
    (tmp_path / "exists" / "keep.txt").write_text("mine")
    cases = [
        [tmp_path / "missing.csv", tmp_path / "out"],
        [tmp_path / "binary.csv", tmp_path / "out"],
        [tmp_path / "json.csv", tmp_path / "out"],
        [tmp_path, tmp_path / "out"],
        [good, tmp_path / "out", "--jobs", "0"],
        [good, tmp_path / "out", "--compare", tmp_path / "missing.csv"],
        [good, tmp_path / "out", "--compare", tmp_path / "json.csv"],
        [good, tmp_path / "exists"],
    ]
    for argv in cases:
        code, err = run_main(argv, capsys)
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and err.startswith("error: "), (argv, err)
        assert not (tmp_path / "out").exists()
    assert (tmp_path / "exists" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.csv", "exists", "json.csv"]


def test_bad_input_from_the_command_line(tmp_path):
    done = run_script("run_experiments.py", tmp_path / "missing.csv", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {tmp_path / 'missing.csv'}: no such file"
    assert not (tmp_path / "out").exists()
