"""naap.training.jobs: a failed scheme's error is one short line (the pool and the failures are
exercised end to end in tests/test_create_dataset.py)."""
from naap.training.jobs import error_line, run_jobs


def test_error_line_is_the_first_line_kept_short():
    torch_like = RuntimeError("\n  DefaultCPUAllocator: can't allocate memory\nframe #0: c10::Error::Error(...)")
    assert error_line(torch_like) == "RuntimeError:   DefaultCPUAllocator: can't allocate memory"
    assert error_line(ValueError("x" * 400)) == "ValueError: " + "x" * 300 + "..."
    assert error_line(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_no_jobs_loads_no_data():
    assert run_jobs([], "no such data root", ["cpu"], 4) == []
