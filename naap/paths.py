"""Where the project and the published NAAP-440 release live, and a hash of the project's own
sources (what a resume journal is valid for)."""
import hashlib
import os
from pathlib import Path

from naap.cli import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_ENV_VAR = "NAAP440_DATA"  # directory holding naap440.csv, raw_data/, ...


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


def source_files(sources):
    """The files of `sources` (paths relative to REPO_ROOT; a folder stands for every .py file under
    it) that exist, as sorted POSIX paths relative to REPO_ROOT."""
    files = set()
    for source in sources:
        path = REPO_ROOT / source
        files.update(path.rglob("*.py") if path.is_dir() else [path] if path.is_file() else [])
    return sorted(path.relative_to(REPO_ROOT).as_posix() for path in files)


def source_hash(sources):
    """sha256 (16 hex digits) of the names and bytes of source_files(sources): a journal of results
    that these files decide is replayed only by the same code."""
    digest = hashlib.sha256()
    for name in source_files(sources):
        digest.update(name.encode() + b"\0" + (REPO_ROOT / name).read_bytes())
    return digest.hexdigest()[:16]
