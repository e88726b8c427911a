"""Durable file writes and the lake's folder layout.

Every file of the lake is written to a temporary name in its final folder,
fsynced, renamed over its final name and the folder fsynced, so a reader or a
crash sees either the old file or the new one, never a torn one. File names are
deterministic (derived from the data they hold), so writing again replaces.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

EVENTS = "events"
QUARANTINE = "quarantine"
INGEST_LOG = "ingest_log"


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under before its rename.

    Deterministic, so that a writer recovering from a crash can remove the
    half-written file a killed writer left behind (one writer per file).
    """
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Encoding:
    """Per-column Parquet choices for one kind of lake file (the default: Arrow's own)."""

    #: The columns that get min/max statistics; None: all of them.
    statistics: Collection[str] | None = None
    #: The columns written without a dictionary (all others get one).
    plain: Collection[str] = ()

    def options(self, columns: list[str]) -> dict[str, bool | list[str]]:
        """``pyarrow.parquet.write_table`` keyword arguments for a table of ``columns``."""
        statistics = True if self.statistics is None else list(self.statistics)
        dictionary = [c for c in columns if c not in self.plain] if self.plain else True
        return {"write_statistics": statistics, "use_dictionary": dictionary}


def write_parquet(
    table: pa.Table,
    path: Path,
    *,
    compression: str = "zstd",
    encoding: Encoding = Encoding(),
) -> Path:
    """Write ``table`` to ``path`` durably and atomically (see module docstring)."""
    options = encoding.options(table.column_names)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=compression, **options)
    return path


def write_bytes(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` durably and atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def hour_partition(root: Path, date: str, hour: int) -> Path:
    """Folder of one event-time hour: ``root/date=YYYY-MM-DD/hour=HH``."""
    return root / f"date={date}" / f"hour={hour:02d}"


def as_utc(moment: datetime) -> datetime:
    """``moment`` as a plain aware UTC ``datetime`` (naive means UTC): the lake's time.

    Subclasses such as Airflow's pendulum ``DateTime`` become plain datetimes,
    so hour keys compare and hash like the ones polars returns.
    """
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=UTC)


def partition_hour(folder: Path) -> datetime:
    """Start of the event hour of a ``date=YYYY-MM-DD/hour=HH`` folder, UTC."""
    day = folder.parent.name.removeprefix("date=")
    hour = int(folder.name.removeprefix("hour="))
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def event_hours(lake_dir: Path) -> list[datetime]:
    """Starts of the event hours that have files in ``lake_dir/events``, sorted."""
    folders = (lake_dir / EVENTS).glob("date=*/hour=*")
    return sorted(partition_hour(f) for f in folders if any(f.glob("*.parquet")))
