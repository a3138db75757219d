"""create_dataset.py: the fast loop equals the paper's DataLoader loop, kill -9 resumes to the same
numbers, the pipeline runs end to end, bad input is one line and exit 2 with nothing written."""
import fcntl
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import urllib.error

import numpy as np
import pytest
import reference_training
import torch
from conftest import ROOT, live_processes, run_script

import create_dataset as cd  # noqa: E402
from models import count_params_and_macs  # noqa: E402
from naap.training import (
    cifar10,  # noqa: E402
    recipe,  # noqa: E402
)

N_TRAIN, N_TEST = 512, 256  # two full batches and a 256-image test set: small, still batch-shaped
TIMESTAMP = re.compile(r"\d{14} ")
SCHEMES = cd.load_schemes(ROOT / "generated_schemes.json")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    cifar10.write_cifar(root, **cifar10.synthetic_cifar(N_TRAIN, N_TEST))
    return root


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


# ---------------------------------------------------------------- one experiment, two speeds

def fast_run(scheme, data_root, epochs):
    """create_dataset.py's loop (the code under test) on the files in data_root."""
    data = cifar10.to_device_data(cifar10.read_cifar(data_root), torch.device("cpu"))
    model, optimizer, criterion = cd.init_training(scheme, "cpu")
    return {"epochs": list(cd.fast_epochs(model, optimizer, criterion, data, 1, epochs)), "model": model}


def same_weights(reference_model, fast_model):
    theirs, ours = reference_model.weights(), list(fast_model.state_dict().values())
    return len(theirs) == len(ours) and all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(theirs, ours))


@pytest.mark.parametrize("model_id", [1, 10, 432])  # smallest, residual, most MACs
def test_fast_loop_equals_dataloader_loop(data_root, model_id):
    epochs = 4  # lr 0.1, 0.01, 0.001, then the reset to 0.1
    plain = reference_training.paper_run(SCHEMES[model_id - 1], data_root, epochs)
    fast = fast_run(SCHEMES[model_id - 1], data_root, epochs)
    assert [e[1] for e in fast["epochs"]] == [0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1]
    assert fast["epochs"] == plain["epochs"]
    assert same_weights(plain["model"], fast["model"])


def test_reference_loop_shares_no_code_with_the_loop_under_test():
    # the reference is the paper's recipe written out: it may use the libraries, not what it checks
    import ast
    tree = ast.parse((ROOT / "tests" / "reference_training.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"random", "time", "numpy", "torch", "torchvision"}, imported


def _wrong_init_net(scheme, original=cd.Net):
    model = original(scheme)
    torch.nn.init.normal_(model.fc.weight, 0, 0.02)  # the recipe says normal(0, 0.01)
    return model


RECIPE_BUGS = {  # create_dataset.py helper -> a plausible bug in it
    "set_seed": lambda original: lambda seed=recipe.SEED: original(seed + 1),
    "lr_for_epoch": lambda original: lambda epoch: 0.1 * 0.5 ** ((epoch - 1) % 3),
    "loss_stats": lambda original: lambda losses: original(losses[1:]),  # the first batch left out
    "Net": lambda original: _wrong_init_net,
}


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """A data root of one full and one short training batch and a small test set."""
    root = tmp_path_factory.mktemp("tiny")
    cifar10.write_cifar(root, **cifar10.synthetic_cifar(300, 64))
    return root


@pytest.mark.parametrize("helper", RECIPE_BUGS)
def test_reference_loop_catches_a_bug_in_the_recipe(tiny_root, monkeypatch, helper):
    # both loops run with the bug in place: when the reference called these helpers itself, the bug
    # appeared on both sides and the comparison passed
    monkeypatch.setattr(cd, helper, RECIPE_BUGS[helper](getattr(cd, helper)))
    plain = reference_training.paper_run(SCHEMES[0], tiny_root, 2)
    fast = fast_run(SCHEMES[0], tiny_root, 2)
    assert fast["epochs"] != plain["epochs"] or not same_weights(plain["model"], fast["model"])


def test_normalization_is_totensor_then_normalize(data_root):
    from torchvision import transforms
    cifar = cifar10.read_cifar(data_root)
    data = cifar10.to_device_data(cifar, torch.device("cpu"))
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(cifar10.NORM_MEAN, cifar10.NORM_STD)])
    dataset = reference_training.UncheckedCIFAR10(data_root, train=False, transform=transform)
    for i in (0, 7, N_TEST - 1):
        image, label = dataset[i]
        assert torch.equal(image, data["x_test"][i]) and label == int(data["y_test"][i])


def test_reader_accepts_bytes_keys(tmp_path, data_root):
    cifar = cifar10.read_cifar(data_root)
    folder = tmp_path / cifar10.CIFAR_DIR
    folder.mkdir()
    for name in cifar10.TRAIN_FILES + cifar10.TEST_FILES:
        with open(data_root / cifar10.CIFAR_DIR / name, "rb") as f:
            entry = pickle.load(f)
        (folder / name).write_bytes(pickle.dumps({k.encode(): v for k, v in entry.items()}))
    again = cifar10.read_cifar(tmp_path)
    assert all(np.array_equal(a, b) for s in ("train", "test") for a, b in zip(cifar[s], again[s]))


def test_lr_schedule_and_specs():
    assert [f"{cd.lr_for_epoch(e):g}" for e in range(1, 8)] == ["0.1", "0.01", "0.001", "0.1", "0.01", "0.001", "0.1"]
    assert cd.parse_id_spec("1-3, 7,2", 10) == [1, 2, 3, 7]
    assert cd.parse_id_spec(None, 3) == [1, 2, 3]
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
    cifar10.write_cifar(data, **cifar10.synthetic_cifar(2500, 256))  # epochs long enough to be killed inside one
    schemes = tmp_path / "schemes.json"
    schemes.write_text(json.dumps(SCHEMES[:1]))
    args = [schemes, None, "--data-root", data, "--workers", 1, "--epochs", 4]
    killed, whole = tmp_path / "killed", tmp_path / "whole"

    command = [sys.executable, str(ROOT / "create_dataset.py"), *map(str, [args[0], killed, *args[2:]])]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ckpt, partial = killed / cd.CKPT_DIR / "scheme_1.pt", killed / "scheme_1.txt.partial"

    def logged_epochs():
        text = partial.read_text() if partial.exists() else ""
        return text.count(" Test accuracy: ") if text.endswith("\n") else None  # None: mid-write

    # The mid-epoch marker: epoch 1's lines in the partial log. They are written just after epoch 1's
    # checkpoint, and epoch 2's lines only when epoch 2 ends, so from here the process is in epoch 2.
    deadline = time.monotonic() + 120
    while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    training_started = time.monotonic()  # the partial log is written just before epoch 1 starts
    while logged_epochs() != 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    in_epoch_2 = time.monotonic()
    assert logged_epochs() == 1 and proc.poll() is None, "never saw epoch 1 end with the process running"
    time.sleep(min(0.5, max(0.05, (in_epoch_2 - training_started) / 4)))  # a way into epoch 2, not at its end
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "finished before it could be killed"
    # the kill came after epoch 1's checkpoint and before epoch 2's: inside epoch 2
    assert logged_epochs() == 1 and torch.load(ckpt, weights_only=False)["epoch"] == 1, "killed after epoch 2 ended"
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
    cifar10.write_cifar(data, **cifar10.synthetic_cifar(2500, 256))
    schemes = tmp_path / "schemes.json"
    schemes.write_text(json.dumps(SCHEMES[:2]))
    out = tmp_path / "raw"
    args = [schemes, out, "--data-root", data, "--workers", 2, "--epochs", 6]
    proc = subprocess.Popen([sys.executable, str(ROOT / "create_dataset.py"), *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((out / cd.CKPT_DIR).glob("scheme_*.pt")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = [p for p, (parent, cmdline) in live_processes().items()
               if parent == proc.pid and b"resource_tracker" not in cmdline]  # the pool's, not the tracker
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and err.splitlines()[-1] == "terminated (SIGTERM): no partial output left behind"
    assert len(workers) == 2
    deadline = time.monotonic() + 30
    while set(workers) & live_processes().keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(workers) & live_processes().keys()
    assert not list(out.glob("scheme_*.txt"))  # ended at once: waiting for the workers finishes the schemes

    resumed = run_script("create_dataset.py", *args)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout
    assert sorted(p.name for p in out.iterdir()) == ["scheme_1.txt", "scheme_2.txt"]


def test_a_failed_scheme_does_not_stop_the_others(tmp_path, data_root, schemes_json, capsys):
    raw = tmp_path / "raw"
    lock_path = raw / cd.CKPT_DIR / "scheme_2.lock"
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
    original = cd.count_params_and_macs

    def fail_for_model_2(scheme):
        if scheme == SCHEMES[1]:  # as torch fails: a message with a C++ stack trace under it
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory\nframe #0: c10::Error::Error(...)")
        return original(scheme)

    monkeypatch.setattr(cd, "count_params_and_macs", fail_for_model_2)
    raw = tmp_path / "new" / "raw"
    with pytest.raises(SystemExit) as exit_info:
        run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "2", "--epochs", 1])
    assert exit_info.value.code == 1
    # no .ckpt/scheme_2.lock left behind, and so neither .ckpt/ nor the directories made for RAW_DIR
    assert list(tmp_path.iterdir()) == []
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "ModelId 2" in line or "frame #" in line] == [
        "failed: ModelId 2: RuntimeError: DefaultCPUAllocator: can't allocate memory"]


def test_scheme_lock_is_removed_and_not_shared_with_a_stale_file(tmp_path):
    path = tmp_path / ".ckpt" / "scheme_1.lock"
    with cd.scheme_lock(path):
        assert path.exists()
        with pytest.raises(RuntimeError, match="another run"):
            with cd.scheme_lock(path):
                pass
    assert not path.exists()
    with pytest.raises(ZeroDivisionError):
        with cd.scheme_lock(path):
            1 / 0
    assert not path.exists()  # removed however the block ends


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("argv, message", [
    (["s.json", "raw", "--workers", "abc"], "argument --workers: invalid int value: 'abc'"),
    (["s.json"], "the following arguments are required: raw_dir"),
])
def test_option_errors_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cd.parse_args(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"error: {os.path.basename(sys.argv[0])}: {message}\n"


def test_an_output_that_is_an_input_is_refused(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    raw.mkdir()
    schemes = raw / "scheme_1.txt.partial"  # the file training ModelId 1 writes first
    schemes.write_text(schemes_json.read_text())
    with pytest.raises(cd.InputError, match=re.escape(f"{schemes}: is an input of this run")):
        run([schemes, raw, "--data-root", data_root, "--schemes", "1", "--epochs", 1])
    (raw / "scheme_2.txt.partial").symlink_to(data_root / cifar10.CIFAR_DIR / "data_batch_1")
    with pytest.raises(cd.InputError, match="data_batch_1 .a link or another name., an input of this run"):
        run([schemes_json, raw, "--data-root", data_root, "--schemes", "2", "--epochs", 1])
    assert schemes.read_text() == schemes_json.read_text()
    assert sorted(p.name for p in raw.iterdir()) == ["scheme_1.txt.partial", "scheme_2.txt.partial"]


def test_named_pipe_as_a_complete_log_is_refused_not_read(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    raw.mkdir()
    os.mkfifo(raw / "scheme_1.txt")  # reading it to check the log would block forever
    with pytest.raises(cd.InputError, match="scheme_1.txt: not a regular file, expected a complete log"):
        run([schemes_json, raw, "--data-root", data_root, "--schemes", "1", "--epochs", 1])


def test_raw_dir_under_a_regular_file(tmp_path, data_root, schemes_json):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(cd.InputError, match="a_file/raw: cannot use as RAW_DIR"):
        run([schemes_json, tmp_path / "a_file" / "raw", "--data-root", data_root, "--schemes", "1"])
    assert [p.name for p in tmp_path.iterdir()] == ["a_file"]


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
    (None, ["--shard", "3/2"], "1 <= I <= N"),
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
    with pytest.raises(cd.InputError, match=re.escape(message)):
        run([schemes, raw, "--data-root", data_root, *extra])
    assert not raw.exists()


def test_missing_dataset_and_failed_download(tmp_path, schemes_json, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    empty, raw = tmp_path / "empty", tmp_path / "raw"
    with pytest.raises(cd.InputError, match="download failed"):
        run([schemes_json, raw, "--data-root", empty, "--schemes", "1"])
    assert not raw.exists() and not empty.exists()


def test_corrupt_dataset_file(tmp_path, data_root, schemes_json):
    root = tmp_path / "data"
    cifar10.write_cifar(root, **cifar10.synthetic_cifar(20, 10))
    (root / cifar10.CIFAR_DIR / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(cd.InputError, match="data_batch_3: not a CIFAR-10 batch"):
        run([schemes_json, tmp_path / "raw", "--data-root", root, "--schemes", "1"])
    assert not (tmp_path / "raw").exists()


def test_complete_log_of_another_run_is_refused(tmp_path, data_root, schemes_json):
    raw = tmp_path / "raw"
    run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "1", "--epochs", 1])
    with pytest.raises(cd.InputError, match="has 1 epochs, this run trains 2"):
        run([schemes_json, raw, "--data-root", data_root, "--workers", 1, "--schemes", "1", "--epochs", 2])
