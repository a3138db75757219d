"""naap/zero_cost_proxies.py: the proxies checked by hand on tiny models, and each leaves the model
alone and gives the same value twice (zero_cost.py's tests run them through the script)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import models
from naap import zero_cost_proxies as zcp


def test_params_and_l2_norm_by_hand(schemes):
    model = models.seeded_net(schemes[9])
    arrays = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    assert zcp.num_params(model) == sum(a.size for a in arrays) == models.count_params_and_macs(schemes[9])[0]
    assert zcp.l2_norm(model) == pytest.approx(math.sqrt(sum(float((a ** 2).sum()) for a in arrays)), rel=1e-12)


def test_synflow_by_hand():
    torch.manual_seed(0)
    one = nn.Linear(3, 2)  # R = sum_j (sum_i |W_ji| + |b_j|): dR/dW = 1, so synflow = sum |W|
    w = one.weight.detach().double().numpy()
    assert zcp.synflow(one, (1, 3)) == pytest.approx(np.abs(w).sum(), rel=1e-12)
    assert zcp.logsynflow(one, (1, 3)) == pytest.approx(np.abs(w).sum() * math.log(2), rel=1e-12)
    two = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    w1, w2 = (np.abs(m.weight.detach().double().numpy()) for m in (two[0], two[3]))
    b1 = np.abs(two[0].bias.detach().double().numpy())
    # R = 1^T |W2| (|W1| 1 + |b1|) + sum |b2| (BatchNorm bypassed, everything positive: ReLU passes all)
    grad_w1 = np.outer(w2.sum(0), np.ones(3))  # dR/dW1_ji = sum_k |W2_kj|
    grad_w2 = np.outer(np.ones(2), w1.sum(1) + b1)  # dR/dW2_kj = sum_i |W1_ji| + |b1_j|
    assert zcp.synflow(two, (1, 3)) == pytest.approx((w1 * grad_w1).sum() + (w2 * grad_w2).sum(), rel=1e-12)
    assert zcp.logsynflow(two, (1, 3)) == pytest.approx(
        (w1 * np.log1p(grad_w1)).sum() + (w2 * np.log1p(grad_w2)).sum(), rel=1e-12)


def test_nwot_and_snip_by_hand():
    torch.manual_seed(0)
    x = torch.randn(6, 5)
    relu_only = nn.Sequential(nn.ReLU())
    c = (x.numpy() > 0).astype(np.float64)
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    assert zcp.nwot(relu_only, x) == pytest.approx(np.linalg.slogdet(kernel)[1], rel=1e-12)
    linear = nn.Linear(5, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    logits = x.double().numpy() @ linear.weight.detach().double().numpy().T + linear.bias.detach().double().numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dlogits = (p - np.eye(3)[y.numpy()]) / len(y)  # mean cross-entropy
    grad_w = dlogits.T @ x.double().numpy()
    w = linear.weight.detach().double().numpy()
    assert zcp.snip(linear, x, y) == pytest.approx(np.abs(w * grad_w).sum(), rel=1e-5)
    assert zcp.grad_norm(linear, x, y) == pytest.approx(np.linalg.norm(grad_w), rel=1e-5)


def test_proxies_leave_the_model_alone_and_repeat(schemes, as_zero_cost):
    model = models.seeded_net(schemes[9])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    first = {n: f(model) for n, f in zcp.DATA_FREE.items()} | {n: f(model, x, y) for n, f in zcp.WITH_DATA.items()}
    torch.manual_seed(2)  # zen draws from its own generator: the global one does not matter
    again = {n: f(model) for n, f in zcp.DATA_FREE.items()} | {n: f(model, x, y) for n, f in zcp.WITH_DATA.items()}
    assert first == again
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training
