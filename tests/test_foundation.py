"""scheme_generator.py reproduces the published schemes; models.py builds, counts and validates them."""
import copy
import csv
import json

import pytest
import torch

from conftest import ROOT, run_script
from models import Net, count_params_and_macs, validate_scheme

GOOD_LAYER = {"kernel_size": 3, "width": 12, "stride": 2, "residual": False}


def published_schemes_text(ref_dir):
    # the release has CRLF line endings; the generator writes LF
    return (ref_dir / "generated_schemes.json").read_bytes().replace(b"\r\n", b"\n")


@pytest.fixture(scope="module")
def schemes(ref_dir):
    return json.loads(published_schemes_text(ref_dir))


@pytest.fixture(scope="module")
def published_rows(ref_dir):
    with open(ref_dir / "naap440.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_scheme_generator_script_reproduces_published_file(ref_dir, tmp_path):
    out = tmp_path / "schemes.json"
    result = run_script("scheme_generator.py", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "440 schemes" in result.stdout
    assert out.read_bytes() == published_schemes_text(ref_dir)
    assert len(json.loads(out.read_text())) == 440


def test_committed_schemes_equal_published(ref_dir):
    assert (ROOT / "generated_schemes.json").read_bytes() == published_schemes_text(ref_dir)


def test_counts_match_published_csv(schemes, published_rows):
    assert len(schemes) == len(published_rows) == 440
    for row in published_rows:
        scheme = schemes[int(row["ModelId"]) - 1]
        assert count_params_and_macs(scheme) == (int(row["NumParams"]), int(row["NumMACs"])), row["ModelId"]


def test_all_published_schemes_are_valid(schemes):
    for scheme in schemes:
        validate_scheme(scheme)


@pytest.mark.parametrize("model_id", [1, 25, 440])
def test_net_forward_shape(schemes, model_id):
    net = Net(schemes[model_id - 1]).eval()
    with torch.no_grad():
        out = net(torch.zeros(4, 3, 32, 32))
    assert out.shape == (4, 10)


def test_net_with_residual_forward_shape(schemes):
    scheme = next(s for s in schemes if any(layer["residual"] for layer in s))
    assert Net(scheme)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


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
}


@pytest.mark.parametrize("name", BAD_SCHEMES)
def test_validate_scheme_rejects(name):
    scheme, message = BAD_SCHEMES[name]
    with pytest.raises(ValueError) as e:
        validate_scheme(scheme, where="x.json: scheme 3")
    assert message in str(e.value)
    assert str(e.value).startswith("x.json: scheme 3")
    # building the net must fail the same way, before PyTorch sees the bad layer
    with pytest.raises(ValueError, match="scheme"):
        Net(scheme)


# ---------------------------------------------------------------- common output plumbing

def test_unwritable_output_is_one_line_exit_2(tmp_path):
    (tmp_path / "a_file").write_text("")
    for out in (tmp_path, tmp_path / "a_file" / "schemes.json"):  # a directory; a path under a file
        done = run_script("scheme_generator.py", out)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {out}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no temp file left behind


def test_outputs_get_umask_permissions(tmp_path):
    import os
    from common import atomic_output_dir, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "g").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "g").read_text() == "y"


def test_sigterm_removes_the_staging_dir_and_exits_143(tmp_path, capsys):
    import os
    import signal

    from common import Terminated, atomic_output_dir, run_cli
    seen = []

    def main(args):
        # a forked worker dies on SIGTERM without the handler (even if stuck in C code)
        child = os.fork()
        if child == 0:
            os._exit(0 if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL else 1)
        assert os.waitpid(child, 0)[1] == 0
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "half.csv").write_text("a,b\n")
            seen.append(tmp)
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            except Exception:  # a script's "one failure must not stop the others" does not catch it
                raise AssertionError("SIGTERM was caught as an Exception")
            raise AssertionError("SIGTERM did not interrupt")

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert signal.getsignal(signal.SIGTERM) == previous  # run_cli puts the handler back
    assert issubclass(Terminated, KeyboardInterrupt)
    assert e.value.code == 143
    assert seen and not seen[0].exists() and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err == "terminated (SIGTERM): no partial output left behind\n"
