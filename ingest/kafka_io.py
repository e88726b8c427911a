"""kafka-python clients configured from :class:`~distillwatch.settings.Settings`.

One place builds every producer, consumer and admin client, so security
settings (SASL/TLS) set once apply everywhere.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, TopicAlreadyExistsError

from distillwatch.settings import Settings
from ingest.records import use_native_records

_UNREACHABLE = (KafkaTimeoutError, KafkaConnectionError)


class KafkaUnavailableError(RuntimeError):
    """The configured Kafka cluster could not be reached."""


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer tuned for throughput with durable acknowledgements."""

    config: dict[str, Any] = {
        "acks": "all",
        "linger_ms": 20,
        "batch_size": 512 * 1024,
        "compression_type": "lz4",
        "max_request_size": 1024 * 1024,
        "retries": 10,
    }
    config.update(settings.kafka_client_kwargs())
    config.update(overrides)
    try:
        return KafkaProducer(**config)
    except _UNREACHABLE as exc:
        raise KafkaUnavailableError(_unreachable(settings)) from exc


def consumer(
    settings: Settings, group_id: str | None, *, native_records: bool = True, **overrides: Any
) -> KafkaConsumer:
    """A consumer with manual commits that fetches large batches.

    Its records are unpacked natively (:mod:`ingest.records`) unless
    ``native_records`` is false or ``settings.kafka_native_records`` is off;
    the benchmark's baselines ask for kafka-python's own reader.
    """

    config: dict[str, Any] = {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": settings.poll_max_records,
        "max_partition_fetch_bytes": 8 * 1024 * 1024,
        "fetch_max_bytes": 64 * 1024 * 1024,
        "fetch_min_bytes": 64 * 1024,
        "fetch_max_wait_ms": 200,
        "max_poll_interval_ms": 600_000,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": max(settings.kafka_session_timeout_ms // 5, 500),
    }
    config.update(settings.kafka_client_kwargs())
    config.update(overrides)
    try:
        client = KafkaConsumer(**config)
    except _UNREACHABLE as exc:
        raise KafkaUnavailableError(_unreachable(settings)) from exc
    if native_records and settings.kafka_native_records:
        use_native_records(client)
    return client


def ensure_topics(settings: Settings, *topics: str) -> None:
    """Create the missing ones of ``topics`` with the configured partitions and replication."""

    try:
        admin = KafkaAdminClient(**settings.kafka_client_kwargs())
    except _UNREACHABLE as exc:
        raise KafkaUnavailableError(_unreachable(settings)) from exc
    try:
        existing = set(admin.list_topics())
        missing = [name for name in topics if name not in existing]
        if missing:
            new = [
                NewTopic(name, settings.topic_partitions, settings.topic_replication)
                for name in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
    finally:
        admin.close()


def _unreachable(settings: Settings) -> str:
    if settings.uses_local_kafka:
        return (
            f"no Kafka broker at {settings.bootstrap_servers}: start the embedded one with "
            "`distillwatch kafka start`, or set DISTILLWATCH_KAFKA_BOOTSTRAP"
        )
    return (
        f"no Kafka broker reachable at {settings.bootstrap_servers} (DISTILLWATCH_KAFKA_BOOTSTRAP)"
    )
