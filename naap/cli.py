"""What every script's command line promises: bad input is one line on stderr naming the file or
option and the problem, with exit status 2 and nothing written; SIGTERM unwinds like Ctrl-C
(staging removed, worker pools stopped), prints one line and exits 143.

- InputError: raised for bad input anywhere; run_cli turns it into the line and the status.
- OneLineArgumentParser: argparse errors as one line `error: <prog>: <message>`, exit status 2.
- whole_number(option, text, minimum): numeric options given as text.
- run_cli(main, args): the scripts' entry point.
- check_terminated(): loops around numba code call it between steps; a SIGTERM that arrives
  inside numba is only noted there (raising in numba's callbacks is unsafe) and raised by it.
"""
import argparse
import os
import re
import signal
import sys
import threading


class InputError(Exception):
    """Bad input. str(error) is the one line shown to the user: it names the file and the problem."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so that every Ctrl-C path (staging directories
    removed, pools stopped, journals and checkpoints kept for the rerun) handles a scheduler's
    stop as well, and no `except Exception` swallows it."""


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text):
    """str(text) with every control character (newline, carriage return, escape, ...) written as
    its escape (\\n, \\x1b), so that a message naming a hostile path or URL stays one line."""
    return _CONTROL.sub(lambda m: repr(m[0])[1:-1], str(text))


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors (a bad option value, a missing argument, the script's
    own p.error(...)) are one stderr line, `error: <prog>: <message>`, and exit status 2, like
    every other bad input, instead of the usage plus the error. --help is unchanged."""

    def error(self, message):
        print(f"error: {one_line(self.prog)}: {one_line(message)}", file=sys.stderr)
        sys.exit(2)


def whole_number(option, text, minimum, maximum=None):
    """int(text) of an option given as text (--jobs, --splits, ...), or InputError naming the option
    when it is not a whole number or is outside [minimum, maximum]."""
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{option} {text}: not a whole number") from None
    if value < minimum:
        raise InputError(f"{option} {value}: must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InputError(f"{option} {value}: must be at most {maximum}")
    return value


_sigterm_pending = False  # a SIGTERM that arrived where raising was unsafe; check_terminated raises it


def _inside_numba(frame):
    """Whether Python code that numba's compiled code called is running (serialize._numba_unpickle,
    which rebuilds a returned array's dtype): an exception raised there is not propagated by the
    generated caller, and becomes a SystemError and a page of traceback instead of Terminated."""
    numba = sys.modules.get("numba")
    if numba is None or not getattr(numba, "__file__", None):
        return False
    root = os.path.dirname(numba.__file__) + os.sep
    while frame is not None:
        if frame.f_code.co_filename.startswith(root):
            return True
        frame = frame.f_back
    return False


def _on_sigterm(signum, frame):
    global _sigterm_pending
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # unwind once: a second SIGTERM must not cut the cleanup
    if _inside_numba(frame):
        _sigterm_pending = True  # raised from ordinary Python code by the next check_terminated
        return
    raise Terminated()


def check_terminated():
    """Raise Terminated if a SIGTERM arrived inside numba (see _on_sigterm) and is still to be
    raised. The loops around compiled code call it between steps (trees.fit_tree before each tree,
    protocol.evaluate before each seed); atomic outputs and run_cli call it before they finish,
    so that a deferred stop never lets a run complete."""
    if _sigterm_pending:
        raise Terminated()


def _default_sigterm_in_child():
    # forked workers must not inherit _on_sigterm: they die on SIGTERM even inside C code (pools
    # stop workers with SIGTERM; a Python handler would wait for the worker to return to
    # bytecode, forever if it is stuck)
    global _sigterm_pending
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _sigterm_pending = False  # the parent's stop, not the worker's


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def run_cli(main, args):
    """Call main(args); turn InputError into one stderr line and exit status 2, and SIGTERM into
    the Ctrl-C unwinding (no partial output left behind) and exit status 143."""
    global _sigterm_pending
    installed = threading.current_thread() is threading.main_thread()  # only there can Python take signals
    if installed:
        _sigterm_pending = False
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = main(args)
        check_terminated()  # a stop deferred past the last check: exit 143 all the same
        return result
    except InputError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
    except Terminated:
        tqdm = sys.modules.get("tqdm")
        for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
            bar.close()  # finish the progress lines first, so the message stands on its own
        print("terminated (SIGTERM): no partial output left behind", file=sys.stderr)
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous)
            _sigterm_pending = False  # handled: a later check_terminated (or run_cli) must not see it
    # outside the except block: the traceback, and with it the interrupted frames' pools and
    # queues, is released first, so their semaphores are cleaned up without a warning
    sys.exit(128 + signal.SIGTERM)


def parse_shard(text):
    """(I, N) of a --shard I/N value, 1 <= I <= N (InputError otherwise); None is (1, 1)."""
    if text is None:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise InputError(f"--shard {text!r}: expected I/N, e.g. 1/4 (task I of an array of N)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise InputError(f"--shard {text}: N (the number of tasks) must be at least 1")
    if not 1 <= index <= count:
        raise InputError(f"--shard {text}: I must be between 1 and N = {count}")
    return index, count
