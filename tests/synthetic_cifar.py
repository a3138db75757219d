"""Synthetic CIFAR-10 for the tests and benchmarks: random images in the cifar-10-batches-py layout
that naap.training.cifar10 reads, with a hint a CNN can learn.

Test fixture, not library code. The tests import it as `synthetic_cifar` (pytest puts tests/ on the
path); bench/ scripts, run as `python -m bench.NAME` from the repository, as `tests.synthetic_cifar`.

Example: python -c "from tests import synthetic_cifar as s; s.write_cifar('data', **s.synthetic_cifar(512, 256))"
"""
import pickle
from pathlib import Path

import numpy as np

from naap.files import atomic_write_bytes
from naap.training.cifar10 import CIFAR_DIR, META_FILE, TEST_FILES, TRAIN_FILES
from naap.training.recipe import IMAGE_SHAPE, NUM_CLASSES

N_TRAIN, N_TEST = 512, 256  # two full batches and a 256-image test set: small, still batch-shaped


def write_cifar(data_root, train, test):
    """Write (uint8 N x 3072, labels) pairs in the cifar-10-batches-py layout.

    Keys are str: the real files are Python 2 pickles whose keys load as str under
    encoding='latin1' (torchvision) and as bytes under encoding='bytes'.
    """
    folder = Path(data_root) / CIFAR_DIR
    folder.mkdir(parents=True, exist_ok=True)
    parts = [(name, images, labels) for name, (images, labels) in zip(
        TRAIN_FILES, zip(np.array_split(train[0], len(TRAIN_FILES)), np.array_split(train[1], len(TRAIN_FILES))))]
    parts.append((TEST_FILES[0], test[0], test[1]))
    for name, data, labels in parts:
        entry = {"batch_label": name, "labels": [int(v) for v in labels],
                 "data": np.ascontiguousarray(data, dtype=np.uint8),
                 "filenames": [f"{name}_{i}.png" for i in range(len(labels))]}
        atomic_write_bytes(folder / name, pickle.dumps(entry, protocol=2))
    meta = {"num_cases_per_batch": len(parts[0][2]), "num_vis": int(np.prod(IMAGE_SHAPE)),
            "label_names": ["airplane", "automobile", "bird", "cat", "deer",
                            "dog", "frog", "horse", "ship", "truck"]}
    atomic_write_bytes(folder / META_FILE, pickle.dumps(meta, protocol=2))


def synthetic_cifar(n_train, n_test, seed=0):
    """Random images with a learnable hint (the red channel's level follows the label)."""
    rng = np.random.default_rng(seed)

    def split(n):
        labels = rng.integers(0, NUM_CLASSES, n)
        data = rng.integers(0, 256, (n, int(np.prod(IMAGE_SHAPE))), dtype=np.uint8)
        data[:, :1024] = np.clip(labels[:, None] * 25 + rng.integers(0, 40, (n, 1024)), 0, 255)
        return data, labels

    return {"train": split(n_train), "test": split(n_test)}
