"""naap.cli: every refusal is one line, options are parsed the same way everywhere, and SIGTERM
(run_cli) leaves no partial output behind, even when it arrives inside numba's compiled code."""
import os
import signal

import pytest

from naap.cli import (
    InputError,
    OneLineArgumentParser,
    Terminated,
    check_terminated,
    one_line,
    parse_shard,
    run_cli,
    whole_number,
)
from naap.files import atomic_output_dir


def test_one_line_parser_and_messages(capsys):
    p = OneLineArgumentParser(prog="tool.py")
    p.add_argument("--jobs", type=int)
    with pytest.raises(SystemExit) as e:
        p.parse_args(["--jobs", "abc"])
    assert e.value.code == 2
    assert capsys.readouterr().err == "error: tool.py: argument --jobs: invalid int value: 'abc'\n"
    assert one_line("a\nb\r\x1b[31m\u2028") == "a\\nb\\r\\x1b[31m\\u2028"


def test_whole_number():
    assert whole_number("--jobs", "3", 1) == 3 and whole_number("--splits", "0", 0) == 0
    with pytest.raises(InputError, match="^--jobs two: not a whole number$"):
        whole_number("--jobs", "two", 1)
    with pytest.raises(InputError, match="^--jobs 0: must be at least 1$"):
        whole_number("--jobs", "0", 1)


def test_parse_shard():
    assert parse_shard(None) == (1, 1)
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 4 / 4 ") == (4, 4)
    refused = [("x", r"^--shard 'x': expected I/N, e\.g\. 1/4"),
               ("-1/2", r"^--shard '-1/2': expected I/N"),
               ("1/0", r"^--shard 1/0: N \(the number of tasks\) must be at least 1$"),
               ("0/2", r"^--shard 0/2: I must be between 1 and N = 2$"),
               ("3/2", r"^--shard 3/2: I must be between 1 and N = 2$")]
    for text, message in refused:
        with pytest.raises(InputError, match=message):
            parse_shard(text)


def test_sigterm_removes_the_staging_dir_and_exits_143(tmp_path, capsys):
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
    import numba  # here, not at the top: the other tests need no numba

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
