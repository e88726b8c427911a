"""The live scorer: ``distillwatch score --topic T --lake DIR``, a consumer beside the lake writer.

It reads the events topic (every partition: campaign detection needs all
accounts' state in one place, so one scorer runs per topic), decodes each
polled batch exactly as the lake writer does (:func:`ingest.decode.decode`,
:func:`ingest.transform.to_lake`), feeds the lake rows to the same
:class:`models.online.OnlineScorer` as ``distillwatch detect``, and publishes
every new flag. Reviewers' verdicts are read from ``settings.verdicts_topic``
and teach the verdict classifier.

**Flags out.** Each flag goes to ``settings.flags_topic`` (key: the account id)
as one JSON object:

=====================  =========  ============================================================
field                  type       meaning
=====================  =========  ============================================================
``schema_version``     integer    1
``account_id``         string     the flagged account
``score``              number     final risk score in [0, 1] when it crossed the threshold
``tier``               string     ``high``, ``medium`` or ``low``
``campaign_id``        string     the campaign it was linked to, or null
``first_flagged_at``   string     RFC 3339 UTC event time of the crossing
``reasons``            string     ``code:value`` reasons, most important first
=====================  =========  ============================================================

and to the lake as ``lake/flags/topic=T/ckpt-<sequence>.parquet`` (the same
fields, ``first_flagged_at`` as a timestamp). A flag is emitted once per
account; after a crash the flags since the last checkpoint are emitted again
(at-least-once on the topic: consumers keep the first per ``account_id``),
while the lake file of a checkpoint interval is rewritten under the same name.

**Verdicts in** (``settings.verdicts_topic``): JSON ``{"account_id": ...,
"label": ..., "decided_at": ...}``, ``label`` ``"abuse"`` (or true) for
confirmed abuse, ``"benign"`` (or false) for cleared accounts; anything else
(``"inconclusive"``) teaches nothing.

**Checkpoints.** Every ``checkpoint_every_s`` seconds, and when stopping, the
scorer (per-account state, river models, campaign ties and ids, events of
windows still open) is pickled *together with* the offsets of the next record
to read from every partition, into one file written atomically
(``lake/checkpoints/scorer-<topic>/<sequence>.ckpt``; the maintenance DAG
keeps the newest few). The newest file is the commit: on start the scorer
restores it and seeks every partition to the offsets inside it,
ignoring the group's committed offsets (which are committed afterwards, for
lag monitoring only). So a ``kill -9`` loses nothing and counts nothing twice:
the events after the checkpoint are read again into the state as it was
before them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from distillwatch.settings import Settings
from ingest import kafka_io
from ingest.decode import INDEX, decode
from ingest.lake import write_bytes, write_parquet
from ingest.transform import to_lake
from models.exports import FLAGGED_SCHEMA
from models.online import Flag, OnlineScorer, ScorerConfig

log = logging.getLogger(__name__)

CHECKPOINTS_DIR = "checkpoints"
FLAGS_DIR = "flags"
#: Bumped whenever the pickled scorer's layout changes (2: recent content counts in the state).
CHECKPOINT_VERSION = 2
_LABELS = {"abuse": True, "true": True, "benign": False, "false": False}
_FLAG_FIELDS = ("account_id", "score", "tier", "campaign_id", "first_flagged_at", "reasons")
_FLAG_SCHEMA = pa.schema([FLAGGED_SCHEMA.field(name) for name in _FLAG_FIELDS])


@dataclass
class ScorerCounts:
    """Running totals of one scorer process (and of the state it restored)."""

    consumed: int = 0
    accepted: int = 0
    rejected: int = 0
    flags: int = 0
    verdicts: int = 0
    checkpoints: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Checkpoint:
    """What one checkpoint file holds."""

    version: int
    sequence: int
    offsets: dict[int, int]
    verdict_offsets: dict[int, int]
    counts: ScorerCounts
    scorer: OnlineScorer


def checkpoint_dir(lake_dir: Path, topic: str) -> Path:
    """Folder of the checkpoints of ``topic``'s scorer (compacted by the maintenance DAG)."""
    return lake_dir / CHECKPOINTS_DIR / f"scorer-{topic}"


def latest_checkpoint(lake_dir: Path, topic: str) -> Path | None:
    """The newest checkpoint file of ``topic``'s scorer (names sort in time order), or None."""
    folder = checkpoint_dir(lake_dir, topic)
    files = sorted(folder.glob("[!.]*.ckpt")) if folder.exists() else []
    return files[-1] if files else None


def load_checkpoint(lake_dir: Path, topic: str) -> _Checkpoint | None:
    """The latest checkpoint of ``topic``'s scorer, or None."""
    path = latest_checkpoint(lake_dir, topic)
    if path is None:
        return None
    checkpoint = pickle.loads(path.read_bytes())
    if not isinstance(checkpoint, _Checkpoint):
        raise ValueError(f"{path} is not a scorer checkpoint")
    if checkpoint.version != CHECKPOINT_VERSION:
        raise ValueError(
            f"{path} is a scorer checkpoint of version {checkpoint.version}; this scorer "
            f"reads version {CHECKPOINT_VERSION}. Move {path.parent} aside to start afresh "
            "(the scorer then re-reads the topic from its start and emits its flags again)"
        )
    return checkpoint


def _verdict(raw: bytes | None) -> tuple[str, bool] | None:
    """``(account_id, is_abuse)`` of one verdict message; None when malformed or inconclusive."""
    try:
        body = json.loads(raw or b"")
        account, label = body["account_id"], body["label"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(account, str):
        return None
    if isinstance(label, bool):
        return account, label
    known = _LABELS.get(str(label).strip().lower())
    return None if known is None else (account, known)


class ScoreConsumer:
    """The live scorer loop (see module docstring); :func:`run_scorer` runs one."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        lake_dir: Path,
        config: ScorerConfig | None = None,
        checkpoint_every_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.lake_dir = lake_dir
        self.config = config
        self.checkpoint_every_s = checkpoint_every_s
        restored = load_checkpoint(lake_dir, topic)
        self._sequence = restored.sequence if restored else 0
        self._offsets: dict[int, int] = dict(restored.offsets) if restored else {}
        self._verdict_offsets = dict(restored.verdict_offsets) if restored else {}
        self._counts = restored.counts if restored else ScorerCounts()
        self._scorer = restored.scorer if restored else OnlineScorer(config)
        self._unsaved: list[Flag] = []
        self._stop = False

    @property
    def scorer(self) -> OnlineScorer:
        """The online scorer (state as of the last record processed)."""
        return self._scorer

    def request_stop(self, *_: object) -> None:
        """Ask the loop to checkpoint and return (signal-handler safe)."""
        self._stop = True

    # -- the loop ---------------------------------------------------------------------------
    def run(
        self,
        until_idle_s: float | None = None,
        on_progress: Callable[[ScorerCounts], None] | None = None,
    ) -> ScorerCounts:
        """Consume until stopped (or idle for ``until_idle_s`` with no lag); return the counts."""
        settings = self.settings
        kafka_io.ensure_topics(settings, self.topic, settings.flags_topic, settings.verdicts_topic)
        consumer = kafka_io.consumer(settings, settings.score_group)
        producer = kafka_io.producer(settings)
        events = self._assign(consumer, self.topic, self._offsets)
        verdicts = self._assign(consumer, settings.verdicts_topic, self._verdict_offsets)
        previous = {sig: signal.signal(sig, self.request_stop) for sig in _STOP_SIGNALS}
        last_data = last_checkpoint = time.monotonic()
        try:
            while not self._stop:
                polled = consumer.poll(timeout_ms=500)
                now = time.monotonic()
                if polled:
                    last_data = now
                for tp, records in sorted(polled.items(), key=lambda item: item[0].partition):
                    if tp.topic == settings.verdicts_topic:
                        self._learn(records)
                        self._verdict_offsets[tp.partition] = records[-1].offset + 1
                    else:
                        self._consume(records, producer)
                        self._offsets[tp.partition] = records[-1].offset + 1
                if polled and on_progress is not None:
                    on_progress(self._counts)
                if now - last_checkpoint >= self.checkpoint_every_s:
                    self._checkpoint(consumer, producer, events)
                    last_checkpoint = now
                if (
                    until_idle_s is not None
                    and now - last_data >= until_idle_s
                    and self._lag(consumer, events + verdicts) == 0
                ):
                    break
            self._checkpoint(consumer, producer, events)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(Exception):
                producer.close(timeout=10)
            with contextlib.suppress(Exception):
                consumer.close(autocommit=False)
        return self._counts

    def _assign(self, consumer: Any, topic: str, offsets: dict[int, int]) -> list[TopicPartition]:
        """Assign every partition of ``topic``; seek to the checkpoint's offsets, else the start."""
        deadline = time.monotonic() + 30
        partitions = consumer.partitions_for_topic(topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.2)
            partitions = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions or ())]
        consumer.assign(list(consumer.assignment()) + tps)
        for tp in tps:
            if tp.partition in offsets:
                consumer.seek(tp, offsets[tp.partition])
            else:
                consumer.seek_to_beginning(tp)
        return tps

    def _consume(self, records: list[Any], producer: Any) -> None:
        raws = [r.value if r.value is not None else b"" for r in records]
        decoded = decode(raws, self.settings.max_message_bytes)
        self._counts.consumed += len(records)
        self._counts.rejected += len(decoded.rejected)
        accepted = decoded.accepted
        if accepted.height == 0:
            return
        self._counts.accepted += accepted.height
        table = to_lake(
            accepted.drop(INDEX),
            source_topic=self.topic,
            source_partition=records[0].partition,
            source_offsets=pl.Series([records[i].offset for i in accepted[INDEX].to_list()]),
            ingested_at=datetime.now(UTC),
            keep_prompt_text=False,
        )
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        for flag in self._scorer.process(frame):
            producer.send(
                self.settings.flags_topic, key=flag.account_id.encode(), value=flag.to_json()
            )
            self._unsaved.append(flag)
            self._counts.flags += 1

    def _learn(self, records: list[Any]) -> None:
        for record in records:
            verdict = _verdict(record.value)
            if verdict is not None and self._scorer.learn_verdict(*verdict):
                self._counts.verdicts += 1

    def _checkpoint(self, consumer: Any, producer: Any, events: list[TopicPartition]) -> None:
        """Flags out, flags file, then the checkpoint (the commit point), then group offsets."""
        producer.flush()
        if self._unsaved:
            rows = [{name: getattr(flag, name) for name in _FLAG_FIELDS} for flag in self._unsaved]
            table = pl.DataFrame(rows).to_arrow().select(_FLAG_FIELDS).cast(_FLAG_SCHEMA)
            name = f"ckpt-{self._sequence:08d}.parquet"
            write_parquet(table, self.lake_dir / FLAGS_DIR / f"topic={self.topic}" / name)
        checkpoint = _Checkpoint(
            CHECKPOINT_VERSION,
            self._sequence + 1,
            dict(self._offsets),
            dict(self._verdict_offsets),
            self._counts,
            self._scorer,
        )
        self._counts.checkpoints += 1
        write_bytes(
            pickle.dumps(checkpoint, protocol=pickle.HIGHEST_PROTOCOL),
            checkpoint_dir(self.lake_dir, self.topic) / f"{checkpoint.sequence:012d}.ckpt",
        )
        self._sequence += 1
        self._unsaved = []
        commits = {
            tp: OffsetAndMetadata(self._offsets[tp.partition], "", -1)
            for tp in events
            if tp.partition in self._offsets
        }
        if commits:
            with contextlib.suppress(Exception):  # informational: the checkpoint is the truth
                consumer.commit(commits)

    @staticmethod
    def _lag(consumer: Any, tps: list[TopicPartition]) -> int:
        if not tps:
            return 0
        ends = consumer.end_offsets(tps)
        return sum(max(0, ends[tp] - consumer.position(tp)) for tp in tps)


def run_scorer(
    settings: Settings,
    topic: str,
    lake_dir: Path,
    until_idle_s: float | None = None,
    *,
    config: ScorerConfig | None = None,
    checkpoint_every_s: float = 30.0,
    on_progress: Callable[[ScorerCounts], None] | None = None,
) -> ScorerCounts:
    """Run the live scorer on ``topic`` until signalled (or idle); return its counts.

    Parameters
    ----------
    settings
        Pipeline settings: brokers, ``score_group``, ``flags_topic``, ``verdicts_topic``.
    topic
        Events topic (contract ``api_access_log`` v1).
    lake_dir
        Lake root: flags go to ``lake_dir/flags``, checkpoints to ``lake_dir/_scorer_state``.
    until_idle_s
        Stop after this many seconds without new records and with no lag.
    config
        Scorer knobs (used only when no checkpoint exists yet).
    checkpoint_every_s
        Wall-clock seconds between checkpoints.
    on_progress
        Called with the counts after every poll that returned records.
    """
    consumer = ScoreConsumer(settings, topic, lake_dir, config, checkpoint_every_s)
    return consumer.run(until_idle_s, on_progress)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
