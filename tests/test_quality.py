"""Data-quality checks (ingest.quality) on small lakes written like the lake writer writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillwatch.lakefile import lake_from_file
from ingest.quality import (
    CHECKS,
    DataQualityError,
    check_lake,
    require_quality,
)

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
#: Events every 10 minutes over three hours: 10:00 to 12:50.
N_GOOD = 18


def _event(i: int) -> dict[str, object]:
    ts = START + timedelta(minutes=10 * i)
    return {
        "event_id": f"e{i}",
        "ts": ts.isoformat().replace("+00:00", "Z"),
        "account_id": f"acct_{i % 3}",
        "model": "frontier-large-2026-09",
        "endpoint": "/v1/chat/completions",
        "status": 200,
        "prompt_tokens": 10,
        "completion_tokens": 20,
    }


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A lake of N_GOOD good events and 2 bad lines, in two batches (chunks of 12 lines)."""
    lines = [json.dumps(_event(i)) for i in range(N_GOOD)]
    lines[5:5] = ['{"event_id": "bad"', "not json"]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    root = tmp_path / "lake"
    counts = lake_from_file(source, root, chunk_lines=12)
    assert (counts.accepted, counts.rejected) == (N_GOOD, 2)
    return root


def _by_name(report):
    return {check.name: check for check in report.checks}


def test_a_lake_written_by_the_loader_passes_every_check(lake: Path) -> None:
    report = check_lake(lake, START, START + timedelta(hours=3), max_quarantine_rate=0.2)
    assert report.passed, report.to_dict()
    checks = _by_name(report)
    assert list(checks) == list(CHECKS)
    assert checks["row_counts"].observed == N_GOOD
    assert checks["quarantine_rate"].observed == pytest.approx(2 / 20)


def test_hourly_scope_reads_only_the_batches_of_that_hour(lake: Path) -> None:
    hour = START + timedelta(hours=2)
    report = check_lake(lake, hour, hour + timedelta(hours=1), checks=["row_counts"])
    (check,) = report.checks
    assert check.passed
    # 12:00-12:50 all came in the second batch, which also wrote 11:40 and 11:50
    assert check.observed == 8


def test_quarantine_rate_above_threshold_fails(lake: Path) -> None:
    check = _by_name(check_lake(lake, max_quarantine_rate=0.05))["quarantine_rate"]
    assert not check.passed
    assert "2 of 20" in check.detail


def test_rows_lost_from_an_event_file_fail_the_reconciliation(lake: Path) -> None:
    path = sorted((lake / "events").rglob("*.parquet"))[0]
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    check = _by_name(check_lake(lake))["row_counts"]
    assert not check.passed
    assert "event rows, ingest log says" in check.detail


def test_an_orphan_event_file_fails_the_reconciliation(lake: Path) -> None:
    path = sorted((lake / "events").rglob("*.parquet"))[0]
    orphan = path.with_name("file+0+00000000000000000900+00000000000000000999.parquet")
    orphan.write_bytes(path.read_bytes())
    check = _by_name(check_lake(lake))["row_counts"]
    assert not check.passed
    assert "orphan event file" in check.detail


def test_a_file_with_another_schema_fails_the_schema_check(lake: Path) -> None:
    path = sorted((lake / "events").rglob("*.parquet"))[0]
    table = pq.read_table(path)
    drifted = table.set_column(
        table.schema.get_field_index("status"), "status", table["status"].cast(pa.int32())
    )
    pq.write_table(drifted, path)
    check = _by_name(check_lake(lake))["schema"]
    assert not check.passed
    assert path.name in check.detail


def test_freshness_is_measured_at_the_interval_end(lake: Path) -> None:
    newest = START + timedelta(minutes=10 * (N_GOOD - 1))
    fresh = check_lake(lake, checks=["freshness"], now=newest + timedelta(minutes=30))
    stale = check_lake(lake, checks=["freshness"], now=newest + timedelta(hours=5))
    assert fresh.passed
    assert not stale.passed
    assert stale.checks[0].observed == pytest.approx(300)


def test_events_after_the_reference_time_do_not_count_as_fresh(lake: Path) -> None:
    report = check_lake(lake, checks=["freshness"], now=START - timedelta(minutes=1))
    assert not report.passed
    assert "no event before" in report.checks[0].detail


def test_require_quality_raises_naming_the_failed_check(lake: Path) -> None:
    assert require_quality(lake, checks=["row_counts", "schema"])["passed"]
    with pytest.raises(DataQualityError, match="quarantine_rate: 2 of 20"):
        require_quality(lake, checks=["quarantine_rate"], max_quarantine_rate=0.01)


def test_an_empty_lake_fails_freshness_and_passes_the_rest(tmp_path: Path) -> None:
    report = check_lake(tmp_path, START, START + timedelta(hours=1))
    assert [c.name for c in report.checks if not c.passed] == ["freshness"]


def test_unknown_check_names_are_refused(lake: Path) -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        check_lake(lake, checks=["row_count"])
