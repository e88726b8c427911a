"""The embedded broker's management and the settings that select it."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillwatch.cli import EXIT_KAFKA, main
from distillwatch.settings import Settings
from ingest.local_broker import BrokerError, LocalBroker


def test_missing_java_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn on PATH
    broker = LocalBroker(19999, tmp_path)
    with pytest.raises(BrokerError, match=r"Java 17|Maven"):
        broker.start(timeout_s=5)


def test_cli_exit_code_when_broker_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DISTILLWATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("DISTILLWATCH_LOCAL_KAFKA_PORT", "19998")
    monkeypatch.delenv("DISTILLWATCH_KAFKA_BOOTSTRAP", raising=False)
    assert main(["kafka", "start"]) == EXIT_KAFKA
    assert "DISTILLWATCH_KAFKA_BOOTSTRAP" in capsys.readouterr().err


@pytest.mark.kafka
def test_status_of_the_session_broker(local_broker: LocalBroker | None) -> None:
    if local_broker is None:
        pytest.skip("an external cluster is configured")
    status = local_broker.status()
    assert status.running and status.pid is not None
    assert status.log_file.exists()
    assert local_broker.start().pid == status.pid  # idempotent: no second broker


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "DISTILLWATCH_KAFKA_BOOTSTRAP": "b1:9093,b2:9093",
            "DISTILLWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "DISTILLWATCH_KAFKA_CLIENT_CONFIG": '{"client_id": "dw"}',
            "DISTILLWATCH_KEEP_PROMPT_TEXT": "yes",
            "DISTILLWATCH_FLUSH_RECORDS": "123",
            "DISTILLWATCH_LAKE_DIR": "/data/lake",
        }
    )
    assert not settings.uses_local_kafka
    assert settings.keep_prompt_text and settings.flush_records == 123
    assert settings.lake_dir == Path("/data/lake")
    assert settings.kafka_client_kwargs() == {
        "bootstrap_servers": ["b1:9093", "b2:9093"],
        "security_protocol": "SASL_SSL",
        "client_id": "dw",
    }
    assert Settings.from_env({}).bootstrap_servers == "127.0.0.1:19092"
    with pytest.raises(ValueError, match="JSON object"):
        Settings.from_env({"DISTILLWATCH_KAFKA_CLIENT_CONFIG": "[1]"})


def test_default_paths_follow_the_checkout_or_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distillwatch import settings as module

    assert Settings.from_env({}).lake_dir == module.REPO_ROOT / "lake"
    installed = tmp_path / "site-packages"  # no pyproject.toml above the package
    installed.mkdir()
    monkeypatch.setattr(module, "REPO_ROOT", installed)
    monkeypatch.chdir(tmp_path)
    defaults = Settings.from_env({})
    assert defaults.lake_dir == tmp_path / "lake"
    assert defaults.cache_dir == tmp_path / ".cache"
