"""The NAAP-440 CNN: built from a scheme (a list of layer dicts), with parameter and MAC counts.

A scheme is a list of layers {"kernel_size": odd int, "width": int > 0, "stride": 1|2,
"residual": bool}. Each layer is Conv2d(bias=False, padding=kernel//2) -> BatchNorm2d -> ReLU; a
residual layer adds its input to its output after the ReLU. Then global average pooling and a
Linear(width, 10) classifier. Counts use thop on one 1x3x32x32 image, which reproduces the
NumParams and NumMACs columns of naap440.csv for all 440 schemes.

seeded_net(scheme) builds the model with the weights it starts training from in create_dataset.py
(the recipe seeds Python's, NumPy's and torch's generators with RECIPE_SEED just before building it).

Example: python -c "import models; print(models.count_params_and_macs([{'kernel_size': 3, \
'width': 12, 'stride': 2, 'residual': False}]))"
"""
import random
import reprlib

import numpy as np
import torch
import torch.nn as nn

from naap.training.cifar10 import IMAGE_SHAPE, NUM_CLASSES
from naap.training.recipe import SEED as RECIPE_SEED  # the training recipe's seed

IN_CHANNELS = IMAGE_SHAPE[0]
INPUT_SHAPE = (1, *IMAGE_SHAPE)  # one CIFAR-10 image
LAYER_KEYS = {"kernel_size": int, "width": int, "stride": int, "residual": bool}

# Upper bounds of a valid scheme, so that a hostile or mistyped one is refused as bad input instead
# of failing (or exhausting memory) when its model is built. The 440 published schemes have at
# most 4 layers, width 40, kernel 3, 22,954 parameters and 10,240 activations; these are orders
# of magnitude above that, and still a model that fits in memory when trained (batch 256).
MAX_LAYERS = 64
MAX_WIDTH = 2048  # output channels of a layer
MAX_KERNEL_SIZE = 15
MAX_PARAMS = 50_000_000  # conv weights + batch-norm affine + classifier (200 MB of float32)
MAX_ACTIVATIONS = 4_000_000  # layer output elements for one 3x32x32 image, summed over the layers

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlevel = 3


def _show(value):
    """A short repr for messages: a hostile value may be huge or nested thousands deep."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # an int too long for str()
        return f"<{type(value).__name__}>"


def scheme_size(scheme):
    """(parameters, activations) of a valid scheme, computed without building it: the parameters
    (equal to thop's count, NumParams, for all 440 published schemes) and the elements of the
    layer outputs for one 32x32 image."""
    params = activations = 0
    channels, size = IN_CHANNELS, INPUT_SHAPE[-1]
    for layer in scheme:
        k, w = layer["kernel_size"], layer["width"]
        size = -(-size // layer["stride"])  # padding k // 2 keeps the size, stride 2 halves it (rounding up)
        params += k * k * channels * w + 2 * w
        activations += w * size * size
        channels = w
    return params + channels * NUM_CLASSES + NUM_CLASSES, activations


def validate_scheme(scheme, where="scheme"):
    """Raise ValueError with a readable message unless scheme is a buildable NAAP-440 scheme.

    `where` prefixes the message (e.g. "schemes.json: scheme 7") so callers can name the file.
    """
    if not isinstance(scheme, list) or not scheme:
        raise ValueError(f"{where}: expected a non-empty list of layers, got {type(scheme).__name__}")
    if len(scheme) > MAX_LAYERS:
        raise ValueError(f"{where}: {len(scheme)} layers, at most {MAX_LAYERS} (models.MAX_LAYERS)")
    channels = IN_CHANNELS
    for i, layer in enumerate(scheme, 1):
        at = f"{where}, layer {i}"
        if not isinstance(layer, dict):
            raise ValueError(f"{at}: expected an object, got {type(layer).__name__}")
        missing = [k for k in LAYER_KEYS if k not in layer]
        if missing:
            raise ValueError(f"{at}: missing key(s) {', '.join(missing)}")
        unknown = sorted(set(layer) - set(LAYER_KEYS), key=str)
        if unknown:
            shown = [k if isinstance(k, str) and len(k) <= 40 and k.isprintable() else _show(k)
                     for k in unknown[:5]]
            raise ValueError(f"{at}: unknown key(s) {', '.join(shown)}{', ...' if len(unknown) > 5 else ''}")
        for key, typ in LAYER_KEYS.items():
            value = layer[key]
            # bool is a subclass of int: a kernel_size of True is a mistake, not a 1.
            if type(value) is not typ:
                raise ValueError(f"{at}: {key} must be {typ.__name__}, got {_show(value)}")
        if layer["width"] <= 0:
            raise ValueError(f"{at}: width must be positive, got {_show(layer['width'])}")
        if layer["width"] > MAX_WIDTH:
            raise ValueError(f"{at}: width must be at most {MAX_WIDTH} (models.MAX_WIDTH), got {_show(layer['width'])}")
        if layer["kernel_size"] <= 0 or layer["kernel_size"] % 2 == 0:
            raise ValueError(f"{at}: kernel_size must be a positive odd number, got {_show(layer['kernel_size'])}")
        if layer["kernel_size"] > MAX_KERNEL_SIZE:
            raise ValueError(f"{at}: kernel_size must be at most {MAX_KERNEL_SIZE} (models.MAX_KERNEL_SIZE), "
                             f"got {_show(layer['kernel_size'])}")
        if layer["stride"] not in (1, 2):
            raise ValueError(f"{at}: stride must be 1 or 2, got {_show(layer['stride'])}")
        if layer["residual"] and (layer["stride"] != 1 or layer["width"] != channels):
            raise ValueError(f"{at}: a residual needs stride 1 and the previous width ({channels}), "
                             f"got stride {layer['stride']}, width {layer['width']}")
        channels = layer["width"]
    params, activations = scheme_size(scheme)
    if params > MAX_PARAMS:
        raise ValueError(f"{where}: {params:,} parameters, at most {MAX_PARAMS:,} (models.MAX_PARAMS)")
    if activations > MAX_ACTIVATIONS:
        raise ValueError(f"{where}: {activations:,} activations per image, at most {MAX_ACTIVATIONS:,} "
                         "(models.MAX_ACTIVATIONS)")


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
    three global generators seeded as its set_seed() seeds them, then the model built."""
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
