"""naap.predictors.registry: TODAY, and run_experiments.py --today adding its rows after paper 1's
24 through the plug-ins' path. The script runs with --no-baselines on a small table, to stay fast."""
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, message_lines, resplit, run_script

from naap import plugins, protocol
from naap.data import FEATURE_SETS
from naap.predictors import TODAY

LIBRARIES = ("xgboost", "lightgbm", "ngboost")


def test_today_s_names_are_new_rows_and_every_factory_gives_a_fresh_predictor():
    plugins.check_names(list(TODAY))  # not a baseline's name nor its figures' file name; no InputError
    assert len(TODAY) == len(LIBRARIES)
    for factory in TODAY.values():
        first, second = factory(), factory()
        assert first is not second and callable(first.fit) and callable(first.predict)


def test_importing_the_package_or_the_script_loads_no_library():
    code = ("import sys, naap.predictors, run_experiments; "
            f"print([m for m in {LIBRARIES!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def today_run(ref_dir, tmp_path_factory):
    """run_experiments.py --today --no-baselines on 60 random rows of naap440.csv: (out dir, result)."""
    tmp = tmp_path_factory.mktemp("today")
    csv = tmp / "small.csv"
    resplit(pd.read_csv(ref_dir / "naap440.csv"), 60, 0.25, seed=4).to_csv(csv, index=False)
    out = tmp / "out"
    done = run_script("run_experiments.py", csv, out, "--today", "--no-baselines", "--no-progress", "--jobs", "2")
    return out, done


def test_today_writes_a_row_per_predictor_and_feature_set(today_run):
    out, done = today_run
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out / "results.csv")
    assert list(frame["Model"]) == [name for name in TODAY for _ in FEATURE_SETS]
    assert list(frame["Features"]) == list(FEATURE_SETS) * len(TODAY)
    assert frame["MeanAbsoluteError"].gt(0).all()
    assert len(pd.read_csv(out / "results_extended.csv")) == len(frame)
    markdown = (out / "results.md").read_text()
    assert all(f"| {name} | " in markdown for name in TODAY) and "Random Forest" not in markdown
    for kind in ("scatter", "rank_matrix"):
        figures = {p.name for p in (out / "figures" / kind).glob("*.png")}
        assert figures == {f"{protocol.slug(n)}__{protocol.slug(f)}.png" for n in TODAY for f in FEATURE_SETS}


def test_a_plugin_may_not_take_a_name_of_today_s(tmp_path):
    done = run_script("run_experiments.py", tmp_path / "missing.csv", "--today",
                      "--predictor", f"{next(iter(TODAY))}=examples/gp_predictor.py:make", cwd=ROOT)
    assert done.returncode == 2
    lines = message_lines(done.stderr)
    assert len(lines) == 1 and "--predictor" in lines[0] and next(iter(TODAY)) in lines[0]
