"""Zero-cost proxies of every scheme's CNN at initialization: one CSV row per ModelId.

Each scheme's model is models.seeded_net(scheme): the weights create_dataset.py starts training it
from. The proxies are naap/zero_cost_proxies.py's (definitions and references there):
- data-free, always: MACs (thop, as naap440.csv's NumMACs), #params, synflow, logsynflow, zen, l2_norm;
- with --data-root: nwot, jacov, snip, grad_norm, fisher, grasp, on one fixed minibatch, the first
  DATA_BATCH images of the CIFAR-10 training set, normalized as create_dataset.py feeds them
  (naap.training.cifar10).
The values are deterministic (seeded, one thread): the same command on the same machine gives the
same numbers. The <proxy>_seconds columns are wall times and vary.

Long runs survive interruption: every finished model is appended to a journal beside OUT,
.<OUT name>.resume.jsonl; the same command run again skips the models in it (a journal of other
settings is discarded) and the journal is deleted once OUT is written. SIGTERM exits 143 with no
OUT (Ctrl-C 130, SIGHUP 129).

Input:  SCHEMES.json (a JSON list of schemes; scheme i is ModelId i+1), optionally CIFAR-10 in
        DATA_ROOT/cifar-10-batches-py.
Output: OUT.csv: ModelId, one column per proxy, then <proxy>_seconds per proxy; written whole
        (atomically) at the end; a summary line on stdout, a progress bar on stderr.
An existing OUT is replaced only with --force.

Example: python zero_cost.py generated_schemes.json zero_cost.csv --data-root data
"""
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

import models
from naap import zero_cost_proxies as zcp
from naap.cli import InputError, OneLineArgumentParser, cannot_write, disk_full, run_cli
from naap.data.schemes import load_schemes
from naap.files import atomic_write_text, check_output_file, check_outputs_not_inputs, input_error
from naap.training.cifar10 import CIFAR_DIR, read_cifar, to_device_data

DATA_BATCH = 64  # the data proxies' minibatch: the first DATA_BATCH training images, in file order
THREADS = 1  # grasp's double backward sums in a thread-count dependent order; one thread is also fastest here
JOURNAL_SUFFIX = ".resume.jsonl"  # the journal is .<OUT name><JOURNAL_SUFFIX> beside OUT
DATA_FREE = ["MACs", *zcp.DATA_FREE]  # column order: MACs, #params, synflow, logsynflow, zen, l2_norm
WITH_DATA = list(zcp.WITH_DATA)  # nwot, jacov, snip, grad_norm, fisher, grasp


# ---------------------------------------------------------------- input checks

def check_out(out, force, inputs):
    """OUT (and its journal) may be neither an input nor inside an input directory; an existing OUT
    only with --force."""
    check_output_file(out)  # a directory ('.', '/') first: it has no file name to name the journal after
    check_outputs_not_inputs([out, journal_path(out)], inputs)
    check_output_file(out, replace=force)
    return Path(out)


def load_minibatch(data_root):
    """(x, y, folder): the first DATA_BATCH training images and labels, read and normalized by
    naap.training.cifar10 as create_dataset.py trains on them, and the folder they came from."""
    try:
        data, labels = read_cifar(data_root)["train"]
    except InputError as e:
        raise InputError(f"--data-root {data_root}: {e}") from None
    if len(labels) < DATA_BATCH:
        raise InputError(f"{Path(data_root) / CIFAR_DIR}: {len(labels)} training images, "
                         f"the data proxies need {DATA_BATCH}")
    batch = to_device_data({"train": (data[:DATA_BATCH], labels[:DATA_BATCH])}, torch.device("cpu"))
    return batch["x_train"], batch["y_train"], Path(data_root) / CIFAR_DIR


# ---------------------------------------------------------------- the proxies of one model

def model_proxies(scheme, batch=None):
    """({proxy: value}, {proxy: seconds}) of the scheme's seeded model; data proxies only with a batch."""
    values, seconds = {}, {}

    def timed(name, compute, *args):
        started = time.perf_counter()
        values[name] = compute(*args)
        seconds[name] = time.perf_counter() - started

    model = models.seeded_net(scheme)
    timed("MACs", lambda: models.count_params_and_macs(scheme)[1])
    for name, proxy in zcp.DATA_FREE.items():
        timed(name, proxy, model)
    if batch is not None:
        for name, proxy in zcp.WITH_DATA.items():
            timed(name, proxy, model, *batch)
    return values, seconds


# ---------------------------------------------------------------- the journal

def journal_path(out):
    out = Path(out)
    return out.with_name(f".{out.name}{JOURNAL_SUFFIX}")


def settings_key(batch):
    """What decides the values besides the code and the schemes: proxies, constants, the minibatch."""
    h = hashlib.sha256(repr((DATA_FREE, WITH_DATA if batch is not None else None, DATA_BATCH, THREADS,
                             models.RECIPE_SEED, zcp.ZEN_BATCH, zcp.ZEN_GAMMA, zcp.ZEN_SEED, zcp.JACOV_K,
                             torch.__version__)).encode())
    if batch is not None:
        h.update(batch[0].numpy().tobytes())
        h.update(batch[1].numpy().tobytes())
    return h.hexdigest()[:16]


def read_journal(path, key, schemes):
    """{ModelId: (values, seconds)} of the journal's records that still hold. A journal of other
    settings is discarded; a record cut short (a kill mid-write) ends it and is cut off the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise input_error(path, e, "journal") from None
    if not raw:  # killed before its first record
        path.unlink()
        return {}
    done, good, lines = {}, 0, raw.split(b"\n")
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("settings") != key:
        tqdm.write(f"warning: {path}: a journal of other settings or unreadable, starting over", file=sys.stderr)
        path.unlink()
        return {}
    good = len(lines[0]) + 1
    for line in lines[1:-1]:  # the last piece follows the last newline: empty unless cut short
        try:
            record = json.loads(line)
            model_id = record["ModelId"]
            if 1 <= model_id <= len(schemes) and record["scheme"] == schemes[model_id - 1]:
                done[model_id] = (record["values"], record["seconds"])
        except (ValueError, KeyError, TypeError):
            break
        good += len(line) + 1
    if good < len(raw):
        with open(path, "r+b") as f:
            f.truncate(good)
    return done


def append_record(journal, record):
    """Append one line to the open journal and make it durable. A full disk is an OSError naming
    the journal (run_cli: one line, exit status 1); read_journal cuts off the line it cut short."""
    try:
        journal.write(json.dumps(record) + "\n")
        journal.flush()
        os.fsync(journal.fileno())
    except OSError as e:
        raise cannot_write(journal.name, e) from None


# ---------------------------------------------------------------- command line

def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("schemes", help="JSON list of schemes, e.g. generated_schemes.json (scheme i is ModelId i+1)")
    p.add_argument("out", help="output CSV, e.g. zero_cost.csv")
    p.add_argument("--data-root", help="holds cifar-10-batches-py/: adds the proxies that need a minibatch")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    return p.parse_args(argv)


def main(args):
    schemes = load_schemes(args.schemes)
    batch, inputs = None, [args.schemes]
    if args.data_root is not None:
        x, y, cifar_dir = load_minibatch(args.data_root)
        batch = (x, y)
        inputs.append(cifar_dir)
    out = check_out(args.out, args.force, inputs)
    proxies = DATA_FREE + (WITH_DATA if batch is not None else [])
    journal = journal_path(out)
    key = settings_key(batch)
    done = read_journal(journal, key, schemes)
    resumed = len(done)
    # One thread is what determinism needs here. torch.use_deterministic_algorithms is not set: it
    # concerns CUDA kernels and a few scatter/index ops, none of which these models use on the CPU
    # (and it imports torch's compiler stack, 3 s of CPU per run).
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        f = open(journal, "a")
    except OSError as e:
        raise InputError(f"{journal}: cannot write the journal ({e.strerror or e})") from None
    try:
        with f, tqdm(total=len(schemes), initial=resumed, desc="schemes", unit="scheme") as bar:
            if f.tell() == 0:
                append_record(f, {"settings": key})
            for model_id, scheme in enumerate(schemes, 1):
                if model_id in done:
                    continue
                done[model_id] = model_proxies(scheme, batch)
                append_record(f, {"ModelId": model_id, "scheme": scheme, "values": done[model_id][0],
                                  "seconds": done[model_id][1]})
                bar.update()
    except OSError as e:
        if e.filename is not None or not disk_full(e):
            raise
        raise cannot_write(journal, e) from None  # closing the journal flushed what a full disk refused
    rows = [{"ModelId": i, **{p: done[i][0][p] for p in proxies}, **{f"{p}_seconds": done[i][1][p] for p in proxies}}
            for i in range(1, len(schemes) + 1)]
    atomic_write_text(out, pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"), replace=args.force)
    journal.unlink(missing_ok=True)
    print(f"{len(schemes)} scheme(s): {len(schemes) - resumed} computed, {resumed} from the journal "
          f"({time.perf_counter() - started:.0f} s); {len(proxies)} proxies in {out}")
    return rows


if __name__ == "__main__":
    run_cli(main, parse_args())
