"""zero_cost.py: columns, determinism, the counts of naap440.csv, the data proxies' minibatch,
resume after SIGTERM, bad input is one line and exit 2 with nothing written (the proxies themselves:
tests/test_zero_cost_proxies.py)."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, run_script
from synthetic_cifar import synthetic_cifar, write_cifar

import models
import zero_cost
from naap import zero_cost_proxies as zcp
from naap.cli import InputError, run_cli
from naap.training import cifar10

PUBLISHED_IDS = [1, 10, 432]  # smallest, a residual one, the most MACs
DATA_FREE = ["MACs", "#params", "synflow", "logsynflow", "zen", "l2_norm"]
WITH_DATA = ["nwot", "jacov", "snip", "grad_norm", "fisher", "grasp"]


def columns(proxies):
    return ["ModelId", *proxies, *(f"{p}_seconds" for p in proxies)]


def values(path):
    table = pd.read_csv(path)  # pandas 3 parses floats round-trip exact
    return table[[c for c in table.columns if not c.endswith("_seconds")]]


@pytest.fixture(scope="module")
def schemes_json(tmp_path_factory, schemes):
    path = tmp_path_factory.mktemp("schemes") / "schemes.json"
    path.write_text(json.dumps([schemes[i - 1] for i in PUBLISHED_IDS]))
    return path


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_cifar(root, **synthetic_cifar(2 * zero_cost.DATA_BATCH, 16))
    return root


def run_ok(*args):
    result = run_script("zero_cost.py", *args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def free_csv(tmp_path_factory, schemes_json):
    """One data-free run over the three schemes."""
    out = tmp_path_factory.mktemp("free") / "free.csv"
    run_ok(schemes_json, out)
    assert os.listdir(out.parent) == ["free.csv"]  # the journal is gone
    return out


# ---------------------------------------------------------------- the script

def test_data_free_columns_counts_and_determinism(tmp_path, free_csv, schemes_json, ref_dir, schemes):
    again = tmp_path / "again.csv"
    again.write_text("an older output\n")
    run_ok(schemes_json, again, "--force")  # an existing OUT is replaced only with --force
    assert values(free_csv).equals(values(again))
    table = pd.read_csv(free_csv)
    assert list(table.columns) == columns(DATA_FREE)
    assert table.ModelId.tolist() == [1, 2, 3]
    assert (table.filter(like="_seconds") >= 0).all().all()
    assert np.isfinite(table[DATA_FREE].to_numpy(dtype=float)).all()
    published = pd.read_csv(ref_dir / "naap440.csv").set_index("ModelId")
    for row, model_id in zip(table.itertuples(index=False), PUBLISHED_IDS):
        params, macs = models.count_params_and_macs(schemes[model_id - 1])
        assert (row[2], row[1]) == (params, macs) == (published.NumParams[model_id], published.NumMACs[model_id])


def test_with_data_root(tmp_path, free_csv, schemes_json, data_root, schemes):
    run_ok(schemes_json, tmp_path / "a.csv", "--data-root", data_root)
    run_ok(schemes_json, tmp_path / "b.csv", "--data-root", data_root)
    table = pd.read_csv(tmp_path / "a.csv")
    assert list(table.columns) == columns(DATA_FREE + WITH_DATA)
    assert values(tmp_path / "a.csv").equals(values(tmp_path / "b.csv"))
    assert np.isfinite(table[DATA_FREE + WITH_DATA].to_numpy(dtype=float)).all()
    # the data-free columns do not depend on the data
    assert values(tmp_path / "a.csv")[["ModelId", *DATA_FREE]].equals(values(free_csv))
    # the minibatch is the first DATA_BATCH training images, normalized as create_dataset.py does it
    cifar = cifar10.read_cifar(data_root)["train"]
    batch = cifar10.to_device_data({"train": (cifar[0][:zero_cost.DATA_BATCH], cifar[1][:zero_cost.DATA_BATCH])},
                              torch.device("cpu"))
    model = models.seeded_net(schemes[PUBLISHED_IDS[2] - 1])
    assert table.nwot[2] == pytest.approx(zcp.nwot(model, batch["x_train"]), rel=1e-9)
    assert table.snip[2] == pytest.approx(zcp.snip(model, batch["x_train"], batch["y_train"]), rel=1e-6)


def test_resume_after_sigterm(tmp_path, schemes, as_zero_cost):
    first_30 = schemes[:30]
    schemes_json = tmp_path / "schemes.json"
    schemes_json.write_text(json.dumps(first_30))
    out = tmp_path / "out.csv"
    journal = zero_cost.journal_path(out)
    proc = subprocess.Popen([sys.executable, str(ROOT / "zero_cost.py"), str(schemes_json), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 3:  # the settings and two models
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "terminated (SIGTERM)" in stderr
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
    kept = journal.read_text().count("\n") - 1
    assert 2 <= kept < len(first_30)
    with open(journal, "a") as f:
        f.write('{"ModelId": 29, "sch')  # a record cut short by a kill -9
    result = run_ok(schemes_json, out)
    assert f"{len(first_30) - kept} computed, {kept} from the journal" in result.stdout
    assert not journal.exists()
    # the same numbers as an uninterrupted run (here: computed in this process)
    table = values(out)
    for model_id, scheme in enumerate(first_30, 1):
        expected = zero_cost.model_proxies(scheme)[0]
        assert table.loc[model_id - 1, DATA_FREE].tolist() == [expected[p] for p in DATA_FREE], model_id


def test_journal_records_and_settings(tmp_path, schemes):
    first_3 = schemes[:3]
    path = tmp_path / ".out.csv.resume.jsonl"
    record = {"values": {"zen": 1.5}, "seconds": {"zen": 0.1}}
    lines = [{"settings": "k"}, {"ModelId": 1, "scheme": first_3[0], **record},
             {"ModelId": 2, "scheme": first_3[0], **record},  # another scheme than ModelId 2's now: recomputed
             {"ModelId": 3, "scheme": first_3[2], **record}]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    path.write_text(text + '{"ModelId": 3, "sc')
    assert zero_cost.read_journal(path, "k", first_3) == {1: (record["values"], record["seconds"]),
                                                          3: (record["values"], record["seconds"])}
    assert path.read_text() == text  # the torn record is cut off
    assert zero_cost.read_journal(path, "other settings", first_3) == {} and not path.exists()
    path.write_text("")
    assert zero_cost.read_journal(path, "k", first_3) == {} and not path.exists()


def test_bad_input(tmp_path, schemes_json, data_root, schemes):
    bad_scheme = tmp_path / "bad_scheme.json"
    bad_scheme.write_text(json.dumps([schemes[0], [{**schemes[0][0], "kernel_size": 2}]]))
    invalid = tmp_path / "invalid.json"
    invalid.write_text("[{")
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    out_dir = tmp_path / "out_dir"
    out_dir.mkdir()
    no_cifar = tmp_path / "no_cifar"
    no_cifar.mkdir()
    cases = [
        ((tmp_path / "missing.json", tmp_path / "o.csv"), "missing.json: no such file"),
        ((invalid, tmp_path / "o.csv"), "invalid.json: not valid JSON"),
        ((empty, tmp_path / "o.csv"), "empty.json: expected a non-empty JSON list"),
        ((bad_scheme, tmp_path / "o.csv"), "bad_scheme.json: ModelId 2, layer 1: kernel_size"),
        ((schemes_json, out_dir), "out_dir: cannot write (is a directory)"),
        ((schemes_json, ".", "--force"), ".: cannot write (is a directory)"),
        ((schemes_json, "/", "--force"), "/: cannot write (is a directory)"),
        ((schemes_json, f"{tmp_path}/o.csv/"), "o.csv/: cannot write (names a directory, expected a file)"),
        ((schemes_json, invalid), "invalid.json: already exists (use --force to replace it)"),
        ((bad_scheme, bad_scheme), "bad_scheme.json: ModelId 2"),  # checked before the output
        ((schemes_json, schemes_json, "--force"), "schemes.json: is an input of this run"),
        ((schemes_json, data_root / "cifar-10-batches-py" / "o.csv", "--data-root", data_root),
         "o.csv: lies inside"),
        ((schemes_json, tmp_path / "o.csv", "--data-root", no_cifar),
         f"--data-root {no_cifar}: {no_cifar}/cifar-10-batches-py/data_batch_1: missing"),
    ]
    before, schemes_dir = sorted(os.listdir(tmp_path)), sorted(os.listdir(schemes_json.parent))
    cifar_files = sorted(os.listdir(data_root / "cifar-10-batches-py"))
    for args, message in cases:
        with pytest.raises(InputError) as error:
            zero_cost.main(zero_cost.parse_args([str(a) for a in args]))
        assert message in str(error.value) and "\n" not in str(error.value), args
        assert sorted(os.listdir(tmp_path)) == before and os.listdir(out_dir) == []
        assert sorted(os.listdir(schemes_json.parent)) == schemes_dir
        assert sorted(os.listdir(data_root / "cifar-10-batches-py")) == cifar_files
    # one of them through a real process: exit status 2, a single stderr line, nothing written
    result = run_script("zero_cost.py", schemes_json, tmp_path / "o.csv", "--data-root", no_cifar)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {cases[-1][1]}"), lines
    assert sorted(os.listdir(tmp_path)) == before


def test_a_full_disk_while_journaling_is_one_line_and_the_rerun_resumes(tmp_path, schemes_json, monkeypatch, capsys):
    out = tmp_path / "out.csv"
    journal = zero_cost.journal_path(out)
    calls, real_fsync = [], os.fsync

    def fsync(fd):  # the settings and model 1 reach the disk; model 2's line is cut short by a full disk
        calls.append(fd)
        if len(calls) == 3:
            os.ftruncate(fd, os.fstat(fd).st_size - 25)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(zero_cost.os, "fsync", fsync)
    with pytest.raises(SystemExit) as info:
        run_cli(zero_cost.main, zero_cost.parse_args([str(schemes_json), str(out)]))
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"error: {journal}: cannot write (No space left on device)", err
    assert sorted(os.listdir(tmp_path)) == [journal.name]  # no OUT, the journal kept for the rerun
    monkeypatch.setattr(zero_cost.os, "fsync", real_fsync)
    rows = zero_cost.main(zero_cost.parse_args([str(schemes_json), str(out)]))
    assert "2 computed, 1 from the journal" in capsys.readouterr().out
    assert [row["ModelId"] for row in rows] == [1, 2, 3] and os.listdir(tmp_path) == ["out.csv"]
