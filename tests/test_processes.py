"""Worker processes' set-up: one-thread pools, allocators that keep freed memory."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from distillwatch.processes import call_single_threaded, single_threaded

_BUFFER = 64 << 20


def _faults_of_a_second_buffer() -> int:
    """Page faults of filling a large buffer once one of the same size was freed."""
    first = b"\x01" * _BUFFER
    del first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    second = b"\x02" * _BUFFER
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del second
    return faults


def _worker_report() -> tuple[int, int, int, str | None]:
    import os

    import polars as pl
    import pyarrow

    faults = _faults_of_a_second_buffer()
    return pl.thread_pool_size(), pyarrow.cpu_count(), faults, os.environ.get("_RJEM_MALLOC_CONF")


def _report(initializer: Callable[[], object] | None) -> tuple[int, int, int, str | None]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=initializer) as pool:
        return pool.submit(_worker_report).result()


def test_a_worker_gets_one_thread_and_reuses_freed_memory() -> None:
    threads, arrow_threads, faults, jemalloc = _report(single_threaded)
    assert (threads, arrow_threads) == (1, 1)
    # polars puts its own defaults first when imported; jemalloc takes the last setting
    assert jemalloc is not None and jemalloc.endswith("dirty_decay_ms:-1,muzzy_decay_ms:-1")
    # the second 64 MB buffer reuses the first one's pages: almost no faults
    assert faults < (_BUFFER // 4096) // 10
    # without the set-up, glibc maps a fresh buffer and faults in every page
    *_, plain_faults, _ = _report(None)
    assert plain_faults > (_BUFFER // 4096) // 2


def test_a_spawned_target_is_imported_after_its_pools_are_set() -> None:
    """The lake writer's workers: ``call_single_threaded`` imports the target last."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        # The target's module is polars itself: imported first, it would keep its full pool.
        assert pool.submit(call_single_threaded, "polars:thread_pool_size").result() == 1
        assert pool.submit(call_single_threaded, "pyarrow:cpu_count").result() == 1
        # numpy's OpenBLAS reads it at import: one thread, no idle spinning ones
        blas = pool.submit(call_single_threaded, "os:getenv", "OPENBLAS_NUM_THREADS")
        assert blas.result() == "1"
