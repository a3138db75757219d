"""naap.training.checkpoints: the lock of a scheme, a checkpoint that brings a run back to where it
was, and the check that a complete log belongs to this run."""
import random

import numpy as np
import pytest
import torch
from conftest import SCHEMES

from naap.cli import InputError
from naap.data.log_format import epoch_lines, header_lines, log_text, stamp
from naap.training import checkpoints, loop


def test_scheme_lock_is_removed_and_not_shared_with_a_stale_file(tmp_path):
    path = tmp_path / ".ckpt" / "scheme_1.lock"
    with checkpoints.scheme_lock(path):
        assert path.exists()
        with pytest.raises(RuntimeError, match="another run"):
            with checkpoints.scheme_lock(path):
                pass
    assert not path.exists()
    with pytest.raises(ZeroDivisionError):
        with checkpoints.scheme_lock(path):
            raise ZeroDivisionError
    assert not path.exists()  # removed however the block ends


def test_log_paths(tmp_path):
    paths = checkpoints.log_paths(tmp_path, 7)
    assert {k: p.relative_to(tmp_path).as_posix() for k, p in paths.items()} == {
        "final": "scheme_7.txt", "partial": "scheme_7.txt.partial", "ckpt": ".ckpt/scheme_7.pt",
        "lock": ".ckpt/scheme_7.lock"}


def test_checkpoint_restores_weights_optimizer_and_random_state(tmp_path):
    device = torch.device("cpu")
    model, optimizer, _ = loop.init_training(SCHEMES[0], device)
    lines = [stamp(m) for m in header_lines(SCHEMES[0], device, 1, 2)]
    path = tmp_path / "scheme_1.pt"
    checkpoints.save_checkpoint(path, 1, SCHEMES[0], device, 3, model, optimizer, lines)
    draws = (random.random(), np.random.random(), torch.rand(1))
    state = checkpoints.load_checkpoint(path, SCHEMES[0], device, epochs=3)
    assert state["epoch"] == 3 and state["lines"] == lines
    fresh, fresh_optimizer, _ = loop.init_training(SCHEMES[0], device)
    torch.nn.init.zeros_(fresh.fc.weight)
    checkpoints.restore(state, fresh, fresh_optimizer, device)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values()))
    assert (random.random(), np.random.random(), torch.rand(1)) == draws  # the same draws come next
    # a checkpoint of another scheme, or of a longer run, is not resumed
    assert checkpoints.load_checkpoint(path, SCHEMES[1], device, epochs=3) is None
    assert checkpoints.load_checkpoint(path, SCHEMES[0], device, epochs=2) is None
    path.write_bytes(b"torn")
    assert checkpoints.load_checkpoint(path, SCHEMES[0], device, epochs=3) is None


def test_complete_log_must_be_of_this_scheme_and_length(tmp_path):
    path = tmp_path / "scheme_1.txt"
    messages = header_lines(SCHEMES[0], "cpu", 1, 2) + epoch_lines(1, 0.1, 2.0, 2.0, 0.1) + \
        epoch_lines(2, 0.01, 1.5, 1.5, 0.2)
    path.write_text(log_text([stamp(m) for m in messages]))
    checkpoints.check_complete_log(path, SCHEMES[0], 2)
    with pytest.raises(InputError, match="has 2 epochs, this run trains 3"):
        checkpoints.check_complete_log(path, SCHEMES[0], 3)
    with pytest.raises(InputError, match="complete log of another scheme"):
        checkpoints.check_complete_log(path, SCHEMES[1], 2)
