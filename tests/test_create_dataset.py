"""create_dataset.py: the pipeline runs end to end, kill -9 and SIGTERM resume to the same numbers, a
failed scheme does not stop the others, bad input is one line and exit 2 with nothing written (the
library's own tests: tests/test_training_*.py)."""
import errno
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error

import pytest
import torch
from conftest import ROOT, SCHEMES, live_processes, run_script, stopped, wait_until
from synthetic_cifar import synthetic_cifar, write_cifar

import create_dataset as cd
from models import count_params_and_macs
from naap.cli import InputError, run_cli
from naap.training import cifar10, loop
from naap.training.checkpoints import CKPT_DIR

TIMESTAMP = re.compile(r"\d{14} ")


@pytest.fixture(scope="module")
def schemes_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("schemes") / "schemes.json"
    path.write_text(json.dumps(SCHEMES))
    return path


def run(argv):
    return cd.main(cd.parse_args([str(a) for a in argv]))


def strip_times(path):
    lines = path.read_text().splitlines()
    assert all(TIMESTAMP.match(line) for line in lines), path
    return [line[15:] for line in lines]


# ---------------------------------------------------------------- arguments

def test_id_specs_shards_and_devices():
    assert cd.parse_id_spec("1-3, 7,2", 10) == [1, 2, 3, 7]
    assert cd.parse_id_spec(None, 3) == [1, 2, 3]
    assert cd.parse_id_spec("2 - 4,9", 10) == [2, 3, 4, 9]
    for spec, problem in (("1-", "'1-' is not a ModelId or a range"), ("1_0", "'1_0' is not a ModelId"),
                          ("+3", "'\\+3' is not"), ("-3", "'-3' is not"), ("\u0663", "is not a ModelId"),
                          ("4-2", "empty range '4-2'"), ("9" * 5000, "is not a ModelId"),
                          ("0-2", "unknown ModelId in '0-2'"), ("11", "unknown ModelId")):
        with pytest.raises(InputError, match=problem):
            cd.parse_id_spec(spec, 10)
    ids = list(range(1, 441))
    shards = [cd.shard_ids(ids, (i, 7)) for i in range(1, 8)]
    assert sorted(sum(shards, [])) == ids
    assert cd.parse_devices("cpu") == ["cpu"]


# ---------------------------------------------------------------- logs, crash safety, pipeline

def test_end_to_end_generator_training_csv(tmp_path, data_root):
    """scheme_generator -> create_dataset (2 worker processes) -> data_dir_to_csv."""
    schemes, raw, csv = tmp_path / "schemes.json", tmp_path / "raw", tmp_path / "out.csv"
    assert run_script("scheme_generator.py", schemes).returncode == 0
    done = run_script("create_dataset.py", schemes, raw, "--data-root", data_root, "--workers", 2,
                      "--schemes", "1-3,10", "--epochs", 2, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 trained" in done.stdout
    assert sorted(p.name for p in raw.iterdir()) == [f"scheme_{i}.txt" for i in (1, 10, 2, 3)]
    generated = json.loads(schemes.read_text())
    for model_id in (1, 2, 3, 10):
        lines = strip_times(raw / f"scheme_{model_id}.txt")
        params, macs = count_params_and_macs(generated[model_id - 1])
        assert lines[:5] == [f"Network scheme: {json.dumps(generated[model_id - 1])}",
                             "Network has been init on device cpu", f"Network #params: {params}, #MACs: {macs}",
                             "Training set is ready", "Ready to start training"]
        assert lines[5::3] == ["Epoch 1, LR: 0.1", "Epoch 2, LR: 0.01"]
        assert all(re.fullmatch(r"Loss mean, median: \d+\.\d+, \d+\.\d+", line) for line in lines[6::3])
        assert all(re.fullmatch(r"Test accuracy: 0\.\d+", line) for line in lines[7::3])
    converted = run_script("data_dir_to_csv.py", raw, csv, "--version", 1, "--test-bins", 2)
    assert converted.returncode == 0, converted.stderr
    rows = csv.read_text().splitlines()
    assert len(rows) == 5 and rows[0].endswith("e2LossMean,e2LossMedian,e2Accuracy")
    first = strip_times(raw / "scheme_1.txt")
    accuracy = [float(line.split(": ")[1]) for line in first[7::3]]
    assert rows[1].split(",")[0] == "1" and float(rows[1].split(",")[8]) == max(accuracy)


def test_kill9_mid_epoch_resumes_to_same_numbers(tmp_path, capsys):
    data = tmp_path / "data"
    write_cifar(data, **synthetic_cifar(2500, 256))  # epochs long enough to be killed inside one
    schemes = tmp_path / "schemes.json"
    schemes.write_text(json.dumps(SCHEMES[:1]))
    args = [schemes, None, "--data-root", data, "--workers", 1, "--epochs", 4]
    killed, whole = tmp_path / "killed", tmp_path / "whole"

    command = [sys.executable, str(ROOT / "create_dataset.py"), *map(str, [args[0], killed, *args[2:]])]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ckpt, partial = killed / CKPT_DIR / "scheme_1.pt", killed / "scheme_1.txt.partial"

    def logged_epochs():
        text = partial.read_text() if partial.exists() else ""
        return text.count(" Test accuracy: ") if text.endswith("\n") else None  # None: mid-write

    # Inside epoch 2 by construction: epoch 1's lines in the partial log are written just after
    # epoch 1's checkpoint, epoch 2's just after epoch 2's. The run is stopped as they appear and
    # checked while it cannot go on, then killed.
    wait_until(lambda: logged_epochs() == 1, "epoch 1 was logged", timeout=300, proc=proc)
    os.killpg(proc.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: stopped(proc.pid), "the run stopped on SIGSTOP", timeout=30)
        state = logged_epochs(), torch.load(ckpt, weights_only=False)["epoch"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert state == (1, 1), "stopped after epoch 2 ended"
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "scheme_1.txt").exists()

    resumed = run_script("create_dataset.py", args[0], killed, *args[2:])
    assert resumed.returncode == 0, resumed.stderr
    assert "1 resumed" in resumed.stdout
    run([args[0], whole, *args[2:]])
    assert strip_times(killed / "scheme_1.txt") == strip_times(whole / "scheme_1.txt")
    assert sorted(p.name for p in killed.iterdir()) == ["scheme_1.txt"]  # partial and checkpoint gone

    before = (killed / "scheme_1.txt").read_bytes()
    run([args[0], killed, *args[2:]])
    assert "1 already complete" in capsys.readouterr().out
    assert (killed / "scheme_1.txt").read_bytes() == before


def test_sigterm_with_worker_processes_stops_at_once_and_resumes(tmp_path):
    # a scheduler's stop (kill PID): the spawned workers are ended, not waited for
    data = tmp_path / "data"
    write_cifar(data, **synthetic_cifar(2500, 256))
    schemes = tmp_path / "schemes.json"
    schemes.write_text(json.dumps(SCHEMES[:2]))
    out = tmp_path / "raw"
    args = [schemes, out, "--data-root", data, "--workers", 2, "--epochs", 6]
    proc = subprocess.Popen([sys.executable, str(ROOT / "create_dataset.py"), *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # both workers training (each scheme's partial log is written as its first epoch starts, and
    # stays until its last ends) and a checkpoint on disk to resume from
    wait_until(lambda: len(list(out.glob("scheme_*.txt.partial"))) == 2 and list((out / CKPT_DIR).glob("scheme_*.pt")),
               "both schemes training, one checkpointed", timeout=300, proc=proc)
    workers = [p for p, (parent, cmdline) in live_processes().items()
               if parent == proc.pid and b"resource_tracker" not in cmdline]  # the pool's, not the tracker
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and err.splitlines()[-1] == "terminated (SIGTERM): no partial output left behind"
    assert len(workers) == 2
    wait_until(lambda: not set(workers) & live_processes().keys(), "the workers ended", timeout=30)
    assert not list(out.glob("scheme_*.txt"))  # ended at once: waiting for the workers finishes the schemes

    resumed = run_script("create_dataset.py", *args)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout
    assert sorted(p.name for p in out.iterdir()) == ["scheme_1.txt", "scheme_2.txt"]


def test_a_failed_scheme_does_not_stop_the_others(tmp_path, data_root, schemes_json, capsys):
    raw = tmp_path / "raw"
    lock_path = raw / CKPT_DIR / "scheme_2.lock"
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as if another run were training ModelId 2
        with pytest.raises(SystemExit) as exit_info:
            run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "1-3", "--epochs", 1])
    assert exit_info.value.code == 1
    assert (raw / "scheme_1.txt").exists() and (raw / "scheme_3.txt").exists()
    assert not (raw / "scheme_2.txt").exists()
    captured = capsys.readouterr()
    assert "2 trained" in captured.out and "1 failed" in captured.out
    assert "ModelId 2" in captured.err and "another run" in captured.err


def test_a_failed_scheme_leaves_no_lock_file_and_one_error_line(tmp_path, data_root, schemes_json, monkeypatch,
                                                                 capsys):
    original = loop.count_params_and_macs

    def fail_for_model_2(scheme):
        if scheme == SCHEMES[1]:  # as torch fails: a message with a C++ stack trace under it
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory\nframe #0: c10::Error::Error(...)")
        return original(scheme)

    monkeypatch.setattr(loop, "count_params_and_macs", fail_for_model_2)
    raw = tmp_path / "new" / "raw"
    with pytest.raises(SystemExit) as exit_info:
        run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "2", "--epochs", 1])
    assert exit_info.value.code == 1
    # no .ckpt/scheme_2.lock left behind, and so neither .ckpt/ nor the directories made for RAW_DIR
    assert list(tmp_path.iterdir()) == []
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "ModelId 2" in line or "frame #" in line] == [
        "failed: ModelId 2: RuntimeError: DefaultCPUAllocator: can't allocate memory"]


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("argv, message", [
    (["s.json"], "the following arguments are required: raw_dir"),
])
def test_option_errors_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cd.parse_args(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"error: {os.path.basename(sys.argv[0])}: {message}\n"


@pytest.mark.parametrize("option, value, message", [
    ("--workers", "abc", "--workers abc: not a whole number"), ("--workers", "0", "--workers 0: must be at least 1"),
    ("--epochs", "1_0", "--epochs 1_0: not a whole number"), ("--epochs", "+9", "--epochs +9: not a whole number")])
def test_numeric_options_are_refused_before_anything_is_read(tmp_path, option, value, message):
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        cd.main(cd.parse_args([str(tmp_path / "missing.json"), str(tmp_path / "raw"), option, value]))
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_an_input_is_refused(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    raw.mkdir()
    schemes = raw / "scheme_1.txt.partial"  # the file training ModelId 1 writes first
    schemes.write_text(schemes_json.read_text())
    with pytest.raises(InputError, match=re.escape(f"{schemes}: is an input of this run")):
        run([schemes, raw, "--data-root", data_root, "--schemes", "1", "--epochs", 1])
    (raw / "scheme_2.txt.partial").symlink_to(data_root / cifar10.CIFAR_DIR / "data_batch_1")
    with pytest.raises(InputError, match="data_batch_1 .a link or another name., an input of this run"):
        run([schemes_json, raw, "--data-root", data_root, "--schemes", "2", "--epochs", 1])
    assert schemes.read_text() == schemes_json.read_text()
    assert sorted(p.name for p in raw.iterdir()) == ["scheme_1.txt.partial", "scheme_2.txt.partial"]


def test_named_pipe_as_a_complete_log_is_refused_not_read(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    raw.mkdir()
    os.mkfifo(raw / "scheme_1.txt")  # reading it to check the log would block forever
    with pytest.raises(InputError, match="scheme_1.txt: not a regular file, expected a complete log"):
        run([schemes_json, raw, "--data-root", data_root, "--schemes", "1", "--epochs", 1])


def test_raw_dir_under_a_regular_file(tmp_path, data_root, schemes_json):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InputError, match="a_file/raw: cannot use as RAW_DIR"):
        run([schemes_json, tmp_path / "a_file" / "raw", "--data-root", data_root, "--schemes", "1"])
    assert [p.name for p in tmp_path.iterdir()] == ["a_file"]


def test_a_full_disk_making_raw_dir_is_one_line_with_status_1(tmp_path, data_root, schemes_json, monkeypatch,
                                                              capsys):
    real_mkdir = os.mkdir

    def mkdir(path, *args):  # RAW_DIR's parent fits on the disk, RAW_DIR does not
        if os.path.basename(path) == "raw":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_mkdir(path, *args)

    monkeypatch.setattr(os, "mkdir", mkdir)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(cd.main, cd.parse_args([str(a) for a in [schemes_json, tmp_path / "new" / "raw", "--data-root",
                                                          data_root, "--schemes", "1", "--epochs", 1]]))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'new' / 'raw'}: cannot write ({os.strerror(errno.ENOSPC)})\n"
    assert not (tmp_path / "new").exists()  # the parent made for it is taken away


def test_a_file_as_the_checkpoint_directory_is_one_line_before_any_training(tmp_path, data_root, schemes_json,
                                                                            capsys):
    # every scheme once trained up to its first checkpoint and failed, then exit 1
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / CKPT_DIR).write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(cd.main, cd.parse_args([str(a) for a in [schemes_json, raw, "--data-root", data_root,
                                                          "--schemes", "1-2", "--epochs", 1]]))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err == f"error: {raw / CKPT_DIR}: not a directory (create_dataset keeps " \
        "its checkpoints and locks there)\n", err
    assert [p.name for p in raw.iterdir()] == [CKPT_DIR] and (raw / CKPT_DIR).read_text() == "mine"


def test_bad_input_cli_is_one_line_exit_2(tmp_path, data_root):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    raw = tmp_path / "raw"
    result = run_script("create_dataset.py", bad, raw, "--data-root", data_root)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr
    assert not raw.exists()


@pytest.mark.parametrize("content, extra, message", [
    ('{"a": 1}', [], "expected a non-empty JSON list"),
    ('[[{"kernel_size": 2, "width": 8, "stride": 1, "residual": false}]]', [], "ModelId 1, layer 1"),
    (None, ["--schemes", "1-3,999"], "unknown ModelId"),
    (None, ["--schemes", "x"], "is not a ModelId"),
    (None, ["--shard", "3/2"], "I must be between 1 and N = 2"),  # naap.cli.parse_shard's message
    (None, ["--shard", "1of2"], "expected I/N"),
    (None, ["--device", "tpu"], "unknown device"),
    (None, ["--device", "cuda:99"], "CUDA is not available" if not torch.cuda.is_available() else "no cuda:99"),
    (None, ["--epochs", "0"], "--epochs"),
    (None, ["--cuda-graphs"], "--cuda-graphs"),
    pytest.param("[" * 100_000 + "]" * 100_000, [], "not valid JSON (nested too deep)", id="nested too deep"),
    pytest.param("[" + "9" * 5000 + "]", [], "not valid JSON (Exceeds the limit", id="5000-digit int"),
    pytest.param('[[{"kernel_size": 3, "width": 1000000000000, "stride": 1, "residual": false}]]', [],
                 "models.MAX_WIDTH", id="width too large to allocate"),
    pytest.param("[[" + ", ".join(['{"kernel_size": 3, "width": 8, "stride": 1, "residual": false}'] * 65) + "]]",
                 [], "65 layers, at most 64", id="too many layers"),
])
def test_bad_input_writes_nothing(tmp_path, data_root, schemes_json, content, extra, message):
    schemes = schemes_json
    if content is not None:
        schemes = tmp_path / "schemes.json"
        schemes.write_text(content)
    raw = tmp_path / "raw"
    with pytest.raises(InputError, match=re.escape(message)):
        run([schemes, raw, "--data-root", data_root, *extra])
    assert not raw.exists()


def test_missing_dataset_and_failed_download(tmp_path, schemes_json, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    empty, raw = tmp_path / "empty", tmp_path / "raw"
    with pytest.raises(InputError, match="download failed"):
        run([schemes_json, raw, "--data-root", empty, "--schemes", "1"])
    assert not raw.exists() and not empty.exists()


def test_corrupt_dataset_file(tmp_path, data_root, schemes_json):
    root = tmp_path / "data"
    write_cifar(root, **synthetic_cifar(20, 10))
    (root / cifar10.CIFAR_DIR / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(InputError, match="data_batch_3: not a CIFAR-10 batch"):
        run([schemes_json, tmp_path / "raw", "--data-root", root, "--schemes", "1"])
    assert not (tmp_path / "raw").exists()


def test_complete_log_of_another_run_is_refused(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "1", "--epochs", 1])
    with pytest.raises(InputError, match="has 1 epochs, this run trains 2"):
        run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "1", "--epochs", 2])
