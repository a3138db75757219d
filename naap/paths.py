"""Where the project and the published NAAP-440 release live."""
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
