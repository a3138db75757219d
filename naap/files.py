"""Outputs that are whole or absent, and never an input.

- check_outputs_not_inputs(outputs, inputs): no output may be (symlinks, hard links), hold or lie
  inside one of the run's inputs or the program's own files; call it before writing.
- atomic_write_bytes / atomic_write_text(path, data, replace=True), atomic_write_files(outputs,
  replace=True) (several files: all or none) and atomic_output_dir(out_dir, force=False): whole
  outputs or none; without replace/force an output that exists, or that another run puts there
  meanwhile, is refused (rename_noreplace), never silently replaced.
- check_output_file(path, replace) and check_output_dir(out_dir, force) refuse early, before a
  long run (reading inputs: naap.input_files).
- A full disk or quota (naap.cli.DISK_FULL) is an OSError naming the output (a file in the
  staging directory is named as it would be in OUT_DIR), which naap.cli.run_cli shows in one line
  with exit status 1; any other OSError writing an output is an InputError.
- output_error(path, error, verb): what an OSError met creating an output (or the folders above
  it) raises: the full disk's OSError naming it, else an InputError.
"""
import contextlib
import ctypes
import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
from pathlib import Path

from naap.cli import InputError, cannot_write, check_terminated, disk_full
from naap.paths import REPO_ROOT


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
    atomic_write_files([(path, data)], replace)


def atomic_write_files(outputs, replace=True):
    """atomic_write_bytes for several files that belong together ([(path, bytes)], distinct paths):
    all of them written, or none changed. Every file is staged (written and fsynced beside its
    path) before the first is renamed into place; a failure while staging leaves every path as it
    was, and a failed rename puts back the ones renamed before it (the old file, kept as a hard
    link until the last rename is done, or nothing where there was none), so that no new file ever
    sits next to a stale one of the same run."""
    for path, _ in outputs:
        check_output_file(os.fspath(path), replace)  # before Path(), which drops a trailing slash
    paths = [Path(path) for path, _ in outputs]
    created, staged, current = [], [], None
    try:
        for path, (_, data) in zip(paths, outputs):
            current = path
            created += make_parents(path)
            staged.append(_staged_file(path, data))
        _move_files_into_place(paths, staged, replace)
    except BaseException as e:
        for tmp in staged:  # the ones renamed already are gone from here
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        remove_dirs(created)
        if isinstance(e, _RenameFailed):
            current, e = e.args
        if isinstance(e, FileExistsError) and not replace:
            raise InputError(f"{current}: appeared while this run was writing it (another run?): left as it was, "
                             "this run's output discarded (use --force to replace it)") from None
        if isinstance(e, OSError):
            raise output_error(current, e, "write") from None
        raise


class _RenameFailed(Exception):
    """(path, error): renaming the staged file of path into place failed with error."""


def _staged_file(path, data):
    """The temp file beside path that holds data, written through to the disk."""
    # the temp name must fit in NAME_MAX even where the output's own name just does
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _kept_old(path):
    """A hard link to the file (or symlink) at path, to put back if a later rename fails; None if
    there is none. Where hard links are not supported the file itself is moved aside."""
    old = path.with_name(f".{path.name[:200]}.{os.getpid()}.{os.urandom(4).hex()}.old.tmp")
    try:
        os.link(path, old, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.rename(path, old)
        except FileNotFoundError:
            return None
    return old


def _move_files_into_place(paths, staged, replace):
    """Rename each staged file onto its path; _RenameFailed (after undoing the renames done) if one
    fails. Only the files renamed before the last can need undoing, so only theirs are kept."""
    placed = []  # (path, its old file kept aside, or None)
    # a stop signal between two renames would leave a new file beside an old one
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP, signal.SIGTERM})
    try:
        for i, (path, tmp) in enumerate(zip(paths, staged)):
            old = None
            try:
                if replace and i < len(paths) - 1:
                    old = _kept_old(path)
                if replace:
                    os.replace(tmp, path)
                else:
                    rename_noreplace(tmp, path)
            except OSError as e:
                _put_back([*placed, (path, old)] if old is not None else placed)
                raise _RenameFailed(path, e) from None
            placed.append((path, old))
        for _, old in placed:
            if old is not None:
                with contextlib.suppress(OSError):
                    os.unlink(old)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _put_back(placed):
    """Undo the renames of _move_files_into_place, last first: the old file back, or none."""
    for path, old in reversed(placed):
        with contextlib.suppress(OSError):
            if old is None:
                os.unlink(path)
            else:
                os.replace(old, path)


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
        raise output_error(shown, e) from None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:200]}.", suffix=".tmp", dir=out_dir.parent))
        tmp.chmod(0o777 & ~_umask())
    except OSError as e:
        remove_dirs(created)
        raise output_error(shown, e) from None
    try:
        try:
            yield tmp
        except OSError as e:
            if not disk_full(e):
                raise
            raise cannot_write(_shown_in(e.filename, tmp, shown), e) from None
        check_terminated()  # a stop deferred inside numba: the output stays unfinished
        try:
            _move_into_place(tmp, out_dir, shown, force)
        except OSError as e:
            raise output_error(shown, e) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_dirs(created)
        raise


def output_error(shown, error, verb="create"):
    """What failing to create (or write) the output `shown` with the OSError `error` raises: the full
    disk's OSError naming it (run_cli: exit status 1), else an InputError."""
    if disk_full(error):
        return cannot_write(shown, error)
    return InputError(f"{shown}: cannot {verb} ({error.strerror or error})")


def _shown_in(filename, tmp, shown):
    """The name the user knows for a file written in the staging directory tmp: the same path
    under OUT_DIR (as given); OUT_DIR itself for a write that named no file."""
    if filename is None:
        return shown
    filename = os.fsdecode(filename)
    if not _inside(os.path.abspath(filename), os.fspath(tmp)):
        return filename
    return os.path.join(shown, os.path.relpath(os.path.abspath(filename), tmp))


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
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP, signal.SIGTERM})
    try:
        os.rename(out_dir, old)
        rename_noreplace(tmp, out_dir)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    _remove(old)


# ---------------------------------------------------------------- inputs

def resume_root(out_dir):
    """Where a run writing out_dir journals its finished work: .<out_dir name>.resume beside it."""
    out_dir = Path(out_dir)
    return out_dir.with_name(f".{out_dir.name}.resume")


def is_journal_file(path, remedy):
    """Whether a resume journal's file exists (False: not yet written). Anything but a regular file
    at its path (a directory, a pipe), or a path that cannot be looked at, is an InputError naming
    it (remedy: what the user can do), so that it is refused before any work, not after."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as e:
        raise InputError(f"{path}: cannot use as a resume journal ({e.strerror or e})") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file, expected a resume journal ({remedy})")
    return True
