"""Data-quality checks of the lake, for one event-time interval or the whole lake.

Four checks, each a function returning a :class:`CheckResult`:

``row_counts``
    The lake holds exactly what the ingest log says was accepted and rejected.
    The batches considered are those with an event file in the interval's hour
    partitions (every batch for the whole lake); for each, the rows of its event
    files must add up to its ``accepted`` count, the rows of its quarantine file
    to ``rejected``, and ``accepted + rejected`` to ``consumed``. An event file
    that no ingest-log entry lists (an *orphan*: a batch written but never
    committed, or a file copied in by hand) fails the check too.
``schema``
    Every event file has exactly :data:`ingest.schema.LAKE_SCHEMA` (or the
    with-text variant when prompt text is kept) and every quarantine file
    :data:`ingest.schema.QUARANTINE_SCHEMA`. Only Parquet footers are read.
``freshness``
    The newest event at or before ``now`` (the interval's end by default) is at
    most ``max_event_age`` old. It also catches a producer whose messages are
    all rejected: such batches write no event file, so events stop arriving.
``quarantine_rate``
    ``rejected / consumed`` over the same batches as ``row_counts`` stays at or
    below ``max_quarantine_rate``.

Batches are found from the event files of the interval, whose names are the
batch names of the ingest log (``<topic>+<partition>+<first>+<last>``), so an
hourly check reads a handful of files however old the lake is.

:func:`check_lake` runs any of them and returns a :class:`QualityReport`;
:func:`require_quality` also raises :class:`DataQualityError` when a check
fails, which is what an Airflow task wants (a failed check fails the task).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.lake import (
    EVENTS,
    INGEST_LOG,
    QUARANTINE,
    as_utc,
    hour_partition,
    partition_hour,
)
from ingest.schema import LAKE_SCHEMA, LAKE_SCHEMA_WITH_TEXT, QUARANTINE_SCHEMA

#: Default freshness threshold. Keep it above the lake writer's flush delay
#: (``DISTILLWATCH_FLUSH_EVENT_SECONDS`` for quiet partitions).
MAX_EVENT_AGE = timedelta(hours=2)
#: Default highest acceptable share of rejected messages.
MAX_QUARANTINE_RATE = 0.02

_HOUR = timedelta(hours=1)


class DataQualityError(RuntimeError):
    """Raised by :func:`require_quality` when at least one check fails."""

    def __init__(self, report: QualityReport) -> None:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.passed)
        super().__init__(f"data-quality checks failed for {report.scope}: {failed}")
        self.report = report


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: what was measured, against what, and why it failed."""

    name: str
    passed: bool
    observed: float | int | None
    expected: str
    detail: str


@dataclass(frozen=True)
class QualityReport:
    """Results of the checks of one interval (``scope``: the interval, or ``whole lake``)."""

    scope: str
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable), e.g. for an Airflow XCom."""
        checks = [asdict(c) for c in self.checks]
        return {"scope": self.scope, "passed": self.passed, "checks": checks}


@dataclass(frozen=True)
class _Scope:
    """Event files of the checked interval and the ingest-log entries of their batches."""

    event_files: list[Path]
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    orphans: list[Path] = field(default_factory=list)


def _hours(start: datetime, end: datetime) -> list[datetime]:
    hour = as_utc(start).replace(minute=0, second=0, microsecond=0)
    out = []
    while hour < as_utc(end):
        out.append(hour)
        hour += _HOUR
    return out


def _scope(lake: Path, start: datetime | None, end: datetime | None) -> _Scope:
    """Find the interval's event files and the ingest-log entries of their batches."""
    if start is None or end is None:
        files = sorted((lake / EVENTS).glob("date=*/hour=*/*.parquet"))
        logs = sorted((lake / INGEST_LOG).glob("topic=*/partition=*/*.json"))
    else:
        files = [
            path
            for hour in _hours(start, end)
            for path in sorted(
                hour_partition(lake / EVENTS, f"{hour:%Y-%m-%d}", hour.hour).glob("*.parquet")
            )
        ]
        logs = sorted({log for path in files if (log := _log_file(lake, path)) is not None})
    batches = {log.stem: json.loads(log.read_text()) for log in logs if log.exists()}
    orphans = [path for path in files if path.stem not in batches]
    return _Scope(files, batches, orphans)


def _log_file(lake: Path, event_file: Path) -> Path | None:
    """Ingest-log file of the batch that wrote ``event_file`` (None if the name is foreign)."""
    parts = event_file.stem.split("+")
    if len(parts) != 4:
        return None
    topic, partition = parts[0], parts[1]
    folder = lake / INGEST_LOG / f"topic={topic}" / f"partition={partition}"
    return folder / f"{event_file.stem}.json"


def _rows(lake: Path, relative: str) -> int | None:
    path = lake / relative
    return pq.read_metadata(path).num_rows if path.exists() else None


def check_row_counts(lake: Path, scope: _Scope) -> CheckResult:
    """Rows in the lake against the ingest log's accepted and rejected counts."""
    problems: list[str] = [f"orphan event file {p.relative_to(lake)}" for p in scope.orphans[:5]]
    expected = observed = 0
    for name, batch in sorted(scope.batches.items()):
        if batch["accepted"] + batch["rejected"] != batch["consumed"]:
            problems.append(f"{name}: accepted + rejected != consumed")
        events = quarantined = 0
        for relative in batch["files"]:
            rows = _rows(lake, relative)
            if rows is None:
                problems.append(f"{name}: missing file {relative}")
            elif relative.startswith(QUARANTINE):
                quarantined += rows
            else:
                events += rows
        if events != batch["accepted"]:
            problems.append(f"{name}: {events} event rows, ingest log says {batch['accepted']}")
        if quarantined != batch["rejected"]:
            problems.append(
                f"{name}: {quarantined} quarantined rows, ingest log says {batch['rejected']}"
            )
        expected += batch["accepted"]
        observed += events
    observed += sum(pq.read_metadata(p).num_rows for p in scope.orphans)
    detail = "; ".join(problems[:10]) or f"{observed} rows in {len(scope.batches)} batch(es)"
    return CheckResult("row_counts", not problems, observed, f"{expected} accepted", detail)


def check_schema(lake: Path, scope: _Scope) -> CheckResult:
    """Every event and quarantine file has the pinned schema."""
    wrong = [
        str(path.relative_to(lake))
        for path in scope.event_files
        if not _schema_in(path, (LAKE_SCHEMA, LAKE_SCHEMA_WITH_TEXT))
    ]
    quarantine = {
        relative
        for batch in scope.batches.values()
        for relative in batch["files"]
        if relative.startswith(QUARANTINE) and (lake / relative).exists()
    }
    wrong += [q for q in sorted(quarantine) if not _schema_in(lake / q, (QUARANTINE_SCHEMA,))]
    n_files = len(scope.event_files) + len(quarantine)
    detail = f"unexpected schema in {', '.join(wrong[:5])}" if wrong else f"{n_files} files"
    return CheckResult("schema", not wrong, len(wrong), "0 files off schema", detail)


def _schema_in(path: Path, schemas: Iterable[pa.Schema]) -> bool:
    actual = pq.read_schema(path)
    return any(actual.equals(s, check_metadata=False) for s in schemas)


def check_freshness(
    lake: Path, now: datetime, max_event_age: timedelta = MAX_EVENT_AGE
) -> CheckResult:
    """The newest event at or before ``now`` is at most ``max_event_age`` old."""
    expected = f"<= {max_event_age.total_seconds() / 60:.0f} min"
    newest = _newest_event(lake, as_utc(now))
    if newest is None:
        return CheckResult("freshness", False, None, expected, f"no event before {now:%F %T}")
    age = as_utc(now) - newest
    minutes = age.total_seconds() / 60
    detail = f"newest event at {newest:%F %T} UTC, {minutes:.0f} min before {now:%F %T}"
    return CheckResult("freshness", age <= max_event_age, minutes, expected, detail)


def _newest_event(lake: Path, now: datetime) -> datetime | None:
    """Newest event time at or before ``now``, reading partitions from the newest back."""
    folders = sorted((lake / EVENTS).glob("date=*/hour=*"), reverse=True)
    for folder in folders:
        if partition_hour(folder) > now:
            continue
        found = [ts for path in folder.glob("*.parquet") if (ts := _max_ts(path, now)) is not None]
        if found:
            return max(found)
    return None


def _max_ts(path: Path, now: datetime) -> datetime | None:
    ts = pq.read_table(path, columns=["ts"]).column("ts")
    kept = ts.filter(pc.less_equal(ts, pa.scalar(now, ts.type)))
    value = pc.max(kept).as_py() if len(kept) else None
    return as_utc(value) if value is not None else None


def check_quarantine_rate(
    scope: _Scope, max_quarantine_rate: float = MAX_QUARANTINE_RATE
) -> CheckResult:
    """Share of rejected messages in the interval's batches."""
    consumed = sum(b["consumed"] for b in scope.batches.values())
    rejected = sum(b["rejected"] for b in scope.batches.values())
    rate = rejected / consumed if consumed else 0.0
    detail = f"{rejected} of {consumed} messages rejected ({rate:.2%})"
    return CheckResult(
        "quarantine_rate", rate <= max_quarantine_rate, rate, f"<= {max_quarantine_rate}", detail
    )


#: Names of the checks, in the order :func:`check_lake` runs them.
CHECKS: tuple[str, ...] = ("row_counts", "schema", "freshness", "quarantine_rate")


def check_lake(
    lake: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    checks: Sequence[str] = CHECKS,
    now: datetime | None = None,
    max_event_age: timedelta = MAX_EVENT_AGE,
    max_quarantine_rate: float = MAX_QUARANTINE_RATE,
) -> QualityReport:
    """Run ``checks`` over the event-time interval [start, end), or the whole lake.

    Parameters
    ----------
    start, end
        The interval (naive means UTC; widened to whole hours). Both None: every
        partition and batch of the lake.
    checks
        Names from :data:`CHECKS`.
    now
        Reference time of the freshness check: default ``end``, or the current
        time when checking the whole lake.
    """
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; choose from {CHECKS}")
    scope = _scope(lake, start, end)
    reference = now or end or datetime.now(UTC)
    runners: dict[str, Callable[[], CheckResult]] = {
        "row_counts": lambda: check_row_counts(lake, scope),
        "schema": lambda: check_schema(lake, scope),
        "freshness": lambda: check_freshness(lake, reference, max_event_age),
        "quarantine_rate": lambda: check_quarantine_rate(scope, max_quarantine_rate),
    }
    where = "whole lake" if start is None or end is None else f"[{as_utc(start)}, {as_utc(end)})"
    return QualityReport(where, tuple(runners[name]() for name in checks))


def require_quality(
    lake: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run :func:`check_lake` and raise :class:`DataQualityError` if any check fails.

    Returns the report as plain data (see :meth:`QualityReport.to_dict`).
    """
    report = check_lake(lake, start, end, **options)
    if not report.passed:
        raise DataQualityError(report)
    return report.to_dict()
