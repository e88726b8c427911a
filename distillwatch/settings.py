"""One typed settings object, read from ``DISTILLWATCH_*`` environment variables.

Nothing is read at import time: call :func:`get_settings` (or build
:class:`Settings` directly in tests). Every knob of the pipeline lives here so
that operators have one place to look and the DAGs, the CLI and the tests agree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

PREFIX = "DISTILLWATCH_"
REPO_ROOT = Path(__file__).resolve().parent.parent


def default_home() -> Path:
    """Folder of the default lake and cache.

    The checkout when running from one; for an installed package (no
    ``pyproject.toml`` above it) the current working directory, not
    ``site-packages``.
    """
    return REPO_ROOT if (REPO_ROOT / "pyproject.toml").is_file() else Path.cwd()


def _parse(raw: str, kind: Any) -> Any:
    """Convert an environment string to the annotated type of a setting."""
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is Path:
        return Path(raw).expanduser()
    if kind == dict[str, Any]:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {raw!r}")
        return value
    return raw


@dataclass(frozen=True)
class Settings:
    """Pipeline configuration.

    Each attribute ``name`` is read from ``DISTILLWATCH_<NAME>`` by
    :meth:`from_env`; the defaults run everything on this machine against the
    embedded single-node Kafka broker.
    """

    #: Bootstrap servers of an existing Kafka cluster. Empty: use the embedded broker.
    kafka_bootstrap: str = ""
    #: kafka-python security settings, passed through unchanged when set.
    kafka_security_protocol: str = ""
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    #: Any further kafka-python keyword arguments, as a JSON object.
    kafka_client_config: dict[str, Any] = field(default_factory=dict)
    #: Consumers unpack fetched records natively (``ingest.records``); off: kafka-python's reader.
    kafka_native_records: bool = True

    #: Port of the embedded broker's client listener (controller uses port + 1).
    local_kafka_port: int = 19092
    #: Folder for downloaded broker jars, broker data, pid and log files.
    cache_dir: Path = field(default_factory=lambda: default_home() / ".cache")
    #: Heap of the embedded broker JVM, in MiB.
    local_kafka_heap_mb: int = 768

    #: Root of the Parquet lake (events/, quarantine/, features/, ...).
    lake_dir: Path = field(default_factory=lambda: default_home() / "lake")
    #: Folder of the input contract (schema and examples).
    contract_dir: Path = REPO_ROOT.parent / "shared" / "contract"

    topic: str = "api-access-logs"
    dead_letter_topic: str = "api-access-logs.dlq"
    flags_topic: str = "abuse-flags"
    verdicts_topic: str = "verdicts"
    #: Partitions and replication factor of topics the pipeline creates.
    topic_partitions: int = 4
    topic_replication: int = 1
    ingest_group: str = "distillwatch-lake-writer"
    score_group: str = "distillwatch-scorer"

    #: Keep prompt and system-prompt text in the lake (off by default: privacy).
    keep_prompt_text: bool = False
    #: Messages larger than this are rejected (the contract's 64 KiB).
    max_message_bytes: int = 64 * 1024
    #: A partition's buffer is written once it holds this many records ...
    flush_records: int = 50_000
    #: ... or once the event time it spans reaches this many seconds.
    flush_event_seconds: int = 6 * 3600
    #: ... or, partial, once no record arrived for this many seconds (the stream
    #: paused: what is buffered becomes visible in the lake). A writer draining
    #: a topic (``--until-idle``) writes its tail as soon as it has caught up.
    idle_flush_s: float = 2.0
    #: Consumer group session timeout: how soon a crashed member's partitions move on.
    kafka_session_timeout_ms: int = 10_000
    #: Records fetched per poll.
    poll_max_records: int = 20_000
    #: Processes decoding input files in batch runs (``detect``); 0: one per core.
    decode_workers: int = 0
    #: Lake writer processes of ``distillwatch ingest`` (members of one consumer
    #: group, sharing the topic's partitions); 0: one per core.
    ingest_workers: int = 1

    @property
    def ingest_processes(self) -> int:
        """The number of lake writer processes :attr:`ingest_workers` asks for."""
        return self.ingest_workers or os.cpu_count() or 1

    #: Seconds between progress/lag log lines of long-running consumers.
    log_interval_s: float = 10.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``DISTILLWATCH_*`` variables, then apply ``overrides``."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(raw, hints[f.name])
        values.update(overrides)
        return cls(**values)

    @property
    def uses_local_kafka(self) -> bool:
        """True when no external cluster is configured."""
        return not self.kafka_bootstrap

    @property
    def bootstrap_servers(self) -> str:
        """Bootstrap servers every Kafka client of the pipeline connects to."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.local_kafka_port}"

    def kafka_client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments shared by kafka-python producers, consumers and admins."""
        kwargs: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers.split(",")}
        passthrough = {
            "security_protocol": self.kafka_security_protocol,
            "sasl_mechanism": self.kafka_sasl_mechanism,
            "sasl_plain_username": self.kafka_sasl_username,
            "sasl_plain_password": self.kafka_sasl_password,
            "ssl_cafile": self.kafka_ssl_cafile,
            "ssl_certfile": self.kafka_ssl_certfile,
            "ssl_keyfile": self.kafka_ssl_keyfile,
        }
        kwargs.update({k: v for k, v in passthrough.items() if v})
        kwargs.update(self.kafka_client_config)
        return kwargs


def get_settings(**overrides: Any) -> Settings:
    """Settings from the current environment (read on each call, never at import)."""
    return Settings.from_env(**overrides)
