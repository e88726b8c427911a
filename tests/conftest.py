"""Shared fixtures: the contract files and one real Kafka broker per test session.

The broker is the embedded KRaft broker of ``ingest.local_broker`` on its own
port (so a developer's demo broker is left alone), or the cluster named by
``DISTILLWATCH_KAFKA_BOOTSTRAP`` when that is set. Nothing here fakes Kafka.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from distillwatch.settings import REPO_ROOT, Settings
from ingest.local_broker import LocalBroker


def _free_port_pair() -> int:
    """A port p such that p and p + 1 (the controller's) are both free on loopback."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65535:
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for the test broker")


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    path = Path(
        os.environ.get("DISTILLWATCH_CONTRACT_DIR", REPO_ROOT.parent / "shared" / "contract")
    )
    assert (path / "api_access_log.schema.json").exists(), f"contract not found at {path}"
    return path


@pytest.fixture(scope="session")
def good_examples(contract_dir: Path) -> list[bytes]:
    return (contract_dir / "examples.jsonl").read_bytes().splitlines()


@pytest.fixture(scope="session")
def bad_examples(contract_dir: Path) -> list[tuple[bytes, str]]:
    lines = (contract_dir / "bad_examples.jsonl").read_bytes().splitlines()
    reasons = (contract_dir / "bad_examples.reasons.txt").read_text().splitlines()
    assert len(lines) == len(reasons)
    return list(zip(lines, reasons, strict=True))


@pytest.fixture(scope="session")
def local_broker() -> Iterator[LocalBroker | None]:
    """The session's broker; None when an external cluster is configured."""
    if os.environ.get("DISTILLWATCH_KAFKA_BOOTSTRAP"):
        yield None
        return
    # A port of its own per session, so concurrent test runs never share a broker.
    broker = LocalBroker(_free_port_pair(), REPO_ROOT / ".cache", heap_mb=512)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        broker.remove_data()


@pytest.fixture(scope="session")
def kafka_settings(local_broker: LocalBroker | None) -> Settings:
    """Settings that point every client at the session's broker."""
    if local_broker is None:
        return Settings.from_env()
    return Settings.from_env(kafka_bootstrap=local_broker.bootstrap)


@pytest.fixture
def topic() -> str:
    """A fresh topic name per test, so tests never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kafka_env(kafka_settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses that must reach the session's broker."""
    env = dict(os.environ)
    env["DISTILLWATCH_KAFKA_BOOTSTRAP"] = kafka_settings.bootstrap_servers
    env["DISTILLWATCH_CACHE_DIR"] = str(REPO_ROOT / ".cache")
    return env
