"""From validated contract rows to lake rows: content signals, privacy, provenance.

Shared by the Kafka lake writer and the batch path (``distillwatch detect``),
so a lake row means the same whichever way it came in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from distillwatch.handoff import put_table, take_bytes
from features.content import with_content
from ingest.decode import INDEX, decode
from ingest.jsonl import split_lines
from ingest.schema import TEXT_FIELDS, lake_schema


def to_lake(
    accepted: pl.DataFrame,
    *,
    source_topic: str,
    source_partition: int,
    source_offsets: pl.Series,
    ingested_at: datetime,
    keep_prompt_text: bool,
) -> pa.Table:
    """Turn decoded rows into a table of exactly the lake schema.

    :func:`derive_content`, then :func:`with_provenance`: the two steps of a
    lake row, for callers that hold a whole batch at once.

    Parameters
    ----------
    accepted
        Rows from :func:`ingest.decode.decode` (contract columns, UTC timestamps).
    source_offsets
        Kafka offset (or line number of a replayed file) of each row.
    """
    return with_provenance(
        derive_content(accepted, keep_prompt_text=keep_prompt_text),
        source_topic=source_topic,
        source_partition=source_partition,
        source_offsets=source_offsets,
        ingested_at=ingested_at,
    )


def derive_content(accepted: pl.DataFrame, *, keep_prompt_text: bool) -> pl.DataFrame:
    """Decoded rows with their content signals, and without the prompt text unless kept.

    Content signals (template signatures, near-duplicate fingerprints, CoT and
    rubric scores, topic) are derived from the prompt text here, once; the text
    itself is then dropped unless ``keep_prompt_text`` is set. The lake writer
    calls this on every polled chunk, so that what it buffers until a batch is
    complete is small rows, not prompts (about 60 % of an event's bytes).
    """
    # One contiguous chunk: on a concatenation of many chunks the content
    # signals' string kernels cost ~1.7x.
    frame = with_content(accepted.rechunk())
    return frame if keep_prompt_text else frame.drop(TEXT_FIELDS)


def with_provenance(
    rows: pl.DataFrame,
    *,
    source_topic: str,
    source_partition: int,
    source_offsets: pl.Series,
    ingested_at: datetime,
) -> pa.Table:
    """Rows of :func:`derive_content` with their source and ingest time, in the lake schema.

    The schema with the prompt text when the rows still hold it, else the plain one.
    """
    schema = lake_schema(keep_prompt_text=set(TEXT_FIELDS) <= set(rows.columns))
    frame = rows.with_columns(
        pl.lit(source_topic, pl.String).alias("source_topic"),
        pl.lit(source_partition, pl.Int32).alias("source_partition"),
        source_offsets.cast(pl.Int64).alias("source_offset"),
        pl.lit(ingested_at)
        .dt.replace_time_zone("UTC")
        .dt.cast_time_unit("us")
        .alias("ingested_at"),
    )
    return frame.select(schema.names).to_arrow().cast(schema)


def piece_to_lake(
    piece: bytes,
    *,
    source: str,
    ingested_at: datetime,
    max_message_bytes: int,
) -> tuple[pa.Table | None, list[str], int]:
    """Decode a piece of a JSONL file into lake rows; return them, the rejected lines' reasons
    and the number of lines.

    The batch path's unit of work (``distillwatch detect``), run in worker
    processes on pieces cut by :func:`ingest.jsonl.iter_blocks`: it lives
    here, away from ``models``, so that a spawned worker imports the decoder
    and the content kernel only, not river. ``source_offset`` is the line
    number within the piece (the caller, who knows where the piece starts in
    the file, adds that); it stands in for the Kafka offset.
    """
    lines = split_lines(piece)
    decoded = decode(lines, max_message_bytes)
    accepted = decoded.accepted
    table = None
    if accepted.height:
        table = to_lake(
            accepted.drop(INDEX),
            source_topic=source,
            source_partition=0,
            source_offsets=accepted[INDEX],
            ingested_at=ingested_at,
            keep_prompt_text=False,
        )
    return table, list(decoded.rejected.values()), len(lines)


def handed_piece_to_lake(
    piece: Path, out: Path, **options: Any
) -> tuple[Path | None, list[str], int]:
    """:func:`piece_to_lake` of a piece handed over as a file; its rows handed back as one.

    The worker's side of :class:`distillwatch.handoff.Handoff`: the piece's
    file is read and removed, the lake rows (if any) are written to ``out``
    as Arrow IPC, for the caller's :func:`~distillwatch.handoff.take_table`.
    ``options`` are those of :func:`piece_to_lake`.
    """
    table, rejected, lines = piece_to_lake(take_bytes(piece), **options)
    return (None if table is None else put_table(table, out)), rejected, lines


_HOUR_US = 3_600_000_000


def hour_groups(table: pa.Table) -> Iterator[tuple[str, int, pa.Table]]:
    """Lake rows ``table`` split by event hour (UTC): each hour's date, hour and rows.

    The date is YYYY-MM-DD; hours come in the order of their first row. An
    hour's rows keep their order, as a zero-copy slice when they are
    consecutive: a batch of an ordered stream usually falls into its hours as
    such runs. Rows are grouped by the hour's number since the epoch, and only
    each hour's start is formatted, not every row's time.
    """
    ts = pl.from_arrow(table.column("ts"))
    assert isinstance(ts, pl.Series)
    rows = (ts.dt.epoch("us") // _HOUR_US).alias("hour").to_frame().with_row_index("row")
    groups = rows.group_by("hour", maintain_order=True).agg("row")
    starts = (groups["hour"] * _HOUR_US).cast(pl.Datetime("us", "UTC"))
    days, hours = starts.dt.strftime("%Y-%m-%d").to_list(), starts.dt.hour().to_list()
    for day, hour, members in zip(days, hours, groups["row"], strict=True):
        yield day, hour, _rows(table, members)


def _rows(table: pa.Table, rows: pl.Series) -> pa.Table:
    """The given rows of ``table``, in order: a zero-copy slice when they are one run."""
    first, last = rows[0], rows[-1]
    if last - first + 1 == len(rows) and rows.is_sorted():
        return table.slice(first, len(rows))
    return table.take(rows.to_arrow())
