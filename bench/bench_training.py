"""Benchmark the training stage: create_dataset.py's fast loop against the paper's DataLoader loop,
and a projection of the full 440-scheme x 90-epoch run on a GPU.

--device cpu: writes full-size synthetic CIFAR-10 (50,000 + 10,000 random images, the real layout)
  to a temporary directory and trains one scheme both ways from the same seed: the paper's loop
  (torchvision CIFAR10 with ToTensor + Normalize, DataLoader(batch 256, shuffle=True)) and the fast
  loop (normalized tensors, batches by index). Prints each loop's epoch time (training and test pass,
  the second and later epochs, data loading excluded), the ratio, and whether the epochs' numbers agree.
--device cuda: trains --num-schemes schemes, picked at evenly spaced MAC-count quantiles of the
  schemes file, for --epochs epochs with --workers concurrent workers on one GPU, once per --modes
  entry (eager, graphs = --cuda-graphs), and projects the 440 x 90 run in hours from the steady
  epochs (the first epoch, with warm-up and graph capture, excluded).

plain_dataloader_run is also the reference that tests/test_create_dataset.py compares the fast loop
with, number for number and weight for weight.

Output: a small table on stdout; nothing is kept (temporary directories).
Example: python bench/bench_training.py --device cpu --model-id 1 --epochs 2
         python bench/bench_training.py --device cuda --workers 8 --num-schemes 8 --epochs 3 --modes eager,graphs
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import create_dataset as cd  # noqa: E402
from common import run_cli  # noqa: E402
from models import count_params_and_macs  # noqa: E402

FULL_TRAIN, FULL_TEST = 50_000, 10_000
FULL_SCHEMES, FULL_EPOCHS = 440, 90
DEFAULT_SCHEMES = Path(__file__).resolve().parent.parent / "generated_schemes.json"


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10, per-sample PIL path and all, minus the md5 checks (synthetic files)."""

    def _check_integrity(self):
        return True

    def _load_meta(self):
        self.classes = list(range(cd.NUM_CLASSES))
        self.class_to_idx = {c: c for c in self.classes}


def plain_dataloader_run(scheme, data_root, epochs, device="cpu", num_workers=0):
    """The paper's loop: per-sample transforms, DataLoader for training (shuffled) and test sets.

    Returns {'epochs': [(epoch, lr, loss mean, loss median, accuracy)], 'seconds': [...], 'model'}.
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(cd.NORM_MEAN, cd.NORM_STD)])
    trainset = UncheckedCIFAR10(data_root, train=True, transform=transform)
    testset = UncheckedCIFAR10(data_root, train=False, transform=transform)
    trainloader = DataLoader(trainset, batch_size=cd.BATCH_SIZE, shuffle=True, num_workers=num_workers)
    testloader = DataLoader(testset, batch_size=cd.BATCH_SIZE, shuffle=False, num_workers=num_workers)
    model, optimizer, criterion = cd.init_training(scheme, device)
    out = {"epochs": [], "seconds": [], "model": model}
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = cd.set_epoch_lr(optimizer, epoch)
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
                _, predicted = torch.max(model(inputs.to(device)), 1)
                correct += (predicted == labels.to(device)).sum().item()
        out["epochs"].append((epoch, lr, *cd.loss_stats(losses), correct / len(testset)))
        out["seconds"].append(time.perf_counter() - started)
    return out


def fast_run(scheme, data_root, epochs, device="cpu"):
    """create_dataset.py's loop on the same files; same return shape as plain_dataloader_run."""
    data = cd.to_device_data(cd.read_cifar(data_root), torch.device(device))
    model, optimizer, criterion = cd.init_training(scheme, device)
    out = {"epochs": [], "seconds": [], "model": model}
    started = time.perf_counter()
    for result in cd.fast_epochs(model, optimizer, criterion, data, 1, epochs):
        out["epochs"].append(result)
        out["seconds"].append(time.perf_counter() - started)
        started = time.perf_counter()
    return out


def bench_cpu(args, schemes, data_root):
    scheme = schemes[args.model_id - 1]
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"CPU, {torch.get_num_threads()} torch threads; ModelId {args.model_id} "
          f"({count_params_and_macs(scheme)[1]:,} MACs); {FULL_TRAIN:,} + {FULL_TEST:,} synthetic images; "
          f"{args.epochs} epoch(s) each, epoch 1 excluded from the mean when there are more")
    runs = {"plain DataLoader": plain_dataloader_run(scheme, data_root, args.epochs),
            "fast": fast_run(scheme, data_root, args.epochs)}
    means = {}
    for name, run in runs.items():
        steady = run["seconds"][1:] or run["seconds"]
        means[name] = statistics.mean(steady)
        print(f"{name:>17}: {means[name]:7.2f} s/epoch  (epochs: {', '.join(f'{s:.2f}' for s in run['seconds'])})")
    print(f"{'ratio':>17}: {means['plain DataLoader'] / means['fast']:7.2f}x")
    same = runs["plain DataLoader"]["epochs"] == runs["fast"]["epochs"]
    print(f"{'same numbers':>17}: {same}")


def pick_by_macs(schemes, count):
    """ModelIds at evenly spaced MAC-count quantiles: their mean epoch time estimates all schemes'."""
    macs = [count_params_and_macs(scheme)[1] for scheme in schemes]  # ~3 s for 440 schemes
    ranked = sorted(range(1, len(schemes) + 1), key=lambda i: macs[i - 1])
    return sorted({ranked[int((k + 0.5) * len(ranked) / count)] for k in range(count)})


def bench_cuda(args, schemes, data_root):
    ids = pick_by_macs(schemes, args.num_schemes)
    print(f"{torch.cuda.get_device_name(0)}; ModelIds {ids}; {args.workers} workers; {args.epochs} epochs")
    logs = {}
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as raw_dir:
            jobs = [{"model_id": i, "scheme": schemes[i - 1], "raw_dir": raw_dir, "epochs": args.epochs,
                     "cuda_graphs": mode == "graphs"} for i in ids]
            started = time.perf_counter()
            results = cd.run_jobs(jobs, data_root, ["cuda:0"], args.workers)
            wall = time.perf_counter() - started
            failed = [r for r in results if r["status"] == "failed"]
            for r in failed:
                print(f"{mode}: ModelId {r['model_id']} failed: {r['error']}")
            ok = [r for r in results if r["status"] != "failed"]
            if not ok:
                continue
            per_scheme = [statistics.mean(r["epoch_seconds"][1:] or r["epoch_seconds"]) for r in ok]
            epoch_s = statistics.mean(per_scheme)
            hours = FULL_SCHEMES * FULL_EPOCHS * epoch_s / min(args.workers, len(ids)) / 3600
            print(f"{mode:>7}: wall {wall:6.1f} s (with start-up); steady epoch {epoch_s:6.3f} s per worker "
                  f"(per scheme: {', '.join(f'{s:.3f}' for s in per_scheme)}); "
                  f"projected {FULL_SCHEMES} x {FULL_EPOCHS}: {hours:5.2f} h")
            logs[mode] = {r["model_id"]: [line.split(" ", 1)[1] for line in
                                          (Path(raw_dir) / f"scheme_{r['model_id']}.txt").read_text().splitlines()]
                          for r in ok}
    if len(logs) > 1:
        first, *others = logs
        for other in others:
            print(f"{other} logs == {first} logs (timestamps aside): {logs[other] == logs[first]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--schemes", default=str(DEFAULT_SCHEMES), help="schemes JSON (default generated_schemes.json)")
    p.add_argument("--data-root", help="CIFAR-10 root to use instead of full-size synthetic data")
    p.add_argument("--epochs", type=int, default=2, help="epochs per loop / scheme (default 2)")
    p.add_argument("--model-id", type=int, default=1, help="cpu: the scheme to time (default 1)")
    p.add_argument("--threads", type=int, help="cpu: torch threads (default torch's own choice)")
    p.add_argument("--workers", type=int, default=8, help="cuda: concurrent workers on the GPU (default 8)")
    p.add_argument("--num-schemes", type=int, default=8, help="cuda: schemes to sample (default 8)")
    p.add_argument("--modes", default="eager,graphs", help="cuda: eager and/or graphs (default both)")
    return p.parse_args(argv)


def main(args):
    schemes = cd.load_schemes(args.schemes)
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = tmp
            cd.write_cifar(tmp, **cd.synthetic_cifar(FULL_TRAIN, FULL_TEST))
        if args.device == "cpu":
            bench_cpu(args, schemes, data_root)
        else:
            bench_cuda(args, schemes, data_root)


if __name__ == "__main__":
    run_cli(main, parse_args())
