"""Tiny hand-built lakes for tests: lake-schema tables from a few dicts, in the Hive layout."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.content import with_content
from ingest.lake import EVENTS, hour_partition
from ingest.schema import LAKE_SCHEMA, TEXT_FIELDS

_IDS = itertools.count()

#: Required contract fields, filled in when a row does not give them.
DEFAULTS: dict[str, Any] = {
    "model": "frontier-large-2026-09",
    "endpoint": "/v1/chat/completions",
    "status": 200,
    "prompt_tokens": 10,
    "completion_tokens": 20,
}


def lake_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema = LAKE_SCHEMA) -> pa.Table:
    """A table of exactly ``schema`` from ``rows``; missing columns are null.

    Each row needs ``ts`` (a datetime; naive means UTC) and ``account_id``;
    required contract fields default to :data:`DEFAULTS` and ``event_id`` to a
    fresh id. Content columns a row does not set are computed from its
    ``prompt``, ``system_prompt`` and ``prompt_simhash`` with
    :func:`features.content.with_content`, as at ingest.
    """
    filled = [
        {"event_id": f"e{next(_IDS)}", **DEFAULTS, **row, "ts": _utc(row["ts"])} for row in rows
    ]
    given = {name for row in filled for name in row}
    text = {name: pl.String for name in (*TEXT_FIELDS, "prompt_simhash")}
    frame = with_content(
        pl.DataFrame([{name: row.get(name) for name in text} for row in filled], schema=text)
    )
    columns = {}
    for field in schema:
        if field.name in given:
            columns[field.name] = pa.array([row.get(field.name) for row in filled], field.type)
        elif field.name in frame.columns:
            columns[field.name] = frame[field.name].to_arrow().cast(field.type)
        else:
            columns[field.name] = pa.nulls(len(filled), field.type)
    return pa.table(columns, schema=schema)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def write_events(
    lake: Path,
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema = LAKE_SCHEMA,
    name: str = "part-0.parquet",
) -> list[Path]:
    """Write ``rows`` into ``lake/events/date=YYYY-MM-DD/hour=HH/<name>`` by event hour."""
    table = lake_table(rows, schema)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    hours = frame.select(pl.col("ts").dt.truncate("1h").alias("hour"))["hour"]
    paths = []
    for hour in hours.unique().sort():
        mask = (hours == hour).to_arrow()
        folder = hour_partition(lake / EVENTS, f"{hour:%Y-%m-%d}", hour.hour)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(mask), folder / name)
        paths.append(folder / name)
    return paths
