"""What every script's command line promises: bad input is one line on stderr naming the file or
option and the problem, with exit status 2 and nothing written; a run that fails though its input was fine (a full disk,
a worker process killed) is one line too, with exit status 1 and nothing half made; Ctrl-C (SIGINT), a closed terminal
(SIGHUP) and SIGTERM unwind alike (staging removed, worker pools stopped), print one line naming
the signal and exit with status 128 + its number (130, 129, 143).

- InputError: raised for bad input anywhere; run_cli turns it into the line and the status.
- RunFailure: raised where a run fails with good input (a plug-in's worker killed); run_cli shows
  it, and an OSError of a full disk or quota (DISK_FULL) naming the file, as one line, status 1.
- OneLineArgumentParser: argparse errors as one line `error: <prog>: <message>`, exit status 2.
- whole_number(option, text, minimum) and parse_shard(text): numeric options given as text
  (ASCII digits; --shard's N at most MAX_SHARDS).
- run_cli(main, args): the scripts' entry point.
- check_terminated(): loops around numba code call it between steps; a stop signal that arrives
  inside numba is only noted there (raising in numba's callbacks is unsafe) and raised by it.
"""
import argparse
import errno
import os
import re
import signal
import sys
import threading


class InputError(Exception):
    """Bad input. str(error) is the one line shown to the user: it names the file and the problem."""


class RunFailure(Exception):
    """The run failed though its input was fine (a worker process killed, out of memory?). str(error)
    is the one line shown to the user; run_cli exits with status 1."""


# a full disk, a full quota, a file over the size limit: the input was fine, the output cannot be written
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def disk_full(error):
    """Whether error is an OSError of a full disk or quota (DISK_FULL)."""
    return isinstance(error, OSError) and error.errno in DISK_FULL


def cannot_write(path, error):
    """The OSError to raise for the OSError `error` met writing the file at path: the same errno,
    naming path (a file object's write names no file)."""
    return OSError(error.errno, error.strerror or str(error), os.fspath(path))


class Terminated(KeyboardInterrupt):
    """A stop signal arrived: SIGINT (Ctrl-C), SIGHUP (the terminal or ssh session closed) or
    SIGTERM; .signum says which. A KeyboardInterrupt, so that every Ctrl-C path (staging
    directories removed, pools stopped, journals and checkpoints kept for the rerun) handles them
    all, and no `except Exception` swallows one."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


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


# a whole number as typed: ASCII digits (int() would also take "1_0", " 2", "+3" and other scripts'
# digits), at most 30 of them (int() refuses more than 4300 with a ValueError of its own)
DIGITS = "[0-9]{1,30}"
WHOLE_NUMBER = re.compile(f"-?{DIGITS}")


def whole_number(option, text, minimum, maximum=None):
    """The whole number of an option given as text (--jobs, --splits, ...): ASCII digits, an
    optional minus; InputError naming the option when it is not one or is outside [minimum, maximum]."""
    if not WHOLE_NUMBER.fullmatch(str(text)):
        raise InputError(f"{option} {one_line(text)}: not a whole number")
    value = int(text)
    if value < minimum:
        raise InputError(f"{option} {value}: must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InputError(f"{option} {value}: must be at most {maximum}")
    return value


# the signals run_cli turns into Terminated: SIGTERM always; SIGINT and SIGHUP unless ignored when
# run_cli starts (nohup, a non-interactive shell's background job), which they then stay
_STOPS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGHUP", "SIGTERM") if hasattr(signal, name))
_handled = ()  # the stop signals whose handler run_cli installed (forked workers get their defaults back)
_pending = None  # a stop signal that arrived where raising was unsafe; check_terminated raises it


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


def _on_stop(signum, frame):
    global _pending
    for stop in _handled:  # unwind once: a second signal (Ctrl-C again, the terminal closing) must not cut the cleanup
        signal.signal(stop, signal.SIG_IGN)
    if _inside_numba(frame):
        _pending = signum  # raised from ordinary Python code by the next check_terminated
        return
    raise Terminated(signum)


def check_terminated():
    """Raise Terminated if a stop signal arrived inside numba (see _on_stop) and is still to be
    raised. The loops around compiled code call it between steps (naap.replica.trees.fit_tree before
    each tree, naap.protocol.evaluate before each seed); atomic outputs and run_cli call it before they finish,
    so that a deferred stop never lets a run complete."""
    if _pending is not None:
        raise Terminated(_pending)


def _default_signals_in_child():
    # forked workers must not inherit _on_stop: they die on a stop signal even inside C code
    # (pools stop workers with SIGTERM; a Python handler would wait for the worker to return to
    # bytecode, forever if it is stuck); a signal the parent found ignored stays ignored
    global _pending, _handled
    for stop in {signal.SIGTERM, *_handled}:
        signal.signal(stop, signal.SIG_DFL)
    _handled = ()
    _pending = None  # the parent's stop, not the worker's


os.register_at_fork(after_in_child=_default_signals_in_child)


def stop_message(signum):
    """The one line a stop by signal signum prints: `interrupted (SIGINT): ...` for Ctrl-C,
    `terminated (SIGHUP): ...`, `terminated (SIGTERM): ...`."""
    verb = "interrupted" if signum == signal.SIGINT else "terminated"
    return f"{verb} ({signal.Signals(signum).name}): no partial output left behind"


def _say_stopped(signum):
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
        bar.close()  # finish the progress lines first, so the message stands on its own
    for stream, line in ((sys.stdout, None), (sys.stderr, stop_message(signum))):
        try:
            if line is not None:
                print(line, file=stream)
            stream.flush()
        except (OSError, ValueError, AttributeError):
            # the terminal is gone (SIGHUP) or the reader closed the pipe: what is still buffered
            # goes nowhere, so that the exit flush cannot fail and turn the status into 120
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass


def run_cli(main, args):
    """Call main(args); turn InputError into one stderr line and exit status 2, RunFailure and an
    OSError of a full disk (DISK_FULL, `PATH: cannot write (No space left on device)`) into one
    line and exit status 1, and a stop signal
    (SIGINT, SIGHUP, SIGTERM) into the Ctrl-C unwinding (no partial output left behind), one line
    naming it and exit status 128 + its number. The previous handlers are back when it returns."""
    global _pending, _handled
    previous, outer = {}, _handled  # outer: a run_cli around this one (in-process callers)
    if threading.current_thread() is threading.main_thread():  # only there can Python take signals
        _pending = None
        _handled = tuple(s for s in _STOPS if s == signal.SIGTERM or signal.getsignal(s) != signal.SIG_IGN)
        previous = {s: signal.signal(s, _on_stop) for s in _handled}
    try:
        result = main(args)
        check_terminated()  # a stop deferred past the last check: stopped all the same
        return result
    except InputError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
    except RunFailure as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        if not disk_full(e):
            raise
        where = f"{os.fsdecode(e.filename)}: " if e.filename is not None else ""
        print(f"error: {one_line(where)}cannot write ({one_line(e.strerror or e)})", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as e:  # Terminated; a plain one (e.g. a spawned worker's Ctrl-C) is a SIGINT
        signum = getattr(e, "signum", signal.SIGINT)
        _say_stopped(signum)
    finally:
        for stop, handler in previous.items():
            if handler is not None:  # None: installed from C, cannot be put back from Python
                signal.signal(stop, handler)
        if previous:
            _handled = outer
            _pending = None  # handled: a later check_terminated (or run_cli) must not see it
    # outside the except block: the traceback, and with it the interrupted frames' pools and
    # queues, is released first, so their semaphores are cleaned up without a warning
    sys.exit(128 + signum)


MAX_SHARDS = 10_000  # --shard I/N: each of N tasks gets its share listed; more tasks than that is a typo


def parse_shard(text):
    """(I, N) of a --shard I/N value, 1 <= I <= N <= MAX_SHARDS (InputError otherwise); None is (1, 1)."""
    if text is None:
        return 1, 1
    m = re.fullmatch(rf"\s*({DIGITS})\s*/\s*({DIGITS})\s*", text)
    if not m:
        raise InputError(f"--shard {one_line(repr(text))}: expected I/N, e.g. 1/4 (task I of an array of N)")
    index, count = int(m.group(1)), int(m.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise InputError(f"--shard {text}: N (the number of tasks) must be between 1 and {MAX_SHARDS:,}")
    if not 1 <= index <= count:
        raise InputError(f"--shard {text}: I must be between 1 and N = {count}")
    return index, count
