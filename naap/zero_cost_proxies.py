"""Zero-cost proxies: scores of a CNN at initialization that are cheap to compute and are meant to
rank architectures by their accuracy after training.

Each proxy is a function of a model (and, for the data proxies, of one minibatch x, y) that returns
a Python float. It works on a copy of the model, so the caller's model is never changed and the
proxies can be computed in any order. The definitions follow the papers and their reference
implementations (NASLib's predictors/utils/pruners/measures, SamsungLabs/zero-cost-nas, idstcv/ZenNAS,
FreeREA); where those sum per-weight scores, the sum runs over the weights of the Conv2d and Linear
layers, as theirs does.

Data-free:
- num_params: trainable parameters.
- synflow (Tanaka et al. 2020): BatchNorm bypassed (NASLib's synflow, bn=False), every weight and
  buffer made positive, float64, one all-ones input; R = sum of the outputs;
  score = sum |theta * dR/dtheta|.
- logsynflow (Cavagnero et al. 2023, FreeREA): as synflow with the gradient replaced by
  log(dR/dtheta + 1): score = sum |theta * log(1 + dR/dtheta)|.
- zen (Lin et al. 2021, Zen-NAS): weights redrawn from N(0, 1) (BatchNorm weight 1, bias 0), model in
  training mode; x, e ~ N(0, 1), x' = x + ZEN_GAMMA * e; delta = batch mean of sum |f(x) - f(x')| over
  the features f before global average pooling; score = log(delta) + sum over BatchNorm layers of
  log sqrt(mean running_var), running_var as the two forward passes leave it (default momentum),
  exactly as ZenNAS's compute_zen_score does. Random draws come from a private generator seeded with
  `seed`: same model, same score.
- l2_norm: sqrt of the sum of squares of all trainable parameters (one norm over the whole model;
  NASLib's l2_norm instead sums the per-layer norms of the Conv2d/Linear weights).

On one minibatch (the model in training mode, so BatchNorm uses the batch statistics):
- nwot (Mellor et al. 2021): binary codes c (input of each ReLU > 0, all ReLUs concatenated) of the
  N images; K = c c^T + (1 - c)(1 - c)^T; score = log |det K|.
- jacov (Mellor et al. 2021, v1): J = d sum(outputs) / d input per image; C = correlation matrix of the
  N rows of J, eigenvalues v; score = -sum(log(v + k) + 1 / (v + k)), k = JACOV_K. NaN when C is
  undefined (an image with a constant Jacobian).
- snip (Lee et al. 2019): sum |theta * dL/dtheta| (= |dL/dmask| at mask 1), L = cross-entropy.
- grad_norm: sum over layers of the l2 norm of dL/dW (per layer, then summed, as NASLib).
- fisher (Turner et al. 2020): per output channel of each layer, 0.5 * batch mean of
  (sum over positions of activation * dL/dactivation)^2, activation = the layer's output; NASLib
  spreads each channel's value over the channel's weights before summing, and so does this sum
  (each channel counts in_channels * kh * kw times; in_features times for Linear).
- grasp (Wang et al. 2020): g = dL/dtheta (constant), Hg = d(g . dL/dtheta)/dtheta;
  score = sum -theta * Hg (NASLib's sign).

Example: python -c "import models; from naap import zero_cost_proxies as z; print(z.synflow(models.seeded_net( \\
[{'kernel_size': 3, 'width': 12, 'stride': 2, 'residual': False}])))"
"""
import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from naap.data.schemes import INPUT_SHAPE  # one CIFAR-10 image: synflow's all-ones input

ZEN_BATCH = 64  # Gaussian images per zen score
ZEN_GAMMA = 1e-2  # zen's perturbation size (ZenNAS's mixup_gamma)
ZEN_SEED = 0  # zen's private generator: the weights and the two input batches
JACOV_K = 1e-5  # jacov's eigenvalue offset


def _scored_layers(model):
    """The layers whose weights the per-weight proxies score: Conv2d and Linear, in module order."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _without_batchnorm(model):
    """A copy of the model with every BatchNorm layer replaced by an identity."""
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name), child, nn.Identity())
    return model


# ---------------------------------------------------------------- data-free

def num_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def l2_norm(model):
    with torch.no_grad():
        return math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in model.parameters() if p.requires_grad))


def _synflow_grads(model, input_shape):
    """(layers, weights, dR/dweights) of synflow's linearized float64 copy of the model."""
    net = _without_batchnorm(model).double()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            tensor.abs_()
    net.zero_grad()
    net(torch.ones(input_shape, dtype=torch.float64)).sum().backward()
    layers = _scored_layers(net)
    return [layer.weight.detach() for layer in layers], [layer.weight.grad for layer in layers]


def synflow(model, input_shape=INPUT_SHAPE):
    weights, grads = _synflow_grads(model, input_shape)
    return float(sum((w * g).abs().sum() for w, g in zip(weights, grads) if g is not None))


def logsynflow(model, input_shape=INPUT_SHAPE):
    weights, grads = _synflow_grads(model, input_shape)
    return float(sum((w * torch.log1p(g)).abs().sum() for w, g in zip(weights, grads) if g is not None))


def zen(model, batch=ZEN_BATCH, gamma=ZEN_GAMMA, seed=ZEN_SEED, image_shape=INPUT_SHAPE[1:]):
    """Zen-score of a models.Net (features before global average pooling = the input of model.pool)."""
    net = copy.deepcopy(model).train()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1)
                m.bias.zero_()
        x = torch.randn((batch, *image_shape), generator=gen)
        noise = torch.randn((batch, *image_shape), generator=gen)
        features = []
        hook = net.pool.register_forward_pre_hook(lambda module, inputs: features.append(inputs[0]))
        try:
            net(x)
            net(x + gamma * noise)
        finally:
            hook.remove()
        delta = (features[0] - features[1]).abs().sum(dim=(1, 2, 3)).mean()
        bn_log_scale = sum(math.log(math.sqrt(float(m.running_var.mean())))
                           for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    delta = float(delta)
    return (math.log(delta) if delta > 0 else -math.inf) + bn_log_scale


# ---------------------------------------------------------------- on one minibatch

def nwot(model, x):
    net = copy.deepcopy(model).train()
    n = len(x)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def add_codes(module, inputs, output):  # ReLU(z) > 0 exactly where z > 0 (the ReLUs work in place)
        nonlocal kernel
        codes = (output.detach() > 0).flatten(1).double()
        kernel = kernel + codes @ codes.T + (1 - codes) @ (1 - codes).T

    hooks = [m.register_forward_hook(add_codes) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    return float(np.linalg.slogdet(kernel.numpy())[1])


def jacov(model, x):
    net = copy.deepcopy(model).train()
    x = x.detach().clone().requires_grad_(True)
    net(x).sum().backward()  # row i of the Jacobian of the summed outputs: image i's input gradient
    jac = x.grad.reshape(len(x), -1).double().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jac)
    if not np.all(np.isfinite(corr)):
        return math.nan
    v = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(v + JACOV_K) + 1.0 / (v + JACOV_K)))


def _loss_grads(model, x, y):
    """(weights, dL/dweights) of a training-mode copy of the model on one minibatch."""
    net = copy.deepcopy(model).train()
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    layers = _scored_layers(net)
    return [layer.weight.detach() for layer in layers], [layer.weight.grad for layer in layers]


def snip(model, x, y):
    weights, grads = _loss_grads(model, x, y)
    return float(sum((w * g).abs().sum() for w, g in zip(weights, grads)))


def grad_norm(model, x, y):
    _, grads = _loss_grads(model, x, y)
    return float(sum(g.norm() for g in grads))


def fisher(model, x, y):
    net = copy.deepcopy(model).train()
    layers = _scored_layers(net)
    per_channel = {}  # layer index -> per-output-channel fisher

    def capture(index):
        def forward_hook(module, inputs, output):
            act = output.detach()

            def grad_hook(grad):
                g = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
                value = 0.5 * g.pow(2).mean(0)
                per_channel[index] = per_channel.get(index, 0) + value

            output.register_hook(grad_hook)
        return forward_hook

    hooks = [layer.register_forward_hook(capture(i)) for i, layer in enumerate(layers)]
    try:
        net.zero_grad()
        F.cross_entropy(net(x), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    total = 0.0
    for i, layer in enumerate(layers):
        if i in per_channel:
            weights_per_channel = layer.weight[0].numel()
            total += float(per_channel[i].abs().sum()) * weights_per_channel
    return total


def grasp(model, x, y):
    net = copy.deepcopy(model).train()
    weights = [layer.weight for layer in _scored_layers(net)]
    g = torch.autograd.grad(F.cross_entropy(net(x), y), weights)
    grad_f = torch.autograd.grad(F.cross_entropy(net(x), y), weights, create_graph=True)
    z = sum((gi.detach() * fi).sum() for gi, fi in zip(g, grad_f))
    hg = torch.autograd.grad(z, weights)
    return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg)))


DATA_FREE = {"#params": num_params, "synflow": synflow, "logsynflow": logsynflow, "zen": zen, "l2_norm": l2_norm}
WITH_DATA = {"nwot": lambda m, x, y: nwot(m, x), "jacov": lambda m, x, y: jacov(m, x), "snip": snip,
             "grad_norm": grad_norm, "fisher": fisher, "grasp": grasp}
