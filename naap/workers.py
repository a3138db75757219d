"""The one way the scripts run worker processes (process_pool), and how they stop (stop_pool)."""
import contextlib
import os
import signal


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
    exception goes on.
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


def available_cores():
    """Cores this process may run on (taskset/cgroup affinity), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
