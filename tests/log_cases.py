"""Shared helpers of the log tests (test_log_format.py and data_dir_to_csv.py's): a hand-made
three-epoch log with known timestamps, and the seconds epoch_times must take from it."""
from conftest import SCHEMES

from naap.data import log_format as lf

HEADER_STAMP = "20220901235950"
# the epoch, loss and accuracy lines' timestamps of a hand-made three-epoch log, over midnight
TIMED = ["20220901235958", "20220902000015", "20220902000019",  # 17 s training (from the Epoch 1 line), 4 s test
         "20220902000020", "20220902000036", "20220902000041",  # the 1 s gap before "Epoch 2" is training: 17, 5
         "20220902000041", "20220902000041", "20220902000041"]  # all in one second: 0, 0
TIMED_SECONDS = [("20220901235958", 17, 4), ("20220902000019", 17, 5), ("20220902000041", 0, 0)]


def write_timed_log(path, stamps=TIMED):
    """A log whose epoch, loss and accuracy lines carry `stamps` (three per epoch), the header HEADER_STAMP."""
    messages = lf.header_lines(SCHEMES[0], "cpu", 2566, 231600)
    lines = [f"{HEADER_STAMP} {m}" for m in messages]
    for k in range(len(stamps) // 3):
        lines += [f"{when} {m}" for when, m in zip(stamps[3 * k:3 * k + 3], lf.epoch_lines(k + 1, 0.1, 1.0, 1.0, 0.5))]
    path.write_text(lf.log_text(lines))
    return path
