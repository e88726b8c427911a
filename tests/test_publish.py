"""Publication of rescoring runs: diff categories, atomic `latest`, bundles, no prompt text."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from features.jobs import scan_events
from models.exports import CAMPAIGNS_SCHEMA, FLAGGED_SCHEMA
from models.publish import (
    BUNDLE_FORMAT,
    LATEST,
    adhoc_run_id,
    day_run_id,
    diff_flags,
    latest_run,
    publish,
    published_runs,
)
from tests.tiny_lake import PROMPT_MARKER, SYSTEM_MARKER, tiny_lake, tiny_run

__all__ = ["tiny_lake", "tiny_run"]  # session fixtures used below

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _flags(rows: list[tuple[str, str, float, str | None]]) -> pl.DataFrame:
    """A flagged-accounts export of (account_id, tier, score, campaign_id) rows."""
    frame = pl.DataFrame(
        rows, schema=["account_id", "tier", "score", "campaign_id"], orient="row"
    ).with_columns(
        pl.lit(T0).alias("first_flagged_at"),
        pl.lit("cot_elicitation:0.90").alias("reasons"),
        pl.col("score").alias("own_score"),
        pl.lit(0.0).alias("campaign_score"),
        pl.lit(10).alias("n_requests"),
        pl.lit(T0).alias("first_seen"),
        pl.lit(T0).alias("last_seen"),
    )
    table = frame.select(FLAGGED_SCHEMA.names).to_arrow().cast(FLAGGED_SCHEMA)
    return pl.DataFrame(pl.from_arrow(table))


NO_CAMPAIGNS = pl.DataFrame(pl.from_arrow(CAMPAIGNS_SCHEMA.empty_table()))
NO_EVENTS = scan_events([])

DAY_1 = _flags(
    [
        ("a_stays", "high", 0.95, "cmp_1"),
        ("b_up", "low", 0.55, None),
        ("c_down", "high", 0.91, None),
        ("d_gone", "medium", 0.7, None),
    ]
)
DAY_2 = _flags(
    [
        ("a_stays", "high", 0.97, "cmp_1"),
        ("b_up", "high", 0.93, "cmp_1"),
        ("c_down", "medium", 0.72, None),
        ("e_new", "low", 0.51, None),
    ]
)


def test_diff_sorts_accounts_into_the_four_changes() -> None:
    diff = diff_flags(DAY_1, DAY_2)
    assert dict(diff.select("account_id", "change").iter_rows()) == {
        "b_up": "escalated",
        "c_down": "de-escalated",
        "d_gone": "cleared",
        "e_new": "new",
    }
    row = diff.filter(pl.col("account_id") == "b_up").row(0, named=True)
    assert row == {
        "account_id": "b_up",
        "change": "escalated",
        "old_tier": "low",
        "new_tier": "high",
        "old_score": 0.55,
        "new_score": 0.93,
        "campaign_id": "cmp_1",
    }
    cleared = diff.filter(pl.col("change") == "cleared").row(0, named=True)
    assert cleared["new_tier"] is None and cleared["new_score"] is None


def test_runs_diff_against_the_previous_run_id(tmp_path: Path) -> None:
    first = publish(tmp_path, "2026-11-01", DAY_1, NO_CAMPAIGNS, NO_EVENTS)
    second = publish(tmp_path, "2026-11-02", DAY_2, NO_CAMPAIGNS, NO_EVENTS)
    assert first.previous_run is None and first.changes["new"] == 4
    assert second.previous_run == "2026-11-01"
    assert second.changes == {"new": 1, "escalated": 1, "de-escalated": 1, "cleared": 1}
    files = {p.name for p in second.run_dir.iterdir()}
    assert {
        "flagged_accounts.parquet",
        "flagged_accounts.csv",
        "campaigns.parquet",
        "campaigns.csv",
        "diff.parquet",
        "diff.csv",
        "manifest.json",
    } <= files
    diff_csv = pl.read_csv(second.run_dir / "diff.csv")
    assert diff_csv.columns == [
        "account_id",
        "change",
        "old_tier",
        "new_tier",
        "old_score",
        "new_score",
        "campaign_id",
    ]
    manifest = json.loads((second.run_dir / "manifest.json").read_text())
    assert manifest["previous_run"] == "2026-11-01" and manifest["run_dir"] == "runs/2026-11-02"


def test_latest_moves_forward_only(tmp_path: Path) -> None:
    publish(tmp_path, "2026-11-02", DAY_2, NO_CAMPAIGNS, NO_EVENTS)
    assert latest_run(tmp_path) == "2026-11-02"
    backfill = publish(tmp_path, "2026-11-01", DAY_1, NO_CAMPAIGNS, NO_EVENTS)
    assert not backfill.is_latest
    assert latest_run(tmp_path) == "2026-11-02"
    pointer = tmp_path / LATEST
    assert pointer.is_symlink() and os.readlink(pointer) == "runs/2026-11-02"
    assert pq.read_table(pointer / "flagged_accounts.parquet").num_rows == DAY_2.height


def test_republishing_a_run_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    publish(tmp_path, "2026-11-01", DAY_1, NO_CAMPAIGNS, NO_EVENTS)
    once = publish(tmp_path, "2026-11-02", DAY_2, NO_CAMPAIGNS, NO_EVENTS)
    first = (once.run_dir / "diff.parquet").read_bytes()
    again = publish(tmp_path, "2026-11-02", DAY_2, NO_CAMPAIGNS, NO_EVENTS)
    assert again.previous_run == "2026-11-01"
    assert (again.run_dir / "diff.parquet").read_bytes() == first
    assert list(tmp_path.rglob(".*")) == [], "no staging folder or temporary file is left"
    assert published_runs(tmp_path) == ["2026-11-01", "2026-11-02"]


def test_an_interrupted_publication_is_ignored_then_cleaned(tmp_path: Path) -> None:
    publish(tmp_path, "2026-11-01", DAY_1, NO_CAMPAIGNS, NO_EVENTS)
    crashed = tmp_path / "runs" / ".2026-11-02.staging-99999"
    crashed.mkdir()
    (crashed / "manifest.json").write_text("{}")
    assert published_runs(tmp_path) == ["2026-11-01"]
    publish(tmp_path, "2026-11-02", DAY_2, NO_CAMPAIGNS, NO_EVENTS)
    assert not crashed.exists()


def test_run_ids_sort_in_time_order() -> None:
    day = day_run_id(T0.date())
    adhoc = adhoc_run_id(datetime(2026, 11, 2, 15, 30, tzinfo=UTC))
    assert (day, adhoc) == ("2026-11-02", "2026-11-02T153000Z")
    assert day < adhoc < day_run_id(datetime(2026, 11, 3).date())


# -- the shared simulated lake ----------------------------------------------------------------
def test_indicator_bundles_describe_each_campaign(tiny_run: Path) -> None:
    campaigns = pl.read_parquet(tiny_run / "campaigns.parquet")
    bundles = {p.stem: json.loads(p.read_text()) for p in (tiny_run / "indicators").glob("*.json")}
    assert set(bundles) == set(campaigns["campaign_id"]) and bundles
    flagged = set(pl.read_parquet(tiny_run / "flagged_accounts.parquet")["account_id"])
    for campaign_id, bundle in bundles.items():
        assert bundle["format"] == BUNDLE_FORMAT and bundle["campaign_id"] == campaign_id
        types = {i["type"] for i in bundle["indicators"]}
        assert {"ip_prefix", "template_signature"} <= types, campaign_id
        for item in bundle["indicators"]:
            assert item["n_accounts"] >= 2
            if item["type"] == "template_signature":
                assert len(item["value"]) == 16 and int(item["value"], 16) >= 0
        text = json.dumps(bundle)
        assert not any(account in text for account in flagged), "bundles hold no account ids"


def _texts(path: Path) -> str:
    """Every value of a file as text: Parquet cells, or the file's own text."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path).write_ndjson()
    return path.read_text(errors="replace")


def test_no_prompt_text_reaches_any_exported_file(tiny_lake: Path, tiny_run: Path) -> None:
    lake_files = list((tiny_lake / "events").rglob("*.parquet"))
    lake_text = "".join(_texts(p) for p in lake_files)
    assert PROMPT_MARKER in lake_text and SYSTEM_MARKER in lake_text, "markers are in the lake"
    exported = [p for p in tiny_run.rglob("*") if p.is_file()]
    assert {p.suffix for p in exported} >= {".parquet", ".csv", ".json", ".html"}
    for path in exported:
        text = _texts(path)
        assert PROMPT_MARKER not in text, path
        assert SYSTEM_MARKER not in text, path


@pytest.mark.parametrize("name", ["flagged_accounts", "campaigns"])
def test_parquet_and_csv_exports_hold_the_same_rows(tiny_run: Path, name: str) -> None:
    parquet = pl.read_parquet(tiny_run / f"{name}.parquet")
    csv = pl.read_csv(tiny_run / f"{name}.csv", schema_overrides={"campaign_id": pl.String})
    assert csv.columns == parquet.columns
    assert csv["campaign_id"].to_list() == parquet["campaign_id"].to_list()
