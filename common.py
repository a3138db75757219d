"""Shared plumbing for the NAAP-440 scripts: one clear error line for bad input, atomic outputs,
and where the reference data lives.

Nothing here knows about CNNs or regressors; it only keeps every script's promises the same:
bad input -> one line on stderr naming the file and the problem, exit status 2, nothing written;
SIGTERM (run_cli) -> the same unwinding as Ctrl-C (staging directories removed, worker pools
stopped with stop_pool), one line, exit status 143.

What every script uses:
- OneLineArgumentParser: argparse errors as one line `error: <prog>: <message>`, exit status 2.
- check_outputs_not_inputs(outputs, inputs): no output may be (symlinks, hard links), hold or lie
  inside one of the run's inputs; call it before writing.
- atomic_write_bytes / atomic_write_text(path, data, replace=True) and atomic_output_dir(out_dir,
  force=False): whole outputs or none; without replace/force an output that exists, or that
  another run puts there meanwhile, is refused (rename_noreplace), never silently replaced;
  check_output_file(path, replace) and check_output_dir(out_dir, force) refuse early, before a long run.
- read_json(path), run_cli(main, args), stop_pool(pool), one_line(text), whole_number(option, text,
  minimum) for numeric options given as text.
- process_pool(workers, ...): every script's worker processes (fork or spawn, one BLAS/OpenMP
  thread each on request, stopped at once on failure, Ctrl-C or SIGTERM).
- check_terminated(): loops around numba code call it between steps; a SIGTERM that arrives
  inside numba is only noted there (raising in numba's callbacks is unsafe) and raised by it.
"""
import argparse
import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
DATA_ENV_VAR = "NAAP440_DATA"  # directory holding naap440.csv, raw_data/, ...


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


def stop_pool(pool):
    """End a concurrent.futures ProcessPoolExecutor at once (a failed job, Ctrl-C, SIGTERM): its
    workers are terminated mid-task instead of being waited for, and queued tasks are dropped."""
    for proc in list((pool._processes or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


_WORKER_LIMITS = None  # a worker's threadpoolctl limits, kept alive for the worker's life
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # read when a library loads


def _start_worker(one_thread, initializer, initargs):
    global _WORKER_LIMITS
    if one_thread:  # workers x threads must not exceed the cores: one BLAS/OpenMP thread each
        from threadpoolctl import threadpool_limits
        for name in _THREAD_VARIABLES:  # the libraries this worker loads later (spawn: all of them)
            os.environ[name] = "1"
        _WORKER_LIMITS = threadpool_limits(1)  # those already loaded (fork: inherited)
    if initializer is not None:
        initializer(*initargs)


@contextlib.contextmanager
def process_pool(workers, start_method="fork", initializer=None, initargs=(), one_thread=False):
    """The one way the scripts run worker processes: `with process_pool(n) as pool:` yields a
    concurrent.futures ProcessPoolExecutor of n workers, or None when n is 0 (the caller runs its
    tasks in this process).

    start_method "fork" (where the system has it): workers inherit the imported modules and the
    caller's module-level task tables (nothing to pickle; fork before this process has run
    OpenMP code: GNU OpenMP is not fork-safe); "spawn" where the parent holds CUDA. one_thread:
    each worker keeps to one BLAS/OpenMP thread (threadpoolctl) before initializer(*initargs)
    runs. Workers die on SIGTERM, even inside C code: forked ones get SIGTERM's default action
    back (_default_sigterm_in_child), spawned ones start with it. Leaving the block normally
    waits for the workers; leaving it by an exception (a failed task, Ctrl-C, SIGTERM) ends them
    at once (stop_pool) and the exception goes on.
    """
    if not workers:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    if start_method not in multiprocessing.get_all_start_methods():
        start_method = None  # no fork on this system: its default
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start_method),
                               initializer=_start_worker, initargs=(one_thread, initializer, initargs))
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- outputs never clobber inputs

def _inside(path, directory):
    """Whether path is directory or lies below it (both already realpaths)."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _program_files():
    """The running program's own source files: the modules loaded from the project."""
    root = os.path.realpath(REPO_ROOT)
    files, real_dirs = set(), {}  # thousands of modules (torch) live in a few hundred directories
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and name.endswith(".py") and os.path.isabs(name):  # torch._ops: "_ops.py"
            directory = os.path.dirname(name)
            if directory not in real_dirs:
                real_dirs[directory] = os.path.realpath(directory)
            if _inside(real_dirs[directory], root):
                files.add(os.path.realpath(name))
    return sorted(files)


def check_outputs_not_inputs(outputs, inputs=()):
    """Raise InputError (naming the output, the input and the conflict) if an output of a run could
    overwrite or delete one of its inputs; call it before anything is written.

    outputs: the paths the run writes: files, or directories it creates or replaces as a whole.
    inputs: the paths it reads: files, or directories read as a whole (every file in them). The
    program's own source files (modules loaded from the project) always count as inputs.
    Paths are compared after resolving symlinks (os.path.realpath) and, where both exist, by
    device and inode (hard links, as os.path.samefile). Conflicts: an output that is an input; an
    output directory that holds an input (replacing it deletes the input); an output inside an
    input directory (writing it changes what is read). Paths that do not exist yet are fine.
    """
    shown, real_inputs, inodes, input_dirs = {}, [], {}, []
    program = set(_program_files())
    for path in [*inputs, *program]:
        real = os.path.realpath(path)
        if real in shown:
            continue
        shown[real] = path
        real_inputs.append(real)
        try:
            st = os.stat(path)
        except OSError:  # not there (yet): only its name can clash
            continue
        inodes.setdefault((st.st_dev, st.st_ino), path)
        if stat.S_ISDIR(st.st_mode):
            input_dirs.append(real)
    for out in outputs:
        real = os.path.realpath(out)
        same = shown.get(real)
        if same is None:
            try:
                st = os.stat(out)
                same = inodes.get((st.st_dev, st.st_ino))
            except OSError:
                pass
        if same is not None:
            what = "one of this program's own files" if same in program else "an input of this run"
            alias = "" if os.fspath(same) == os.fspath(out) else f" {same} (a link or another name),"
            raise InputError(f"{out}: is{alias} {what}; choose another output path")
        for inp in real_inputs:
            if _inside(inp, real):
                what = "one of this program's own files" if shown[inp] in program else "an input of this run"
                raise InputError(f"{out}: holds {shown[inp]}, {what}; writing {out} would replace it, "
                                 "choose another output path")
        for directory in input_dirs:
            if _inside(real, directory):
                raise InputError(f"{out}: lies inside {shown[directory]}, an input directory of this run; "
                                 "choose another output path")


# ---------------------------------------------------------------- renames that never replace

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_renameat2 = None  # libc's renameat2 once looked up, False where libc has none


def _libc_renameat2():
    global _renameat2
    if _renameat2 is None:
        try:
            function = ctypes.CDLL(None, use_errno=True).renameat2
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
            _renameat2 = function
        except (OSError, AttributeError):
            _renameat2 = False
    return _renameat2


def rename_noreplace(src, dst):
    """Rename src (a file or a directory) to dst in one step; FileExistsError if anything is at dst.

    os.replace would silently replace a file (or an empty directory) that another run put there
    meanwhile. Linux renameat2(RENAME_NOREPLACE) where libc and the file system support it; else a
    file is hard-linked to dst (a link never replaces) and src unlinked, and a directory (or a file
    where hard links are not supported) is renamed onto a claim made with mkdir / O_EXCL.
    """
    function = _libc_renameat2()
    if function:
        if function(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err), os.fsdecode(src), None, os.fsdecode(dst))  # EEXIST: FileExistsError
    if os.path.isdir(src) and not os.path.islink(src):
        os.mkdir(dst)  # the claim: FileExistsError if anything is there
        try:
            os.rename(src, dst)  # replaces only the empty claim
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(dst)
            raise
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: claim the name, then rename onto the claim
        os.close(os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        try:
            os.replace(src, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise
        return
    os.unlink(src)


def make_parents(path):
    """Create the missing directories above path; return the ones created, top first, so that a
    failed run can take them away again (remove_dirs). OSError (cleaned up) if one cannot be made."""
    missing, parent = [], Path(os.path.abspath(path)).parent
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    created = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:  # made meanwhile by another run: not ours to remove
            continue
        except OSError:
            remove_dirs(created)
            raise
        created.append(directory)
    return created


def remove_dirs(created):
    """Remove the directories make_parents created, deepest first, as far as they are still empty."""
    for directory in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


# ---------------------------------------------------------------- atomic outputs

def check_output_file(path, replace=True):
    """InputError unless path can become an output file: not a directory, a device or a path under a
    regular file, and, unless replace, not there at all. atomic_write_bytes checks it too; call it
    at the start of a long run as well, to refuse before the work."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None  # absent, or a dangling symlink (which lexists below sees)
    except OSError as e:  # a regular file in the path (ENOTDIR), a symlink loop (ELOOP), ...
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: cannot write (is a directory)")
    if isinstance(path, str) and path.endswith(("/", os.sep)):
        # Path("out.csv/") drops the slash: the user named a directory, so writing a file there is wrong
        raise InputError(f"{path}: cannot write (names a directory, expected a file)")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # replacing /dev/null or a named pipe with a regular file is never what was meant
        raise InputError(f"{path}: cannot write (exists and is not a regular file)")
    if not replace and os.path.lexists(path):
        raise InputError(f"{path}: already exists (use --force to replace it)")


def atomic_write_bytes(path, data, replace=True):
    """Write to a temp file in the same directory, fsync, then rename: readers never see half a file.

    The file gets the usual permissions (0666 less the umask), not mkstemp's private 0600. A path
    that cannot be written (a directory, a device, a regular file in the way) is an InputError
    naming it. With replace=False an existing path is an InputError, checked first and again by
    the final rename itself (rename_noreplace), so that of two runs started together the second
    is refused instead of silently replacing the first one's output. Nothing is left behind on
    failure, not even the parent directories created for the file.
    """
    path = Path(path)
    check_output_file(path, replace)
    try:
        created = make_parents(path)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
    tmp = None
    try:
        # the temp name must fit in NAME_MAX even where the output's own name just does
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            rename_noreplace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        remove_dirs(created)
        if isinstance(e, FileExistsError) and not replace:
            raise InputError(f"{path}: appeared while this run was writing it (another run?): left as it was, "
                             "this run's output discarded (use --force to replace it)") from None
        if isinstance(e, OSError):
            raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def atomic_write_text(path, text, replace=True):
    atomic_write_bytes(path, text.encode("utf-8"), replace)


def check_output_dir(out_dir, force=False):
    """InputError unless out_dir can become an output directory: not the root, not one that holds
    the current directory or this program, not a file or anything else but a directory, and,
    unless force, not there at all. Returns its absolute path ("." and "a/.." then have a name).
    atomic_output_dir checks it too; call it at the start of a long run, before anything is
    written beside OUT_DIR."""
    shown = out_dir
    out_dir = Path(os.path.abspath(out_dir))
    if out_dir.parent == out_dir:
        raise InputError(f"{shown}: cannot replace the root directory")
    if os.path.lexists(out_dir):
        real = os.path.realpath(out_dir)
        for precious, what in ((os.getcwd(), "the current directory"), (REPO_ROOT, "this program")):
            if _inside(os.path.realpath(precious), real):
                raise InputError(f"{shown}: holds {what}; refusing to replace it (name a new directory)")
        if not out_dir.is_dir():
            raise InputError(f"{shown}: exists and is not a directory")
        if not force:
            raise InputError(f"{shown}: output directory already exists (use --force to replace it)")
    return out_dir


@contextlib.contextmanager
def atomic_output_dir(out_dir, force=False):
    """Yield a temp directory beside OUT_DIR; on success it becomes OUT_DIR in one rename.

    An existing OUT_DIR is an InputError unless force, checked at the start and again by the final
    rename (rename_noreplace): of two runs started together without force, the second is refused,
    not silently swapped in. With force an existing OUT_DIR is swapped out and removed, but never
    one that holds the current directory or this program. On any failure nothing is left behind,
    not even the parent directories created for OUT_DIR.
    """
    shown = out_dir
    out_dir = check_output_dir(out_dir, force)
    try:
        created = make_parents(out_dir)
    except OSError as e:
        raise InputError(f"{shown}: cannot create ({e.strerror or e})") from None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:200]}.", suffix=".tmp", dir=out_dir.parent))
        tmp.chmod(0o777 & ~_umask())
    except OSError as e:
        remove_dirs(created)
        raise InputError(f"{shown}: cannot create ({e.strerror or e})") from None
    try:
        yield tmp
        check_terminated()  # a stop deferred inside numba: the output stays unfinished
        try:
            _move_into_place(tmp, out_dir, shown, force)
        except OSError as e:
            raise InputError(f"{shown}: cannot create ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_dirs(created)
        raise


def _move_into_place(tmp, out_dir, shown, force):
    try:
        rename_noreplace(tmp, out_dir)
        return
    except FileExistsError:
        if not force:
            raise InputError(f"{shown}: appeared while this run was working (another run?): left as it was, "
                             "this run's output discarded (use --force to replace it)") from None
    old = out_dir.with_name(f".{out_dir.name[:200]}.{os.getpid()}.{os.urandom(4).hex()}.old.tmp")
    # between the two renames neither output is in place: let no signal stop it there
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        os.rename(out_dir, old)
        rename_noreplace(tmp, out_dir)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    _remove(old)


def read_json(path):
    """Parse a JSON file or raise InputError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a JSON file") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:  # no permission, a symlink loop, ...
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{path}: not valid JSON (nested too deep)") from None
    except ValueError as e:  # JSONDecodeError, or an integer of more than 4300 digits
        raise InputError(f"{path}: not valid JSON ({e})") from None


def reference_data_dir(required=("naap440.csv",)):
    """The published NAAP-440 files: $NAAP440_DATA, else the project root, else ../shared/naap440.

    The first of these that holds every path in `required` wins, so a project root with only the
    downloaded CSVs does not hide the full release (raw logs, reference results) from the tests.
    """
    candidates = []
    if os.environ.get(DATA_ENV_VAR):
        candidates.append(Path(os.environ[DATA_ENV_VAR]))
    candidates += [REPO_ROOT, REPO_ROOT.parent / "shared" / "naap440"]
    for c in candidates:
        if all((c / name).exists() for name in required):
            return c
    raise InputError(f"{', '.join(required)} not found in {', '.join(map(str, candidates))}: "
                     "run download_naap440.py")


# Tables in the docs that a script writes (bench/update_docs.py) and the tests compare with what
# the code produces: the text between these two markers is generated, never edited by hand.
GENERATED_BLOCK = re.compile(r"<!-- BEGIN generated: (?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- END generated: (?P=name) -->",
                             re.S)


def generated_blocks(text):
    """{name: body} of the generated blocks of a Markdown text."""
    return {m["name"]: m["body"] for m in GENERATED_BLOCK.finditer(text)}


def replace_generated_block(text, name, body):
    """text with the generated block `name` holding body (which ends with a newline)."""
    found = [m for m in GENERATED_BLOCK.finditer(text) if m["name"] == name]
    if not found:
        raise KeyError(name)
    m = found[0]
    return text[:m.start("body")] + body + text[m.end("body"):]
