"""Train every NAAP-440 scheme on CIFAR-10 with the paper's recipe and write one log per scheme.

The recipe (naap.training.recipe's constants) is the paper's: 90 epochs, batch 256, SGD with
momentum and weight decay, learning rate 0.1 decayed x0.1 every epoch and reset every 3 epochs, no
augmentation, seed 20220819. Only the data path differs from the paper's DataLoader over per-sample
PIL transforms: CIFAR-10 is read and normalized once (naap.training.cifar10), held on the training device, and
batches are drawn by index in exactly the order that DataLoader(shuffle=True) would give with the
same seed (its per-epoch draws from the global torch generator are made by iterating a DataLoader
over indices), so on CPU every logged number and every weight equals the paper-style loop's
(tests/test_training_loop.py checks naap.training.loop against reference_training.paper_run, the
paper's loop written out without the package's code). The log format is naap.data.log_format's.

Crash-safe: a log is RAW_DIR/scheme_<ModelId>.txt only once complete; until then it is
scheme_<ModelId>.txt.partial, and RAW_DIR/.ckpt/scheme_<ModelId>.pt holds the model, the optimizer,
every RNG state and the log lines at the last finished epoch (written atomically). Rerunning the same
command after a crash or kill -9 skips complete logs and resumes the rest from their checkpoints,
giving the same numbers as an uninterrupted run.

A lock file RAW_DIR/.ckpt/scheme_<ModelId>.lock, held while a scheme trains, keeps two runs from
training the same scheme; it is removed when its scheme ends, trained or failed. The library is
naap.training: loop (the recipe, one scheme's run), checkpoints (these files), jobs (the workers).

Input:  SCHEMES.json (a JSON list of schemes; scheme i is ModelId i+1), CIFAR-10 in
        DATA_ROOT/cifar-10-batches-py (downloaded with torchvision's checksum check when absent).
Output: RAW_DIR/scheme_<ModelId>.txt per trained scheme; a summary line; exit 1 if any scheme failed
        (one line per failed scheme on stderr). No output may be one of the inputs.
Example: python create_dataset.py generated_schemes.json raw_data --device cuda --workers 8 --schemes 1-20,35
"""
import contextlib
import os
import re
import stat
import sys
import time
from pathlib import Path

import torch

from naap.cli import DIGITS, InputError, OneLineArgumentParser, parse_shard, run_cli, whole_number
from naap.data.schemes import load_schemes
from naap.files import check_outputs_not_inputs, make_parents, output_error, remove_dirs
from naap.training.checkpoints import CKPT_DIR, check_complete_log, log_paths
from naap.training.cifar10 import CIFAR_DIR, META_FILE, TEST_FILES, TRAIN_FILES, ensure_cifar, read_cifar
from naap.training.jobs import run_jobs
from naap.training.recipe import EPOCHS

# Running it.
DEFAULT_WORKERS = 4  # the paper ran 4 processes on one GPU
DEFAULT_DATA_ROOT = "data"


# ---------------------------------------------------------------- arguments

def parse_id_spec(spec, count):
    """'1-20,35' -> sorted unique ModelIds, each in 1..count; None -> all of them."""
    if spec is None:
        return list(range(1, count + 1))
    ids = set()
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(rf"({DIGITS})(?:\s*-\s*({DIGITS}))?", part)  # not int(): it takes "1_0" and "+3"
        if not m:  # "1-" too: not read as 1
            raise InputError(f"--schemes {spec!r}: {part!r} is not a ModelId or a range like 1-20")
        lo, hi = int(m[1]), int(m[2] or m[1])
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


# ---------------------------------------------------------------- command line

def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("schemes", help="JSON list of schemes, e.g. generated_schemes.json (scheme i is ModelId i+1)")
    p.add_argument("raw_dir", help="directory for the logs scheme_<ModelId>.txt, e.g. raw_data")
    p.add_argument("--data-root", default=DEFAULT_DATA_ROOT,
                   help=f"holds {CIFAR_DIR}/, downloaded there when absent (default ./{DEFAULT_DATA_ROOT})")
    p.add_argument("--workers", default=str(DEFAULT_WORKERS),
                   help=f"training processes (default {DEFAULT_WORKERS}, as the paper)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:0,cuda:1 (workers spread over them)")
    p.add_argument("--schemes", dest="ids", metavar="IDS", help="ModelIds to train, e.g. 1-20,35 (default all)")
    p.add_argument("--epochs", default=str(EPOCHS), help=f"epochs per scheme (default {EPOCHS})")
    p.add_argument("--shard", metavar="I/N", help="train only the I-th of N round-robin shards (Slurm arrays)")
    p.add_argument("--cuda-graphs", action="store_true",
                   help="replay each training step as a captured CUDA graph (cuda only; fewer launches)")
    return p.parse_args(argv)


def check_ckpt_dir(ckpt_dir):
    """InputError unless RAW_DIR/.ckpt is a directory or absent: every scheme keeps its checkpoint
    and lock there, so a file in its place would fail each scheme's training in turn."""
    try:
        if not stat.S_ISDIR(os.stat(ckpt_dir).st_mode):
            raise InputError(f"{ckpt_dir}: not a directory (create_dataset keeps its checkpoints and locks there)")
    except (FileNotFoundError, NotADirectoryError):  # made when the run starts; RAW_DIR's own checks come first
        pass
    except OSError as e:  # a symlink loop, no permission, ...
        raise InputError(f"{ckpt_dir}: cannot use for checkpoints ({e.strerror or e})") from None


def main(args):
    epochs, num_workers = whole_number("--epochs", args.epochs, 1), whole_number("--workers", args.workers, 1)
    schemes = load_schemes(args.schemes)
    ids = shard_ids(parse_id_spec(args.ids, len(schemes)), parse_shard(args.shard))
    devices = parse_devices(args.device)
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
    check_ckpt_dir(raw_dir / CKPT_DIR)
    cifar_files = [Path(args.data_root) / CIFAR_DIR / name for name in TRAIN_FILES + TEST_FILES + [META_FILE]]
    check_outputs_not_inputs([path for model_id in ids for path in log_paths(raw_dir, model_id).values()],
                             [args.schemes, *cifar_files])
    todo = []
    for model_id in ids:
        paths = log_paths(raw_dir, model_id)
        if paths["final"].exists():
            check_complete_log(paths["final"], schemes[model_id - 1], epochs)
            # a kill between the final rename and the clean-up leaves these behind
            for leftover in ("partial", "ckpt"):
                paths[leftover].unlink(missing_ok=True)
        else:
            todo.append(model_id)
    cifar = None
    if todo:
        ensure_cifar(args.data_root)
        cifar = read_cifar(args.data_root)  # checks the files before anything is written
    try:
        created = make_parents(raw_dir / CKPT_DIR)  # RAW_DIR and the directories above it that were missing
    except OSError as e:
        raise output_error(raw_dir, e) from None
    jobs = [{"model_id": i, "scheme": schemes[i - 1], "raw_dir": str(raw_dir), "epochs": epochs,
             "cuda_graphs": args.cuda_graphs} for i in todo]
    started = time.perf_counter()
    try:
        results = run_jobs(jobs, args.data_root, devices, num_workers, cifar if num_workers == 1 else None)
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
