"""Training many schemes: a pool of workers, each holding CIFAR-10 on its device once and taking
schemes one at a time; one failed scheme does not stop the others.

A job is a dict of model_id, scheme, raw_dir, epochs and cuda_graphs; run_jobs returns one result
per job (naap.training.loop.train_scheme's, or status 'failed' with a one-line error). One worker
runs in the calling process; more are spawned processes (CUDA cannot be forked), spread over the
devices round-robin.

Example: python -c "from naap.training.jobs import error_line; print(error_line(RuntimeError('a\\nb')))"
"""
import concurrent.futures
import multiprocessing
import os
import threading

import torch
from tqdm import tqdm

from naap.cli import one_line
from naap.training.cifar10 import read_cifar, to_device_data
from naap.training.loop import train_scheme
from naap.workers import process_pool

_WORKER = {}  # per process: device, data, slot


def start_worker(slot, devices, workers, data_root, cifar=None):
    """Set this process up as worker SLOT: its device, its share of the cores, the data on the device."""
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
