"""From validated contract rows to lake rows: content signals, privacy, provenance.

Shared by the Kafka lake writer and the batch path (``distillwatch detect``),
so a lake row means the same whichever way it came in.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pyarrow as pa

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

    Content signals (template signatures, near-duplicate fingerprints, CoT and
    rubric scores, topic) are derived from the prompt text here, once; the text
    itself is then dropped unless ``keep_prompt_text`` is set.

    Parameters
    ----------
    accepted
        Rows from :func:`ingest.decode.decode` (contract columns, UTC timestamps).
    source_offsets
        Kafka offset (or line number of a replayed file) of each row.
    """
    schema = lake_schema(keep_prompt_text)
    # One contiguous chunk: the lake writer's batches are concatenations of many
    # polled chunks, on which the content signals' string kernels cost ~1.7x.
    frame = with_content(accepted.rechunk()).with_columns(
        pl.lit(source_topic, pl.String).alias("source_topic"),
        pl.lit(source_partition, pl.Int32).alias("source_partition"),
        source_offsets.cast(pl.Int64).alias("source_offset"),
        pl.lit(ingested_at)
        .dt.replace_time_zone("UTC")
        .dt.cast_time_unit("us")
        .alias("ingested_at"),
    )
    if not keep_prompt_text:
        frame = frame.drop(TEXT_FIELDS)
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


def partition_keys(table: pa.Table) -> pl.DataFrame:
    """The ``date`` (YYYY-MM-DD) and ``hour`` of each row's event time, UTC."""
    ts = pl.from_arrow(table.column("ts"))
    assert isinstance(ts, pl.Series)
    return pl.DataFrame({"date": ts.dt.strftime("%Y-%m-%d"), "hour": ts.dt.hour()})
