"""naap.training.loop: the fast loop equals the paper's DataLoader loop (tests/reference_training.py)
number for number and weight for weight, a bug in any recipe helper shows up as a difference, the
learning-rate schedule, and the initial model is models.seeded_net's."""
import ast

import pytest
import reference_training
import torch
from conftest import ROOT, SCHEMES, run_script
from synthetic_cifar import synthetic_cifar, write_cifar

import models
from naap.data.schemes import load_schemes
from naap.training import cifar10, loop, recipe


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """A data root of one full and one short training batch and a small test set."""
    root = tmp_path_factory.mktemp("tiny")
    write_cifar(root, **synthetic_cifar(300, 64))
    return root


def fast_run(scheme, data_root, epochs):
    """naap.training.loop's epochs (the code under test) on the files in data_root."""
    data = cifar10.to_device_data(cifar10.read_cifar(data_root), torch.device("cpu"))
    model, optimizer, criterion = loop.init_training(scheme, "cpu")
    return {"epochs": list(loop.fast_epochs(model, optimizer, criterion, data, 1, epochs)), "model": model}


def same_weights(reference_model, fast_model):
    theirs, ours = reference_model.weights(), list(fast_model.state_dict().values())
    return len(theirs) == len(ours) and all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(theirs, ours))


@pytest.mark.parametrize("model_id", [1, 10, 432])  # smallest, residual, most MACs
def test_fast_loop_equals_dataloader_loop(data_root, model_id):
    epochs = 4  # lr 0.1, 0.01, 0.001, then the reset to 0.1
    plain = reference_training.paper_run(SCHEMES[model_id - 1], data_root, epochs)
    fast = fast_run(SCHEMES[model_id - 1], data_root, epochs)
    assert [e[1] for e in fast["epochs"]] == [0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1]
    assert fast["epochs"] == plain["epochs"]
    assert same_weights(plain["model"], fast["model"])


def test_reference_loop_shares_no_code_with_the_loop_under_test():
    # the reference is the paper's recipe written out: it may use the libraries, not what it checks
    tree = ast.parse((ROOT / "tests" / "reference_training.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"random", "time", "numpy", "torch", "torchvision"}, imported


def _wrong_init_net(scheme, original=loop.Net):
    model = original(scheme)
    torch.nn.init.normal_(model.fc.weight, 0, 0.02)  # the recipe says normal(0, 0.01)
    return model


RECIPE_BUGS = {  # naap.training.loop helper -> a plausible bug in it
    "set_seed": lambda original: lambda seed=recipe.SEED: original(seed + 1),
    "lr_for_epoch": lambda original: lambda epoch: 0.1 * 0.5 ** ((epoch - 1) % 3),
    "loss_stats": lambda original: lambda losses: original(losses[1:]),  # the first batch left out
    "Net": lambda original: _wrong_init_net,
}


@pytest.mark.parametrize("helper", RECIPE_BUGS)
def test_reference_loop_catches_a_bug_in_the_recipe(tiny_root, monkeypatch, helper):
    # both loops run with the bug in place: when the reference called these helpers itself, the bug
    # appeared on both sides and the comparison passed
    monkeypatch.setattr(loop, helper, RECIPE_BUGS[helper](getattr(loop, helper)))
    plain = reference_training.paper_run(SCHEMES[0], tiny_root, 2)
    fast = fast_run(SCHEMES[0], tiny_root, 2)
    assert fast["epochs"] != plain["epochs"] or not same_weights(plain["model"], fast["model"])


def test_lr_schedule():
    assert [f"{loop.lr_for_epoch(e):g}" for e in range(1, 8)] == ["0.1", "0.01", "0.001", "0.1", "0.01", "0.001",
                                                                  "0.1"]


def test_seeded_net_is_the_recipes_initial_model(ref_dir):
    published = load_schemes(ref_dir / "generated_schemes.json")
    for model_id in (1, 10, 432):
        scheme = published[model_id - 1]
        recipe_model = loop.init_training(scheme, torch.device("cpu"))[0].state_dict()
        ours = models.seeded_net(scheme).state_dict()
        assert recipe_model.keys() == ours.keys()
        assert all(torch.equal(recipe_model[k], ours[k]) for k in ours)


def test_bench_training_finds_its_fixtures():
    # bench/bench_training.py imports tests.reference_training and tests.synthetic_cifar: as a module
    # run from the repository, and here under pytest
    result = run_script("bench/bench_training.py", "--help", cwd=ROOT)
    assert result.returncode == 0 and "--device" in result.stdout, result.stderr
    from bench import bench_training
    assert bench_training.write_cifar.__module__ == "tests.synthetic_cifar"
