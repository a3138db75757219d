"""The NAAP-440 data: its columns and feature sets, the published split rule, the log format and
the schemes. The modules re-exported here import no numpy, scikit-learn, numba or torch, so that
data_dir_to_csv.py stays light; naap.data.load (the 2022 data path) is imported by name."""
from naap.data.columns import *  # noqa: F403
from naap.data.split import *  # noqa: F403
