"""The batch path: ``distillwatch detect --input EVENTS --out DIR``, without Kafka.

1. Read the input: a ``.jsonl`` / ``.jsonl.gz`` / Parquet file or a folder of
   them. JSONL lines go through the same decoder and lake transform as the
   Kafka lake writer (:func:`ingest.decode.decode`, :func:`ingest.transform.to_lake`),
   so the content signals are exactly the lake's; Parquet files are read as
   lake files. Rejected lines are counted (with their reasons) and reported,
   never fatal. JSONL chunks are decoded by a pool of worker processes
   (``DISTILLWATCH_DECODE_WORKERS``), so a script that calls :func:`detect`
   needs the usual ``if __name__ == "__main__":`` guard of ``multiprocessing``.
2. Sort all events by event time (stable: ties keep input order).
3. Run them through the online scorer (:class:`models.online.OnlineScorer`)
   window by window, exactly as the live scorer does, so ``first_flagged_at``
   means the same in both; campaign detection runs every
   :attr:`~models.online.ScorerConfig.campaign_every` of event time over the
   links so far, and once more at the end over the whole period.
4. Write ``DIR/exports/flagged_accounts.{parquet,csv}`` and
   ``DIR/exports/campaigns.parquet`` atomically (:mod:`models.exports`), and
   ``DIR/summary.json``.

The output is a function of the input only: the same input gives the same files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl
import pyarrow as pa

from distillwatch.processes import single_threaded
from distillwatch.settings import Settings, get_settings
from ingest.jsonl import input_files, iter_line_chunks
from ingest.lake import write_bytes
from ingest.schema import LAKE_SCHEMA
from ingest.transform import lines_to_lake
from models.exports import write_exports
from models.online import OnlineScorer, ScorerConfig

#: Lines decoded per chunk when reading JSONL.
CHUNK_LINES = 50_000
#: Events handed to the scorer per call (any size gives the same result).
FEED_ROWS = 200_000
#: Fixed ingestion time written in the provenance column, so output never depends on the clock.
_REPLAY_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class DetectSummary:
    """What a ``detect`` run read, found and wrote, and how long it took."""

    input_files: list[str]
    lines: int = 0
    events: int = 0
    rejected: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    accounts: int = 0
    windows: int = 0
    flagged: int = 0
    campaigns: int = 0
    drift_alarms: int = 0
    read_seconds: float = 0.0
    score_seconds: float = 0.0
    total_seconds: float = 0.0
    exports: dict[str, str] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """End-to-end throughput (input lines or rows per second of wall time)."""
        return max(self.lines, self.events) / max(self.total_seconds, 1e-9)

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"events_per_second": round(self.events_per_second, 1)}


def _read_jsonl(
    path: Path, summary: DetectSummary, reasons: Counter[str], settings: Settings
) -> list[pl.DataFrame]:
    """Lake rows of a JSONL file, decoded in parallel chunks, in input order.

    This process reads and splits the lines; ``settings.decode_workers``
    processes (one per core by default) decode chunks and derive their content
    signals, the costly part (:func:`ingest.transform.lines_to_lake`), each
    with single-threaded native pools so that together they fill the cores
    without oversubscribing them. Workers are spawned, not forked: a forked
    child inherits polars' thread pool in an unusable state.
    """
    workers = settings.decode_workers or os.cpu_count() or 1
    frames: list[pl.DataFrame] = []

    decode = partial(
        lines_to_lake, ingested_at=_REPLAY_TIME, max_message_bytes=settings.max_message_bytes
    )

    def collect(result: tuple[pa.Table | None, list[str]]) -> None:
        table, rejected = result
        if table is not None:
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            frames.append(frame)
        summary.rejected += len(rejected)
        reasons.update(rejected)

    chunks = iter_line_chunks(path, CHUNK_LINES)
    if workers == 1:
        for chunk in chunks:
            collect(decode(chunk, source=path.name, first_line=summary.lines))
            summary.lines += len(chunk)
        return frames
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=single_threaded) as pool:
        pending: deque[Future[tuple[pa.Table | None, list[str]]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(decode, chunk, source=path.name, first_line=summary.lines))
            summary.lines += len(chunk)
            # bounded read-ahead: at most two chunks per worker in flight
            while len(pending) > 2 * workers:
                collect(pending.popleft().result())
        while pending:
            collect(pending.popleft().result())
    return frames


def read_events(
    source: Path,
    settings: Settings | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pl.DataFrame, DetectSummary]:
    """All events of ``source`` as one lake-schema frame, sorted by event time.

    Returns the frame and a summary with the line, event and rejection counts.
    """
    settings = settings or get_settings()
    files = input_files(source)
    summary = DetectSummary(input_files=[str(f) for f in files])
    reasons: Counter[str] = Counter()
    frames: list[pl.DataFrame] = []
    for path in files:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path, hive_partitioning=False).select(LAKE_SCHEMA.names)
            summary.lines += frame.height
            frames.append(frame)
        else:
            frames += _read_jsonl(path, summary, reasons, settings)
        if progress is not None:
            progress(summary.lines)
    events = (
        pl.concat(frames, how="vertical_relaxed")
        if frames
        else pl.from_arrow(LAKE_SCHEMA.empty_table())
    )
    assert isinstance(events, pl.DataFrame)
    events = events.sort("ts", maintain_order=True)
    summary.events = events.height
    summary.rejected_reasons = dict(reasons.most_common(20))
    return events, summary


def detect(
    input: Path,
    out: Path,
    settings: Settings | None = None,
    *,
    config: ScorerConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> DetectSummary:
    """Score a file or folder of events and write the flagged-account export under ``out``.

    Parameters
    ----------
    input
        ``.jsonl``, ``.jsonl.gz`` or Parquet file, or a folder of them.
    out
        Output folder: ``out/exports/`` receives the export, ``out/summary.json``
        the run summary.
    settings
        Pipeline settings (message size limit); from the environment by default.
    config
        Scorer knobs; the documented defaults otherwise.
    progress
        Called with the number of input lines read, then of events scored.

    Raises
    ------
    FileNotFoundError
        If ``input`` does not exist.
    """
    started = time.perf_counter()
    events, summary = read_events(input, settings, progress)
    summary.read_seconds = time.perf_counter() - started
    scorer = OnlineScorer(config)
    for offset in range(0, events.height, FEED_ROWS):
        scorer.process(events.slice(offset, FEED_ROWS))
        if progress is not None:
            progress(min(offset + FEED_ROWS, events.height))
    scorer.flush()
    flagged, campaigns = scorer.flagged(), scorer.campaigns()
    summary.score_seconds = time.perf_counter() - started - summary.read_seconds
    paths = write_exports(flagged, campaigns, out / "exports")
    counts = scorer.counts
    summary.accounts = counts["accounts"]
    summary.windows = counts["windows"]
    summary.drift_alarms = counts["drift_alarms"]
    summary.flagged = flagged.height
    summary.campaigns = campaigns.height
    summary.exports = {name: str(path) for name, path in paths.items()}
    summary.total_seconds = time.perf_counter() - started
    write_bytes(json.dumps(summary.as_dict(), indent=1).encode(), out / "summary.json")
    return summary
