"""The live scorer against the session's real Kafka broker: flags out, and kill -9 recovery."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from kafka import KafkaConsumer

from distillwatch.settings import REPO_ROOT, Settings
from ingest import kafka_io
from ingest.producer import publish
from models.score_consumer import latest_checkpoint, load_checkpoint, run_scorer

pytestmark = pytest.mark.kafka

_RUNNER = """
import sys
from pathlib import Path
from distillwatch.settings import get_settings
from models.score_consumer import run_scorer
idle = float(sys.argv[3]) if len(sys.argv) > 3 else None
counts = run_scorer(get_settings(), sys.argv[1], Path(sys.argv[2]), idle, checkpoint_every_s=1.0)
print(counts.as_dict())
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The simulator's ``tiny`` preset (one day, two campaigns' worth of accounts), as lines."""
    from distillwatch.simulator import simulate_to_file
    from ingest.jsonl import iter_line_chunks

    folder = tmp_path_factory.mktemp("sim")
    events = folder / "tiny.jsonl.gz"
    simulate_to_file("tiny", 4, events, folder / "labels.csv")
    return [line for chunk in iter_line_chunks(events) for line in chunk]


def _settings(kafka_settings: Settings, topic: str) -> Settings:
    return Settings.from_env(
        kafka_bootstrap=kafka_settings.bootstrap_servers,
        topic_partitions=1,
        score_group=f"score-{topic}",
        flags_topic=f"{topic}.flags",
        verdicts_topic=f"{topic}.verdicts",
    )


def _flagged(lake: Path, topic: str) -> pl.DataFrame:
    checkpoint = load_checkpoint(lake, topic)
    assert checkpoint is not None
    return checkpoint.scorer.flagged()


def test_scorer_publishes_flags_and_checkpoints(
    kafka_settings: Settings, topic: str, tmp_path: Path, simulated: list[bytes]
) -> None:
    settings = _settings(kafka_settings, topic)
    kafka_io.ensure_topics(settings, topic)
    publish(settings, topic, [simulated[:6000], [b"not json"], simulated[6000:]])
    counts = run_scorer(settings, topic, tmp_path, until_idle_s=3, checkpoint_every_s=5)
    assert counts.consumed == len(simulated) + 1
    assert counts.rejected == 1 and counts.accepted == len(simulated)
    assert counts.flags > 0

    reader = KafkaConsumer(
        settings.flags_topic,
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    messages = [json.loads(m.value) for m in reader]
    reader.close()
    assert len(messages) == counts.flags
    first = messages[0]
    assert set(first) == {
        "schema_version",
        "account_id",
        "score",
        "tier",
        "campaign_id",
        "first_flagged_at",
        "reasons",
    }
    assert first["tier"] in {"high", "medium", "low"} and first["reasons"]
    lake_flags = pl.read_parquet(tmp_path / "flags" / f"topic={topic}")
    assert sorted(lake_flags["account_id"]) == sorted(m["account_id"] for m in messages)
    assert load_checkpoint(tmp_path, topic) is not None


def test_kill_9_and_restart_neither_loses_nor_double_counts(
    kafka_settings: Settings,
    kafka_env: dict[str, str],
    topic: str,
    tmp_path: Path,
    simulated: list[bytes],
) -> None:
    settings = _settings(kafka_settings, topic)
    kafka_io.ensure_topics(settings, topic)
    publish(settings, topic, [simulated])

    # reference: one uninterrupted run, in its own group and lake
    reference_lake = tmp_path / "reference"
    run_scorer(settings, topic, reference_lake, until_idle_s=3)
    expected = _flagged(reference_lake, topic)
    assert expected.height > 0

    env = kafka_env | {
        "DISTILLWATCH_TOPIC_PARTITIONS": "1",
        "DISTILLWATCH_SCORE_GROUP": f"killed-{topic}",
        "DISTILLWATCH_FLAGS_TOPIC": f"{topic}.flags",
        "DISTILLWATCH_VERDICTS_TOPIC": f"{topic}.verdicts",
        "DISTILLWATCH_POLL_MAX_RECORDS": "700",
    }
    lake = tmp_path / "killed"
    command = [sys.executable, "-c", _RUNNER, topic, str(lake)]
    rng = random.Random(9)
    for _ in range(3):
        before = latest_checkpoint(lake, topic)
        scorer = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and scorer.poll() is None:
            if latest_checkpoint(lake, topic) != before:
                break
            time.sleep(0.1)
        assert scorer.poll() is None, scorer.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
        time.sleep(rng.uniform(0.3, 2.5))  # then die somewhere between two checkpoints
        scorer.send_signal(signal.SIGKILL)
        scorer.wait()
    assert latest_checkpoint(lake, topic) is not None, "never checkpointed before being killed"
    final = subprocess.run(
        [*command, "4"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert final.returncode == 0, final.stderr[-3000:]

    checkpoint = load_checkpoint(lake, topic)
    assert checkpoint is not None
    assert checkpoint.counts.accepted == len(simulated)  # every event counted exactly once
    assert checkpoint.scorer.counts["events"] == len(simulated)
    resumed = checkpoint.scorer.flagged()
    assert resumed.equals(expected)
    lake_flags = pl.read_parquet(lake / "flags" / f"topic={topic}")
    assert set(lake_flags["account_id"]) == set(expected["account_id"])
