"""The paper's training loop, fast: seeding, the learning-rate schedule, the epochs, one scheme's run.

The recipe (naap.training.recipe's constants) is the paper's: 90 epochs, batch 256, SGD with
momentum and weight decay, learning rate 0.1 decayed x0.1 every epoch and reset every 3 epochs, no
augmentation, seed 20220819. Only the data path differs from the paper's DataLoader over per-sample
PIL transforms: CIFAR-10 is read and normalized once (naap.training.cifar10), held on the training
device, and batches are drawn by index in exactly the order that DataLoader(shuffle=True) would
give with the same seed (its per-epoch draws from the global torch generator are made by iterating
a DataLoader over indices), so on CPU every logged number and every weight equals the paper-style
loop's (tests/test_training_loop.py checks it against tests/reference_training.paper_run, the
paper's loop written out without this module's code).

train_scheme writes one scheme's log (naap.data.log_format) crash-safely, with the files of
naap.training.checkpoints: it resumes a checkpoint to the same numbers as an uninterrupted run.

Example: python -c "from naap.training.loop import lr_for_epoch; print([lr_for_epoch(e) for e in (1, 2, 3, 4)])"
"""
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from models import Net, count_params_and_macs
from naap.data.log_format import epoch_lines, header_lines, log_text, stamp
from naap.files import atomic_write_text
from naap.training.checkpoints import load_checkpoint, log_paths, restore, save_checkpoint, scheme_lock
from naap.training.recipe import (  # the paper's recipe
    BATCH_SIZE,
    LR,
    LR_CYCLE,
    LR_DECAY,
    MOMENTUM,
    SEED,
    WEIGHT_DECAY,
)

GRAPH_WARMUP_STEPS = 3  # eager steps before CUDA graph capture (optimizer state, cuBLAS handles)


# ---------------------------------------------------------------- the recipe

def set_seed(seed=SEED):
    """Seed Python's, NumPy's and torch's generators, as the paper did (models.seeded_net too)."""
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


# ---------------------------------------------------------------- one scheme

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
            lines = [stamp(m) for m in header_lines(scheme, device, params, macs)]
            first = 1
        model, optimizer, criterion = init_training(scheme, device)
        if ckpt:
            restore(ckpt, model, optimizer, device)
        del ckpt
        # The partial log only shows progress; the checkpoint's lines are the truth on resume.
        atomic_write_text(paths["partial"], log_text(lines))
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
                partial.write(log_text(new))
                partial.flush()
                bar.update()
                if parent_pid is not None and os.getppid() != parent_pid:
                    os._exit(1)  # orphaned by a killed run: stop before a rerun trains this scheme too
                started = time.perf_counter()
        bar.close()
        atomic_write_text(paths["final"], log_text(lines))
        for leftover in (paths["partial"], paths["ckpt"]):
            leftover.unlink(missing_ok=True)
    return {"model_id": model_id, "status": "resumed" if first > 1 else "trained", "epoch_seconds": seconds}
