"""The NAAP-440 CNN: built from a scheme (a list of layer dicts), with parameter and MAC counts.

A scheme is a list of layers {"kernel_size": odd int, "width": int > 0, "stride": 1|2,
"residual": bool}. Each layer is Conv2d(bias=False, padding=kernel//2) -> BatchNorm2d -> ReLU; a
residual layer adds its input to its output after the ReLU. Then global average pooling and a
Linear(width, 10) classifier. Counts use thop on one 1x3x32x32 image, which reproduces the
NumParams and NumMACs columns of naap440.csv for all 440 schemes.

seeded_net(scheme) builds the model with the weights it starts training from in create_dataset.py
(naap.training.loop seeds Python's, NumPy's and torch's generators with RECIPE_SEED just before
building it). Checking a scheme needs no torch: validate_scheme, scheme_size and the limits live in
naap.data.schemes and are re-exported here.

Example: python -c "import models; print(models.count_params_and_macs([{'kernel_size': 3, \
'width': 12, 'stride': 2, 'residual': False}]))"
"""
import random

import numpy as np
import torch
import torch.nn as nn

from naap.data.schemes import (  # noqa: F401  (the scheme checks and limits, re-exported for models.X)
    IN_CHANNELS,
    INPUT_SHAPE,
    MAX_ACTIVATIONS,
    MAX_KERNEL_SIZE,
    MAX_LAYERS,
    MAX_PARAMS,
    MAX_WIDTH,
    scheme_size,
    validate_scheme,
)
from naap.training.recipe import NUM_CLASSES
from naap.training.recipe import SEED as RECIPE_SEED  # the training recipe's seed


class Net(nn.Module):
    def __init__(self, scheme):
        super().__init__()
        validate_scheme(scheme)
        self.residual = [layer["residual"] for layer in scheme]
        layers, channels = [], IN_CHANNELS
        for layer in scheme:
            k, w = layer["kernel_size"], layer["width"]
            layers.append(nn.Sequential(
                nn.Conv2d(channels, w, k, stride=layer["stride"], padding=k // 2, bias=False),
                nn.BatchNorm2d(w),
                nn.ReLU(inplace=True),
            ))
            channels = w
        self.layers = nn.ModuleList(layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, NUM_CLASSES)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        for layer, residual in zip(self.layers, self.residual):
            x = layer(x) + x if residual else layer(x)
        return self.fc(torch.flatten(self.pool(x), 1))


def seeded_net(scheme, seed=RECIPE_SEED):
    """Net(scheme) with the initial weights of create_dataset.py's training run of that scheme: the
    three global generators seeded as naap.training.loop.set_seed() seeds them, then the model built."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # all devices
    return Net(scheme)


def count_params_and_macs(scheme):
    """(params, MACs) as thop counts them for one 1x3x32x32 image, model in eval mode."""
    import thop  # slow to import and chatty; only the callers that count need it

    model = Net(scheme).eval()
    with torch.no_grad():
        macs, params = thop.profile(model, inputs=(torch.zeros(INPUT_SHAPE),), verbose=False)
    return int(params), int(macs)
