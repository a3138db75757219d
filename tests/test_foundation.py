"""scheme_generator.py reproduces the published schemes; models.py builds, counts and validates them;
the modules keep their layers (no module imports a script) and shared constants have one home."""
import copy
import csv
import json

import pytest
import torch
from conftest import ROOT, live_processes, run_script

import models
from models import Net, count_params_and_macs, validate_scheme
from naap.cli import InputError, whole_number

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
    sizes = [models.scheme_size(scheme) for scheme in schemes]
    assert models.MAX_LAYERS >= 10 * max(len(scheme) for scheme in schemes)
    assert models.MAX_WIDTH >= 10 * max(layer["width"] for scheme in schemes for layer in scheme)
    assert models.MAX_KERNEL_SIZE >= 5 * max(layer["kernel_size"] for scheme in schemes for layer in scheme)
    assert models.MAX_PARAMS >= 1000 * max(params for params, _ in sizes)
    assert models.MAX_ACTIVATIONS >= 100 * max(activations for _, activations in sizes)
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

    from naap.files import atomic_output_dir, atomic_write_text

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

    from naap.cli import Terminated, run_cli
    from naap.files import atomic_output_dir
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
            except Exception as e:  # a script's "one failure must not stop the others" does not catch it
                raise AssertionError("SIGTERM was caught as an Exception") from e
            raise AssertionError("SIGTERM did not interrupt")

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert signal.getsignal(signal.SIGTERM) == previous  # run_cli puts the handler back
    assert issubclass(Terminated, KeyboardInterrupt)
    assert e.value.code == 143
    assert seen and not seen[0].exists() and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err == "terminated (SIGTERM): no partial output left behind\n"



def test_sigterm_inside_numba_waits_for_the_next_check(tmp_path, capsys):
    # Python code that numba's compiled code calls (serialize._numba_unpickle) must not raise:
    # there the handler only notes the signal, and check_terminated raises it from plain code;
    # a staging directory is not renamed into place while a stop is pending
    import os
    import signal

    import numba

    from naap.cli import check_terminated, run_cli
    from naap.files import atomic_output_dir
    callback = compile("os.kill(os.getpid(), signal.SIGTERM)\nfor _ in range(1000):\n    pass\n",
                       os.path.join(os.path.dirname(numba.__file__), "core", "serialize.py"), "exec")
    seen = []

    def main(args):
        exec(callback, {"os": os, "signal": signal})  # returns: the signal was only noted
        seen.append("returned")
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "whole.csv").write_text("a,b\n")
        raise AssertionError("the pending SIGTERM let the output be finished")

    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert e.value.code == 143 and seen == ["returned"]
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err == "terminated (SIGTERM): no partial output left behind\n"
    check_terminated()  # handled: nothing pending once run_cli is done
    assert run_cli(lambda args: "done", None) == "done"


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_process_pool_workers(start_method):
    import os
    import signal
    import time

    from naap.cli import run_cli
    from naap.workers import process_pool
    assert next(iter([process_pool(0).__enter__()])) is None

    def main(args):  # under run_cli, as in the scripts: the parent has its SIGTERM handler
        with process_pool(2, start_method, one_thread=True) as pool:
            handler = pool.submit(signal.getsignal, signal.SIGTERM).result()
            pools = pool.submit(eval, "__import__('numpy') and __import__('threadpoolctl').threadpool_info()").result()
        with pytest.raises(ZeroDivisionError):
            with process_pool(1, start_method) as pool:
                pool.submit(time.sleep, 0).result()  # the worker is running
                workers = list(pool._processes.values())
                pool.submit(time.sleep, 60)  # a task that would hold a waiting shutdown for a minute
                raise ZeroDivisionError
        return handler, pools, workers

    started = time.monotonic()
    handler, pools, workers = run_cli(main, None)
    assert handler == signal.SIG_DFL  # a worker dies on SIGTERM, even inside C code
    assert pools and all(p["num_threads"] == 1 for p in pools), pools  # numpy's BLAS at least
    pids = {w.pid for w in workers} - {os.getpid()}
    deadline = time.monotonic() + 10
    while pids & live_processes().keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids and not pids & live_processes().keys()
    assert time.monotonic() - started < 30  # stopped at once, not awaited

# ---------------------------------------------------------------- outputs never clobber inputs

def test_check_outputs_not_inputs(tmp_path):
    from naap.cli import InputError
    from naap.files import check_outputs_not_inputs

    data = tmp_path / "data"
    data.mkdir()
    (data / "in.csv").write_text("x")
    (tmp_path / "hard.csv").hardlink_to(data / "in.csv")
    (tmp_path / "soft.csv").symlink_to(data / "in.csv")
    (tmp_path / "soft_dir").symlink_to(data)
    check_outputs_not_inputs([tmp_path / "out.csv", tmp_path / "new" / "out"], [data / "in.csv", data])
    refused = [
        (data / "in.csv", [data / "in.csv"], "is an input of this run"),
        (tmp_path / "hard.csv", [data / "in.csv"], "(a link or another name), an input of this run"),
        (tmp_path / "soft.csv", [data / "in.csv"], "(a link or another name), an input of this run"),
        (tmp_path / "soft_dir" / "in.csv", [data / "in.csv"], "(a link or another name)"),
        (tmp_path, [data / "in.csv"], f"holds {data / 'in.csv'}, an input of this run"),  # a dir replaced whole
        (data / "new.csv", [data], f"lies inside {data}, an input directory"),
        (ROOT / "naap" / "cli.py", [], "one of this program's own files"),
        (ROOT, [], "one of this program's own files"),
    ]
    for out, inputs, message in refused:
        with pytest.raises(InputError) as e:
            check_outputs_not_inputs([out], inputs)
        assert str(e.value).startswith(f"{out}: ") and message in str(e.value), str(e.value)


def test_file_output_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    # two runs started together both pass the "exists" check at the start; the final rename
    # must refuse the second instead of silently replacing the first one's output
    from naap import cli, files
    out = tmp_path / "out.csv"
    check = files.check_output_file

    def other_run_finishes_meanwhile(path, replace=True):
        check(path, replace)
        out.write_text("first run\n")

    monkeypatch.setattr(files, "check_output_file", other_run_finishes_meanwhile)
    for no_renameat2 in (False, True):  # renameat2(RENAME_NOREPLACE), and the hard-link fallback
        if no_renameat2:
            monkeypatch.setattr(files, "_renameat2", False)
        out.unlink(missing_ok=True)
        with pytest.raises(cli.InputError, match="appeared while this run was writing it"):
            files.atomic_write_text(out, "second run\n", replace=False)
        assert out.read_text() == "first run\n"
        assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temp file left
        out.unlink()
        files.atomic_write_text(out, "second run\n", replace=True)  # --force replaces it
        assert out.read_text() == "second run\n"


@pytest.mark.parametrize("no_renameat2", [False, True])
def test_output_dir_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch, no_renameat2):
    from naap import cli, files
    if no_renameat2:
        monkeypatch.setattr(files, "_renameat2", False)
    out = tmp_path / "out"
    with pytest.raises(cli.InputError, match="appeared while this run was working"):
        with files.atomic_output_dir(out) as tmp:
            (tmp / "results.csv").write_text("second run\n")
            out.mkdir()  # the other run, started at the same time, finishes first
            (out / "results.csv").write_text("first run\n")
    assert (out / "results.csv").read_text() == "first run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the staging directory is gone
    with files.atomic_output_dir(out, force=True) as tmp:  # --force: swapped in, the old one removed
        (tmp / "results.csv").write_text("second run\n")
    assert (out / "results.csv").read_text() == "second run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_dir_refusals_are_one_line_and_leave_nothing(tmp_path, monkeypatch, capsys):
    from naap import cli, files
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("x")
    (tmp_path / "a_file").write_text("")
    cases = [(".", "holds the current directory"),  # was a traceback (rename of "." to "..old")
             (str(tmp_path), "holds the current directory"),
             (str(ROOT), "holds the current directory" if str(ROOT) in str(tmp_path) else "holds this program"),
             ("a_file/out", "cannot create (Not a directory)")]
    for out_dir, message in cases:
        def main(args, out_dir=out_dir):
            with files.atomic_output_dir(out_dir, force=True):
                raise AssertionError("must not get here")
        with pytest.raises(SystemExit) as e:
            cli.run_cli(main, None)
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count("\n") == 1 and err.startswith(f"error: {out_dir}: ") and message in err
    # a failed run takes away the parent directories made for OUT_DIR
    with pytest.raises(ZeroDivisionError):
        with files.atomic_output_dir(tmp_path / "new" / "deeper" / "out"):
            raise ZeroDivisionError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "in.csv"]


def test_read_json_refusals(tmp_path):
    from naap.cli import InputError
    from naap.files import read_json
    for text, message in [("[" * 100_000 + "]" * 100_000, "nested too deep"),
                          ("[" + "9" * 5000 + "]", "Exceeds the limit"), ("{", "not valid JSON")]:
        (tmp_path / "x.json").write_text(text)
        with pytest.raises(InputError, match=message):
            read_json(tmp_path / "x.json")


def test_one_line_parser_and_messages(capsys):
    from naap.cli import OneLineArgumentParser, one_line
    p = OneLineArgumentParser(prog="tool.py")
    p.add_argument("--jobs", type=int)
    with pytest.raises(SystemExit) as e:
        p.parse_args(["--jobs", "abc"])
    assert e.value.code == 2
    assert capsys.readouterr().err == "error: tool.py: argument --jobs: invalid int value: 'abc'\n"
    assert one_line("a\nb\r\x1b[31m\u2028") == "a\\nb\\r\\x1b[31m\\u2028"


def test_scheme_generator_output_rules(tmp_path):
    out = tmp_path / "schemes.json"
    out.write_text("keep")
    done = run_script("scheme_generator.py", out)
    assert done.returncode == 2 and done.stderr == f"error: {out}: already exists (use --force to replace it)\n"
    assert out.read_text() == "keep"
    before = (ROOT / "naap" / "cli.py").read_bytes()
    done = run_script("scheme_generator.py", ROOT / "naap" / "cli.py", "--force")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "one of this program's own files" in done.stderr
    assert (ROOT / "naap" / "cli.py").read_bytes() == before
    done = run_script("scheme_generator.py")
    assert done.returncode == 2
    assert done.stderr == "error: scheme_generator.py: the following arguments are required: out\n"
    done = run_script("scheme_generator.py", out, "--force")
    assert done.returncode == 0 and len(json.loads(out.read_text())) == 440


def test_whole_number():
    assert whole_number("--jobs", "3", 1) == 3 and whole_number("--splits", "0", 0) == 0
    with pytest.raises(InputError, match="^--jobs two: not a whole number$"):
        whole_number("--jobs", "two", 1)
    with pytest.raises(InputError, match="^--jobs 0: must be at least 1$"):
        whole_number("--jobs", "0", 1)
