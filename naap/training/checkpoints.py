"""The files a crash-safe training run keeps in RAW_DIR, per scheme, and the lock that keeps two
runs off the same scheme.

A log is RAW_DIR/scheme_<ModelId>.txt only once complete; until then it is
scheme_<ModelId>.txt.partial, and RAW_DIR/.ckpt/scheme_<ModelId>.pt holds the model, the optimizer,
every RNG state and the log lines at the last finished epoch (written atomically), so a run killed
at any point resumes to the same numbers (naap.training.loop.train_scheme). The lock file
RAW_DIR/.ckpt/scheme_<ModelId>.lock is held while a scheme trains and removed when it ends.

Example: python -c "from naap.training.checkpoints import log_paths; print(log_paths('raw_data', 7))"
"""
import contextlib
import fcntl
import io
import os
import random
import stat
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from naap.cli import InputError
from naap.data.log_format import LOG_FILE, logged_epochs, scheme_line, unstamped
from naap.files import atomic_write_bytes
from naap.input_files import input_error

CKPT_DIR = ".ckpt"
PARTIAL_SUFFIX = ".partial"


def log_paths(raw_dir, model_id):
    """{'final', 'partial', 'ckpt', 'lock'}: the paths of one scheme's files."""
    raw_dir = Path(raw_dir)
    final = raw_dir / LOG_FILE.format(model_id)
    return {"final": final, "partial": final.with_name(final.name + PARTIAL_SUFFIX),
            "ckpt": raw_dir / CKPT_DIR / f"{final.stem}.pt",
            "lock": raw_dir / CKPT_DIR / f"{final.stem}.lock"}


def check_complete_log(path, scheme, epochs):
    """A complete log must be of this scheme and this many epochs, or the run would mix experiments."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a named pipe would block the read forever
            raise InputError(f"{path}: not a regular file, expected a complete log")
        lines = path.read_text().splitlines()
    except OSError as e:
        raise input_error(path, e, "complete log") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: cannot read the complete log ({e})") from None
    logged = unstamped(lines[0]) if lines else ""
    if logged != scheme_line(scheme):
        raise InputError(f"{path}: complete log of another scheme than ModelId's in the schemes file")
    done = logged_epochs(lines)
    if done != epochs:
        raise InputError(f"{path}: complete log has {done} epochs, this run trains {epochs} "
                         f"(use another RAW_DIR)")


def save_checkpoint(path, model_id, scheme, device, epoch, model, optimizer, lines):
    """Write the state at the end of EPOCH atomically: a kill leaves the previous checkpoint whole."""
    state = {"model_id": model_id, "scheme": scheme, "device_type": device.type, "epoch": epoch,
             "model": model.state_dict(), "optimizer": optimizer.state_dict(), "lines": lines,
             "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                     "torch": torch.get_rng_state(),
                     "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path, scheme, device, epochs):
    """The checkpoint if it can continue this run, else None (it is then overwritten)."""
    if not path.exists():
        return None
    try:
        # Our own file, holding RNG states that weights_only refuses.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        tqdm.write(f"warning: {path}: unreadable checkpoint ({type(e).__name__}), starting over")
        return None
    if state.get("scheme") != scheme or state.get("device_type") != device.type or state.get("epoch", 0) > epochs:
        tqdm.write(f"warning: {path}: checkpoint of another scheme, device type or longer run, starting over")
        return None
    return state


def restore(state, model, optimizer, device):
    """Put a checkpoint's weights, optimizer and RNG states back, so the next epoch is the one it missed."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rng = state["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] is not None:
        torch.cuda.set_rng_state(rng["cuda"], device)


@contextlib.contextmanager
def scheme_lock(path):
    """Hold an exclusive flock on PATH (made if absent) for the block, then remove the file.

    RuntimeError if another run holds it. The file is removed while still held, however the block
    ends (done, failed, Ctrl-C); a run that opened it just before is sent round again (the inode
    check), so two runs never hold locks on different files of the same name.
    """
    for _ in range(100):
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path, "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise RuntimeError(f"{path}: another run is training this scheme") from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(lock.fileno()), current):
            break
        lock.close()  # its holder removed it after we opened it: lock the file now at PATH
    else:
        raise RuntimeError(f"{path}: lock file keeps being replaced")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.close()
