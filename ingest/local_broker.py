"""The embedded default: a real single-node Apache Kafka broker in KRaft mode.

The broker's jars come from Maven Central through the checked-in
``ingest/broker/pom.xml`` and are cached under ``<cache_dir>/kafka/libs``; the
broker itself is started with ``java`` on loopback, its storage formatted on
first start. Nothing here is used when ``DISTILLWATCH_KAFKA_BOOTSTRAP`` points
at an existing cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from distillwatch.settings import Settings

BROKER_DIR = Path(__file__).resolve().parent / "broker"


class BrokerError(RuntimeError):
    """The local broker could not be fetched, started or reached."""


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BrokerError(f"`{tool}` was not found on PATH. {hint}")
    return path


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_JAVA_HINT = (
    "The embedded Kafka broker needs Java 17 or newer: install a JDK "
    "(e.g. `apt-get install openjdk-17-jre-headless`), or point distillwatch at an "
    "existing cluster with DISTILLWATCH_KAFKA_BOOTSTRAP=host:port."
)
_MAVEN_HINT = (
    "Maven fetches the broker's jars on first use: install it (e.g. `apt-get install "
    "maven`), or point distillwatch at an existing cluster with DISTILLWATCH_KAFKA_BOOTSTRAP."
)


@dataclass(frozen=True)
class BrokerStatus:
    """What ``distillwatch kafka status`` reports."""

    running: bool
    pid: int | None
    bootstrap: str
    log_file: Path


class LocalBroker:
    """Fetch, format, start and stop one local KRaft broker.

    Parameters
    ----------
    port
        Client listener port on 127.0.0.1; the controller listens on ``port + 1``.
    cache_dir
        Root of the cache: jars go to ``cache_dir/kafka/libs`` (shared by all
        brokers), data, pid and log files to ``cache_dir/kafka/broker-<port>``.
    heap_mb
        Maximum JVM heap.
    """

    def __init__(self, port: int, cache_dir: Path, heap_mb: int = 768) -> None:
        self.port = port
        self.cache_dir = cache_dir.resolve()
        self.heap_mb = heap_mb
        self._libs = self.cache_dir / "kafka" / "libs"
        self._home = self.cache_dir / "kafka" / f"broker-{port}"

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBroker:
        """The broker the settings describe (port, cache folder, heap)."""
        return cls(settings.local_kafka_port, settings.cache_dir, settings.local_kafka_heap_mb)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self._home / "broker.log"

    @property
    def _pid_file(self) -> Path:
        return self._home / "broker.pid"

    @property
    def _data_dir(self) -> Path:
        return self._home / "data"

    # -- jars -------------------------------------------------------------
    def fetch(self) -> Path:
        """Download the broker's jars with Maven unless the cache already matches the pom."""
        pom = BROKER_DIR / "pom.xml"
        digest = hashlib.sha256(pom.read_bytes()).hexdigest()
        marker = self._libs / ".pom-sha256"
        if marker.exists() and marker.read_text() == digest:
            return self._libs
        mvn = _require("mvn", _MAVEN_HINT)
        _require("java", _JAVA_HINT)
        staging = self._libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerError(
                "Maven could not fetch the Kafka broker jars:\n"
                + (result.stdout + result.stderr)[-3000:]
            )
        shutil.rmtree(self._libs, ignore_errors=True)
        staging.rename(self._libs)
        marker.write_text(digest)
        return self._libs

    # -- lifecycle ----------------------------------------------------------
    def _java(self, *args: str) -> list[str]:
        java = _require("java", _JAVA_HINT)
        return [java, f"-Xmx{self.heap_mb}m", "-cp", f"{self._libs}/*", *args]

    def _write_config(self) -> Path:
        template = (BROKER_DIR / "server.properties").read_text()
        config = self._home / "server.properties"
        config.write_text(
            template.format(port=self.port, controller_port=self.port + 1, data_dir=self._data_dir)
        )
        return config

    def _format_storage(self, config: Path) -> None:
        if (self._data_dir / "meta.properties").exists():
            return
        cmd = self._java(
            "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4()), "-c", str(config)
        )
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerError(f"formatting broker storage failed:\n{result.stdout}{result.stderr}")

    def pid(self) -> int | None:
        """Pid of the running broker, or None (a stale pid file is removed)."""
        try:
            pid = int(self._pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if _pid_alive(pid):
            return pid
        self._pid_file.unlink(missing_ok=True)
        return None

    def start(self, timeout_s: float = 90.0) -> BrokerStatus:
        """Start the broker (idempotent) and wait until it answers metadata requests."""
        if self.pid() is not None:
            self.wait_ready(timeout_s)
            return self.status()
        if _port_open(self.port):
            raise BrokerError(
                f"port {self.port} is already in use by another process; set "
                "DISTILLWATCH_LOCAL_KAFKA_PORT to a free port"
            )
        self._home.mkdir(parents=True, exist_ok=True)
        self.fetch()
        config = self._write_config()
        self._format_storage(config)
        log4j = BROKER_DIR / "log4j2.properties"
        cmd = self._java(f"-Dlog4j2.configurationFile={log4j}", "kafka.Kafka", str(config))
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._pid_file.write_text(str(proc.pid))
        try:
            self.wait_ready(timeout_s, proc)
        except BrokerError:
            self.stop()
            raise
        return self.status()

    def wait_ready(self, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Block until the broker serves metadata, or raise with the log's tail."""
        from kafka import KafkaAdminClient  # deferred: kafka-python is slow to import

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise BrokerError(f"the broker exited at start-up:\n{self._log_tail()}")
            if _port_open(self.port):
                try:
                    admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap, request_timeout_ms=5000
                    )
                    admin.list_topics()
                    admin.close()
                    return
                except Exception:  # not ready yet: any client error means retry
                    pass
            time.sleep(0.5)
        raise BrokerError(f"the broker was not ready within {timeout_s:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, n: int = 30) -> str:
        with contextlib.suppress(FileNotFoundError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-n:])
        return "(no broker log)"

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout_s``. True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self._pid_file.unlink(missing_ok=True)
        return True

    def remove_data(self) -> None:
        """Delete this broker's data, pid and log files (it must be stopped)."""
        if self.pid() is not None:
            raise BrokerError("stop the broker before removing its data")
        shutil.rmtree(self._home, ignore_errors=True)

    def status(self) -> BrokerStatus:
        pid = self.pid()
        return BrokerStatus(
            running=pid is not None and _port_open(self.port),
            pid=pid,
            bootstrap=self.bootstrap,
            log_file=self.log_file,
        )


@contextlib.contextmanager
def kafka_available(settings: Settings) -> Iterator[str]:
    """Make sure the configured Kafka is reachable for the duration of a job.

    With an external cluster this does nothing. With the embedded default it
    starts the local broker if it is not running, and stops it afterwards only
    if it was started here. Yields the bootstrap servers.
    """
    if not settings.uses_local_kafka:
        yield settings.bootstrap_servers
        return
    broker = LocalBroker.from_settings(settings)
    started = broker.pid() is None
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        if started:
            broker.stop()
