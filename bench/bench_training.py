"""Benchmark the training stage: naap.training.loop's fast loop against the paper's DataLoader loop,
and a projection of the full 440-scheme x 90-epoch run on a GPU.

--device cpu: writes full-size synthetic CIFAR-10 (50,000 + 10,000 random images, the real layout)
  to a temporary directory and trains one scheme both ways from the same seed: the paper's loop
  (reference_training.paper_run: torchvision CIFAR10 with ToTensor + Normalize, DataLoader(batch 256,
  shuffle=True)) and the fast loop (normalized tensors, batches by index). Prints each loop's epoch
  time (training and test pass, the second and later epochs, data loading excluded), the ratio, and
  whether the epochs' numbers and the final weights agree; exit status 1 if they do not.
--device cuda: trains --num-schemes schemes, picked at evenly spaced MAC-count quantiles of the
  schemes file, for --epochs epochs with --workers concurrent workers on one GPU, once per --modes
  entry (eager, graphs = --cuda-graphs), and projects the 440 x 90 run in hours from the steady
  epochs (the first epoch, with warm-up and graph capture, excluded). Exit status 1 if the modes'
  logs differ (timestamps aside) or a scheme failed.

The reference loop lives in tests/reference_training.py, shared with tests/test_training_loop.py; it
imports nothing of naap.training, models.py or create_dataset.py, so a bug there cannot hide on both
sides. The synthetic files are tests/synthetic_cifar.py's.

Output: a small table on stdout; nothing is kept (temporary directories).
Example: python -m bench.bench_training --device cpu --model-id 1 --epochs 2
         python -m bench.bench_training --device cuda --workers 8 --num-schemes 8 --epochs 3 --modes eager,graphs
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from models import count_params_and_macs
from naap.cli import OneLineArgumentParser, run_cli
from naap.data.schemes import load_schemes
from naap.training import cifar10
from naap.training.jobs import run_jobs
from naap.training.loop import fast_epochs, init_training
from tests import reference_training
from tests.synthetic_cifar import synthetic_cifar, write_cifar

FULL_TRAIN, FULL_TEST = 50_000, 10_000
FULL_SCHEMES, FULL_EPOCHS = 440, 90
DEFAULT_SCHEMES = Path(__file__).resolve().parent.parent / "generated_schemes.json"


def fast_run(scheme, data_root, epochs, device="cpu"):
    """naap.training.loop's epochs on the same files; same return shape as reference_training.paper_run."""
    data = cifar10.to_device_data(cifar10.read_cifar(data_root), torch.device(device))
    model, optimizer, criterion = init_training(scheme, device)
    out = {"epochs": [], "seconds": [], "model": model}
    started = time.perf_counter()
    for result in fast_epochs(model, optimizer, criterion, data, 1, epochs):
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
    runs = {"plain DataLoader": reference_training.paper_run(scheme, data_root, args.epochs),
            "fast": fast_run(scheme, data_root, args.epochs)}
    means = {}
    for name, run in runs.items():
        steady = run["seconds"][1:] or run["seconds"]
        means[name] = statistics.mean(steady)
        print(f"{name:>17}: {means[name]:7.2f} s/epoch  (epochs: {', '.join(f'{s:.2f}' for s in run['seconds'])})")
    print(f"{'ratio':>17}: {means['plain DataLoader'] / means['fast']:7.2f}x")
    same = runs["plain DataLoader"]["epochs"] == runs["fast"]["epochs"]
    print(f"{'same numbers':>17}: {same}")
    same_weights = same_model_weights(runs["plain DataLoader"]["model"], runs["fast"]["model"])
    print(f"{'same weights':>17}: {same_weights}")
    if not (same and same_weights):
        print("error: the fast loop's numbers or weights differ from the paper's loop "
              f"(paper: {runs['plain DataLoader']['epochs']}; fast: {runs['fast']['epochs']})", file=sys.stderr)
        sys.exit(1)


def same_model_weights(reference_model, fast_model):
    """Whether reference_training.PaperNet and models.Net hold the same tensors, in state_dict order."""
    ours = list(fast_model.state_dict().values())
    theirs = reference_model.weights()
    return len(ours) == len(theirs) and all(
        a.shape == b.shape and torch.equal(a.cpu(), b.cpu()) for a, b in zip(theirs, ours))


def pick_by_macs(schemes, count):
    """ModelIds at evenly spaced MAC-count quantiles: their mean epoch time estimates all schemes'."""
    macs = [count_params_and_macs(scheme)[1] for scheme in schemes]  # ~3 s for 440 schemes
    ranked = sorted(range(1, len(schemes) + 1), key=lambda i: macs[i - 1])
    return sorted({ranked[int((k + 0.5) * len(ranked) / count)] for k in range(count)})


def bench_cuda(args, schemes, data_root):
    ids = pick_by_macs(schemes, args.num_schemes)
    print(f"{torch.cuda.get_device_name(0)}; ModelIds {ids}; {args.workers} workers; {args.epochs} epochs")
    logs, any_failed = {}, False
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as raw_dir:
            jobs = [{"model_id": i, "scheme": schemes[i - 1], "raw_dir": raw_dir, "epochs": args.epochs,
                     "cuda_graphs": mode == "graphs"} for i in ids]
            started = time.perf_counter()
            results = run_jobs(jobs, data_root, ["cuda:0"], args.workers)
            wall = time.perf_counter() - started
            failed = [r for r in results if r["status"] == "failed"]
            any_failed |= bool(failed)
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
    differ = False
    if len(logs) > 1:
        first, *others = logs
        for other in others:
            same = logs[other] == logs[first]
            print(f"{other} logs == {first} logs (timestamps aside): {same}")
            differ |= not same
    if differ or any_failed:
        print("error: " + ("the modes' logs differ" if differ else "a scheme failed"), file=sys.stderr)
        sys.exit(1)


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
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
    schemes = load_schemes(args.schemes)
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = tmp
            write_cifar(tmp, **synthetic_cifar(FULL_TRAIN, FULL_TEST))
        if args.device == "cpu":
            bench_cpu(args, schemes, data_root)
        else:
            bench_cuda(args, schemes, data_root)


if __name__ == "__main__":
    run_cli(main, parse_args())
