"""Train every NAAP-440 scheme on CIFAR-10 with the paper's recipe and write one log per scheme.

The recipe (recipe.py's constants) is the paper's: 90 epochs, batch 256, SGD with momentum and
weight decay, learning rate 0.1 decayed x0.1 every epoch and reset every 3 epochs, no augmentation,
seed 20220819. Only the data path differs from the paper's DataLoader over per-sample PIL transforms:
CIFAR-10 is read and normalized once (cifar10.py), held on the training device, and batches are
drawn by index in exactly the order that DataLoader(shuffle=True) would give with the same seed (its
per-epoch draws from the global torch generator are made by iterating a DataLoader over indices), so
on CPU every logged number and every weight equals the paper-style loop's
(tests/test_create_dataset.py checks it against reference_training.paper_run, the paper's loop
written out without this module's code).

Crash-safe: a log is RAW_DIR/scheme_<ModelId>.txt only once complete; until then it is
scheme_<ModelId>.txt.partial, and RAW_DIR/.ckpt/scheme_<ModelId>.pt holds the model, the optimizer,
every RNG state and the log lines at the last finished epoch (written atomically). Rerunning the same
command after a crash or kill -9 skips complete logs and resumes the rest from their checkpoints,
giving the same numbers as an uninterrupted run.

A lock file RAW_DIR/.ckpt/scheme_<ModelId>.lock, held while a scheme trains, keeps two runs from
training the same scheme; it is removed when its scheme ends, trained or failed.

Input:  SCHEMES.json (a JSON list of schemes; scheme i is ModelId i+1), CIFAR-10 in
        DATA_ROOT/cifar-10-batches-py (downloaded with torchvision's checksum check when absent).
Output: RAW_DIR/scheme_<ModelId>.txt per trained scheme; a summary line; exit 1 if any scheme failed
        (one line per failed scheme on stderr). No output may be one of the inputs.
Example: python create_dataset.py generated_schemes.json raw_data --device cuda --workers 8 --schemes 1-20,35
"""
import concurrent.futures
import contextlib
import fcntl
import io
import json
import multiprocessing
import os
import random
import stat
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from models import Net, count_params_and_macs, validate_scheme
from naap.cli import InputError, OneLineArgumentParser, one_line, parse_shard, run_cli
from naap.files import (
    atomic_write_bytes,
    atomic_write_text,
    check_outputs_not_inputs,
    make_parents,
    read_json,
    remove_dirs,
)
from naap.training.cifar10 import (
    CIFAR_DIR,
    META_FILE,
    TEST_FILES,
    TRAIN_FILES,
    ensure_cifar,
    read_cifar,
    to_device_data,
)
from naap.training.recipe import (  # the paper's recipe
    BATCH_SIZE,
    EPOCHS,
    LR,
    LR_CYCLE,
    LR_DECAY,
    MOMENTUM,
    SEED,
    WEIGHT_DECAY,
)
from naap.workers import process_pool

# Running it.
DEFAULT_WORKERS = 4  # the paper ran 4 processes on one GPU
DEFAULT_DATA_ROOT = "data"
CKPT_DIR = ".ckpt"
PARTIAL_SUFFIX = ".partial"
GRAPH_WARMUP_STEPS = 3  # eager steps before CUDA graph capture (optimizer state, cuBLAS handles)


# ---------------------------------------------------------------- arguments and input checks

def load_schemes(path):
    """The schemes list from a JSON file, each validated; InputError naming the file otherwise."""
    schemes = read_json(path)
    if not isinstance(schemes, list) or not schemes:
        raise InputError(f"{path}: expected a non-empty JSON list of schemes, got {type(schemes).__name__}")
    for model_id, scheme in enumerate(schemes, 1):
        try:
            validate_scheme(scheme, f"{path}: ModelId {model_id}")
        except ValueError as e:
            raise InputError(str(e)) from None
    return schemes


def parse_id_spec(spec, count):
    """'1-20,35' -> sorted unique ModelIds, each in 1..count; None -> all of them."""
    if spec is None:
        return list(range(1, count + 1))
    ids = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            lo, _, hi = part.partition("-")
            lo, hi = int(lo), int(hi or lo)
        except ValueError:
            raise InputError(f"--schemes {spec!r}: {part!r} is not a ModelId or a range like 1-20") from None
        if lo > hi:
            raise InputError(f"--schemes {spec!r}: empty range {part!r}")
        if lo < 1 or hi > count:
            raise InputError(f"--schemes {spec!r}: unknown ModelId in {part!r} (the schemes file has 1-{count})")
        ids.update(range(lo, hi + 1))
    return sorted(ids)


def shard_ids(ids, shard):
    """Round-robin, so every shard gets small and large schemes alike (they cluster by ModelId)."""
    i, n = shard
    return ids[i - 1::n]


def parse_devices(spec):
    """'cpu', 'cuda' or 'cuda:0,cuda:1' -> device strings as logged ('cuda' means cuda:0)."""
    devices = []
    for item in spec.split(","):
        try:
            device = torch.device(item.strip())
        except RuntimeError:
            raise InputError(f"--device {spec!r}: unknown device {item.strip()!r}") from None
        if device.type == "cpu":
            devices.append("cpu")
        elif device.type == "cuda":
            if not torch.cuda.is_available():
                raise InputError(f"--device {spec!r}: CUDA is not available on this machine")
            index = device.index or 0
            if index >= torch.cuda.device_count():
                raise InputError(f"--device {spec!r}: no {device} here ({torch.cuda.device_count()} CUDA device(s))")
            devices.append(f"cuda:{index}")
        else:
            raise InputError(f"--device {spec!r}: {device.type} is not supported (use cpu or cuda)")
    return devices


# ---------------------------------------------------------------- the recipe

def set_seed(seed=SEED):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # all devices


def init_training(scheme, device):
    """Seed, build the model, seed again (as the paper did); return model, optimizer, criterion."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    set_seed()
    model = Net(scheme).to(device)
    set_seed()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return model, optimizer, nn.CrossEntropyLoss()


def lr_for_epoch(epoch):
    """Epochs count from 1: 0.1, 0.01, 0.001, 0.1, ... (x0.1 per epoch as floats multiply)."""
    lr = LR
    for _ in range((epoch - 1) % LR_CYCLE):
        lr *= LR_DECAY
    return lr


def set_epoch_lr(optimizer, epoch):
    lr = lr_for_epoch(epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def loss_stats(losses):
    """Mean and median of an epoch's batch losses (Python floats, as loss.item() gives them)."""
    return float(np.mean(losses)), float(np.median(losses))


def make_train_step(model, optimizer, criterion, x_all, y_all, cuda_graphs=False):
    """step(idx) trains on the batch x_all[idx], y_all[idx] and returns its loss, on the device.

    With cuda_graphs the full-size step is captured once per learning rate (the lr is baked into
    the captured optimizer kernels) after GRAPH_WARMUP_STEPS eager steps and then replayed: the same
    kernels on the same tensors, without per-kernel launch cost. A short last batch runs eagerly.
    """
    def eager(idx):
        optimizer.zero_grad()
        loss = criterion(model(x_all[idx]), y_all[idx])
        loss.backward()
        optimizer.step()
        return loss.detach()

    if not cuda_graphs:
        return eager
    static_idx = torch.zeros(BATCH_SIZE, dtype=torch.int64, device=x_all.device)
    side = torch.cuda.Stream()
    state = {"eager_steps": 0, "graphs": {}}  # graphs: lr -> (CUDAGraph, static loss)

    def step(idx):
        if len(idx) != BATCH_SIZE:
            return eager(idx)
        if state["eager_steps"] < GRAPH_WARMUP_STEPS:  # warm up on a side stream, as torch's docs do
            state["eager_steps"] += 1
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                loss = eager(idx)
            torch.cuda.current_stream().wait_stream(side)
            loss.record_stream(torch.cuda.current_stream())
            return loss
        lr = optimizer.param_groups[0]["lr"]
        if lr not in state["graphs"]:
            graph = torch.cuda.CUDAGraph()
            optimizer.zero_grad(set_to_none=True)  # backward then allocates grads inside the graph
            with torch.cuda.graph(graph):  # records only: the batch still has to be replayed below
                static_loss = criterion(model(x_all[static_idx]), y_all[static_idx])
                static_loss.backward()
                optimizer.step()
            state["graphs"][lr] = (graph, static_loss)
        graph, static_loss = state["graphs"][lr]
        static_idx.copy_(idx)
        graph.replay()
        return static_loss.clone()

    return step


def fast_epochs(model, optimizer, criterion, data, first_epoch, last_epoch, cuda_graphs=False):
    """Train epochs first..last; after each yield (epoch, lr, loss mean, loss median, test accuracy).

    The RNG draws are the paper's: each epoch iterates a shuffled DataLoader over the training
    indices (a base-seed draw, then RandomSampler's seed draw) and an unshuffled one over the test
    indices (one more base-seed draw). One host sync per epoch, when the numbers are read.
    """
    device = data["x_train"].device
    train_order = DataLoader(range(len(data["y_train"])), batch_size=BATCH_SIZE, shuffle=True)
    test_order = DataLoader(range(len(data["y_test"])), batch_size=BATCH_SIZE, shuffle=False)
    step = make_train_step(model, optimizer, criterion, data["x_train"], data["y_train"], cuda_graphs)
    x_test, y_test = data["x_test"], data["y_test"]
    for epoch in range(first_epoch, last_epoch + 1):
        lr = set_epoch_lr(optimizer, epoch)
        order = torch.cat(list(train_order)).to(device)
        model.train()
        losses = [step(order[i:i + BATCH_SIZE]) for i in range(0, len(order), BATCH_SIZE)]
        # Unshuffled, so the batches are plain slices; iterating it still draws from the generator.
        for _ in test_order:
            pass
        model.eval()
        correct = torch.zeros((), dtype=torch.int64, device=device)
        with torch.no_grad():
            for i in range(0, len(y_test), BATCH_SIZE):
                _, predicted = torch.max(model(x_test[i:i + BATCH_SIZE]), 1)
                correct += (predicted == y_test[i:i + BATCH_SIZE]).sum()
        # float64 holds every float32 loss and the count exactly
        numbers = torch.cat([torch.stack(losses).double(), correct.double().view(1)]).tolist()
        mean, median = loss_stats(numbers[:-1])
        yield epoch, lr, mean, median, int(numbers[-1]) / len(y_test)


# ---------------------------------------------------------------- logs and checkpoints

def stamp(message):
    return f"{time.strftime('%Y%m%d%H%M%S')} {message}"


def epoch_lines(epoch, lr, mean, median, accuracy):
    return [f"Epoch {epoch}, LR: {lr:g}", f"Loss mean, median: {round(mean, 5)}, {round(median, 5)}",
            f"Test accuracy: {accuracy}"]


def log_paths(raw_dir, model_id):
    raw_dir = Path(raw_dir)
    final = raw_dir / f"scheme_{model_id}.txt"
    return {"final": final, "partial": final.with_name(final.name + PARTIAL_SUFFIX),
            "ckpt": raw_dir / CKPT_DIR / f"scheme_{model_id}.pt",
            "lock": raw_dir / CKPT_DIR / f"scheme_{model_id}.lock"}


def check_complete_log(path, scheme, epochs):
    """A complete log must be of this scheme and this many epochs, or the run would mix experiments."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a named pipe would block the read forever
            raise InputError(f"{path}: not a regular file, expected a complete log")
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the complete log ({e})") from None
    logged = lines[0].partition(" ")[2] if lines else ""
    if logged != f"Network scheme: {json.dumps(scheme)}":
        raise InputError(f"{path}: complete log of another scheme than ModelId's in the schemes file")
    done = sum(line.split(" ")[1:2] == ["Epoch"] for line in lines)
    if done != epochs:
        raise InputError(f"{path}: complete log has {done} epochs, this run trains {epochs} "
                         f"(use another RAW_DIR)")


def save_checkpoint(path, model_id, scheme, device, epoch, model, optimizer, lines):
    state = {"model_id": model_id, "scheme": scheme, "device_type": device.type, "epoch": epoch,
             "model": model.state_dict(), "optimizer": optimizer.state_dict(), "lines": lines,
             "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                     "torch": torch.get_rng_state(),
                     "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path, scheme, device, epochs):
    """The checkpoint if it can continue this run, else None (it is then overwritten)."""
    if not path.exists():
        return None
    try:
        # Our own file, holding RNG states that weights_only refuses.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        tqdm.write(f"warning: {path}: unreadable checkpoint ({type(e).__name__}), starting over")
        return None
    if state.get("scheme") != scheme or state.get("device_type") != device.type or state.get("epoch", 0) > epochs:
        tqdm.write(f"warning: {path}: checkpoint of another scheme, device type or longer run, starting over")
        return None
    return state


def restore(state, model, optimizer, device):
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rng = state["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] is not None:
        torch.cuda.set_rng_state(rng["cuda"], device)


@contextlib.contextmanager
def scheme_lock(path):
    """Hold an exclusive flock on PATH (made if absent) for the block, then remove the file.

    RuntimeError if another run holds it. The file is removed while still held, however the block
    ends (done, failed, Ctrl-C); a run that opened it just before is sent round again (the inode
    check), so two runs never hold locks on different files of the same name.
    """
    for _ in range(100):
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path, "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise RuntimeError(f"{path}: another run is training this scheme") from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(lock.fileno()), current):
            break
        lock.close()  # its holder removed it after we opened it: lock the file now at PATH
    else:
        raise RuntimeError(f"{path}: lock file keeps being replaced")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.close()


def train_scheme(model_id, scheme, data, raw_dir, epochs, cuda_graphs=False, bar_position=1, parent_pid=None):
    """Train one scheme into RAW_DIR/scheme_<model_id>.txt, resuming its checkpoint if any.

    Returns {'model_id', 'status': 'trained'|'resumed'|'skipped', 'epoch_seconds': [...]}.
    """
    paths = log_paths(raw_dir, model_id)
    device = data["x_train"].device
    with scheme_lock(paths["lock"]):
        if paths["final"].exists():
            return {"model_id": model_id, "status": "skipped", "epoch_seconds": []}
        for path in (paths["final"], paths["partial"], paths["ckpt"]):  # temp files of a killed write
            for stray in path.parent.glob(f".{path.name}.*.tmp"):
                stray.unlink(missing_ok=True)
        ckpt = load_checkpoint(paths["ckpt"], scheme, device, epochs)
        if ckpt:
            lines, first = ckpt["lines"], ckpt["epoch"] + 1
        else:
            params, macs = count_params_and_macs(scheme)  # before seeding: it builds a model too
            lines = [stamp(m) for m in (f"Network scheme: {json.dumps(scheme)}",
                                        f"Network has been init on device {device}",
                                        f"Network #params: {params}, #MACs: {macs}",
                                        "Training set is ready", "Ready to start training")]
            first = 1
        model, optimizer, criterion = init_training(scheme, device)
        if ckpt:
            restore(ckpt, model, optimizer, device)
        del ckpt
        # The partial log only shows progress; the checkpoint's lines are the truth on resume.
        atomic_write_text(paths["partial"], "".join(f"{line}\n" for line in lines))
        seconds = []
        bar = tqdm(total=epochs, initial=first - 1, desc=f"scheme {model_id}", position=bar_position,
                   leave=False, unit="epoch")
        with open(paths["partial"], "a") as partial:
            started = time.perf_counter()
            for epoch, lr, mean, median, accuracy in fast_epochs(
                    model, optimizer, criterion, data, first, epochs, cuda_graphs):
                seconds.append(time.perf_counter() - started)
                new = [stamp(line) for line in epoch_lines(epoch, lr, mean, median, accuracy)]
                lines = lines + new
                save_checkpoint(paths["ckpt"], model_id, scheme, device, epoch, model, optimizer, lines)
                partial.write("".join(f"{line}\n" for line in new))
                partial.flush()
                bar.update()
                if parent_pid is not None and os.getppid() != parent_pid:
                    os._exit(1)  # orphaned by a killed run: stop before a rerun trains this scheme too
                started = time.perf_counter()
        bar.close()
        atomic_write_text(paths["final"], "".join(f"{line}\n" for line in lines))
        for leftover in (paths["partial"], paths["ckpt"]):
            leftover.unlink(missing_ok=True)
    return {"model_id": model_id, "status": "resumed" if first > 1 else "trained", "epoch_seconds": seconds}


# ---------------------------------------------------------------- workers

_WORKER = {}  # per process: device, data, slot


def start_worker(slot, devices, workers, data_root, cifar=None):
    device = torch.device(devices[slot % len(devices)])
    # Share the cores between the workers instead of each one taking them all.
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // workers))  # the cores we may use (Slurm)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    data = to_device_data(cifar if cifar is not None else read_cifar(data_root), device)
    return {"slot": slot, "data": data}


def _pool_init(slots, devices, workers, data_root):
    # tqdm's default lock includes a multiprocessing RLock, a named semaphore that a worker ended
    # by Ctrl-C or SIGTERM cannot unlink (resource_tracker then warns); a spawned worker shares
    # no lock with the others anyway, so a thread lock does the same job
    tqdm.set_lock(threading.RLock())
    _WORKER.update(start_worker(slots.get(), devices, workers, data_root), parent_pid=os.getppid())


def _run_job(job, worker):
    try:
        return train_scheme(job["model_id"], job["scheme"], worker["data"], job["raw_dir"], job["epochs"],
                            job["cuda_graphs"], worker["slot"] + 1, worker.get("parent_pid"))
    except Exception as e:  # one failed scheme must not stop the others
        return {"model_id": job["model_id"], "status": "failed", "error": error_line(e)}


def error_line(e):
    """An exception as one short line: torch's messages can span pages (C++ stack traces)."""
    first = next((line for line in str(e).splitlines() if line.strip()), "")
    first = first if len(first) <= 300 else first[:300] + "..."
    return one_line(f"{type(e).__name__}: {first}" if first else type(e).__name__)


def _pool_job(job):
    return _run_job(job, _WORKER)


def run_jobs(jobs, data_root, devices, workers, cifar=None):
    """Train the jobs (dicts of model_id, scheme, raw_dir, epochs, cuda_graphs); return their results.

    One worker runs in this process; more are spawned processes, each loading the data once and
    taking schemes one at a time.
    """
    if not jobs:
        return []  # all logs complete or an empty shard: no reason to load CIFAR-10
    workers = max(1, min(workers, len(jobs)))
    results = []
    bar = tqdm(total=len(jobs), desc="schemes", position=0, unit="scheme")
    if workers == 1:
        worker = start_worker(0, devices, 1, data_root, cifar)
        for job in jobs:
            results.append(_run_job(job, worker))
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")  # CUDA cannot be forked
        slots = context.Queue()
        for slot in range(workers):
            slots.put(slot)
        # Ctrl-C or SIGTERM ends the workers at once: checkpoints are on disk, do not finish the schemes
        with process_pool(workers, "spawn", _pool_init, (slots, devices, workers, data_root)) as pool:
            futures = {pool.submit(_pool_job, job): job for job in jobs}
            for future in concurrent.futures.as_completed(futures):
                try:
                    results.append(future.result())
                except Exception as e:  # a worker died (killed, out of memory): the pool is gone
                    results.append({"model_id": futures[future]["model_id"], "status": "failed",
                                    "error": f"worker process failed: {error_line(e)}"})
                bar.update()
    bar.close()
    return sorted(results, key=lambda r: r["model_id"])


# ---------------------------------------------------------------- command line

def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("schemes", help="JSON list of schemes, e.g. generated_schemes.json (scheme i is ModelId i+1)")
    p.add_argument("raw_dir", help="directory for the logs scheme_<ModelId>.txt, e.g. raw_data")
    p.add_argument("--data-root", default=DEFAULT_DATA_ROOT,
                   help=f"holds {CIFAR_DIR}/, downloaded there when absent (default ./{DEFAULT_DATA_ROOT})")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"training processes (default {DEFAULT_WORKERS}, as the paper)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:0,cuda:1 (workers spread over them)")
    p.add_argument("--schemes", dest="ids", metavar="IDS", help="ModelIds to train, e.g. 1-20,35 (default all)")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs per scheme (default {EPOCHS})")
    p.add_argument("--shard", metavar="I/N", help="train only the I-th of N round-robin shards (Slurm arrays)")
    p.add_argument("--cuda-graphs", action="store_true",
                   help="replay each training step as a captured CUDA graph (cuda only; fewer launches)")
    return p.parse_args(argv)


def main(args):
    schemes = load_schemes(args.schemes)
    ids = shard_ids(parse_id_spec(args.ids, len(schemes)), parse_shard(args.shard))
    devices = parse_devices(args.device)
    if args.epochs < 1:
        raise InputError(f"--epochs {args.epochs}: must be at least 1")
    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be at least 1")
    if args.cuda_graphs and any(d == "cpu" for d in devices):
        raise InputError(f"--cuda-graphs: needs --device cuda, got {args.device!r}")
    raw_dir = Path(args.raw_dir)
    try:
        if not stat.S_ISDIR(os.stat(raw_dir).st_mode):
            raise InputError(f"{raw_dir}: not a directory")
    except FileNotFoundError:
        pass
    except OSError as e:  # a regular file in the path (ENOTDIR), a symlink loop, ...
        raise InputError(f"{raw_dir}: cannot use as RAW_DIR ({e.strerror or e})") from None
    cifar_files = [Path(args.data_root) / CIFAR_DIR / name for name in TRAIN_FILES + TEST_FILES + [META_FILE]]
    check_outputs_not_inputs([path for model_id in ids for path in log_paths(raw_dir, model_id).values()],
                             [args.schemes, *cifar_files])
    todo = []
    for model_id in ids:
        final = log_paths(raw_dir, model_id)["final"]
        if final.exists():
            check_complete_log(final, schemes[model_id - 1], args.epochs)
            # a kill between the final rename and the clean-up leaves these behind
            for leftover in ("partial", "ckpt"):
                log_paths(raw_dir, model_id)[leftover].unlink(missing_ok=True)
        else:
            todo.append(model_id)
    cifar = None
    if todo:
        ensure_cifar(args.data_root)
        cifar = read_cifar(args.data_root)  # checks the files before anything is written
    try:
        created = make_parents(raw_dir / CKPT_DIR)  # RAW_DIR and the directories above it that were missing
    except OSError as e:
        raise InputError(f"{raw_dir}: cannot create ({e.strerror or e})") from None
    jobs = [{"model_id": i, "scheme": schemes[i - 1], "raw_dir": str(raw_dir), "epochs": args.epochs,
             "cuda_graphs": args.cuda_graphs} for i in todo]
    started = time.perf_counter()
    try:
        results = run_jobs(jobs, args.data_root, devices, args.workers, cifar if args.workers == 1 else None)
    finally:
        with contextlib.suppress(OSError):
            (raw_dir / CKPT_DIR).rmdir()  # only once empty; workers never remove it (another may be locking in it)
        remove_dirs(created)  # those still empty: no scheme got as far as a checkpoint or a log
    failed = [r for r in results if r["status"] == "failed"]
    counts = {s: sum(r["status"] == s for r in results) for s in ("trained", "resumed", "skipped")}
    print(f"{len(ids)} scheme(s): {counts['trained']} trained, {counts['resumed']} resumed, "
          f"{counts['skipped'] + len(ids) - len(todo)} already complete, {len(failed)} failed "
          f"({time.perf_counter() - started:.0f} s); logs in {raw_dir}")
    for r in failed:
        print(f"failed: ModelId {r['model_id']}: {r['error']}", file=sys.stderr)
    if failed:
        sys.exit(1)
    return results


if __name__ == "__main__":
    run_cli(main, parse_args())
