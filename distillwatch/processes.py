"""Worker processes that share the machine's cores with each other."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import os
from typing import Any

#: glibc ``mallopt`` parameters (``<malloc.h>``).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
#: Allocations below this size come from the heap, and freed heap memory below
#: it stays with the process (see :func:`keep_freed_memory`).
_KEEP_BYTES = 1 << 30
_TOP_PAD_BYTES = 256 << 20


def keep_freed_memory() -> None:
    """Let this process's allocators keep freed memory for reuse, not hand it back to the kernel.

    A decoding worker allocates and frees buffers of the same large sizes for
    every piece of input (the 32 MB piece, its lines, its decoded columns).
    Handed back to the kernel each time, they are faulted in and zeroed again
    each time. Measured with ``detect`` on the ``small`` preset: the glibc
    setting alone saved a million of 2.7 million page faults, brought the
    workers' system time from 5 s to 2.7 s and the run about 8 % faster; the
    jemalloc setting on top saved another 0.1 to 0.3 million faults, a small
    gain in time. Each worker's peak RSS grows from 550 to 610 MB.

    Two allocators are set: glibc's (Python objects, received bytes: no
    ``mmap`` and no trimming below 1 GiB) and the jemalloc bundled with polars
    (no decay of freed pages, read from ``_RJEM_MALLOC_CONF`` at its first
    allocation, so this must run before polars is imported). Where libc is not
    glibc, only the jemalloc setting applies. Meant for workers: in the main
    process of ``detect``, which holds the scorer's state, the same settings
    grew the peak RSS by 330 MB and made the run slower.
    """
    os.environ["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:-1,muzzy_decay_ms:-1"
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc
        return
    for parameter, value in (
        (_M_MMAP_THRESHOLD, _KEEP_BYTES),
        (_M_TRIM_THRESHOLD, _KEEP_BYTES),
        (_M_TOP_PAD, _TOP_PAD_BYTES),
    ):
        mallopt(parameter, value)


def single_threaded() -> None:
    """Initializer of a spawned worker process: its polars and Arrow pools get one thread.

    N workers that each start thread pools as large as the machine put N times
    the cores' worth of threads on it; on two cores, two single-threaded
    decoding workers read the ``small`` preset in 12.8 s, two two-threaded
    ones in 15.2 s. polars reads its
    pool size once, when it is imported, so this must run before: this module
    imports neither polars nor pyarrow, and a spawned worker loads it first (unless the main
    script imports polars at its top level, which then keeps the full pool).
    The worker's allocators also keep freed memory (:func:`keep_freed_memory`).
    """
    os.environ["POLARS_MAX_THREADS"] = "1"
    # numpy's OpenBLAS starts a thread per core at import, which nothing here
    # uses, and whose spinning showed in profiles of the workers.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    keep_freed_memory()
    import pyarrow

    pyarrow.set_cpu_count(1)
    pyarrow.set_io_thread_count(1)


def call_single_threaded(function: str, *args: Any) -> Any:
    """Target of a spawned process: :func:`single_threaded`, then ``function(*args)``.

    ``function`` is named as ``"module:name"`` and imported only after the
    thread pools are set, because a target passed as an object would be
    unpickled, and its module (with polars) imported, before any code of the
    new process runs. ``args`` must not import polars or pyarrow either.
    """
    single_threaded()
    module, name = function.split(":")
    return getattr(importlib.import_module(module), name)(*args)
