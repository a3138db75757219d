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


class OneLayer(nn.Module):
    """A one-layer scheme in small: conv, BatchNorm, ReLU, global average pooling, linear head."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.relu = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.bn(self.conv(x)))), 1))


def by_hand(p, x):
    """(conv output, logits) of OneLayer with parameters p, BatchNorm on the batch's statistics."""
    z = torch.nn.functional.conv2d(x, p["conv.weight"], p["conv.bias"], padding=1)
    mean, var = z.mean((0, 2, 3), keepdim=True), z.var((0, 2, 3), unbiased=False, keepdim=True)
    h = (z - mean) / torch.sqrt(var + 1e-5) * p["bn.weight"][:, None, None] + p["bn.bias"][:, None, None]
    return z, torch.clamp(h, min=0).mean((2, 3)) @ p["fc.weight"].T + p["fc.bias"]


def cross_entropy(logits, y):
    return (torch.logsumexp(logits, 1) - logits[torch.arange(len(y)), y]).mean()


@pytest.fixture
def one_layer():
    torch.manual_seed(3)
    model = OneLayer().double()
    with torch.no_grad():  # BatchNorm's affine away from 1, 0 so that it counts
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
    x, y = torch.randn(4, 3, 5, 5, dtype=torch.float64), torch.tensor([0, 1, 2, 1])
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    return model, x, y, params


def test_jacov_by_hand(one_layer):
    model, x, y, p = one_layer
    # Jacobian of the summed logits by central differences (the batch's images interact through BatchNorm)
    step, flat = 1e-6, x.reshape(-1)
    jac = np.zeros(flat.numel())
    for i in range(flat.numel()):
        up, down = flat.clone(), flat.clone()
        up[i] += step
        down[i] -= step
        difference = by_hand(p, up.reshape(x.shape))[1].sum() - by_hand(p, down.reshape(x.shape))[1].sum()
        jac[i] = float(difference) / (2 * step)
    rows = jac.reshape(len(x), -1)
    centred = rows - rows.mean(1, keepdims=True)
    unit = centred / np.sqrt((centred ** 2).sum(1, keepdims=True))
    v = np.linalg.eigvalsh(unit @ unit.T)  # the rows' correlation matrix
    assert zcp.jacov(model, x) == pytest.approx(-np.sum(np.log(v + zcp.JACOV_K) + 1 / (v + zcp.JACOV_K)), rel=1e-7)


def test_fisher_by_hand(one_layer):
    model, x, y, p = one_layer
    z, logits = by_hand({k: v.requires_grad_(True) for k, v in p.items()}, x)
    dz, dlogits = torch.autograd.grad(cross_entropy(logits, y), (z, logits))
    z, logits = z.detach(), logits.detach()
    conv = 0.5 * ((z * dz).sum((2, 3)) ** 2).mean(0)  # per output channel
    head = 0.5 * ((logits * dlogits) ** 2).mean(0)  # the linear head's activation is its output
    # each channel's value counts once per weight of the channel: 3 * 3 * 3 for the conv, 4 for the head
    expected = float(conv.abs().sum()) * 27 + float(head.abs().sum()) * 4
    assert zcp.fisher(model, x, y) == pytest.approx(expected, rel=1e-10)


def test_grasp_by_hand(one_layer):
    model, x, y, p = one_layer
    names = ("conv.weight", "fc.weight")  # Conv2d and Linear weights; biases and BatchNorm stay put

    def loss_grad(shift):
        q = {k: v.clone().requires_grad_(k in names) for k, v in p.items()}
        for k, s in zip(names, shift):
            q[k] = q[k] + s
        return torch.autograd.grad(cross_entropy(by_hand(q, x)[1], y), [q[k] for k in names])

    g = loss_grad((0.0, 0.0))
    # Hg by central differences of the gradient along g (no second derivatives taken)
    step = 1e-4
    up, down = loss_grad([step * gi for gi in g]), loss_grad([-step * gi for gi in g])
    hg = [(u - d) / (2 * step) for u, d in zip(up, down)]
    expected = float(sum((-p[k] * h).sum() for k, h in zip(names, hg)))
    assert zcp.grasp(model, x, y) == pytest.approx(expected, rel=2e-7)


def test_zen_by_hand():
    torch.manual_seed(3)
    model, batch, shape, gamma = OneLayer(), 4, (3, 5, 5), zcp.ZEN_GAMMA
    # zen's private draws in its order: the conv's then the head's weights (N(0, 1), biases 0), then x, e
    gen = torch.Generator().manual_seed(7)
    conv_w, fc_w = torch.randn((4, 3, 3, 3), generator=gen), torch.randn((3, 4), generator=gen)
    x, e = torch.randn((batch, *shape), generator=gen), torch.randn((batch, *shape), generator=gen)
    features, running_var = [], np.ones(4)
    for images in (x, x + gamma * e):
        z = torch.nn.functional.conv2d(images.double(), conv_w.double(), padding=1).numpy()
        mean, var = z.mean((0, 2, 3), keepdims=True), z.var((0, 2, 3), keepdims=True)
        features.append(np.maximum((z - mean) / np.sqrt(var + 1e-5), 0))
        m = z[:, 0].size  # BatchNorm's running variance is updated with the unbiased batch variance
        running_var = 0.9 * running_var + 0.1 * var.ravel() * m / (m - 1)
    delta = np.abs(features[0] - features[1]).sum((1, 2, 3)).mean()
    expected = math.log(delta) + math.log(math.sqrt(running_var.mean()))
    assert fc_w.shape == model.fc.weight.shape  # drawn, though the head is after the features
    # zen runs in float32: the features' difference (size gamma) keeps about 5 digits
    assert zcp.zen(model, batch=batch, seed=7, image_shape=shape) == pytest.approx(expected, abs=3e-5)
