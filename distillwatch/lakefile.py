"""Build a lake from a file of events, without Kafka: the batch twin of the lake writer.

:func:`lake_from_file` reads a ``.jsonl`` or ``.jsonl.gz`` file in chunks and
treats each chunk as one batch of a pseudo-partition (topic ``file``,
partition 0, offset = line number), so the result has the layout and the
bookkeeping of a lake written by ``distillwatch ingest``:

* ``events/date=YYYY-MM-DD/hour=HH/file+0+<first>+<last>.parquet`` (lake schema),
* ``quarantine/topic=file/partition=0/<same name>.parquet`` for rejected lines,
* ``ingest_log/topic=file/partition=0/<same name>.json`` with the batch's
  ``consumed``, ``accepted``, ``rejected`` and ``files``.

It exists for tests, demos and backfills from archived files; the data-quality
checks (:mod:`ingest.quality`) and every downstream job read such a lake
exactly like a streamed one. File names derive from line numbers, so loading
the same file again overwrites rather than duplicates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ingest import lake
from ingest.decode import INDEX, decode
from ingest.jsonl import iter_line_chunks
from ingest.schema import EVENT_ENCODING, QUARANTINE_SCHEMA
from ingest.transform import hour_groups, to_lake

TOPIC = "file"
PARTITION = 0


@dataclass(frozen=True)
class LoadCounts:
    """What :func:`lake_from_file` wrote; ``accepted + rejected == consumed``."""

    consumed: int
    accepted: int
    rejected: int
    files: int


def lake_from_file(
    path: Path,
    lake_dir: Path,
    *,
    keep_prompt_text: bool = False,
    chunk_lines: int = 20_000,
    ingested_at: datetime | None = None,
) -> LoadCounts:
    """Decode, validate and write the events of ``path`` into the lake at ``lake_dir``.

    Parameters
    ----------
    path
        A ``.jsonl`` or ``.jsonl.gz`` file of ``api_access_log`` v1 events.
    keep_prompt_text
        Keep prompt and system-prompt text in the lake (off by default, as in the
        ``keep_prompt_text`` setting).
    chunk_lines
        Lines per batch; each batch gets its own files and ingest-log entry.
    ingested_at
        Provenance time stamped on every row (default: now).
    """
    stamp = ingested_at or datetime.now(UTC)
    consumed = accepted = rejected = files = 0
    for lines in iter_line_chunks(path, chunk_lines):
        first, last = consumed, consumed + len(lines) - 1
        batch = _write_batch(
            lines, lake_dir, first=first, last=last, stamp=stamp, keep_prompt_text=keep_prompt_text
        )
        consumed += batch.consumed
        accepted += batch.accepted
        rejected += batch.rejected
        files += batch.files
    return LoadCounts(consumed, accepted, rejected, files)


def _write_batch(
    lines: list[bytes],
    lake_dir: Path,
    *,
    first: int,
    last: int,
    stamp: datetime,
    keep_prompt_text: bool,
) -> LoadCounts:
    """Write one batch's events, quarantine and ingest-log entry; return its counts."""
    decoded = decode(lines)
    name = f"{TOPIC}+{PARTITION}+{first:020d}+{last:020d}"
    by_source = f"topic={TOPIC}/partition={PARTITION}"
    written: list[Path] = []
    if decoded.accepted.height:
        table = to_lake(
            decoded.accepted.drop(INDEX),
            source_topic=TOPIC,
            source_partition=PARTITION,
            source_offsets=decoded.accepted[INDEX] + first,
            ingested_at=stamp,
            keep_prompt_text=keep_prompt_text,
        )
        for day, hour, rows in hour_groups(table):
            folder = lake.hour_partition(lake_dir / lake.EVENTS, day, hour)
            path = folder / f"{name}.parquet"
            written.append(lake.write_parquet(rows, path, encoding=EVENT_ENCODING))
    if decoded.rejected:
        offsets = sorted(decoded.rejected)
        quarantine = pa.table(
            {
                "raw": pa.array([lines[i] for i in offsets], pa.binary()),
                "reason": [decoded.rejected[i] for i in offsets],
                "source_topic": [TOPIC] * len(offsets),
                "source_partition": pa.array([PARTITION] * len(offsets), pa.int32()),
                "source_offset": pa.array([first + i for i in offsets], pa.int64()),
                "quarantined_at": pa.array([stamp] * len(offsets), QUARANTINE_SCHEMA[-1].type),
            },
            schema=QUARANTINE_SCHEMA,
        )
        folder = lake_dir / lake.QUARANTINE / by_source
        written.append(lake.write_parquet(quarantine, folder / f"{name}.parquet"))
    counts = LoadCounts(len(lines), decoded.accepted.height, len(decoded.rejected), len(written))
    log = {
        "topic": TOPIC,
        "partition": PARTITION,
        "first_offset": first,
        "last_offset": last,
        "consumed": counts.consumed,
        "accepted": counts.accepted,
        "rejected": counts.rejected,
        "files": [str(p.relative_to(lake_dir)) for p in written],
        "written_at": stamp.isoformat(),
    }
    log_file = lake_dir / lake.INGEST_LOG / by_source / f"{name}.json"
    lake.write_bytes(json.dumps(log, indent=1).encode(), log_file)
    return counts
