"""Model maintenance: checkpoint compaction and idempotent verdict ingestion."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from distillwatch.analyst import connect
from models.maintenance import (
    VERDICTS_SCHEMA,
    InvalidVerdictsError,
    compact_checkpoints,
    ingest_verdicts,
    read_verdict_file,
)

NOW = datetime(2026, 11, 3, 4, tzinfo=UTC)
VERDICTS_CSV = """account_id,label,decided_at
acct_1,abuse,2026-11-02T10:00:00Z
acct_2, Benign ,2026-11-02T11:30:00+01:00
acct_1,abuse,2026-11-02T10:00:00Z
"""


def test_compaction_keeps_the_newest_checkpoints_of_each_folder(tmp_path: Path) -> None:
    for folder in ("checkpoints", "checkpoints/scorer-1"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        for offset in range(1, 8):
            (tmp_path / folder / f"{offset:012d}.pkl").write_bytes(b"state")
    (tmp_path / "checkpoints" / ".000000000009.pkl.tmp").write_bytes(b"in flight")
    removed = compact_checkpoints(tmp_path, keep=3)
    assert len(removed) == 8
    for folder in ("checkpoints", "checkpoints/scorer-1"):
        kept = sorted(p.name for p in (tmp_path / folder).glob("0*.pkl"))
        assert kept == [f"{n:012d}.pkl" for n in (5, 6, 7)]
    assert (tmp_path / "checkpoints" / ".000000000009.pkl.tmp").exists()
    assert compact_checkpoints(tmp_path, keep=3) == []


def test_compaction_of_a_lake_without_checkpoints_does_nothing(tmp_path: Path) -> None:
    assert compact_checkpoints(tmp_path) == []
    with pytest.raises(ValueError, match="at least one"):
        compact_checkpoints(tmp_path, keep=0)


def test_verdict_files_are_validated_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(VERDICTS_CSV)
    frame = read_verdict_file(path)
    assert frame.height == 2  # the duplicate line counts once
    assert frame["label"].to_list() == ["abuse", "benign"]
    assert frame["decided_at"].dt.hour().to_list() == [10, 10]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("account_id,label\nacct_1,abuse\n", "missing columns"),
        ("account_id,label,decided_at\n,abuse,2026-11-02T10:00:00Z\n", "empty account_id"),
        ("account_id,label,decided_at\nacct_1,evil,2026-11-02T10:00:00Z\n", "label not one of"),
        ("account_id,label,decided_at\nacct_1,abuse,yesterday\n", "unreadable decided_at"),
    ],
)
def test_invalid_verdict_files_say_why(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "v.csv"
    path.write_text(text)
    with pytest.raises(InvalidVerdictsError, match=reason):
        read_verdict_file(path)


def test_ingestion_moves_files_and_never_duplicates(tmp_path: Path) -> None:
    inbox = tmp_path / "verdicts_inbox"
    inbox.mkdir()
    (inbox / "monday.csv").write_text(VERDICTS_CSV)
    pl.DataFrame(
        {"account_id": ["acct_3"], "label": ["inconclusive"], "decided_at": [NOW]}
    ).write_parquet(inbox / "tuesday.parquet")
    (inbox / "broken.csv").write_text("account_id\nacct_9\n")

    result = ingest_verdicts(tmp_path, now=NOW)
    assert result.files == ["monday.csv", "tuesday.parquet"]
    assert result.rows == 3
    assert set(result.rejected) == {"broken.csv"}
    assert (inbox / "rejected" / "broken.csv.reason.txt").read_text().startswith("missing")
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "monday.csv",
        "tuesday.parquet",
    ]
    written = sorted((tmp_path / "verdicts").glob("*.parquet"))
    assert len(written) == 2
    assert pq.read_schema(written[0]).equals(VERDICTS_SCHEMA)

    # The same file delivered again rewrites the same output file.
    shutil.copy(inbox / "processed" / "monday.csv", inbox / "monday-again.csv")
    again = ingest_verdicts(tmp_path, now=NOW)
    assert again.files == ["monday-again.csv"]
    assert sorted((tmp_path / "verdicts").glob("*.parquet")) == written

    con = connect(tmp_path)
    latest = con.sql("select account_id, label from stg_verdicts where is_latest order by 1").pl()
    assert latest.rows() == [("acct_1", "abuse"), ("acct_2", "benign"), ("acct_3", "inconclusive")]
