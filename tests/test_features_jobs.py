"""Feature jobs over a tiny Hive-partitioned lake: layout, idempotency, privacy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from features.jobs import (
    DAILY,
    FEATURES,
    HOURLY,
    LINKS,
    build_daily,
    build_hourly,
    build_links,
    build_range,
    model_first_seen,
)
from ingest.schema import LAKE_SCHEMA_WITH_TEXT
from tests.lakes import write_events

T0 = datetime(2026, 11, 21, 22, tzinfo=UTC)


def campaign_rows(secret: str = "") -> list[dict[str, Any]]:
    """Three accounts over three hours across midnight, sharing a template and a card."""
    rows = []
    for i in range(36):
        rows.append(
            {
                "account_id": f"acct{i % 3}",
                "ts": T0 + timedelta(minutes=5 * i + 1),
                "prompt": f"Think step by step and solve exercise {i} {secret}: x + {i} = 2x",
                "system_prompt": f"You are a careful tutor {secret}",
                "client_ip": f"198.51.100.{i % 3}",
                "payment_fingerprint": "card-A" if i % 3 else "card-B",
                "model": "frontier-large-2026-09" if i < 30 else "frontier-next",
            }
        )
    return rows


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    write_events(tmp_path, campaign_rows())
    return tmp_path


def test_hourly_writes_one_file_per_hour_even_without_events(lake: Path) -> None:
    paths = build_hourly(lake, T0 - timedelta(hours=1), T0 + timedelta(hours=3))
    root = lake / FEATURES / HOURLY
    assert paths == [
        root / "date=2026-11-21/hour=21/part-0.parquet",
        root / "date=2026-11-21/hour=22/part-0.parquet",
        root / "date=2026-11-21/hour=23/part-0.parquet",
        root / "date=2026-11-22/hour=00/part-0.parquet",
    ]
    counts = [pl.read_parquet(path)["vol_requests"].sum() for path in paths]
    assert counts == [0, 12, 12, 12]
    first = pl.read_parquet(paths[1])
    assert first["account_id"].to_list() == ["acct0", "acct1", "acct2"]
    assert (first["window_start"] == T0).all()
    assert pl.read_parquet(paths[0]).schema == first.schema


def test_hourly_reads_only_its_partitions(lake: Path) -> None:
    (lake / "events/date=2026-11-21/hour=23/part-0.parquet").write_bytes(b"not parquet")
    paths = build_hourly(lake, T0, T0 + timedelta(hours=1))
    assert pl.read_parquet(paths[0])["vol_requests"].sum() == 12


def test_model_adoption_uses_first_appearance_in_the_lake(lake: Path) -> None:
    first = model_first_seen(lake, T0 + timedelta(hours=3))
    assert first.to_dicts() == [
        {"model": "frontier-large-2026-09", "first_seen": T0 + timedelta(minutes=1)},
        {"model": "frontier-next", "first_seen": T0 + timedelta(minutes=151)},
    ]
    assert model_first_seen(lake, T0 + timedelta(hours=1))["model"].to_list() == [
        "frontier-large-2026-09"
    ]
    last_hour = pl.read_parquet(
        build_hourly(lake, T0 + timedelta(hours=2), T0 + timedelta(hours=3))[0]
    )
    assert sorted(last_hour["model_adoption_hours"].to_list()) == pytest.approx(
        [0.0, 5 / 60, 10 / 60]
    )


def test_daily_features_cover_the_whole_day(lake: Path) -> None:
    path = build_daily(lake, date(2026, 11, 21))
    assert path == lake / FEATURES / DAILY / "date=2026-11-21/part-0.parquet"
    daily = pl.read_parquet(path)
    assert daily["vol_requests"].to_list() == [8, 8, 8]
    assert (daily["cont_cot_share"] == 1.0).all()


def test_links_of_a_day(lake: Path) -> None:
    path = build_links(lake, T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=1))
    assert path == lake / FEATURES / LINKS / "date=2026-11-21/part-0.parquet"
    edges = pl.read_parquet(path)
    payment = edges.filter(pl.col("kind") == "payment")
    assert payment.select("account_a", "account_b").rows() == [("acct1", "acct2")]
    assert set(edges["kind"]) >= {"payment", "template", "lsh"}


def test_links_range_must_stay_within_a_day(lake: Path) -> None:
    with pytest.raises(ValueError, match="one UTC day"):
        build_links(lake, T0, T0 + timedelta(hours=3))


def test_empty_lake_gives_empty_outputs(tmp_path: Path) -> None:
    out = build_range(tmp_path, T0, T0 + timedelta(hours=3))
    assert [len(out[name]) for name in (HOURLY, DAILY, LINKS)] == [3, 2, 2]
    assert all(pl.read_parquet(path).is_empty() for paths in out.values() for path in paths)


def output_bytes(lake: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes() for path in sorted((lake / FEATURES).rglob("*")) if path.is_file()
    }


def test_jobs_are_idempotent(lake: Path) -> None:
    build_range(lake, T0, T0 + timedelta(hours=3))
    first = output_bytes(lake)
    build_range(lake, T0, T0 + timedelta(hours=3))
    assert output_bytes(lake) == first
    assert len(first) == 3 + 2 + 2
    assert not list((lake / FEATURES).rglob(".*"))  # no temporary files left


def test_build_range_writes_what_the_single_jobs_write(tmp_path: Path) -> None:
    # build_range reads each day once for the hourly and daily features; on a
    # range starting and ending mid-hour and crossing midnight (the new model
    # of the second day included) it must write the single jobs' bytes.
    together, alone = tmp_path / "together", tmp_path / "alone"
    for lake in (together, alone):
        write_events(lake, campaign_rows())
    start, end = T0 + timedelta(minutes=30), T0 + timedelta(hours=2, minutes=40)
    out = build_range(together, start, end)
    midnight = datetime(2026, 11, 22, tzinfo=UTC)
    build_hourly(alone, start, end)
    for day in (date(2026, 11, 21), date(2026, 11, 22)):
        build_daily(alone, day)
    build_links(alone, start, midnight)
    build_links(alone, midnight, end)
    assert [len(out[name]) for name in (HOURLY, DAILY, LINKS)] == [3, 2, 2]
    written = {path.relative_to(together): data for path, data in output_bytes(together).items()}
    assert written == {path.relative_to(alone): data for path, data in output_bytes(alone).items()}
    new_model = pl.read_parquet(
        together / FEATURES / HOURLY / "date=2026-11-22/hour=00/part-0.parquet"
    )
    assert new_model["model_new_share"].max() > 0  # the adoption features are not all empty


def test_rerun_after_late_data_replaces_the_partition(lake: Path) -> None:
    (path,) = build_hourly(lake, T0, T0 + timedelta(hours=1))
    late = [{"account_id": "late", "ts": T0 + timedelta(minutes=59)}]
    write_events(lake, late, name="late.parquet")
    build_hourly(lake, T0, T0 + timedelta(hours=1))
    assert "late" in pl.read_parquet(path)["account_id"].to_list()


def test_no_prompt_text_reaches_features(tmp_path: Path) -> None:
    secret = "ZQX-planted-7f3a9c"
    write_events(tmp_path, campaign_rows(secret), schema=LAKE_SCHEMA_WITH_TEXT)
    events = pl.read_parquet(tmp_path / "events/date=2026-11-21/hour=22/part-0.parquet")
    assert events["prompt"].str.contains(secret).all()  # the lake does keep the text
    out = build_range(tmp_path, T0, T0 + timedelta(hours=3))
    files = [path for path in (tmp_path / FEATURES).rglob("*") if path.is_file()]
    assert len(files) == sum(len(paths) for paths in out.values())
    for path in files:
        assert secret.encode() not in path.read_bytes()
        frame = pl.read_parquet(path)
        assert not {"prompt", "system_prompt"} & set(frame.columns)
        for column in frame.select(pl.col(pl.String)):
            assert not column.str.contains(secret, literal=True).any()
