"""naap.data.schemes: a schemes file is read with every scheme checked, sizes are computed without a
model, and none of it needs torch (models.py's tests check validate_scheme's refusals one by one)."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT

from naap.cli import InputError
from naap.data.schemes import load_schemes, scheme_size

LAYER = {"kernel_size": 3, "width": 8, "stride": 1, "residual": False}


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
