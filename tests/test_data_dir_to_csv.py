"""data_dir_to_csv.py: the published CSVs from the published logs, and clear errors for bad logs."""
import csv
import shutil

import pytest

import data_dir_to_csv
from common import run_cli
from conftest import run_script

NUM_COPIED = 45  # fewer than 1.5 * 40 logs: too few for the default 40 bins


def published(ref_dir, name):
    return (ref_dir / name).read_bytes().replace(b"\r\n", b"\n")


@pytest.fixture(scope="module")
def converted(ref_dir, tmp_path_factory):
    """Both full conversions, run once as scripts on the published logs (read in place)."""
    out_dir = tmp_path_factory.mktemp("converted")
    results = {}
    for version in (1, 2):
        out = out_dir / f"v{version}.csv"
        results[version] = (run_script("data_dir_to_csv.py", ref_dir / "raw_data", out, "--version", version), out)
    return results


@pytest.mark.parametrize("version, published_name", [(1, "naap440.csv"), (2, "naap440v2.csv")])
def test_reproduces_published_csv(converted, ref_dir, version, published_name):
    result, out = converted[version]
    assert result.returncode == 0, result.stderr
    assert "440 rows (40 test)" in result.stdout
    assert out.read_bytes() == published(ref_dir, published_name)


@pytest.fixture
def logs(ref_dir, tmp_path):
    """A copy of the first NUM_COPIED logs (by ModelId) in tmp_path/raw."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(1, NUM_COPIED + 1):
        shutil.copyfile(ref_dir / "raw_data" / f"scheme_{i}.txt", raw / f"scheme_{i}.txt")
    return raw


def cli(capsys, *argv):
    """Run the script's main in-process (importing torch once is much cheaper than per test)."""
    try:
        run_cli(data_dir_to_csv.main, data_dir_to_csv.parse_args([str(a) for a in argv]))
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(capsys, out_csv, argv, *expected):
    code, _, err = cli(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], lines[0]
    assert not out_csv.exists()
    assert list(out_csv.parent.glob(f".{out_csv.name}*")) == []


def rewrite(path, edit):
    text = path.read_text()
    edited = edit(text)
    assert edited != text
    path.write_text(edited)


def cut_after_epoch(text, epoch):
    """The log up to and including epoch `epoch`'s test accuracy line."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if f" Epoch {epoch}, " in line)
    end = next(i for i in range(start, len(lines)) if " Test accuracy: " in lines[i])
    return "".join(lines[:end + 1])


def test_missing_dir(capsys, tmp_path):
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [tmp_path / "nowhere", out], "nowhere", "no such directory")


def test_empty_dir_and_partial_logs_only(capsys, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [raw, out], str(raw), "no scheme_<ModelId>.txt logs")
    (raw / "scheme_5.txt.partial").write_text("20220901141247 Network scheme: [\n")
    (raw / "notes.txt").write_text("hello\n")
    assert_refused(capsys, out, [raw, out], str(raw), "no scheme_<ModelId>.txt logs")


def test_too_few_logs_for_bins(capsys, logs, tmp_path):
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out], f"{logs}: {NUM_COPIED} logs are too few for 40 test bins", "--test-bins")
    code, stdout, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert [int(r["ModelId"]) for r in rows] == list(range(1, NUM_COPIED + 1))
    num_test = sum(int(r["IsTest"]) for r in rows)
    # bin size round(45 / 10) = 4: the records sorted by accuracy at 2, 6, 10, ... are test rows
    assert num_test == 11
    assert f"{NUM_COPIED} rows ({num_test} test)" in stdout
    ranked = sorted(rows, key=lambda r: float(r["MaxAccuracy"]))
    assert [i for i, r in enumerate(ranked) if r["IsTest"] == "1"] == list(range(2, NUM_COPIED, 4))


def test_partial_log_files_are_ignored(capsys, logs, tmp_path):
    (logs / "scheme_46.txt.partial").write_text("20220901141247 Network scheme: [{\"kernel\n")
    (logs / "scheme_x.txt").write_text("not a log\n")
    out = tmp_path / "out.csv"
    code, stdout, err = cli(capsys, logs, out, "--test-bins", 10)
    assert code == 0, err
    assert f"{NUM_COPIED} rows" in stdout


def test_log_truncated_mid_epoch(capsys, logs, tmp_path):
    text = (logs / "scheme_7.txt").read_text()
    (logs / "scheme_7.txt").write_text(text[:len(text) // 2])
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_7.txt")


def test_log_truncated_between_epochs(capsys, logs, tmp_path):
    rewrite(logs / "scheme_7.txt", lambda t: cut_after_epoch(t, 50))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_7.txt", "50 epochs", "have 90")


def test_log_with_epoch_missing_accuracy(capsys, logs, tmp_path):
    rewrite(logs / "scheme_8.txt", lambda t: t.replace(" Test accuracy: ", " Validation: ", 2))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_8.txt", "epoch 1 has no test accuracy")


def test_log_without_scheme_line(capsys, logs, tmp_path):
    rewrite(logs / "scheme_9.txt", lambda t: "".join(l for l in t.splitlines(True) if "Network scheme" not in l))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_9.txt", "no 'Network scheme:' line")


def test_log_without_params_line(capsys, logs, tmp_path):
    rewrite(logs / "scheme_9.txt", lambda t: "".join(l for l in t.splitlines(True) if "#params" not in l))
    out = tmp_path / "out.csv"
    assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_9.txt", "#params")


def test_log_with_malformed_lines(capsys, logs, tmp_path):
    out = tmp_path / "out.csv"
    original = (logs / "scheme_3.txt").read_text()
    cases = [
        (lambda t: t.replace("Test accuracy: ", "Test accuracy: x", 1), "malformed number"),
        (lambda t: t.replace("Loss mean, median: ", "Loss mean, median: 1.0, ", 1), "malformed loss line"),
        (lambda t: t.replace("Epoch 2, LR", "Epoch 3, LR", 1), "expected 'Epoch 2"),
        (lambda t: "no timestamp here\n" + t, "no timestamp"),
        (lambda t: t.replace('"width": 12', '"width": 0', 1), "width must be positive"),
        (lambda t: t.replace('"kernel_size": 3', '"kernel_size": 3,', 1), "malformed network scheme"),
    ]
    for edit, message in cases:
        assert edit(original) != original
        (logs / "scheme_3.txt").write_text(edit(original))
        assert_refused(capsys, out, [logs, out, "--test-bins", 10], "scheme_3.txt", message)


def test_short_logs(capsys, logs, ref_dir, tmp_path):
    for path in logs.iterdir():
        rewrite(path, lambda t: cut_after_epoch(t, 3))
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, logs, out, "--version", 2, "--test-bins", 10)
    assert code == 0, err
    header = out.read_text().splitlines()[0].split(",")
    assert header[-1] == "e3Accuracy" and "e4LossMean" not in header
    assert header[:11] == ["ModelId", "IsTest", "NumParams", "NumMACs", "NumLayers", "NumStages", "FirstLayerWidth",
                           "LastLayerWidth", "NumSkipConnections", "NumPartialRFLayers", "MaxAccuracy"]
    with open(ref_dir / "naap440v2.csv", newline="") as f:
        full = {r["ModelId"]: r for r in csv.DictReader(f)}
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == NUM_COPIED
    for row in rows:
        ref = full[row["ModelId"]]
        # the first three epochs and the architecture columns are the published ones
        assert {k: v for k, v in row.items() if k not in ("IsTest", "MaxAccuracy")} == \
            {k: ref[k] for k in row if k not in ("IsTest", "MaxAccuracy")}
        assert float(row["MaxAccuracy"]) == max(float(ref[f"e{k}Accuracy"]) for k in (1, 2, 3))


def test_script_exit_status_and_no_output(logs, tmp_path):
    # one run through a real process: exit status 2 and a single stderr line
    out = tmp_path / "out.csv"
    result = run_script("data_dir_to_csv.py", logs, out)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {logs}: {NUM_COPIED} logs are too few for 40 test bins (need at least 60, or lower --test-bins)"]
    assert not out.exists()
