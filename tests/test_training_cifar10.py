"""naap.training.cifar10: normalized as ToTensor then Normalize would, and the files read whichever
way their keys were pickled; a broken file is an InputError naming it."""
import pickle
import re

import numpy as np
import pytest
import reference_training
import torch
from synthetic_cifar import N_TEST, synthetic_cifar, write_cifar

from naap.cli import InputError
from naap.training import cifar10


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


@pytest.mark.parametrize("content, message", [
    pytest.param(b"garbage", "data_batch_3: not a CIFAR-10 batch", id="garbage"),
    pytest.param(pickle.dumps([1, 2]), "data_batch_3: not a CIFAR-10 batch (expected a pickled dict)", id="a list"),
    pytest.param(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}),
                 "need one label in 0..9 per image", id="label 10"),
])
def test_a_broken_file_is_named(tmp_path, content, message):
    write_cifar(tmp_path, **synthetic_cifar(20, 10))
    (tmp_path / cifar10.CIFAR_DIR / "data_batch_3").write_bytes(content)
    with pytest.raises(InputError, match=re.escape(message)):
        cifar10.read_cifar(tmp_path)
