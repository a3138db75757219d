"""naap.data.schemes: every published scheme passes validate_scheme, which refuses each bad one in
one line (and models.Net with it), far below the bounds; a schemes file is read with every scheme
checked, sizes are computed without a model, and none of it needs torch."""
import copy
import json
import subprocess
import sys

import pytest
from conftest import ROOT

from models import Net
from naap.cli import InputError
from naap.data.schemes import (
    MAX_ACTIVATIONS,
    MAX_KERNEL_SIZE,
    MAX_LAYERS,
    MAX_PARAMS,
    MAX_WIDTH,
    load_schemes,
    scheme_size,
    validate_scheme,
)

LAYER = {"kernel_size": 3, "width": 8, "stride": 1, "residual": False}
GOOD_LAYER = {"kernel_size": 3, "width": 12, "stride": 2, "residual": False}


def test_load_schemes(tmp_path, ref_dir):
    schemes = load_schemes(ref_dir / "generated_schemes.json")
    assert len(schemes) == 440 and schemes == json.loads((ROOT / "generated_schemes.json").read_text())


@pytest.mark.parametrize("content, message", [
    ("{}", "expected a non-empty JSON list of schemes, got dict"),
    ("[]", "expected a non-empty JSON list of schemes, got list"),
    ("[", "not valid JSON"),
    (json.dumps([[LAYER], 5]), "ModelId 2: expected a non-empty list of layers, got int"),
    (json.dumps([[LAYER], [{**LAYER, "kernel_size": 2}]]), "ModelId 2, layer 1: kernel_size must be a positive odd"),
])
def test_load_schemes_names_the_file_and_the_scheme(tmp_path, content, message):
    path = tmp_path / "schemes.json"
    path.write_text(content)
    with pytest.raises(InputError, match=f"^{path}: .*{message}"):
        load_schemes(path)


def test_scheme_size_by_hand():
    scheme = [{"kernel_size": 3, "width": 12, "stride": 2, "residual": False},
              {"kernel_size": 1, "width": 12, "stride": 1, "residual": True}]
    # conv 3x3x3x12 + BatchNorm 2x12, conv 1x1x12x12 + BatchNorm 2x12, Linear 12x10 + 10; 16x16 outputs
    assert scheme_size(scheme) == (3 * 3 * 3 * 12 + 24 + 12 * 12 + 24 + 12 * 10 + 10, 2 * 12 * 16 * 16)


def test_schemes_need_no_torch():
    code = "import sys, naap.data.schemes; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_published_schemes_are_valid(schemes):
    for scheme in schemes:
        validate_scheme(scheme)


def with_layer(**changes):
    """A two-layer scheme whose second layer has `changes` applied (None deletes a key)."""
    layer = {"kernel_size": 3, "width": 12, "stride": 1, "residual": False}
    for key, value in changes.items():
        if value is None:
            del layer[key]
        else:
            layer[key] = value
    return [copy.deepcopy(GOOD_LAYER), layer]


BAD_SCHEMES = {
    "missing key": (with_layer(stride=None), "missing key(s) stride"),
    "unknown key": (with_layer(dilation=2), "unknown key(s) dilation"),
    "str for int": (with_layer(width="12"), "width must be int"),
    "float for int": (with_layer(kernel_size=3.0), "kernel_size must be int"),
    "bool for int": (with_layer(kernel_size=True), "kernel_size must be int"),
    "int for bool": (with_layer(residual=1), "residual must be bool"),
    "zero width": (with_layer(width=0), "width must be positive"),
    "negative width": (with_layer(width=-4), "width must be positive"),
    "even kernel": (with_layer(kernel_size=2), "kernel_size must be a positive odd number"),
    "stride 3": (with_layer(stride=3), "stride must be 1 or 2"),
    "residual with stride 2": (with_layer(stride=2, residual=True), "a residual needs stride 1"),
    "residual with width change": (with_layer(width=16, residual=True), "a residual needs stride 1"),
    "empty scheme": ([], "non-empty list"),
    "layer not a dict": ([GOOD_LAYER, [3, 12, 1, False]], "expected an object"),
    # too large to build: refused as bad input, not a failed allocation (or a traceback) later
    "too many layers": ([dict(GOOD_LAYER, stride=1)] * 65, "65 layers, at most 64 (models.MAX_LAYERS)"),
    "width too large": (with_layer(width=10 ** 12), "width must be at most 2048 (models.MAX_WIDTH), got 1000000000000"),
    "kernel too large": (with_layer(kernel_size=17), "kernel_size must be at most 15 (models.MAX_KERNEL_SIZE)"),
    "too many parameters": ([{"kernel_size": 15, "width": 2048, "stride": 1, "residual": False}] * 2,
                            "945,129,482 parameters, at most 50,000,000 (models.MAX_PARAMS)"),
    "too many activations": ([{"kernel_size": 1, "width": 1024, "stride": 1, "residual": False}] * 5,
                             "5,242,880 activations per image, at most 4,000,000 (models.MAX_ACTIVATIONS)"),
    "value nested deep": (with_layer(width=[[[[[[[["x" * 10_000]]]]]]]]), "width must be int, got [[[[...]]]]"),
}


def test_scheme_bounds_are_far_above_the_published_schemes(schemes, published_rows):
    sizes = [scheme_size(scheme) for scheme in schemes]
    assert MAX_LAYERS >= 10 * max(len(scheme) for scheme in schemes)
    assert MAX_WIDTH >= 10 * max(layer["width"] for scheme in schemes for layer in scheme)
    assert MAX_KERNEL_SIZE >= 5 * max(layer["kernel_size"] for scheme in schemes for layer in scheme)
    assert MAX_PARAMS >= 1000 * max(params for params, _ in sizes)
    assert MAX_ACTIVATIONS >= 100 * max(activations for _, activations in sizes)
    # the parameter count validate_scheme bounds is thop's (NumParams) for every published scheme
    assert all(sizes[int(r["ModelId"]) - 1][0] == int(r["NumParams"]) for r in published_rows)


@pytest.mark.parametrize("name", BAD_SCHEMES)
def test_validate_scheme_rejects(name):
    scheme, message = BAD_SCHEMES[name]
    with pytest.raises(ValueError) as e:
        validate_scheme(scheme, where="x.json: scheme 3")
    assert message in str(e.value)
    assert str(e.value).startswith("x.json: scheme 3") and len(str(e.value)) < 200
    # building the net must fail the same way, before PyTorch sees the bad layer
    with pytest.raises(ValueError, match="scheme"):
        Net(scheme)
