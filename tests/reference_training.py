"""The paper's training loop, written out on its own: the reference that tests/test_training_loop.py
and bench/bench_training.py hold naap.training.loop's fast loop to, number for number and weight for
weight.

It shares no code with naap.training (loop, cifar10, recipe), models.py or create_dataset.py (it
imports none of them), so a bug in their seeding, model building, data path, learning-rate schedule
or loss statistics shows up as a difference instead of on both sides. Everything here is transcribed
from the recipe in create_dataset.py's docstring and the architecture in models.py's:

- seed 20220819: Python's, NumPy's and torch's generators, once before building the model and once
  after (cuDNN deterministic, no benchmark);
- per layer Conv2d(bias=False, padding=kernel // 2) -> BatchNorm2d -> ReLU, plus the layer's input
  if residual; then global average pooling and Linear(width, 10). Initialized as torchvision's
  ResNets: Kaiming normal (fan_out, ReLU) convolutions, BatchNorm weight 1 and bias 0, Linear
  weight normal(0, 0.01) and bias 0, module by module in the order they were made;
- SGD, momentum 0.9, weight decay 1e-4, batch 256, no augmentation; the learning rate 0.1 at epochs
  1, 4, 7, ..., multiplied by 0.1 at the start of every other epoch (0.1, 0.01, 0.001, 0.1, ...);
- CIFAR-10 through torchvision's dataset with ToTensor and Normalize((0.5,) * 3, (0.5,) * 3), a
  DataLoader shuffling the training set and one over the test set in order;
- per epoch: the mean and median (NumPy) of the batch losses as loss.item() gives them, and the test
  accuracy as correct predictions / test images.

Example: python -c "from tests import reference_training as r; print(r.paper_lr(4))"
"""
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

SEED = 20220819
BATCH_SIZE = 256
BASE_LR = 0.1
LR_FACTOR = 0.1
LR_RESET_EVERY = 3
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
MEAN = STD = (0.5, 0.5, 0.5)
CLASSES = 10


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10, per-sample PIL path and all, minus the md5 checks (synthetic files)."""

    def _check_integrity(self):
        return True

    def _load_meta(self):
        self.classes = list(range(CLASSES))
        self.class_to_idx = {c: c for c in self.classes}


def seed_everything():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)


class PaperNet(nn.Module):
    """The scheme's CNN, built from its layer dicts {kernel_size, width, stride, residual}."""

    def __init__(self, scheme):
        super().__init__()
        self.convs, self.norms, self.skips = nn.ModuleList(), nn.ModuleList(), []
        channels = 3
        for layer in scheme:
            k = layer["kernel_size"]
            self.convs.append(nn.Conv2d(channels, layer["width"], k, layer["stride"], k // 2, bias=False))
            self.norms.append(nn.BatchNorm2d(layer["width"]))
            self.skips.append(layer["residual"])
            channels = layer["width"]
        self.classifier = nn.Linear(channels, CLASSES)
        for conv, norm in zip(self.convs, self.norms):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.ones_(norm.weight)
            nn.init.zeros_(norm.bias)
        nn.init.normal_(self.classifier.weight, 0.0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x):
        for conv, norm, skip in zip(self.convs, self.norms, self.skips):
            y = F.relu(norm(conv(x)))
            x = y + x if skip else y
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def weights(self):
        """The parameters and buffers in the order of models.Net's state_dict: per layer the
        convolution's weight, then the batch norm's weight, bias, running mean and variance and
        batch count; then the classifier's weight and bias."""
        out = []
        for conv, norm in zip(self.convs, self.norms):
            out += [conv.weight, norm.weight, norm.bias, norm.running_mean, norm.running_var,
                    norm.num_batches_tracked]
        return out + [self.classifier.weight, self.classifier.bias]


def paper_lr(epoch, previous=None):
    """The learning rate of epoch `epoch` (from 1): BASE_LR at every reset, else previous * LR_FACTOR."""
    if (epoch - 1) % LR_RESET_EVERY == 0:
        return BASE_LR
    return previous * LR_FACTOR


def paper_run(scheme, data_root, epochs, device="cpu", num_workers=0):
    """Train `scheme` the paper's way on DATA_ROOT/cifar-10-batches-py.

    Returns {'epochs': [(epoch, lr, loss mean, loss median, accuracy)], 'seconds': [...],
    'model': PaperNet} (seconds: each epoch's training and test pass).
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    trainset = UncheckedCIFAR10(data_root, train=True, transform=transform)
    testset = UncheckedCIFAR10(data_root, train=False, transform=transform)
    trainloader = DataLoader(trainset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)
    testloader = DataLoader(testset, batch_size=BATCH_SIZE, shuffle=False, num_workers=num_workers)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    seed_everything()
    model = PaperNet(scheme).to(device)
    seed_everything()
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    criterion = nn.CrossEntropyLoss()
    out = {"epochs": [], "seconds": [], "model": model}
    lr = None
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = paper_lr(epoch, lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        losses = []
        for inputs, labels in trainloader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        correct = 0
        with torch.no_grad():
            for inputs, labels in testloader:
                predicted = model(inputs.to(device)).argmax(1)
                correct += int((predicted == labels.to(device)).sum())
        out["epochs"].append((epoch, lr, float(np.mean(losses)), float(np.median(losses)), correct / len(testset)))
        out["seconds"].append(time.perf_counter() - started)
    return out
