"""CIFAR-10 as the NAAP-440 recipe reads it: the cifar-10-batches-py files, read and checked,
normalized on a device.

Library module (no command line, no work at import). create_dataset.py trains on what it reads,
zero_cost.py takes the data proxies' minibatch from it; tests/synthetic_cifar.py writes synthetic
files in the same layout for the tests and benchmarks.

Example: python -c "from naap.training import cifar10; \
print({s: d.shape for s, (d, l) in cifar10.read_cifar('data').items()})"
"""
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from naap.cli import InputError
from naap.input_files import input_error
from naap.training.recipe import IMAGE_SHAPE, NUM_CLASSES

CIFAR_DIR = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
META_FILE = "batches.meta"
NORM_MEAN = (0.5, 0.5, 0.5)  # the recipe's transforms.Normalize after ToTensor's /255
NORM_STD = (0.5, 0.5, 0.5)


def ensure_cifar(data_root):
    """Download CIFAR-10 into DATA_ROOT with torchvision's checksum check unless it is there."""
    data_root = Path(data_root)
    target = data_root / CIFAR_DIR
    if target.is_dir():
        return target
    if data_root.exists() and not data_root.is_dir():
        raise InputError(f"--data-root {data_root}: not a directory")
    import torchvision  # only the download needs it

    # Download into a scratch directory so a failed download leaves nothing behind.
    scratch = Path(tempfile.mkdtemp(prefix="cifar10-download-"))
    try:
        try:
            torchvision.datasets.CIFAR10(scratch, train=True, download=True)
        except Exception as e:  # network, disk or checksum: all mean "no dataset"
            raise InputError(f"--data-root {data_root}: no {CIFAR_DIR} there and the download failed "
                             f"({type(e).__name__}: {e})") from None
        try:
            data_root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--data-root {data_root}: cannot create ({e.strerror or e})") from None
        # a private staging name: Slurm array tasks may all download at once
        staged = Path(tempfile.mkdtemp(prefix=f".{CIFAR_DIR}.", suffix=".tmp", dir=data_root))
        shutil.move(str(scratch / CIFAR_DIR), staged / CIFAR_DIR)
        try:
            os.replace(staged / CIFAR_DIR, target)
        except OSError:
            if not target.is_dir():  # else another task finished first: keep its copy
                raise
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _read_batch(path):
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")  # as torchvision reads the Python 2 pickles
    except FileNotFoundError:
        raise InputError(f"{path}: missing (expected the {CIFAR_DIR} layout)") from None
    except OSError as e:
        raise input_error(path, e, "CIFAR-10 batch") from None
    except Exception as e:
        raise InputError(f"{path}: not a CIFAR-10 batch ({type(e).__name__}: {e})") from None
    if not isinstance(entry, dict):
        raise InputError(f"{path}: not a CIFAR-10 batch (expected a pickled dict)")
    # Keys load as str with latin1, as bytes with encoding='bytes': accept both.
    data = entry.get("data", entry.get(b"data"))
    labels = entry.get("labels", entry.get(b"labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
        raise InputError(f"{path}: 'data' must be a uint8 array of shape N x 3072")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: 'labels' must be a list of integers") from None
    if labels.shape != (len(data),) or (len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES)):
        raise InputError(f"{path}: need one label in 0..{NUM_CLASSES - 1} per image")
    return data, labels


def read_cifar(data_root):
    """{'train': (uint8 N x 3072, int64 labels), 'test': (...)} from DATA_ROOT/cifar-10-batches-py."""
    folder = Path(data_root) / CIFAR_DIR
    out = {}
    for split, files in (("train", TRAIN_FILES), ("test", TEST_FILES)):
        batches = [_read_batch(folder / name) for name in files]
        out[split] = (np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]))
        if not len(out[split][1]):
            raise InputError(f"{folder}: the {split} set is empty")
    return out


def to_device_data(cifar, device):
    """Normalized float tensors on DEVICE, with ToTensor's and Normalize's arithmetic, in that order.

    Per image the paper's path computes uint8 -> float32, /255, then -mean, /std per channel; doing
    the same elementwise operations on the whole tensor gives the same bits.
    """
    out = {}
    for split, (data, labels) in cifar.items():
        x = torch.from_numpy(np.ascontiguousarray(data)).view(-1, *IMAGE_SHAPE).to(device)
        x = x.to(torch.float32).div_(255)  # in place: same kernel as ToTensor's .div(255), half the memory
        mean = torch.as_tensor(NORM_MEAN, dtype=torch.float32, device=device).view(-1, 1, 1)
        std = torch.as_tensor(NORM_STD, dtype=torch.float32, device=device).view(-1, 1, 1)
        out[f"x_{split}"] = x.sub_(mean).div_(std)
        out[f"y_{split}"] = torch.as_tensor(labels, dtype=torch.int64).to(device)
    return out
