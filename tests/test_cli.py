"""naap.cli: every refusal is one line, options are parsed the same way everywhere, and SIGTERM,
Ctrl-C (SIGINT) and SIGHUP (run_cli) leave no partial output behind, even when they arrive inside
numba's compiled code."""
import os
import signal
import subprocess
import sys

import pytest

from naap.cli import (
    MAX_SHARDS,
    InputError,
    OneLineArgumentParser,
    Terminated,
    check_terminated,
    one_line,
    parse_shard,
    run_cli,
    stop_message,
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
    with pytest.raises(InputError, match="^--jobs -2: must be at least 1$"):
        whole_number("--jobs", "-2", 1)
    with pytest.raises(InputError, match="^--splits 11: must be at most 10$"):
        whole_number("--splits", "11", 0, 10)
    # int() takes these; a command line means plain ASCII digits
    for text in ("1_0", " 2", "2 ", "+3", "\u0661\u0668", "", "2.0", "1e3", "9" * 5000):
        with pytest.raises(InputError, match="^--jobs .*: not a whole number$"):
            whole_number("--jobs", text, 1)


def test_parse_shard():
    assert parse_shard(None) == (1, 1)
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 4 / 4 ") == (4, 4)
    assert parse_shard(f"{MAX_SHARDS}/{MAX_SHARDS}") == (MAX_SHARDS, MAX_SHARDS)
    refused = [("x", r"^--shard 'x': expected I/N, e\.g\. 1/4"),
               ("-1/2", r"^--shard '-1/2': expected I/N"),
               ("1/0", r"^--shard 1/0: N \(the number of tasks\) must be between 1 and 10,000$"),
               (f"1/{MAX_SHARDS + 1}", r"^--shard 1/10001: N \(the number of tasks\) must be between 1 and 10,000$"),
               ("1/99999999999999999999", r"must be between 1 and 10,000$"),
               ("\u0661/\u0662", r"expected I/N"),
               ("1/" + "9" * 5000, r"expected I/N"),
               ("0/2", r"^--shard 0/2: I must be between 1 and N = 2$"),
               ("3/2", r"^--shard 3/2: I must be between 1 and N = 2$")]
    for text, message in refused:
        with pytest.raises(InputError, match=message):
            parse_shard(text)


STOPS = [(signal.SIGTERM, 143, "terminated (SIGTERM): no partial output left behind"),
         (signal.SIGINT, 130, "interrupted (SIGINT): no partial output left behind"),
         (signal.SIGHUP, 129, "terminated (SIGHUP): no partial output left behind")]
STOP_NAMES = [signum.name for signum, _, _ in STOPS]


@pytest.mark.parametrize("signum, status, message", STOPS, ids=STOP_NAMES)
def test_stop_signal_removes_the_staging_dir_and_exits_128_plus_it(signum, status, message, tmp_path, capsys):
    seen = []

    def main(args):
        # a forked worker dies on a stop signal without the handler (even if stuck in C code)
        child = os.fork()
        if child == 0:
            os._exit(0 if all(signal.getsignal(s) == signal.SIG_DFL for s, _, _ in STOPS) else 1)
        assert os.waitpid(child, 0)[1] == 0
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "half.csv").write_text("a,b\n")
            seen.append(tmp)
            try:
                os.kill(os.getpid(), signum)
            except Exception as e:  # a script's "one failure must not stop the others" does not catch it
                raise AssertionError(f"{signum!r} was caught as an Exception") from e
            raise AssertionError(f"{signum!r} did not interrupt")

    previous = {s: signal.getsignal(s) for s, _, _ in STOPS}
    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert {s: signal.getsignal(s) for s, _, _ in STOPS} == previous  # run_cli puts the handlers back
    assert issubclass(Terminated, KeyboardInterrupt)
    assert e.value.code == status == 128 + signum
    assert seen and not seen[0].exists() and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err == message + "\n" == stop_message(signum) + "\n"


@pytest.mark.parametrize("signum, status, message", STOPS, ids=STOP_NAMES)
def test_stop_signal_inside_numba_waits_for_the_next_check(signum, status, message, tmp_path, capsys):
    # Python code that numba's compiled code calls (serialize._numba_unpickle) must not raise:
    # there the handler only notes the signal, and check_terminated raises it from plain code;
    # a staging directory is not renamed into place while a stop is pending
    import numba  # here, not at the top: the other tests need no numba

    callback = compile(f"os.kill(os.getpid(), {int(signum)})\nfor _ in range(1000):\n    pass\n",
                       os.path.join(os.path.dirname(numba.__file__), "core", "serialize.py"), "exec")
    seen = []

    def main(args):
        exec(callback, {"os": os})  # returns: the signal was only noted
        seen.append("returned")
        with atomic_output_dir(tmp_path / "out") as tmp:
            (tmp / "whole.csv").write_text("a,b\n")
        raise AssertionError(f"the pending {signum!r} let the output be finished")

    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert e.value.code == status and seen == ["returned"]
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err == message + "\n"
    check_terminated()  # handled: nothing pending once run_cli is done
    assert run_cli(lambda args: "done", None) == "done"


def test_a_plain_keyboard_interrupt_is_a_ctrl_c(capsys):
    # e.g. a spawned worker's Ctrl-C coming back through its future
    def main(args):
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as e:
        run_cli(main, None)
    assert e.value.code == 130
    assert capsys.readouterr().err == "interrupted (SIGINT): no partial output left behind\n"


def run_tiny_script(body, **popen):
    """A process running main(args) = body under run_cli, as the scripts do."""
    code = f"import os, signal, sys, time\nfrom naap.cli import run_cli\ndef main(args):\n{body}\nrun_cli(main, None)\n"
    return subprocess.Popen([sys.executable, "-c", code], cwd=os.path.dirname(os.path.dirname(__file__)), **popen)


def test_sighup_with_the_terminal_gone_still_exits_129():
    # a closed ssh session: SIGHUP comes, and stdout/stderr lead nowhere (a pipe with no reader
    # here); the message cannot be shown, but neither may it turn the status into 1 or 120
    read, write = os.pipe()
    proc = run_tiny_script("    print('working', flush=True)\n    print('buffered', end='')\n    time.sleep(60)",
                           stdout=write, stderr=write)
    os.close(write)
    with os.fdopen(read) as terminal:
        assert terminal.readline() == "working\n"
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=30) == 129


def test_ignored_signals_stay_ignored():
    # nohup (SIGHUP) and a non-interactive shell's background job (SIGINT) ignore them on purpose:
    # run_cli does not take them over, nor do its forked workers get them back
    body = ("    child = os.fork()\n"
            "    if child == 0:\n"
            "        os._exit(0 if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else 1)\n"
            "    assert os.waitpid(child, 0)[1] == 0\n"
            "    os.kill(os.getpid(), signal.SIGHUP)\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    print('still running', flush=True)")
    ignore = lambda: [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGHUP, signal.SIGINT)]  # noqa: E731
    proc = run_tiny_script(body, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (0, "still running\n", "")
