"""Large buffers handed between processes as files in RAM, not through pipes.

``detect`` sends each 32 MB piece of its input to a decoding worker and gets
its lake rows back (about 20 MB of Arrow). Through a ``ProcessPoolExecutor``
both would be pickled and pushed through a pipe 64 KB at a time: for the
``small`` preset that cost the main process 3.2 s of CPU (most of it system
time), on the same two cores that decode and score. Written to a file on a
RAM-backed file system and read back, the same bytes cost it 0.8 s: one copy
each way, no pickling, and the Arrow rows are memory-mapped, not copied.

A :class:`Handoff` owns one private folder (under ``/dev/shm`` where there
is one with room for what will be in flight, else the temporary folder: a
container's ``/dev/shm`` is often only 64 MB) and removes it, with anything
left in it, when closed. A file is removed by whoever takes it (:func:`take_bytes`,
:func:`take_table`), so at most the pieces in flight hold memory. A process
killed with SIGKILL leaves its folder behind; its name says whose it was.

This module imports pyarrow only inside the functions that need it: a spawned
worker loads it before :func:`distillwatch.processes.single_threaded` sets
its thread pools.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: RAM-backed on Linux; elsewhere the temporary folder serves (a disk, maybe cached).
_RAM = Path("/dev/shm")


class Handoff:
    """A private folder for files handed between processes (see module docstring).

    Parameters
    ----------
    room
        Bytes that may be in the folder at once: ``/dev/shm`` is used only
        when it has twice that free.
    """

    def __init__(self, room: int) -> None:
        parent = _RAM if _has_room(_RAM, 2 * room) else None
        self.root = Path(tempfile.mkdtemp(prefix=f"distillwatch-{os.getpid()}-", dir=parent))
        self._names = itertools.count()

    def path(self, suffix: str) -> Path:
        """A new, unused file name in the folder."""
        return self.root / f"{next(self._names):06d}{suffix}"

    def put_bytes(self, data: bytes | bytearray) -> Path:
        """Write ``data`` to a new file and return its name, for :func:`take_bytes`."""
        path = self.path(".bin")
        with path.open("wb") as handle:
            handle.write(data)
        return path

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Handoff:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _has_room(folder: Path, size: int) -> bool:
    """Whether ``folder`` is a writable folder with ``size`` bytes free."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return os.access(folder, os.W_OK) and stats.f_bavail * stats.f_frsize >= size


def take_bytes(path: Path) -> bytes:
    """The bytes of ``path``, which is then removed."""
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def put_table(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` as an Arrow IPC file, for :func:`take_table`."""
    import pyarrow as pa

    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def take_table(path: Path) -> pa.Table:
    """The table of ``path``, memory-mapped; the file's name is then removed.

    The mapping, and so the memory, lives on for as long as the table's
    buffers do (removing a mapped file's name keeps its pages).
    """
    import pyarrow as pa

    try:
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    finally:
        path.unlink(missing_ok=True)
