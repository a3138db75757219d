"""naap.workers: a pool's workers die on SIGTERM (Ctrl-C, SIGHUP), run one BLAS thread when asked, and are
terminated at once, not awaited, when the block fails."""
import os
import signal
import threading
import time

import pytest
from conftest import live_processes

from naap import workers
from naap.cli import InputError, run_cli
from naap.workers import available_cores, process_pool


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_process_pool_workers(start_method):
    assert next(iter([process_pool(0).__enter__()])) is None

    def main(args):  # under run_cli, as in the scripts: the parent has its stop handlers
        with process_pool(2, start_method, one_thread=True) as pool:
            handler = pool.submit(eval, "[__import__('signal').getsignal(s) for s in (15, 2, 1)]").result()
            pools = pool.submit(eval, "__import__('numpy') and __import__('threadpoolctl').threadpool_info()").result()
        with pytest.raises(ZeroDivisionError):
            with process_pool(1, start_method) as pool:
                pool.submit(time.sleep, 0).result()  # the worker is running
                workers = list(pool._processes.values())
                pool.submit(time.sleep, 60)  # a task that would hold a waiting shutdown for a minute
                raise ZeroDivisionError
        return handler, pools, workers

    started = time.monotonic()
    handler, pools, workers = run_cli(main, None)
    assert handler == [signal.SIG_DFL] * 3  # a worker dies on SIGTERM, SIGINT, SIGHUP, even inside C code
    assert pools and all(p["num_threads"] == 1 for p in pools), pools  # numpy's BLAS at least
    pids = {w.pid for w in workers} - {os.getpid()}
    deadline = time.monotonic() + 10
    while pids & live_processes().keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids and not pids & live_processes().keys()
    assert time.monotonic() - started < 30  # stopped at once, not awaited


def test_available_cores_follows_the_affinity_mask(monkeypatch):
    assert available_cores() == len(os.sched_getaffinity(0)) >= 1
    monkeypatch.delattr(os, "sched_getaffinity")  # as off Linux
    assert available_cores() == os.cpu_count()


def _kill_self(_):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_that_dies_is_worker_died_naming_how(capsys):
    from concurrent.futures.process import BrokenProcessPool

    from naap.cli import RunFailure
    from naap.workers import WorkerDied, how_it_died

    with pytest.raises(WorkerDied) as info, process_pool(2) as pool:
        list(pool.map(_kill_self, range(2)))
    assert isinstance(info.value, BrokenProcessPool) and isinstance(info.value, RunFailure)
    assert str(info.value) == "a worker process died (SIGKILL, killed by a signal; out of memory?)"
    assert how_it_died(-signal.SIGSEGV) == "SIGSEGV, a crash in native code?" and how_it_died(3) == "exit status 3"

    def main(args):
        with process_pool(2) as pool:
            list(pool.map(_kill_self, range(2)))

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, None)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "error: a worker process died (SIGKILL, killed by a signal; out of memory?)\n"


def _write_after(path, seconds):
    time.sleep(seconds)
    with open(path, "w") as f:
        f.write("done")


def _fail():
    raise ValueError("a failure that stays in the background process")


def test_in_background_waits_for_its_process_and_ends_it_when_the_block_fails(tmp_path):
    from naap.workers import in_background
    with in_background(_write_after, tmp_path / "waited", 0.2):
        assert not (tmp_path / "waited").exists()  # it runs beside the block
    assert (tmp_path / "waited").read_text() == "done"
    with in_background(_fail):
        pass  # nothing raised here
    started = time.monotonic()
    with pytest.raises(ZeroDivisionError):
        with in_background(_write_after, tmp_path / "ended", 30):
            raise ZeroDivisionError
    assert time.monotonic() - started < 10  # ended, not awaited
    time.sleep(0.2)
    assert not (tmp_path / "ended").exists()


def _slow(i):
    time.sleep(0.05)
    return i


def test_a_stopped_pool_ends_its_manager_thread_first():
    for _ in range(20):  # Ctrl-C while map's tasks are queued: the manager thread fails them
        with pytest.raises(KeyboardInterrupt), process_pool(2) as pool:
            results = pool.map(_slow, range(100))
            next(results)
            manager = pool._executor_manager_thread
            raise KeyboardInterrupt
        assert manager in workers._STOPPED_MANAGERS and not manager.is_alive()  # joined before the stop goes on
    assert threading.excepthook is workers._quiet_stopped_managers


def test_what_a_stopped_pools_manager_thread_raises_is_not_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(workers, "_THREAD_EXCEPTHOOK", lambda args: shown.append(args.thread))
    monkeypatch.setattr(threading, "excepthook", workers._quiet_stopped_managers)

    def fail():
        raise RuntimeError("a manager thread's error")
    stopped, other = threading.Thread(target=fail), threading.Thread(target=fail)
    workers._STOPPED_MANAGERS.add(stopped)
    for thread in (stopped, other):
        thread.start()
        thread.join()
    assert shown == [other]  # any other thread's error still reaches the hook before ours


def test_jobs_option_allows_a_few_workers_per_core(monkeypatch):
    monkeypatch.setattr(workers, "available_cores", lambda: 3)
    limit = workers.MAX_JOBS_PER_CORE * 3
    assert workers.jobs_option("1") == 1 and workers.jobs_option(str(limit)) == limit
    refused = [(str(limit + 1), f"^--jobs {limit + 1}: at most {limit} \\({workers.MAX_JOBS_PER_CORE} per core; "
                                "this process may run on 3\\)$"),
               ("99999999999999999999", "^--jobs 99999999999999999999: at most "),
               ("0", "^--jobs 0: must be at least 1$"),
               ("١", "not a whole number$")]
    for text, message in refused:
        with pytest.raises(InputError, match=message):
            workers.jobs_option(text)
    with pytest.raises(InputError, match="^--workers 0: "):
        workers.jobs_option("0", "--workers")
