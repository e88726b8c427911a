"""The lake writer: a Kafka consumer group that lands contract events as Parquet.

Main loop (in the manner of quix-streams): poll a batch, decode it in bulk,
append it to a per-partition buffer, write every buffer that reached a batch
boundary, commit, repeat; stop cleanly on SIGTERM/SIGINT. Polling and commits
stay in the calling thread (kafka-python clients are not thread-safe). Two
worker threads form a pipeline behind it, each at most two items behind the
one before: a *decoder* decodes polled records, derives their content signals
(dropping the prompt text unless it is kept) into per-partition buffers and
cuts complete batches, and a *file writer* writes each batch (Parquet,
quarantine, dead letters, log) and queues its commit. Both spend most
of their time in Arrow and polars, outside the GIL, so polling, decoding and
writing overlap on several cores.

Exactly-once effect, in this strict order for each (topic, partition) batch:

1. An *in-flight* note ``lake/_ingest_state/<topic>+<partition>+<first>+<last>.json``
   names the batch's offset range and the files it is about to write (fsynced first).
2. Events go to ``lake/events/date=D/hour=H/<topic>+<partition>+<first>+<last>.parquet``
   (one file per event hour the batch touches), rejects to
   ``lake/quarantine/topic=T/partition=P/<same name>.parquet`` and the dead-letter
   topic, the batch's counts to ``lake/ingest_log/topic=T/partition=P/<same name>.json``
   (so reconciliation can add them up); each file is
   written to a temporary name, fsynced and renamed.
3. The producer of the dead-letter topic is flushed.
4. The offset after the batch is committed to Kafka; then the in-flight note is removed.

A replay of the same offsets yields the same names and overwrites. After a crash
between 2 and 4, the restarted writer finds the in-flight notes of batches that
start at or after the committed offset, deletes those batches' files and consumes
them again, so no event is lost or duplicated, whatever the batch boundaries of
the new run. Boundaries are a function of the records only: a batch closes at
``flush_records`` records, or before the record that would make its event-time
span exceed ``flush_event_seconds``. Partial batches are written only when the
writer stops, loses a partition, or the stream is idle (``idle_flush_s`` without
records; when draining with ``until_idle_s``, as soon as the writer has caught up).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
from kafka.errors import CommitFailedError, IllegalStateError, KafkaError, RetriableError
from kafka.structs import OffsetAndMetadata, TopicPartition

from distillwatch.logs import configure_logging
from distillwatch.processes import call_single_threaded
from distillwatch.settings import Settings
from ingest import kafka_io, lake
from ingest.decode import INDEX, decode
from ingest.schema import EVENT_ENCODING, QUARANTINE_SCHEMA
from ingest.transform import derive_content, hour_groups, with_provenance

log = logging.getLogger(__name__)

_NO_TS = np.iinfo(np.int64).min
#: Allocations between runs of the youngest generation of the cyclic garbage
#: collector while the writer runs (Python's default: 700).
_GC_GEN0_THRESHOLD = 100_000


@dataclass
class Counts:
    """Running totals; ``accepted + rejected == consumed`` once buffers are written."""

    #: Records received from Kafka (decoded or about to be).
    received: int = 0
    consumed: int = 0
    accepted: int = 0
    rejected: int = 0
    batches: int = 0
    files: int = 0
    #: ``time.monotonic()`` of the first record received and of the last batch
    #: written (system-wide clock: comparable across the processes of one machine).
    first_data_at: float | None = None
    last_write_at: float | None = None

    @property
    def busy_s(self) -> float:
        """Seconds from the first record received to the last batch written (0 before)."""
        if self.first_data_at is None or self.last_write_at is None:
            return 0.0
        return self.last_write_at - self.first_data_at

    @classmethod
    def combined(cls, parts: list[Counts]) -> Counts:
        """Totals of several writers; ``busy_s`` from the first record of any to the last write."""
        total = cls()
        for part in parts:
            for name in ("received", "consumed", "accepted", "rejected", "batches", "files"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
        starts = [p.first_data_at for p in parts if p.first_data_at is not None]
        ends = [p.last_write_at for p in parts if p.last_write_at is not None]
        if starts and ends:
            total.first_data_at, total.last_write_at = min(starts), max(ends)
        return total


@dataclass
class _Batch:
    """A complete batch, cut from a partition's buffer, for the file writer."""

    tp: Any
    first: int
    last: int
    accepted: pl.DataFrame
    rejects: list[tuple[int, bytes, str]]


@dataclass
class _Buffer:
    """Decoded but not yet written records of one partition, in offset order."""

    offsets: list[np.ndarray] = field(default_factory=list)
    ts_us: list[np.ndarray] = field(default_factory=list)
    accepted: list[pl.DataFrame] = field(default_factory=list)
    rejected: list[tuple[int, bytes, str]] = field(default_factory=list)

    def size(self) -> int:
        return sum(len(o) for o in self.offsets)


def batch_cut(ts_us: np.ndarray, max_records: int, max_span_us: int) -> int | None:
    """Length of the first complete batch of a buffer, or None if none is complete yet.

    A batch is complete at ``max_records`` records, or just before the first
    record whose event time would stretch the batch's span beyond ``max_span_us``.
    Rejected records (no event time, marked ``_NO_TS``) never stretch a span.
    """
    valid = ts_us != _NO_TS
    high = np.maximum.accumulate(np.where(valid, ts_us, np.iinfo(np.int64).min))
    low = np.minimum.accumulate(np.where(valid, ts_us, np.iinfo(np.int64).max))
    over = np.flatnonzero(valid & (high - low > max_span_us))
    cut = max_records if len(ts_us) >= max_records else None
    if len(over) and (cut is None or over[0] < cut):
        cut = int(over[0])
    return cut


def _cut(tp: Any, buf: _Buffer, first: int, last: int) -> _Batch:
    """Take the records with offsets in [first, last] out of ``buf`` as a batch."""
    everything = pl.concat(buf.accepted, how="vertical") if buf.accepted else pl.DataFrame()
    in_batch = pl.col("_offset") <= last
    batch = everything.filter(in_batch) if everything.height else everything
    buf.accepted = [everything.filter(~in_batch)] if everything.height else []
    rejects = [r for r in buf.rejected if r[0] <= last]
    buf.rejected = [r for r in buf.rejected if r[0] > last]
    return _Batch(tp, first, last, batch, rejects)


class LakeWriter:
    """Consume ``topic`` and write the lake under ``lake_dir`` (see module docstring)."""

    def __init__(self, settings: Settings, topic: str, lake_dir: Path) -> None:
        self.settings = settings
        self.topic = topic
        self.lake_dir = lake_dir
        self.counts = Counts()
        self._buffers: dict[Any, _Buffer] = {}
        self._stop = False
        self._consumer: Any = None
        self._dlq: Any = None
        self._state_dir = lake_dir / "_ingest_state"
        self._last_write = 0.0
        self._work: queue.Queue[dict[Any, list[Any]] | None] = queue.Queue(maxsize=2)
        self._batches: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self._durable: queue.Queue[tuple[Any, int, Path]] = queue.Queue()
        self._error: BaseException | None = None
        self._unrecovered: list[Any] = []

    # -- lifecycle --------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        """Ask the loop to write what it holds, commit and return (signal-handler safe)."""
        self._stop = True

    def run(
        self,
        until_idle_s: float | None = None,
        on_progress: Callable[[Counts], None] | None = None,
    ) -> Counts:
        """Consume until stopped (or idle for ``until_idle_s``); return the counts.

        The calling thread polls Kafka and commits; the decoder and the file
        writer threads work behind it (see module docstring), so fetching,
        decoding and writing overlap. ``on_progress(counts)`` is called after
        every poll that returned records (``counts.received`` is up to date;
        the decoded counts follow a little behind).
        """
        writer = self

        class _Rebalance(AsyncConsumerRebalanceListener):
            # kafka-python 3 runs the listener on its IO thread, where the
            # blocking commit() is refused: the commit is awaited instead.
            async def on_partitions_revoked(self, revoked):  # type: ignore[no-untyped-def]
                writer._write_remaining(list(revoked))
                await writer._commit_ready_in_rebalance()

            async def on_partitions_assigned(self, assigned):  # type: ignore[no-untyped-def]
                # Recovery asks the group for committed offsets, which kafka-python
                # cannot do inside a rebalance callback: it runs right after poll().
                writer._unrecovered.extend(assigned)

        kafka_io.ensure_topics(self.settings, self.topic, self.settings.dead_letter_topic)
        self._consumer = kafka_io.consumer(self.settings, self.settings.ingest_group)
        self._dlq = kafka_io.producer(self.settings)
        self._consumer.subscribe([self.topic], listener=_Rebalance())
        previous = {sig: signal.signal(sig, self.request_stop) for sig in _STOP_SIGNALS}
        # kafka-python allocates several objects per record, freed by reference
        # counting; at the default threshold (700 allocations) the cyclic
        # collector would run hundreds of times per polled batch for nothing.
        collector = gc.get_threshold()
        gc.set_threshold(_GC_GEN0_THRESHOLD, *collector[1:])
        workers = [
            threading.Thread(target=self._stage, args=(self._work, self._decode), daemon=True),
            threading.Thread(target=self._stage, args=(self._batches, self._write), daemon=True),
        ]
        for worker in workers:
            worker.start()
        started = last_log = last_data = time.monotonic()
        first_data: float | None = None
        try:
            while not self._stop:
                polled = self._consumer.poll(timeout_ms=500)
                if self._unrecovered:
                    self._recover(self._unrecovered)
                    self._unrecovered = []
                now = time.monotonic()
                if polled:
                    last_data = now
                    first_data = now if first_data is None else first_data
                    self.counts.received += sum(len(records) for records in polled.values())
                    self._submit(polled)
                    if on_progress is not None:
                        on_progress(self.counts)
                elif self._buffers and (
                    now - last_data > self.settings.idle_flush_s
                    or (until_idle_s is not None and self._lag() == 0)
                ):
                    # Draining, a writer that has caught up holds the topic's
                    # tail: no point waiting for the pause to last.
                    self._write_remaining(list(self._buffers))
                self._commit_ready()
                if now - last_log >= self.settings.log_interval_s:
                    self._log_progress(now - started)
                    last_log = now
                if not self._consumer.assignment():
                    last_data = now  # idle time counts only once partitions are ours
                elif until_idle_s is not None and now - last_data >= until_idle_s:
                    if self._topic_lag() == 0:
                        break
                    last_data = now
            self._write_remaining(list(self._buffers))
            self._commit_ready()
            if first_data is not None:
                self.counts.first_data_at = first_data
                self.counts.last_write_at = self._last_write
            self._log_progress(time.monotonic() - started)
        finally:
            self._work.put(None)
            workers[0].join(timeout=60)
            self._batches.put(None)
            workers[1].join(timeout=60)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            gc.set_threshold(*collector)
            with contextlib.suppress(Exception):
                self._dlq.close(timeout=10)
            with contextlib.suppress(Exception):
                self._consumer.close(autocommit=False)
        return self.counts

    # -- the worker threads -----------------------------------------------------------------
    def _submit(self, polled: dict[Any, list[Any]]) -> None:
        """Hand a polled batch to the decoder (blocks while it is two batches behind)."""
        self._raise_worker_error()
        self._work.put(polled)

    def _stage(self, inbox: queue.Queue[Any], handle: Callable[[Any], None]) -> None:
        """A worker thread: ``handle`` each item of ``inbox`` until ``None``.

        After a failure items are only acknowledged, so that nothing upstream
        blocks; the polling thread re-raises the failure.
        """
        while (item := inbox.get()) is not None:
            try:
                if self._error is None:
                    handle(item)
            except BaseException as exc:  # re-raised in the polling thread
                self._error = exc
            finally:
                inbox.task_done()
        inbox.task_done()

    def _decode(self, polled: dict[Any, list[Any]]) -> None:
        for tp, records in polled.items():
            self._append(tp, records)
        self._flush(list(self._buffers), final=False)

    def _drain(self) -> None:
        """Wait until both workers have handled everything submitted; re-raise a failure."""
        self._work.join()
        self._batches.join()
        self._raise_worker_error()

    def _write_remaining(self, partitions: list[Any]) -> None:
        """Write everything buffered for ``partitions``, complete batches or not, and wait."""
        self._drain()
        self._flush(partitions, final=True)
        self._drain()

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            raise RuntimeError("the lake writer's worker failed") from self._error

    def _ready(self) -> Iterator[tuple[Any, int, Path]]:
        """The batches the file writer made durable since last asked: partition, offset, note."""
        while True:
            try:
                yield self._durable.get_nowait()
            except queue.Empty:
                return

    def _commit_ready(self) -> None:
        """Commit the batches the file writer made durable (Kafka clients stay in one thread)."""
        for tp, offset, inflight in self._ready():
            if self._commit(tp, offset):
                inflight.unlink(missing_ok=True)

    async def _commit_ready_in_rebalance(self) -> None:
        """:meth:`_commit_ready` inside the rebalance listener, on kafka-python's IO thread.

        There the blocking ``commit()`` raises, so the coordinator's commit
        coroutine (private to kafka-python, pinned to 3.0.x in pyproject.toml)
        is awaited instead. A commit that fails leaves the batch's in-flight
        note: the partition's next owner removes the uncommitted files and
        consumes the batch again, so nothing is lost or doubled.
        """
        coordinator = self._consumer._coordinator
        for tp, offset, inflight in self._ready():
            try:
                await coordinator._commit_offsets_sync_async(
                    {tp: OffsetAndMetadata(offset, "", -1)}, timeout_ms=30_000
                )
            except KafkaError as exc:
                log.warning("commit of %s at %d on revocation failed (%s)", tp, offset, exc)
                continue
            inflight.unlink(missing_ok=True)

    # -- consuming --------------------------------------------------------------------------
    def _append(self, tp: Any, records: list[Any]) -> None:
        raws = [r.value if r.value is not None else b"" for r in records]
        offsets = np.fromiter((r.offset for r in records), np.int64, len(records))
        decoded = decode(raws, self.settings.max_message_bytes)
        ts_us = np.full(len(records), _NO_TS, np.int64)
        accepted = decoded.accepted
        idx = accepted[INDEX].to_numpy()
        ts_us[idx] = accepted["ts"].dt.epoch("us").to_numpy()
        # Every chunk gets _offset, even one whose messages were all rejected,
        # so that a partition's chunks always concatenate.
        rows = derive_content(accepted.drop(INDEX), keep_prompt_text=self.settings.keep_prompt_text)
        buf = self._buffers.setdefault(tp, _Buffer())
        buf.offsets.append(offsets)
        buf.ts_us.append(ts_us)
        buf.accepted.append(rows.with_columns(pl.Series("_offset", offsets[idx], dtype=pl.Int64)))
        for index, reason in decoded.rejected.items():
            record = records[index]
            buf.rejected.append((record.offset, raws[index], reason))
        self.counts.consumed += len(records)

    def _flush(self, partitions: list[Any], final: bool) -> None:
        """Write every complete batch of ``partitions`` (and the remainder when ``final``)."""
        for tp in partitions:
            buf = self._buffers.get(tp)
            if buf is None:
                continue
            while buf.offsets:
                offsets = np.concatenate(buf.offsets)
                ts_us = np.concatenate(buf.ts_us)
                cut = batch_cut(
                    ts_us, self.settings.flush_records, self.settings.flush_event_seconds * 10**6
                )
                if cut is None and not final:
                    break
                cut = len(offsets) if cut is None else max(cut, 1)
                self._batches.put(_cut(tp, buf, int(offsets[0]), int(offsets[cut - 1])))
                buf.offsets = [offsets[cut:]] if cut < len(offsets) else []
                buf.ts_us = [ts_us[cut:]] if cut < len(offsets) else []
            if not buf.offsets:
                del self._buffers[tp]

    def _write(self, cut: _Batch) -> None:
        """Write one batch durably, then queue its commit (the file writer's work)."""
        tp, first, last, batch, rejects = cut.tp, cut.first, cut.last, cut.accepted, cut.rejects
        name = f"{tp.topic}+{tp.partition}+{first:020d}+{last:020d}"
        now = datetime.now(UTC)
        plan: list[tuple[Path, pa.Table, lake.Encoding]] = []  # file, rows, encoding
        if batch.height:
            table = with_provenance(
                batch.drop("_offset"),
                source_topic=tp.topic,
                source_partition=tp.partition,
                source_offsets=batch["_offset"],
                ingested_at=now,
            )
            for day, hour, rows in hour_groups(table):
                folder = lake.hour_partition(self.lake_dir / lake.EVENTS, day, hour)
                plan.append((folder / f"{name}.parquet", rows, EVENT_ENCODING))
        by_source = f"topic={tp.topic}/partition={tp.partition}"
        if rejects:
            quarantine = pa.table(
                {
                    "raw": pa.array([r[1] for r in rejects], pa.binary()),
                    "reason": [r[2] for r in rejects],
                    "source_topic": [tp.topic] * len(rejects),
                    "source_partition": pa.array([tp.partition] * len(rejects), pa.int32()),
                    "source_offset": pa.array([r[0] for r in rejects], pa.int64()),
                    "quarantined_at": pa.array([now] * len(rejects), QUARANTINE_SCHEMA[-1].type),
                },
                schema=QUARANTINE_SCHEMA,
            )
            folder = self.lake_dir / lake.QUARANTINE / by_source
            plan.append((folder / f"{name}.parquet", quarantine, lake.Encoding()))
        log_file = self.lake_dir / lake.INGEST_LOG / by_source / f"{name}.json"

        inflight = self._state_dir / f"{name}.json"
        files = [str(path) for path, *_ in plan] + [str(log_file)]
        lake.write_bytes(
            json.dumps({"first": first, "last": last, "files": files}).encode(), inflight
        )
        for path, table, encoding in plan:
            lake.write_parquet(table, path, encoding=encoding)
        for offset, raw, reason in rejects:
            self._dlq.send(
                self.settings.dead_letter_topic,
                value=raw,
                headers=[
                    ("reason", reason.encode()),
                    ("source", f"{tp.topic}/{tp.partition}/{offset}".encode()),
                ],
            )
        summary = {
            "topic": tp.topic,
            "partition": tp.partition,
            "first_offset": first,
            "last_offset": last,
            "consumed": last - first + 1,
            "accepted": batch.height,
            "rejected": len(rejects),
            "files": [str(path.relative_to(self.lake_dir)) for path, *_ in plan],
            "written_at": now.isoformat(),
        }
        lake.write_bytes(json.dumps(summary, indent=1).encode(), log_file)
        self._dlq.flush()
        self._durable.put((tp, last + 1, inflight))
        self.counts.accepted += batch.height
        self.counts.rejected += len(rejects)
        self.counts.batches += 1
        self.counts.files += len(plan)
        self._last_write = time.monotonic()

    def _commit(self, tp: Any, offset: int) -> bool:
        """Commit ``offset`` for ``tp``, retrying while the cluster is unavailable.

        Returns False when the group no longer owns the partition: the batch's
        in-flight note then stays, and whoever is assigned the partition next
        removes the uncommitted files and consumes the batch again.
        """
        delay = 0.5
        while True:
            try:
                self._consumer.commit({tp: OffsetAndMetadata(offset, "", -1)}, timeout_ms=30_000)
                return True
            except RetriableError as exc:
                log.warning("commit of %s at %d failed (%s); retrying", tp, offset, exc)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
            except (CommitFailedError, IllegalStateError) as exc:
                log.warning(
                    "commit of %s at %d refused (%s); batch will be replayed", tp, offset, exc
                )
                return False

    def _recover(self, assigned: list[Any]) -> None:
        """Delete files of batches written but never committed before a crash."""
        for tp in assigned:
            notes = sorted(self._state_dir.glob(f"{tp.topic}+{tp.partition}+*.json"))
            if not notes:
                continue
            committed = self._consumer.committed(tp)
            for inflight in notes:
                note = json.loads(inflight.read_text())
                if committed is None or note["first"] >= committed:
                    for path in map(Path, note["files"]):
                        path.unlink(missing_ok=True)
                        lake.temp_path(path).unlink(missing_ok=True)
                    log.warning(
                        "removed uncommitted batch %s+%s offsets %s..%s left by a crash",
                        tp.topic,
                        tp.partition,
                        note["first"],
                        note["last"],
                    )
                inflight.unlink()
            self._buffers.pop(tp, None)

    # -- reporting --------------------------------------------------------------------------
    def _lag(self) -> int:
        assigned = self._consumer.assignment()
        if not assigned:
            return 0
        ends = self._consumer.end_offsets(list(assigned))
        return sum(max(0, ends[tp] - self._consumer.position(tp)) for tp in assigned)

    def _topic_lag(self) -> int:
        """Messages of the whole topic the group has not consumed yet.

        Partitions this writer owns count from its position; the others from
        the group's committed offset. An idle writer must not stop while
        another member still holds lag: after a crash, the dead member keeps
        its partitions until its session times out, and only then are they
        reassigned.
        """
        ours = self._consumer.assignment()
        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        others = [
            tp for tp in (TopicPartition(self.topic, p) for p in partitions) if tp not in ours
        ]
        lag = self._lag()
        if others:
            ends = self._consumer.end_offsets(others)
            starts = self._consumer.beginning_offsets(others)
            for tp in others:
                committed = self._consumer.committed(tp)
                lag += max(0, ends[tp] - (starts[tp] if committed is None else committed))
        return lag

    def _log_progress(self, elapsed_s: float) -> None:
        c = self.counts
        log.info(
            "consumed=%d accepted=%d rejected=%d buffered=%d batches=%d lag=%d rate=%.0f ev/s",
            c.consumed,
            c.accepted,
            c.rejected,
            sum(b.size() for b in self._buffers.values()),
            c.batches,
            self._lag(),
            c.consumed / max(elapsed_s, 1e-9),
        )


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_writers(
    settings: Settings,
    topic: str,
    lake_dir: Path,
    workers: int,
    *,
    until_idle_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Counts:
    """Run ``workers`` lake writers as processes of one consumer group; return their totals.

    Fetching, decoding and writing a batch all hold the GIL in part, so one
    process keeps about one and a half cores busy. Each worker is an ordinary
    member of the writer group: Kafka shares the partitions among them, and
    the exactly-once protocol is per partition (see module docstring), so it
    holds whatever the number of workers; more workers than partitions leave
    some idle. The workers' polars and Arrow pools have one thread each
    (:func:`~distillwatch.processes.call_single_threaded`): on two cores, two
    such workers wrote the ``small`` preset at a median 57.7k events/s with
    6 % less CPU, two with pools as large as the machine at 54.0k (four
    paired runs).

    SIGTERM and SIGINT are passed on to every worker, which writes what it
    holds, commits and exits. If a worker fails, the others are stopped the
    same way and :class:`RuntimeError` is raised. ``on_progress`` receives the
    records received by all workers so far, about twice a second.
    """
    if workers <= 1:
        writer = LakeWriter(settings, topic, lake_dir)
        report = None if on_progress is None else (lambda c: on_progress(c.received))
        return writer.run(until_idle_s, report)
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    received = [context.Value("q", 0, lock=False) for _ in range(workers)]
    job = (settings, topic, lake_dir, until_idle_s, os.getpid())
    # Single-threaded pools: N processes with machine-sized pools would put N
    # times the cores' worth of threads on the machine.
    processes = [
        context.Process(
            target=call_single_threaded,
            args=(f"{__name__}:_worker", job, received[i], results),
            name=f"lake-writer-{i}",
        )
        for i in range(workers)
    ]

    def forward(signum: int, _frame: object) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in _STOP_SIGNALS}
    parts: list[Counts] = []
    try:
        for process in processes:
            process.start()
        while len(parts) < workers:
            try:
                parts.append(results.get(timeout=0.5))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    forward(signal.SIGTERM, None)
                    break
            if on_progress is not None:
                on_progress(sum(value.value for value in received))
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [p for p in processes if p.exitcode != 0]
    if failed:
        codes = ", ".join(f"{p.name}: exit code {p.exitcode}" for p in failed)
        raise RuntimeError(f"lake writer workers failed ({codes}); see their log lines")
    return Counts.combined(parts)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent ``parent`` dies (Linux).

    A writer killed with SIGKILL cannot stop its workers; without this they
    would go on consuming as orphans, and a supervisor restarting the writer
    would start a second set.
    """
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


#: ``prctl`` option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1


def _worker(
    job: tuple[Settings, str, Path, float | None, int], received: Any, results: Any
) -> None:
    """One worker process of :func:`run_writers`: a :class:`LakeWriter` run, its counts queued."""
    settings, topic, lake_dir, until_idle_s, parent = job
    _die_with_parent(parent)
    configure_logging(process=multiprocessing.current_process().name)

    def report(counts: Counts) -> None:
        received.value = counts.received

    counts = LakeWriter(settings, topic, lake_dir).run(until_idle_s, report)
    report(counts)
    results.put(counts)
