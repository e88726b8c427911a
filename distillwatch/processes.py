"""Worker processes that share the machine's cores with each other."""

from __future__ import annotations

import os


def single_threaded() -> None:
    """Initializer of a spawned worker process: its polars and Arrow pools get one thread.

    N workers that each start thread pools as large as the machine put N times
    the cores' worth of threads on it; on two cores, two single-threaded
    decoding workers read the ``small`` preset in 12.8 s, two two-threaded
    ones in 15.2 s. polars reads its
    pool size once, when it is imported, so this must run before: this module
    imports nothing, and a spawned worker loads it first (unless the main
    script imports polars at its top level, which then keeps the full pool).
    """
    os.environ["POLARS_MAX_THREADS"] = "1"
    import pyarrow

    pyarrow.set_cpu_count(1)
    pyarrow.set_io_thread_count(1)
