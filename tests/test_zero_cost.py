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


def journal_record(model_id, scheme, proxies=DATA_FREE, **values):
    """A record as append_record writes it: whole-number counts, float proxies and seconds."""
    return {"ModelId": model_id, "scheme": scheme,
            "values": {p: 7 if p in ("MACs", "#params") else 1.5 for p in proxies} | values,
            "seconds": {p: 0.25 for p in proxies}}


def journal_text(key, records):
    return "".join(json.dumps(line) + "\n" for line in [{"settings": key}, *records])


def test_journal_records_and_settings(tmp_path, schemes):
    first_3 = schemes[:3]
    path = tmp_path / ".out.csv.resume.jsonl"
    records = [journal_record(1, first_3[0]),
               journal_record(2, first_3[0]),  # another scheme than ModelId 2's now: recomputed
               journal_record(3, first_3[2]),
               journal_record(4, first_3[0])]  # beyond this run's schemes (a longer file's): recomputed
    text = journal_text("k", records)
    path.write_text(text + '{"ModelId": 3, "sc')
    expected = {r["ModelId"]: (r["values"], r["seconds"]) for r in (records[0], records[2])}
    assert zero_cost.read_journal(path, "k", first_3, DATA_FREE) == expected
    assert path.read_text() == text  # the torn record is cut off
    assert zero_cost.read_journal(path, "other settings", first_3, DATA_FREE) == {} and not path.exists()
    path.write_text("")
    assert zero_cost.read_journal(path, "k", first_3, DATA_FREE) == {} and not path.exists()


@pytest.mark.parametrize("piece", ['{"sett', '{"settings": "0123456789abcdef"}', '{"settings": "01'])
def test_a_header_cut_short_is_removed(tmp_path, schemes, piece):
    path = tmp_path / ".out.csv.resume.jsonl"
    path.write_text(piece)  # a kill before the header's newline reached the disk
    assert zero_cost.read_journal(path, "k", schemes[:3], DATA_FREE) == {} and not path.exists()


@pytest.mark.parametrize("content", ["my notes", '{"settings": "xyz', '{"settings": "0123456789abcdef"} '])
def test_a_foreign_file_at_the_journal_path_is_refused_and_kept(tmp_path, schemes, content):
    path = tmp_path / ".out.csv.resume.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match="line 1: not a zero_cost.py resume journal header"):
        zero_cost.read_journal(path, "k", schemes[:3], DATA_FREE)
    assert path.read_text() == content


DEEP = 200_000  # far beyond the recursion limit: json.loads raises RecursionError
DAMAGED_SCHEME = [{"kernel_size": 3, "width": 8, "stride": 1, "residual": False}]  # refused before it is compared


def damaged_lines():
    """(name, a damaged line, the problem named); each goes after a good header and record, or
    replaces the header when its name starts with "header"."""
    good = journal_record(2, DAMAGED_SCHEME)

    def changed(**fields):
        return json.dumps(good | fields)

    def values(**changes):
        return json.dumps(good | {"values": good["values"] | changes})

    def seconds(**changes):
        return json.dumps(good | {"seconds": good["seconds"] | changes})

    without_seconds = {k: v for k, v in good.items() if k != "seconds"}
    return [
        ("values {}", changed(values={}), "values: expected one number for each of MACs, #params"),
        ("values a string", changed(values="x"), "values: expected one number for each of"),
        ("seconds null", changed(seconds=None), "seconds: expected one number for each of"),
        ("a key missing", json.dumps(without_seconds), "expected a record with the keys ModelId, scheme"),
        ("a key more", changed(extra=1), "expected a record with the keys"),
        ("not an object", json.dumps([good]), "expected a record with the keys"),
        ("a proxy missing", json.dumps(good | {"values": {k: v for k, v in good["values"].items() if k != "zen"}}),
         "values: expected one number for each of"),
        ("a proxy more", values(nwot=1.0), "values: expected one number for each of"),
        ("ModelId a string", changed(ModelId="2"), "ModelId '2': expected a whole number >= 1"),
        ("ModelId 0", changed(ModelId=0), "ModelId 0: expected a whole number >= 1"),
        ("ModelId true", changed(ModelId=True), "ModelId True: expected a whole number >= 1"),
        ("ModelId 2.0", changed(ModelId=2.0), "ModelId 2.0: expected a whole number >= 1"),
        ("MACs NaN", values(MACs=float("nan")), "values of MACs: nan: expected a whole number >= 0"),
        ("#params a float", values(**{"#params": 7.5}), "values of #params: 7.5: expected a whole number"),
        ("#params negative", values(**{"#params": -1}), "values of #params: -1: expected a whole number >= 0"),
        ("synflow abc", values(synflow="abc"), "values of synflow: 'abc': expected a number, NaN or Infinity"),
        ("synflow true", values(synflow=True), "values of synflow: True: expected a number"),
        ("zen null", values(zen=None), "values of zen: None: expected a number"),
        ("seconds NaN", seconds(zen=float("nan")), "seconds of zen: nan: expected a finite number of seconds"),
        ("seconds inf", seconds(zen=float("inf")), "seconds of zen: inf: expected a finite number"),
        ("seconds negative", seconds(MACs=-0.5), "seconds of MACs: -0.5: expected a finite number of seconds >= 0"),
        ("not JSON", '{"ModelId": 2,', "not valid JSON"),
        ("an empty line", "", "not valid JSON (Expecting value)"),
        ("bad UTF-8", '{"ModelId": 2, "scheme": "\udcff"}', "not valid JSON"),
        ("nested too deep", "[" * DEEP + "]" * DEEP, "not valid JSON (nested too deep)"),
        ("a deep scheme", json.dumps(good)[:-1] + ', "x": ' + "[" * DEEP + "]" * DEEP + "}",
         "not valid JSON (nested too deep)"),
        ("a huge integer", changed(ModelId=1)[:-1] + ', "x": ' + "9" * 5000 + "}", "not valid JSON"),
    ] + [(f"header {name}", header, 'expected the header {"settings": KEY}') for name, header in [
        ("not an object", '["k"]'), ("a key more", '{"settings": "k", "x": 1}'), ("a number", '{"settings": 1}'),
    ]] + [("header nested too deep", "[" * DEEP + "]" * DEEP, "not valid JSON (nested too deep)"),
          ("header not JSON", '{"settings": "k"', "not valid JSON")]


DAMAGED = damaged_lines()


def write_damaged(path, line, header_damaged):
    """A journal with `line` as line 3 (or as the header, line 1), and a torn record at the end."""
    header, record = json.dumps({"settings": "k"}), json.dumps(journal_record(1, DAMAGED_SCHEME))
    lines = [line, record] if header_damaged else [header, record, line]
    data = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n" + b'{"ModelId": 3, "sch'
    path.write_bytes(data)
    return data, 1 if header_damaged else 3


@pytest.mark.parametrize("name, line, problem", DAMAGED, ids=[case[0] for case in DAMAGED])
def test_a_damaged_journal_is_refused_and_left_as_it_was(tmp_path, schemes, name, line, problem):
    path = tmp_path / ".out.csv.resume.jsonl"
    data, number = write_damaged(path, line, name.startswith("header"))
    with pytest.raises(InputError) as error:
        zero_cost.read_journal(path, "k", schemes[:3], DATA_FREE)
    message = str(error.value)
    assert message.startswith(f"{path}: line {number}: ") and problem in message, (name, message)
    assert message.endswith("(a damaged resume journal: delete it to start over)") and "\n" not in message
    assert len(message) < 400, name  # a huge value is shortened, not copied into the line
    assert path.read_bytes() == data  # not even the torn record is cut off


def test_non_finite_proxy_values_are_taken_from_the_journal(tmp_path, schemes_json, schemes, capsys):
    # jacov returns NaN, zen and nwot -inf for some models: a journal holding them is sound
    out = tmp_path / "out.csv"
    run = [schemes[i - 1] for i in PUBLISHED_IDS]
    records = [journal_record(1, run[0], synflow=float("nan")), journal_record(2, run[1], zen=float("-inf")),
               journal_record(3, run[2], l2_norm=float("inf"))]
    zero_cost.journal_path(out).write_text(journal_text(zero_cost.settings_key(None), records))
    zero_cost.main(zero_cost.parse_args([str(schemes_json), str(out)]))
    assert "0 computed, 3 from the journal" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert np.isnan(table.synflow[0]) and table.zen[1] == -np.inf and table.l2_norm[2] == np.inf
    assert table["#params"].tolist() == [7, 7, 7] and os.listdir(tmp_path) == ["out.csv"]
    mixed = journal_record(1, run[0], proxies=DATA_FREE + WITH_DATA, jacov=float("nan"), nwot=float("-inf"))
    path = tmp_path / ".j.resume.jsonl"
    path.write_text(journal_text("k", [mixed]))
    assert zero_cost.read_journal(path, "k", run, DATA_FREE + WITH_DATA)[1][0]["nwot"] == -np.inf


@pytest.mark.parametrize("name", ["values {}", "seconds null", "MACs NaN", "synflow abc", "a deep scheme",
                                  "header nested too deep"])
def test_a_damaged_journal_is_exit_2_and_nothing_written(tmp_path, schemes_json, schemes, capsys, name):
    out = tmp_path / "out.csv"
    journal = zero_cost.journal_path(out)
    _, line, problem = next(case for case in DAMAGED if case[0] == name)
    data, number = write_damaged(journal, line, name.startswith("header"))
    if not name.startswith("header"):  # the run's own settings, so that the records are read
        data = data.replace(b'"k"', json.dumps(zero_cost.settings_key(None)).encode(), 1)
        journal.write_bytes(data)
    with pytest.raises(SystemExit) as info:
        run_cli(zero_cost.main, zero_cost.parse_args([str(schemes_json), str(out)]))
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"error: {journal}: line {number}: ")
    assert problem in captured.err
    assert captured.err.count("\n") == 1, captured.err  # one line: no traceback, no progress bar
    assert os.listdir(tmp_path) == [journal.name] and journal.read_bytes() == data


def test_a_journal_nested_too_deep_is_one_line_in_a_real_process(tmp_path, schemes_json):
    out = tmp_path / "out.csv"
    journal = zero_cost.journal_path(out)
    journal.write_text('{"settings": ' + "[" * DEEP + "]" * DEEP + "}\n")
    result = run_script("zero_cost.py", schemes_json, out)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"error: {journal}: line 1: not valid JSON (nested too deep) "
                             "(a damaged resume journal: delete it to start over)\n")
    assert os.listdir(tmp_path) == [journal.name]


def test_a_journal_that_is_not_a_file_is_refused(tmp_path, schemes_json):
    out = tmp_path / "out.csv"
    zero_cost.journal_path(out).mkdir()
    with pytest.raises(InputError, match="resume.jsonl: not a regular file, expected a resume journal"):
        zero_cost.main(zero_cost.parse_args([str(schemes_json), str(out)]))
    assert os.listdir(tmp_path) == [zero_cost.journal_path(out).name]


def test_a_full_disk_creating_the_journal_is_exit_1(tmp_path, schemes_json, monkeypatch, capsys):
    out = tmp_path / "out.csv"
    journal = zero_cost.journal_path(out)

    def no_room(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no inode left for the new file

    monkeypatch.setattr(zero_cost, "open", no_room, raising=False)
    with pytest.raises(SystemExit) as info:
        run_cli(zero_cost.main, zero_cost.parse_args([str(schemes_json), str(out)]))
    assert info.value.code == 1
    assert capsys.readouterr().err == f"error: {journal}: cannot write (No space left on device)\n"
    assert os.listdir(tmp_path) == []


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


def test_a_whole_number_proxy_value_is_a_sound_record(tmp_path):
    # json writes a proxy that came out as a whole number (0, or an int) without a decimal point
    record = journal_record(2, DAMAGED_SCHEME, synflow=0, zen=-3)
    zero_cost.check_record(tmp_path / "j", 2, json.loads(json.dumps(record)), DATA_FREE)
