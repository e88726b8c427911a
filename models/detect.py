"""The batch path: ``distillwatch detect --input EVENTS --out DIR``, without Kafka.

1. Read the input: a ``.jsonl`` / ``.jsonl.gz`` / Parquet file or a folder of
   them. JSONL lines go through the same decoder and lake transform as the
   Kafka lake writer (:func:`ingest.decode.decode`, :func:`ingest.transform.to_lake`),
   so the content signals are exactly the lake's; Parquet files are read as
   lake files. Rejected lines are counted (with their reasons) and reported,
   never fatal. JSONL chunks are decoded by a pool of worker processes
   (``DISTILLWATCH_DECODE_WORKERS``), so a script that calls :func:`detect`
   needs the usual ``if __name__ == "__main__":`` guard of ``multiprocessing``.
2. Put the events in event-time order (stable: ties keep input order) and
3. run them through the online scorer (:class:`models.online.OnlineScorer`)
   window by window, exactly as the live scorer does, so ``first_flagged_at``
   means the same in both; campaign detection runs every
   :attr:`~models.online.ScorerConfig.campaign_every` of event time over the
   links so far, and once more at the end over the whole period.

   Steps 1 to 3 overlap: decoded chunks are scored while the workers decode
   the next ones, through a reorder buffer that holds events until the input
   is :data:`REORDER_SLACK` past them (simulator output and lake folders are
   within seconds of order). An input further out of order than that is read
   whole, sorted and scored again from the start; either way the scorer sees
   exactly the stably sorted input, so the output is the same.
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
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from distillwatch.handoff import Handoff, take_table
from distillwatch.processes import single_threaded
from distillwatch.settings import Settings, get_settings
from ingest.jsonl import input_files, iter_blocks, read_ahead
from ingest.lake import write_bytes
from ingest.schema import LAKE_SCHEMA
from ingest.transform import handed_piece_to_lake, piece_to_lake
from models.exports import write_exports

if TYPE_CHECKING:
    from models.online import OnlineScorer, ScorerConfig

#: Bytes of JSONL decoded per chunk (about 30,000 events of 1 KB).
CHUNK_BYTES = 32 << 20
#: Events handed to the scorer per call when the input is sorted whole (any size
#: gives the same result).
FEED_ROWS = 200_000
#: Decoded chunks in flight per worker process (read-ahead).
READ_AHEAD = 3
#: How far out of event-time order the input may be and still be scored as it is
#: read (see :class:`_Reorder`); beyond that it is read whole and sorted first.
REORDER_SLACK = timedelta(hours=1)
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
    #: True when the input was scored as it was read; False when it had to be sorted whole first.
    streamed: bool = True
    total_seconds: float = 0.0
    exports: dict[str, str] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """End-to-end throughput (input lines or rows per second of wall time)."""
        return max(self.lines, self.events) / max(self.total_seconds, 1e-9)

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"events_per_second": round(self.events_per_second, 1)}


def _jsonl_frames(
    path: Path, summary: DetectSummary, reasons: Counter[str], settings: Settings
) -> Iterator[pl.DataFrame]:
    """Lake rows of a JSONL file, decoded in parallel chunks, yielded in input order.

    This process reads the file and cuts it at line breaks into pieces of
    :data:`CHUNK_BYTES`; ``settings.decode_workers`` processes (one per core by
    default) split the pieces into lines, decode them and derive their content
    signals, the costly part (:func:`ingest.transform.piece_to_lake`), each
    with single-threaded native pools so that together they fill the cores
    without oversubscribing them. Workers are spawned, not forked: a forked
    child inherits polars' thread pool in an unusable state. The workers keep
    decoding the pieces read ahead while the caller works on a yielded frame
    (in :func:`detect`, scoring it), so reading and scoring overlap.
    """
    workers = settings.decode_workers or os.cpu_count() or 1
    options: dict[str, Any] = {
        "source": path.name,
        "ingested_at": _REPLAY_TIME,
        "max_message_bytes": settings.max_message_bytes,
    }

    def collect(result: tuple[pa.Table | None, list[str], int]) -> Iterator[pl.DataFrame]:
        table, rejected, lines = result
        first_line = summary.lines
        summary.lines += lines
        summary.rejected += len(rejected)
        reasons.update(rejected)
        if table is not None:
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            # line numbers in the file, not in the piece
            yield frame.with_columns(pl.col("source_offset") + first_line)

    if workers == 1:
        for piece in read_ahead(iter_blocks(path, CHUNK_BYTES)):
            yield from collect(piece_to_lake(piece, **options))
        return
    context = multiprocessing.get_context("spawn")
    # Pieces go to the workers, and their rows come back, as files in RAM: one
    # copy each way instead of pickling through a pipe (distillwatch.handoff).
    with (
        Handoff(room=(READ_AHEAD * workers + 2) * 2 * CHUNK_BYTES) as handoff,
        ProcessPoolExecutor(workers, mp_context=context, initializer=single_threaded) as pool,
        closing(read_ahead(map(handoff.put_bytes, iter_blocks(path, CHUNK_BYTES)))) as handed,
    ):
        pending: deque[Future[tuple[Path | None, list[str], int]]] = deque()

        def take() -> Iterator[pl.DataFrame]:
            rows, rejected, lines = pending.popleft().result()
            yield from collect((None if rows is None else take_table(rows), rejected, lines))

        for file in handed:
            rows = handoff.path(".arrow")
            pending.append(pool.submit(handed_piece_to_lake, file, rows, **options))
            # bounded read-ahead: at most READ_AHEAD pieces per worker in flight
            while len(pending) > READ_AHEAD * workers:
                yield from take()
        while pending:
            yield from take()


def _frames(summary: DetectSummary, settings: Settings) -> Generator[pl.DataFrame, None, None]:
    """Lake-schema frames of every file of ``summary.input_files``, in input order.

    Counts lines and rejections into ``summary`` as it goes; once exhausted,
    ``summary.rejected_reasons`` holds the most common reasons.
    """
    reasons: Counter[str] = Counter()
    for path in map(Path, summary.input_files):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path, hive_partitioning=False).select(LAKE_SCHEMA.names)
            summary.lines += frame.height
            yield frame
        else:
            yield from _jsonl_frames(path, summary, reasons, settings)
    summary.rejected_reasons = dict(reasons.most_common(20))


def read_events(
    source: Path,
    settings: Settings | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pl.DataFrame, DetectSummary]:
    """All events of ``source`` as one lake-schema frame, sorted by event time.

    Returns the frame and a summary with the line, event and rejection counts.
    """
    settings = settings or get_settings()
    summary = DetectSummary(input_files=[str(f) for f in input_files(source)])
    frames: list[pl.DataFrame] = []
    for frame in _frames(summary, settings):
        frames.append(frame)
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
    return events, summary


class _OutOfOrderError(Exception):
    """An event came later in the input than :data:`REORDER_SLACK` allows."""


class _Reorder:
    """Releases the events of a nearly time-ordered stream in exact event-time order.

    Events are held until the newest event time seen is ``slack`` past them,
    then released sorted (stable: ties keep input order). The released stream
    is then exactly what a stable sort of the whole input would give, unless an
    event arrives older than one already released: then no such promise can be
    kept and :meth:`push` raises :class:`_OutOfOrderError`.
    """

    def __init__(self, slack: timedelta) -> None:
        self._slack = slack
        self._held: list[pl.DataFrame] = []
        self._released: datetime | None = None
        self._newest: datetime | None = None

    def push(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add ``frame`` (input order); return the events now due, sorted."""
        if frame.height == 0:
            return frame
        oldest, newest = frame["ts"].min(), frame["ts"].max()
        assert isinstance(oldest, datetime) and isinstance(newest, datetime)
        if self._released is not None and oldest < self._released:
            raise _OutOfOrderError(f"event at {oldest} after events up to {self._released}")
        self._newest = newest if self._newest is None else max(self._newest, newest)
        held = pl.concat([*self._held, frame], how="vertical_relaxed").sort(
            "ts", maintain_order=True
        )
        due = held.filter(pl.col("ts") < self._newest - self._slack)
        self._held = [held.slice(due.height)]
        if due.height:
            self._released = due["ts"][-1]
        return due

    def drain(self) -> pl.DataFrame:
        """Every event still held, sorted (end of input)."""
        held = pl.concat(self._held, how="vertical_relaxed") if self._held else pl.DataFrame()
        self._held = []
        return held


def _score_stream(
    source: Path,
    settings: Settings,
    config: ScorerConfig | None,
    progress: Callable[[int], None] | None,
) -> tuple[OnlineScorer, DetectSummary]:
    """Read and score at once: each decoded chunk is scored while the next ones decode.

    Raises :class:`_OutOfOrderError` if the input is further from event-time order
    than :data:`REORDER_SLACK` (the caller then sorts it whole).
    """
    summary = DetectSummary(input_files=[str(f) for f in input_files(source)])
    reorder = _Reorder(REORDER_SLACK)
    frames = _frames(summary, settings)
    # The scorer's modules (river, scipy) take about a second to import: a
    # thread imports them while the decoding workers start.
    with ThreadPoolExecutor(1) as pool:
        ready = pool.submit(_new_scorer, config)
        try:
            for frame in frames:
                summary.events += frame.height
                ready.result().process(reorder.push(frame))
                if progress is not None:
                    progress(summary.lines)
        finally:
            frames.close()  # on _OutOfOrderError: stop the decoding workers
        scorer = ready.result()
    scorer.process(reorder.drain())
    return scorer, summary


def _new_scorer(config: ScorerConfig | None) -> OnlineScorer:
    """A fresh online scorer; its module is imported on first use (see :func:`_score_stream`)."""
    from models.online import OnlineScorer

    return OnlineScorer(config)


def _score_sorted(
    source: Path,
    settings: Settings,
    config: ScorerConfig | None,
    progress: Callable[[int], None] | None,
) -> tuple[OnlineScorer, DetectSummary]:
    """Read the whole input, sort it by event time, then score it."""
    events, summary = read_events(source, settings, progress)
    scorer = _new_scorer(config)
    for offset in range(0, events.height, FEED_ROWS):
        scorer.process(events.slice(offset, FEED_ROWS))
    return scorer, summary


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
        Called with the number of input lines read so far.

    Raises
    ------
    FileNotFoundError
        If ``input`` does not exist.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    try:
        scorer, summary = _score_stream(input, settings, config, progress)
    except _OutOfOrderError:
        scorer, summary = _score_sorted(input, settings, config, progress)
        summary.streamed = False
    scorer.flush()
    flagged, campaigns = scorer.flagged(), scorer.campaigns()
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
