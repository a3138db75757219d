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
settings is discarded, a damaged one refused: exit status 2, delete it to start over) and the
journal is deleted once OUT is written. SIGTERM exits 143 with no OUT (Ctrl-C 130, SIGHUP 129).

Input:  SCHEMES.json (a JSON list of schemes; scheme i is ModelId i+1), optionally CIFAR-10 in
        DATA_ROOT/cifar-10-batches-py.
Output: OUT.csv: ModelId, one column per proxy, then <proxy>_seconds per proxy; written whole
        (atomically) at the end; a summary line on stdout, a progress bar on stderr.
An existing OUT is replaced only with --force.

Example: python zero_cost.py generated_schemes.json zero_cost.csv --data-root data
"""
import hashlib
import json
import math
import os
import reprlib
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
from naap.files import atomic_write_text, check_output_file, check_outputs_not_inputs, is_journal_file, output_error
from naap.input_files import input_error
from naap.training.cifar10 import CIFAR_DIR, read_cifar, to_device_data

DATA_BATCH = 64  # the data proxies' minibatch: the first DATA_BATCH training images, in file order
THREADS = 1  # grasp's double backward sums in a thread-count dependent order; one thread is also fastest here
JOURNAL_SUFFIX = ".resume.jsonl"  # the journal is .<OUT name><JOURNAL_SUFFIX> beside OUT
DATA_FREE = ["MACs", *zcp.DATA_FREE]  # column order: MACs, #params, synflow, logsynflow, zen, l2_norm
WITH_DATA = list(zcp.WITH_DATA)  # nwot, jacov, snip, grad_norm, fisher, grasp
COUNTS = {"MACs", "#params"}  # whole numbers; every other proxy is any number (NaN and -inf too)
RECORD_KEYS = {"ModelId", "scheme", "values", "seconds"}  # a journal line after the header


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


def read_journal(path, key, schemes, proxies):
    """{ModelId: (values, seconds)} of the journal's records that still hold.

    Only what an interrupted run leaves is repaired: an empty file, or a header cut short, is
    removed; a record cut short (the piece after the last newline) is cut off the file. A journal
    of other settings is removed with a warning. A record of another schemes file (its ModelId
    beyond SCHEMES.json, or another scheme there) is recomputed. Anything else that is not what
    append_record writes (a line that is not JSON or nested too deep, other keys or types, a value
    that is not a number of its proxy's kind, seconds that are not finite and >= 0) is an
    InputError naming the journal and the line, before anything is written or removed."""
    if not is_journal_file(path, "delete it to start over"):
        return {}
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise input_error(path, e, "journal") from None
    *lines, torn = raw.split(b"\n")  # torn: after the last newline, empty unless a write was cut short
    if not lines:
        if not _torn_header(torn):  # a file the user put there, not a header a kill cut short: theirs to remove
            raise _damaged(path, 1, "not a zero_cost.py resume journal header")
        _remove_journal(path)
        return {}
    header = _journal_line(path, 1, lines[0])
    if not (isinstance(header, dict) and header.keys() == {"settings"} and isinstance(header["settings"], str)):
        raise _damaged(path, 1, 'expected the header {"settings": KEY}')
    if header["settings"] != key:
        tqdm.write(f"warning: {path}: a journal of other settings, starting over", file=sys.stderr)
        _remove_journal(path)
        return {}
    done = {}
    for number, line in enumerate(lines[1:], 2):
        record = _journal_line(path, number, line)
        check_record(path, number, record, proxies)
        model_id = record["ModelId"]
        if model_id <= len(schemes) and record["scheme"] == schemes[model_id - 1]:
            done[model_id] = (record["values"], record["seconds"])
    if torn:
        try:
            with open(path, "r+b") as f:
                f.truncate(len(raw) - len(torn))
        except OSError as e:
            raise output_error(path, e, "cut the torn last record off the journal") from None
    return done


# what append_record writes as line 1; a kill while writing it leaves a prefix of this shape
_HEADER_SHAPE = json.dumps({"settings": "#" * 16}).encode()


def _torn_header(piece):
    """Whether piece is the start of a header line (_HEADER_SHAPE, # standing for a hex digit)."""
    return len(piece) <= len(_HEADER_SHAPE) and all(
        byte == shape or (shape == ord("#") and chr(byte) in "0123456789abcdef")
        for byte, shape in zip(piece, _HEADER_SHAPE))


def _damaged(path, number, problem):
    return InputError(f"{path}: line {number}: {problem} (a damaged resume journal: delete it to start over)")


def _journal_line(path, number, line):
    try:
        return json.loads(line)
    except RecursionError:
        raise _damaged(path, number, "not valid JSON (nested too deep)") from None
    except ValueError as e:  # JSONDecodeError, bad UTF-8, an integer of more than 4300 digits
        raise _damaged(path, number, f"not valid JSON ({getattr(e, 'msg', e)})") from None


def _remove_journal(path):
    try:
        path.unlink()
    except OSError as e:
        raise output_error(path, e, "remove the journal") from None


def check_record(path, number, record, proxies):
    """InputError (_damaged) unless record is one append_record could have written for proxies:
    exactly its keys, a ModelId >= 1, and for every proxy a value (a whole number >= 0 for the
    counts, any number for the others: NaN and -inf included, as jacov, zen and nwot return them) and
    finite seconds >= 0."""
    if not isinstance(record, dict) or record.keys() != RECORD_KEYS:
        raise _damaged(path, number, f"expected a record with the keys {', '.join(sorted(RECORD_KEYS))}")
    model_id = record["ModelId"]
    if type(model_id) is not int or model_id < 1:  # type(): True is an int to isinstance
        raise _damaged(path, number, f"ModelId {reprlib.repr(model_id)}: expected a whole number >= 1")
    for field in ("values", "seconds"):
        given = record[field]
        if not isinstance(given, dict) or given.keys() != set(proxies):
            raise _damaged(path, number, f"ModelId {model_id}: {field}: expected one number for each of "
                                         f"{', '.join(proxies)}")
        for proxy in proxies:
            value = given[proxy]
            if field == "seconds":
                ok = type(value) is float and math.isfinite(value) and value >= 0
                kind = "a finite number of seconds >= 0"
            elif proxy in COUNTS:
                ok = type(value) is int and value >= 0
                kind = "a whole number >= 0"
            else:
                ok = type(value) in (int, float)  # type(): True is an int to isinstance
                kind = "a number, NaN or Infinity"
            if not ok:
                raise _damaged(path, number, f"ModelId {model_id}: {field} of {proxy}: "
                                             f"{reprlib.repr(value)}: expected {kind}")


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
    done = read_journal(journal, key, schemes, proxies)
    resumed = len(done)
    # One thread is what determinism needs here. torch.use_deterministic_algorithms is not set: it
    # concerns CUDA kernels and a few scatter/index ops, none of which these models use on the CPU
    # (and it imports torch's compiler stack, 3 s of CPU per run).
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        f = open(journal, "a")
    except OSError as e:  # a full disk: exit status 1, as for the journal's records
        raise output_error(journal, e, "write the journal") from None
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
