"""The one way the scripts run worker processes (process_pool), how they stop (stop_pool), and
what a worker that dies by itself (a crash, killed for memory) becomes: WorkerDied, one line;
in_background, one forked process beside this one for a block's duration."""
import contextlib
import os
import signal
import threading
import time
import weakref
from concurrent.futures.process import BrokenProcessPool

from naap.cli import InputError, RunFailure, whole_number

_WHY = {"SIGKILL": "killed by a signal; out of memory?", "SIGSEGV": "a crash in native code?",
        "SIGBUS": "a crash in native code?", "SIGABRT": "aborted", "SIGFPE": "a crash in native code?"}


def how_it_died(exitcode):
    """`SIGKILL, killed by a signal; out of memory?` for a process's negative exitcode (the signal
    that ended it), `exit status N` for a positive one."""
    if exitcode >= 0:
        return f"exit status {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"
    return f"{name}, {_WHY.get(name, 'killed by a signal')}"


class WorkerDied(BrokenProcessPool, RunFailure):
    """A worker process of a pool died by itself (a crash, killed for memory, os._exit); .dead is
    {pid: how_it_died} of the workers that did (empty if none could be told). A BrokenProcessPool
    still, and a RunFailure: run_cli shows its one line, exit status 1."""

    def __init__(self, dead):
        how = f" ({', '.join(sorted(set(dead.values())))})" if dead else ""
        super().__init__(f"a worker process died{how}")
        self.dead = dead


def _dead_workers(pool, patience=5.0):
    # the workers that ended by themselves: not running, not ended by the SIGTERM a broken pool and
    # stop_pool send the others. The broken pool's manager thread is terminating and joining every
    # worker meanwhile, and while its waitpid reaps one, exitcode reads None here for a moment:
    # wait (at most `patience` seconds) until every worker's exit is known
    procs = list((pool._processes or {}).values())
    deadline = time.monotonic() + patience
    while any(proc.exitcode is None for proc in procs) and time.monotonic() < deadline:
        time.sleep(0.01)
    dead = {}
    for proc in procs:
        code = proc.exitcode
        if code is not None and code not in (0, -signal.SIGTERM):
            dead[proc.pid] = how_it_died(code)
    return dead


STOP_PATIENCE = 5.0  # seconds stop_pool waits for the pool's manager thread to end
_STOPPED_MANAGERS = weakref.WeakSet()  # manager threads of stopped pools: their errors are not shown
_THREAD_EXCEPTHOOK = threading.excepthook  # what shows every other thread's errors


def _quiet_stopped_managers(args):
    if args.thread not in _STOPPED_MANAGERS:
        _THREAD_EXCEPTHOOK(args)


def _hide_errors_of(thread):
    global _THREAD_EXCEPTHOOK
    _STOPPED_MANAGERS.add(thread)
    if threading.excepthook is not _quiet_stopped_managers:  # installed once, over whatever hook is set
        _THREAD_EXCEPTHOOK, threading.excepthook = threading.excepthook, _quiet_stopped_managers


def stop_pool(pool):
    """End a concurrent.futures ProcessPoolExecutor at once (a failed job, Ctrl-C, SIGTERM): its
    workers are terminated mid-task instead of being waited for, and queued tasks are dropped.
    Returns once the pool's manager thread has ended (at most STOP_PATIENCE seconds). That thread
    fails the pending futures when it sees the workers gone, and CPython 3.11's raises doing so
    (InvalidStateError on a future cancelled meanwhile, EBADF on its closed wake-up pipe); what it
    raises after the stop is not shown: the caller reports the stop in its own line."""
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        _hide_errors_of(manager)
    for proc in list((pool._processes or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(STOP_PATIENCE)


_WORKER_LIMITS = None  # a worker's threadpoolctl limits, kept alive for the worker's life
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # read when a library loads


def _start_worker(one_thread, initializer, initargs):
    global _WORKER_LIMITS
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # spawned (a fresh interpreter's)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once, as the others do, with no traceback
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
    runs. Workers die on SIGTERM, SIGINT and SIGHUP, even inside C code: forked ones get the
    default actions back (naap.cli._default_signals_in_child), spawned ones start with them
    (SIGINT: _start_worker). Leaving the block normally waits for the workers; leaving it by an
    exception (a failed task, Ctrl-C, SIGHUP, SIGTERM) ends them at once (stop_pool) and the
    exception goes on; a worker that dies by itself breaks the pool, which is raised as WorkerDied.
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
    except BaseException as e:
        dead = _dead_workers(pool) if isinstance(e, BrokenProcessPool) and not isinstance(e, WorkerDied) else None
        stop_pool(pool)
        if dead is not None:
            raise WorkerDied(dead) from None
        raise
    pool.shutdown()


def _quietly(fn, args):
    try:
        fn(*args)
    except BaseException:  # a stop signal or a failure: the caller sees only the missing work
        os._exit(1)


@contextlib.contextmanager
def in_background(fn, *args):
    """`with in_background(fn, *args):` runs fn(*args) in a forked process while the block runs,
    and waits for it when the block ends (ends it at once if the block raises). For work whose
    result reaches this process by a file, such as numba's on-disk cache: the process's failure
    raises nothing here, its output is lost. Where the system cannot fork, nothing runs."""
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        yield
        return
    process = multiprocessing.get_context("fork").Process(target=_quietly, args=(fn, args), daemon=True)
    process.start()
    try:
        yield
    except BaseException:
        process.kill()  # SIGKILL: a SIGTERM would run this process's inherited handler in the child
        process.join()
        raise
    process.join()


MAX_JOBS_PER_CORE = 4  # each job is a process: beyond a few per core, --jobs is a typo, not a speed-up


def jobs_option(text, option="--jobs"):
    """The worker processes of a --jobs value given as text: a whole number from 1 to
    MAX_JOBS_PER_CORE per core this process may run on; InputError naming the option otherwise."""
    jobs = whole_number(option, text, 1)
    cores = available_cores()
    if jobs > MAX_JOBS_PER_CORE * cores:
        raise InputError(f"{option} {jobs}: at most {MAX_JOBS_PER_CORE * cores} "
                         f"({MAX_JOBS_PER_CORE} per core; this process may run on {cores})")
    return jobs


def available_cores():
    """Cores this process may run on (taskset/cgroup affinity), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
