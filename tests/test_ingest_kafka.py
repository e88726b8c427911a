"""The lake writer end to end against the session's real Kafka broker."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition

from distillwatch.settings import Settings
from ingest import kafka_io
from ingest.lake_writer import LakeWriter, run_writers
from ingest.local_broker import LocalBroker
from ingest.producer import publish
from ingest.schema import EVENT_ENCODING, LAKE_SCHEMA
from tests.events import make_lines
from tests.test_ingest_decode import _mutate

pytestmark = pytest.mark.kafka


def _events(lake: Path) -> pl.DataFrame:
    return pl.read_parquet(lake / "events", hive_partitioning=True)


def _writer_settings(kafka_settings: Settings, topic: str, **overrides: object) -> Settings:
    """Settings for a writer of ``topic`` on the session's broker, in a group of its own."""
    return Settings.from_env(
        kafka_bootstrap=kafka_settings.bootstrap_servers, ingest_group=f"g-{topic}", **overrides
    )


def _assert_encoding(path: Path) -> None:
    """The file follows EVENT_ENCODING: statistics and dictionaries where it says."""
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    columns = {
        row_group.column(i).path_in_schema: row_group.column(i)
        for i in range(row_group.num_columns)
    }
    assert columns["ts"].is_stats_set and not columns["account_id"].is_stats_set
    assert set(EVENT_ENCODING.statistics or ()) == {c for c, m in columns.items() if m.is_stats_set}
    assert columns["account_id"].has_dictionary_page
    assert not columns["event_id"].has_dictionary_page
    assert not columns["prompt_hash"].has_dictionary_page


def _writer_cmd(topic: str, lake: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "distillwatch.cli",
        "ingest",
        "--topic",
        topic,
        "--lake",
        str(lake),
        *extra,
    ]


def test_produce_then_ingest_lands_every_event_once(
    kafka_settings: Settings, topic: str, tmp_path: Path
) -> None:
    n = 3000
    assert publish(kafka_settings, topic, [make_lines(n)]) == n
    settings = _writer_settings(kafka_settings, topic, flush_records=700)
    counts = LakeWriter(settings, topic, tmp_path).run(until_idle_s=3)
    assert (counts.consumed, counts.accepted, counts.rejected) == (n, n, 0)

    events = _events(tmp_path)
    assert events.height == n
    assert events["event_id"].n_unique() == n
    # Hive partitions match each row's event time.
    assert (events["date"] == events["ts"].dt.date()).all()
    assert (events["hour"] == events["ts"].dt.hour()).all()
    # Every file has exactly the pinned lake schema, without prompt text.
    for path in (tmp_path / "events").rglob("*.parquet"):
        schema = pl.read_parquet_schema(path)
        assert list(schema) == LAKE_SCHEMA.names
        assert "prompt" not in schema
        assert path.name.startswith(f"{topic}+")
        _assert_encoding(path)
    # No batch larger than flush_records: boundaries come from record counts.
    logs = list((tmp_path / "ingest_log").rglob("*.json"))
    sizes = [json.loads(p.read_text())["consumed"] for p in logs]
    assert max(sizes) <= 700 and sum(sizes) == n


def test_a_draining_writer_writes_its_tail_once_caught_up(
    kafka_settings: Settings, topic: str, tmp_path: Path
) -> None:
    n = 1000
    assert publish(kafka_settings, topic, [make_lines(n)]) == n
    settings = _writer_settings(
        kafka_settings,
        topic,
        idle_flush_s=3600,  # the pause rule alone would hold the tail until exit
    )
    counts = LakeWriter(settings, topic, tmp_path).run(until_idle_s=8)
    ended = time.monotonic()
    assert counts.accepted == n
    # Every partition's batch is partial (far below flush_records); they were
    # written once the writer had caught up, not when it stopped, 8 s later.
    assert counts.last_write_at is not None and ended - counts.last_write_at > 4


def test_bad_input_is_quarantined_and_dead_lettered(
    kafka_settings: Settings,
    topic: str,
    tmp_path: Path,
    bad_examples: list[tuple[bytes, str]],
    good_examples: list[bytes],
) -> None:
    rng = random.Random(11)
    fuzzed = [_mutate(raw, rng) for raw in make_lines(1200, seed=5, start=10_000)]
    oversized = b'{"event_id":"big","pad":"' + b"x" * 70_000 + b'"}'
    messages = [raw for raw, _ in bad_examples] + good_examples + fuzzed + [oversized]
    publish(kafka_settings, topic, [messages])
    settings = _writer_settings(
        kafka_settings,
        topic,
        dead_letter_topic=f"{topic}.dlq",
        # Small polls: some hold only rejected messages, which must not upset
        # the partition's buffer when later polls bring accepted ones.
        poll_max_records=5,
    )
    counts = LakeWriter(settings, topic, tmp_path).run(until_idle_s=3)

    assert counts.consumed == len(messages)
    assert counts.accepted + counts.rejected == counts.consumed
    assert counts.rejected >= len(bad_examples) + 1
    assert _events(tmp_path).height == counts.accepted
    quarantine = pl.read_parquet(tmp_path / "quarantine" / f"topic={topic}")
    assert quarantine.height == counts.rejected
    assert quarantine["reason"].null_count() == 0
    assert oversized in quarantine["raw"].to_list()  # kept whole
    for raw, _ in bad_examples:
        assert raw in quarantine["raw"].to_list()

    dlq = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    dead = list(dlq)
    dlq.close()
    assert len(dead) == counts.rejected
    assert all(dict(m.headers)["reason"] for m in dead)


def test_keep_prompt_text_setting(kafka_settings: Settings, topic: str, tmp_path: Path) -> None:
    publish(kafka_settings, topic, [make_lines(50)])
    settings = _writer_settings(kafka_settings, topic, keep_prompt_text=True)
    LakeWriter(settings, topic, tmp_path).run(until_idle_s=2)
    events = _events(tmp_path)
    assert events["prompt"].null_count() == 0
    assert events["template_sig"].null_count() == 0


class _SlowProducer(threading.Thread):
    """Keeps producing batches of valid events while the test does damage."""

    def __init__(self, settings: Settings, topic: str, total: int, chunk: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.topic, self.total, self.chunk = settings, topic, total, chunk
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for start in range(0, self.total, self.chunk):
                publish(
                    self.settings, self.topic, [make_lines(self.chunk, seed=start, start=start)]
                )
                time.sleep(0.3)
        except BaseException as exc:  # reported by the test
            self.error = exc


def _start_writer(topic: str, lake: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """The lake writer as a subprocess that runs until signalled, output captured."""
    return subprocess.Popen(
        _writer_cmd(topic, lake),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _final_run(topic: str, lake: Path, env: dict[str, str]) -> None:
    """A clean writer run until the topic is drained."""
    final = subprocess.run(
        _writer_cmd(topic, lake, "--until-idle", "4"),
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr[-2000:]


def _assert_exactly_once(lake: Path, n: int) -> None:
    events = _events(lake)
    ids = events["event_id"]
    assert ids.n_unique() == n, f"{n - ids.n_unique()} events lost"
    assert events.height == n, f"{events.height - n} duplicates"
    assert set(ids.to_list()) == {f"ev-{i:08d}" for i in range(n)}


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    kafka_settings: Settings, kafka_env: dict[str, str], topic: str, tmp_path: Path
) -> None:
    n, chunk = 24_000, 1000
    env = kafka_env | {
        "DISTILLWATCH_FLUSH_RECORDS": "900",
        "DISTILLWATCH_POLL_MAX_RECORDS": "500",
        "DISTILLWATCH_INGEST_GROUP": f"g-{topic}",
        "DISTILLWATCH_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }
    producer = _SlowProducer(kafka_settings, topic, n, chunk)
    producer.start()
    rng = random.Random(2026)
    kills = 0
    while kills < 6:
        writer = subprocess.Popen(
            _writer_cmd(topic, tmp_path),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(4.0, 9.0))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        kills += 1
    producer.join(timeout=120)
    assert producer.error is None
    assert list((tmp_path / "events").rglob("*.parquet")), "the writer never wrote anything"
    _final_run(topic, tmp_path, env)
    _assert_exactly_once(tmp_path, n)


def test_sigterm_flushes_and_exits_cleanly(
    kafka_settings: Settings, kafka_env: dict[str, str], topic: str, tmp_path: Path
) -> None:
    publish(kafka_settings, topic, [make_lines(1500)])
    env = kafka_env | {"DISTILLWATCH_INGEST_GROUP": f"g-{topic}"}
    writer = _start_writer(topic, tmp_path, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path).rglob("*.parquet")):
        time.sleep(0.5)
    writer.send_signal(signal.SIGTERM)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert "consumed 1500" in out
    _assert_exactly_once(tmp_path, 1500)


def test_broker_restart_mid_ingest(
    kafka_settings: Settings,
    kafka_env: dict[str, str],
    local_broker: LocalBroker | None,
    topic: str,
    tmp_path: Path,
) -> None:
    if local_broker is None:
        pytest.skip("restarting needs the embedded broker")
    n = 8000
    publish(kafka_settings, topic, [make_lines(n // 2)])
    env = kafka_env | {
        "DISTILLWATCH_FLUSH_RECORDS": "500",
        "DISTILLWATCH_POLL_MAX_RECORDS": "250",
        "DISTILLWATCH_INGEST_GROUP": f"g-{topic}",
    }
    writer = _start_writer(topic, tmp_path, env)
    time.sleep(4)
    local_broker.stop()
    time.sleep(3)
    local_broker.start()
    publish(kafka_settings, topic, [make_lines(n // 2, seed=1, start=n // 2)])
    time.sleep(8)
    writer.send_signal(signal.SIGTERM)
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-3000:]
    _final_run(topic, tmp_path, env)
    _assert_exactly_once(tmp_path, n)


def test_idle_check_counts_the_lag_of_partitions_others_hold(
    kafka_settings: Settings, topic: str
) -> None:
    """An idle writer may stop only when the whole topic is consumed by the group.

    After a crash, the dead member keeps its partitions until its session times
    out; a writer that counted only its own partitions stopped early (the
    kill -9 test caught it now and then). Partitions the writer does not own
    count from the group's committed offset, or from the start without one.
    """
    n = 2000
    publish(kafka_settings, topic, [make_lines(n)])
    settings = _writer_settings(kafka_settings, topic)
    writer = LakeWriter(settings, topic, Path("unused"))
    consumer = kafka_io.consumer(settings, settings.ingest_group)
    writer._consumer = consumer
    try:
        partitions = sorted(consumer.partitions_for_topic(topic))
        ours, theirs = TopicPartition(topic, partitions[0]), TopicPartition(topic, partitions[1])
        consumer.assign([ours])
        consumer.seek_to_end(ours)
        ends = consumer.end_offsets([ours, theirs])
        assert writer._topic_lag() == n - ends[ours]
        consumer.commit({theirs: OffsetAndMetadata(ends[theirs], "", -1)})
        assert writer._topic_lag() == n - ends[ours] - ends[theirs]
    finally:
        consumer.close(autocommit=False)


def test_several_writer_processes_share_the_partitions(
    kafka_settings: Settings, topic: str, tmp_path: Path
) -> None:
    """Two writer processes of one group land every event exactly once between them."""
    n = 4000
    publish(kafka_settings, topic, [make_lines(n)])
    settings = _writer_settings(kafka_settings, topic, flush_records=600)
    seen: list[int] = []
    counts = run_writers(
        settings, topic, tmp_path, workers=2, until_idle_s=3, on_progress=seen.append
    )
    assert (counts.consumed, counts.accepted, counts.rejected) == (n, n, 0)
    assert counts.busy_s > 0 and seen and max(seen) == n
    _assert_exactly_once(tmp_path, n)
    partitions = {
        json.loads(p.read_text())["partition"] for p in tmp_path.rglob("ingest_log/**/*.json")
    }
    assert partitions == set(range(settings.topic_partitions))


def _stat(pid: int) -> list[str]:
    """Fields of ``/proc/PID/stat`` after the command name (state, parent, ...); [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    pids = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    return [child for child in pids if _stat(child)[1:2] == [str(pid)]]


def _alive(pid: int) -> bool:
    """Running or sleeping (a zombie waiting to be reaped has exited)."""
    return _stat(pid)[:1] not in ([], ["Z"], ["X"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_killing_the_writer_kills_its_worker_processes(
    kafka_env: dict[str, str], topic: str, tmp_path: Path
) -> None:
    """kill -9 of ``distillwatch ingest --workers 2`` leaves no orphan consuming on."""
    env = kafka_env | {"DISTILLWATCH_INGEST_GROUP": f"g-{topic}"}
    writer = subprocess.Popen(
        [*_writer_cmd(topic, tmp_path), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    children: list[int] = []
    while len(children) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        children = _children(writer.pid)
    assert len(children) >= 2, "the worker processes never started"
    time.sleep(2)  # let them get going
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    deadline = time.monotonic() + 20
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]


def test_a_writer_joining_makes_the_other_commit_on_revocation(
    kafka_settings: Settings, kafka_env: dict[str, str], topic: str, tmp_path: Path
) -> None:
    """The first writer holds unwritten batches when a second one joins the group.

    Its revocation listener writes them and commits, on kafka-python's IO
    thread, where a blocking commit() raises: the writer used to die there.
    """
    n, chunk = 8000, 500
    env = kafka_env | {
        "DISTILLWATCH_INGEST_GROUP": f"g-{topic}",
        "DISTILLWATCH_FLUSH_RECORDS": "1000000",  # hold everything until revoked
    }
    producer = _SlowProducer(kafka_settings, topic, n, chunk)
    producer.start()
    first = _start_writer(topic, tmp_path, env)
    time.sleep(5)  # joined and consuming: it holds records, written at revocation
    _final_run(topic, tmp_path, env)  # the second writer: its joining revokes the first's
    producer.join(timeout=120)
    assert producer.error is None
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert "failed on_partitions_revoked" not in err, err[-3000:]
    assert first.returncode == 0, err[-3000:]
    _final_run(topic, tmp_path, env)
    _assert_exactly_once(tmp_path, n)
