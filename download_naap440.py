"""Fetch the published NAAP-440 files and verify their SHA-256 before anything is written.

Fetches naap440.csv and naap440v2.csv (with --raw-logs also the 440 training logs
raw_data/scheme_<ModelId>.txt) from the authors' repository at a fixed commit, or from --source: a
mirror base URL or a directory laid out like the release (an offline copy). Every file is checked
against naap440_checksums.json; all files are fetched and verified in a temp directory inside DEST
and only then moved into place, so a failure leaves nothing behind. A file already in DEST with
the right checksum is kept ("up to date"); one with a wrong checksum is an error unless --force.
A checksum mismatch, an HTTP error, an unreachable server, a malformed URL or an empty path is one
error line and exit status 2; a full disk is one line naming the file and exit status 1. A file
that another run puts into DEST meanwhile is never silently replaced. DEST may lie inside a
--source directory but not be it.

Input:  --source URL|DIR (default: the GitHub release below), naap440_checksums.json.
Output: DEST/naap440.csv, DEST/naap440v2.csv [, DEST/raw_data/scheme_N.txt]; DEST defaults to the
        project root. Prints what was fetched and what was up to date.
Example: python download_naap440.py --source ../shared/naap440 --force
"""
import contextlib
import hashlib
import http.client
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from naap.cli import InputError, OneLineArgumentParser, run_cli
from naap.files import (
    atomic_write_bytes,
    check_outputs_not_inputs,
    make_parents,
    output_error,
    remove_dirs,
    rename_noreplace,
)
from naap.input_files import input_error, read_json
from naap.paths import REPO_ROOT

BASE_URL = "https://raw.githubusercontent.com/talcs/NAAP-440/c3b22b94de0f37bef5cc1debb2e592319b2d484e/"
CHECKSUMS_FILE = REPO_ROOT / "naap440_checksums.json"  # sha256 of every published file we fetch
DATASET_FILES = ["naap440.csv", "naap440v2.csv"]
RAW_LOG_FILES = [f"raw_data/scheme_{i}.txt" for i in range(1, 441)]
TIMEOUT_S = 30  # per request; a dead network should fail quickly, not hang
URL_SCHEMES = ("http", "https", "ftp", "file")  # what urllib.request fetches
SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def is_url(source):
    return "://" in str(source)


def check_url(url):
    """InputError naming --source unless url is one urllib can fetch: no whitespace or control
    characters, a known scheme, a host (but for file:) and a numeric port."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise InputError(f"--source {url}: malformed URL (contains whitespace or control characters)")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- ValueError for a port that is not a number in 0..65535
    except ValueError as e:
        raise InputError(f"--source {url}: malformed URL ({e})") from None
    if parts.scheme not in URL_SCHEMES:
        raise InputError(f"--source {url}: unsupported URL scheme {parts.scheme!r} (use {', '.join(URL_SCHEMES)})")
    if parts.scheme != "file" and not parts.hostname:
        raise InputError(f"--source {url}: malformed URL (no host)")


def load_checksums(path=CHECKSUMS_FILE):
    """{release-relative name: sha256 hex} from the checksums file, or InputError naming it."""
    checksums = read_json(path)
    if not isinstance(checksums, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and SHA256.fullmatch(v) for k, v in checksums.items()):
        raise InputError(f"{path}: expected a JSON object of file name -> sha256 (64 hex digits)")
    return checksums


def fetch(source, name):
    """The bytes of file `name` (a release-relative path) from a base URL or a directory."""
    if not is_url(source):
        path = Path(source) / name
        try:
            return path.read_bytes()
        except OSError as e:
            raise input_error(path, e) from None
    url = where(source, name)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        raise InputError(f"{url}: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise InputError(f"{url}: cannot connect ({e.reason})") from None
    except TimeoutError:
        raise InputError(f"{url}: no answer within {TIMEOUT_S} s") from None
    except ValueError as e:  # a URL that urllib cannot even parse
        raise InputError(f"{url}: malformed URL ({e})") from None
    except (OSError, http.client.HTTPException) as e:
        raise InputError(f"{url}: download failed ({e.__class__.__name__}: {e})") from None


def where(source, name):
    """How a file is named in messages: its URL or its path."""
    return str(source).rstrip("/") + "/" + name if is_url(source) else str(Path(source) / name)


def files_to_fetch(dest, names, checksums, force):
    """The names not already in dest with the right checksum; a wrong one is an error unless force."""
    todo = []
    for name in names:
        target = Path(dest) / name
        try:
            st = os.stat(target)
        except FileNotFoundError:
            todo.append(name)
            continue
        except OSError as e:  # a regular file where a directory should be (ENOTDIR), a symlink loop
            raise InputError(f"{target}: cannot write ({e.strerror or e})") from None
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{target}: exists and is not a file")
        try:
            data = target.read_bytes()
        except OSError as e:
            raise input_error(target, e) from None
        if sha256(data) != checksums[name]:
            if not force:
                raise InputError(f"{target}: exists with a different checksum (use --force to replace it)")
            todo.append(name)
    return todo


def download(source, dest, names, checksums, force=False, progress=False):
    """Fetch and verify `names` into dest; return (fetched, up_to_date) name lists."""
    for option, path in (("--source", source), ("--dest", dest)):
        if os.fspath(path) == "":  # Path("") is ".": the current directory, which the user did not name
            raise InputError(f"{option}: empty path (name a directory{' or a URL' if option == '--source' else ''})")
    dest = Path(dest)
    missing = [n for n in names if n not in checksums]
    if missing:
        raise InputError(f"{CHECKSUMS_FILE}: no checksum for {', '.join(missing)}")
    if is_url(source):
        check_url(str(source))
    elif not Path(source).is_dir():
        raise InputError(f"{source}: no such directory (expected a copy of the release or a URL)")
    if os.path.lexists(dest) and not dest.is_dir():
        raise InputError(f"{dest}: not a directory")
    todo = files_to_fetch(dest, names, checksums, force)
    up_to_date = [n for n in names if n not in todo]
    if not todo:
        return [], up_to_date
    if not is_url(source) and _same_directory(source, dest):
        # DEST inside SOURCE is fine (no file of one is a file of the other, which
        # check_outputs_not_inputs verifies), but DEST = SOURCE could only replace a file by itself
        raise InputError(f"--dest {dest}: is the --source directory {source}; {todo[0]} cannot be fetched "
                         "from the file it would replace (choose another --dest)")
    replacing = {n for n in todo if os.path.lexists(dest / n)}  # wrong checksum, --force
    check_outputs_not_inputs([dest / n for n in todo],
                             [CHECKSUMS_FILE, *([] if is_url(source) else [Path(source) / n for n in todo])])
    created, moved, staging = [], [], None
    writing = dest  # what a failed write names: DEST, or the file in it being written
    try:
        # every directory this run makes is taken away again on failure (only if still empty)
        created = make_parents(dest / "_")
        # staging inside dest keeps the final moves on one file system, hence atomic renames
        staging = Path(tempfile.mkdtemp(prefix=".naap440-download.", dir=dest))
        for name in tqdm(todo, desc="downloading", unit="file", disable=None if progress else True):
            data = fetch(source, name)
            got = sha256(data)
            if got != checksums[name]:
                raise InputError(f"{where(source, name)}: checksum mismatch (sha256 {got}, "
                                 f"expected {checksums[name]})")
            writing = dest / name  # not the staging copy's name, which the user never sees
            atomic_write_bytes(staging / name, data)
        for name in todo:
            target = writing = dest / name
            created += make_parents(target)
            if name in replacing:
                os.replace(staging / name, target)
                continue
            try:
                rename_noreplace(staging / name, target)  # never over a file another run put there
                moved.append(target)
            except FileExistsError:
                with contextlib.suppress(OSError):
                    if sha256(target.read_bytes()) == checksums[name]:
                        continue  # another run put the same verified file there
                raise InputError(f"{target}: appeared while this run was downloading it, with another "
                                 "checksum: left as it was (use --force to replace it)") from None
    except BaseException as e:
        for target in moved:  # all or nothing: the new files of this run go again
            with contextlib.suppress(OSError):
                os.unlink(target)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        remove_dirs(created)  # only if still empty: never delete what someone else put there
        if isinstance(e, OSError):  # a full disk is exit status 1 (run_cli), any other an InputError
            raise output_error(writing, e, "write") from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return todo, up_to_date


def _same_directory(source, dest):
    """Whether dest is the directory source (after symlinks; by inode too, for a bind mount)."""
    if os.path.realpath(source) == os.path.realpath(dest):
        return True
    try:
        return os.path.samefile(source, dest)
    except OSError:  # dest not there yet
        return False


def parse_args(argv=None):
    p = OneLineArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", default=BASE_URL,
                   help="mirror base URL or a directory laid out like the release (default: the GitHub release)")
    p.add_argument("--dest", default=str(REPO_ROOT), help="where to write the files (default: the project root)")
    p.add_argument("--raw-logs", action="store_true", help="also fetch the 440 training logs into DEST/raw_data/")
    p.add_argument("--force", action="store_true", help="replace files in DEST whose checksum is wrong")
    return p.parse_args(argv)


def main(args):
    checksums = load_checksums()
    names = DATASET_FILES + (RAW_LOG_FILES if args.raw_logs else [])
    fetched, up_to_date = download(args.source, args.dest, names, checksums, args.force, progress=args.raw_logs)
    for name in DATASET_FILES:
        print(f"{name}: {'downloaded' if name in fetched else 'up to date'}")
    if args.raw_logs:
        num_new = sum(name in fetched for name in RAW_LOG_FILES)
        print(f"raw_data: {num_new} logs downloaded, {len(RAW_LOG_FILES) - num_new} up to date")
    print(f"verified {len(names)} files in {args.dest}")
    return fetched, up_to_date


if __name__ == "__main__":
    run_cli(main, parse_args())
