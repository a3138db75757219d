"""Every script stops alike on Ctrl-C (SIGINT) and a closed terminal (SIGHUP) as on SIGTERM
(naap.cli.run_cli): signalled once its long loop runs, inside numba's tree builder, a run exits
128 + the signal's number after one line on stderr, with no traceback, no OUT_DIR, no staging
directory; only a resume journal is kept. SIGTERM's own tests are with each script's tests."""
import re
import signal
import sys

import pytest
from conftest import ROOT, journal_records, message_lines, signal_when_started

STOPS = [(signal.SIGINT, "interrupted (SIGINT): no partial output left behind"),
         (signal.SIGHUP, "terminated (SIGHUP): no partial output left behind")]


def run_experiments(ref_dir, tmp_path):
    # --jobs 1: the main process fits the trees itself. The bar shows the first run done (numba
    # compiled, its figures written into the staging directory); the next run fits a Random Forest
    def started(err):
        return re.search(r"runs: .*\| [1-9]\d*/96 ", err) and any(tmp_path.glob(".out.*.tmp/figures/**/*.png"))
    cmd = [sys.executable, str(ROOT / "run_experiments.py"), str(ref_dir / "naap440.csv"), str(tmp_path / "out"),
           "--jobs", "1"]
    return cmd, started, []


def feature_selection(ref_dir, tmp_path):
    # --jobs 1: the search scores subsets in this process, in the tree builder when the signal
    # comes (two rounds journaled: numba compiled in the first, the third round's fits running);
    # the journal of the rounds done is kept for the rerun
    def started(err):
        return journal_records(tmp_path.glob(".fs.resume/*/*.pkl")) >= 2 and any(tmp_path.glob(".fs.*.tmp"))
    cmd = [sys.executable, str(ROOT / "feature_selection.py"), str(ref_dir / "naap440v2.csv"), str(tmp_path / "fs"),
           "--modes", "interpolation", "--models", "Random Forest (N=25)", "--feature-sets", "Scheme+Quant.3",
           "--jobs", "1"]
    return cmd, started, [".fs.resume"]


@pytest.mark.parametrize("script", [run_experiments, feature_selection], ids=lambda f: f.__name__)
@pytest.mark.parametrize("signum, message", STOPS, ids=[s.name for s, _ in STOPS])
def test_stop_signal_leaves_no_partial_output(script, signum, message, ref_dir, tmp_path):
    cmd, started, kept = script(ref_dir, tmp_path)
    status, err = signal_when_started(cmd, tmp_path, started, signum=signum)
    assert status == 128 + signum, err
    assert "Traceback" not in err and message_lines(err) == [message], err
    assert sorted(p.name for p in tmp_path.iterdir()) == kept  # no OUT_DIR, no hidden .*.tmp staging
