"""NAAP-440 schemes without torch: reading a schemes file, checking a scheme, sizing it.

A scheme is a list of layers {"kernel_size": odd int, "width": int > 0, "stride": 1|2,
"residual": bool}: the CNN that models.Net builds from it. This module holds what needs no model:
validate_scheme (with the limits that keep a hostile or mistyped scheme from exhausting memory),
scheme_size (parameters and activations, computed) and load_schemes (a schemes JSON file, each
scheme validated). Light on purpose (no torch or numpy): data_dir_to_csv.py checks the scheme in
every log with it; models.py, create_dataset.py and zero_cost.py use it too.

Example: python -c "from naap.data.schemes import scheme_size; print(scheme_size([{'kernel_size': 3, \
'width': 12, 'stride': 2, 'residual': False}]))"
"""
import reprlib

from naap.cli import InputError
from naap.input_files import read_json
from naap.training.recipe import IMAGE_SHAPE, NUM_CLASSES

IN_CHANNELS = IMAGE_SHAPE[0]
INPUT_SHAPE = (1, *IMAGE_SHAPE)  # one CIFAR-10 image
LAYER_KEYS = {"kernel_size": int, "width": int, "stride": int, "residual": bool}

# Upper bounds of a valid scheme, so that a hostile or mistyped one is refused as bad input instead
# of failing (or exhausting memory) when its model is built. The 440 published schemes have at
# most 4 layers, width 40, kernel 3, 22,954 parameters and 10,240 activations; these are orders
# of magnitude above that, and still a model that fits in memory when trained (batch 256).
# The messages name them models.<NAME>, as they always have: models.py re-exports them.
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


def load_schemes(path):
    """The schemes list from a JSON file, each validated; InputError naming the file otherwise."""
    schemes = read_json(path)
    if not isinstance(schemes, list) or not schemes:
        raise InputError(f"{path}: expected a non-empty JSON list of schemes, got {type(schemes).__name__}")
    for model_id, scheme in enumerate(schemes, 1):
        try:
            validate_scheme(scheme, f"{path}: ModelId {model_id}")
        except ValueError as e:
            raise InputError(str(e)) from None
    return schemes
