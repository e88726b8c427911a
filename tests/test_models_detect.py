"""``detect`` end to end on the simulator's tiny preset: exports, rejects, determinism, eval."""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path

import polars as pl
import pytest

from models.detect import detect
from models.evaluate import evaluate, render_json, render_table
from models.exports import FLAGGED_SCHEMA, read_flags


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from distillwatch.simulator import simulate_to_file

    folder = tmp_path_factory.mktemp("tiny")
    events, labels = folder / "events.jsonl.gz", folder / "labels.csv"
    simulate_to_file("tiny", 2, events, labels)
    return events, labels


@pytest.fixture(scope="module")
def run(tiny: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    detect(tiny[0], out)
    return out


def test_exports_follow_the_contract(run: Path) -> None:
    exports = run / "exports"
    flagged = pl.read_parquet(exports / "flagged_accounts.parquet")
    assert flagged.columns == FLAGGED_SCHEMA.names
    assert flagged.height > 0
    assert flagged["account_id"].is_unique().all()
    assert flagged["tier"].is_in(["high", "medium", "low"]).all()
    assert flagged["score"].is_between(0.0, 1.0).all()
    assert flagged.schema["first_flagged_at"] == pl.Datetime("us", "UTC")
    assert (flagged["reasons"].str.len_chars() > 0).all()
    # every reason is code:value, and the codes come first by importance
    assert flagged["reasons"].str.split(";").explode().str.contains(r"^[a-z_0-9]+:\S+$").all()
    csv = read_flags(exports / "flagged_accounts.csv")
    assert csv.columns == flagged.columns
    assert csv.select("account_id", "tier", "first_flagged_at").equals(
        flagged.select("account_id", "tier", "first_flagged_at")
    )
    campaigns = pl.read_parquet(exports / "campaigns.parquet")
    expected = ["campaign_id", "n_accounts", "n_requests", "first_seen", "last_seen"]
    assert campaigns.columns[:5] == expected and "indicators" in campaigns.columns
    for text in campaigns["indicators"]:
        assert set(json.loads(text)) >= {"payment_fingerprints", "network_prefixes", "evidence"}
    linked = flagged["campaign_id"].drop_nulls().unique()
    assert set(linked) <= set(campaigns["campaign_id"])
    assert json.loads((run / "summary.json").read_text())["flagged"] == flagged.height


def test_same_input_gives_identical_exports(
    tiny: tuple[Path, Path], run: Path, tmp_path: Path
) -> None:
    detect(tiny[0], tmp_path)
    for name in ("flagged_accounts.csv", "flagged_accounts.parquet", "campaigns.parquet"):
        first = run / "exports" / name
        again = tmp_path / "exports" / name
        if name.endswith(".csv"):
            assert first.read_bytes() == again.read_bytes()
        else:
            assert pl.read_parquet(first).equals(pl.read_parquet(again))


def test_rejected_lines_are_counted_not_fatal(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    lines = gzip.decompress(tiny[0].read_bytes()).splitlines()[:3000]
    bad = [b"{not json", b'{"event_id": "x"}', b"[1, 2]"]
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join(lines[:1000] + bad + lines[1000:]) + b"\n")
    summary = detect(source, tmp_path / "out")
    assert summary.lines == 3003
    assert summary.rejected == 3
    assert summary.events == 3000
    assert sum(summary.rejected_reasons.values()) == 3


def test_parquet_input_gives_the_same_flags(
    tiny: tuple[Path, Path], run: Path, tmp_path: Path
) -> None:
    from models.detect import read_events

    events, _ = read_events(tiny[0])
    folder = tmp_path / "lake"
    folder.mkdir()
    half = events.height // 2
    events.slice(0, half).write_parquet(folder / "a.parquet")
    events.slice(half).write_parquet(folder / "b.parquet")
    detect(folder, tmp_path / "out")
    again = pl.read_parquet(tmp_path / "out" / "exports" / "flagged_accounts.parquet")
    assert again.equals(pl.read_parquet(run / "exports" / "flagged_accounts.parquet"))


def test_missing_input_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        detect(tmp_path / "nothing.jsonl", tmp_path / "out")


def test_evaluation_of_a_run(tiny: tuple[Path, Path], run: Path) -> None:
    result = evaluate(tiny[1], run / "exports" / "flagged_accounts.parquet")
    accounts = result["accounts"]
    assert accounts["true_positives"] + accounts["false_negatives"] == accounts["campaign_accounts"]
    assert accounts["precision"] >= 0.95
    assert {row["campaign_type"] for row in result["campaign_types"]} >= {"hydra", "mimicry"}
    assert "Benign populations" in render_table(result)
    assert json.loads(render_json(result))["accounts"]["flagged"] == accounts["flagged"]
    csv_result = evaluate(tiny[1], run / "exports" / "flagged_accounts.csv")
    assert csv_result["accounts"] == accounts


def test_parallel_decoding_reads_the_same_events_in_the_same_order(
    tiny: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distillwatch.settings import get_settings

    detect_module = importlib.import_module("models.detect")  # the module, not the function
    lines = gzip.decompress(tiny[0].read_bytes()).splitlines()[:5000]
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join([*lines[:2500], b"{not json", *lines[2500:]]) + b"\n")
    monkeypatch.setattr(detect_module, "CHUNK_BYTES", 700_000)  # several pieces, cut here
    serial, serial_summary = detect_module.read_events(source, get_settings(decode_workers=1))
    parallel, parallel_summary = detect_module.read_events(source, get_settings(decode_workers=2))
    assert serial.height == 5000
    assert parallel.equals(serial)
    assert parallel_summary.rejected == serial_summary.rejected == 1
    # provenance offsets are input line numbers, whichever process decoded the line
    assert parallel["source_offset"].sort().to_list() == [*range(2500), *range(2501, 5001)]


def test_reorder_releases_exactly_the_stable_sort() -> None:
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from models.detect import _Reorder

    rng = np.random.default_rng(5)
    base = datetime(2026, 11, 2, tzinfo=UTC)
    # near-ordered times, jittered by up to 10 minutes, on a coarse grid so ties occur
    minutes = np.arange(3000) // 3 + rng.integers(0, 10, 3000)
    frame = pl.DataFrame(
        {"ts": [base + timedelta(minutes=int(m)) for m in minutes], "row": range(3000)}
    ).with_columns(pl.col("ts").dt.cast_time_unit("us"))
    reorder = _Reorder(timedelta(minutes=15))
    released = [reorder.push(frame.slice(offset, 250)) for offset in range(0, 3000, 250)]
    assert sum(part.height for part in released[:-1]) > 0  # released on the way, not at the end
    out = pl.concat([*released, reorder.drain()])
    assert out.equals(frame.sort("ts", maintain_order=True))


def test_reorder_refuses_an_event_older_than_one_released() -> None:
    from datetime import UTC, datetime, timedelta

    from models.detect import _OutOfOrderError, _Reorder

    base = datetime(2026, 11, 2, tzinfo=UTC)
    reorder = _Reorder(timedelta(minutes=5))
    first = pl.DataFrame({"ts": [base, base + timedelta(hours=1)]})
    assert reorder.push(first).height == 1
    with pytest.raises(_OutOfOrderError):
        reorder.push(pl.DataFrame({"ts": [base - timedelta(seconds=1)]}))


def test_input_far_out_of_order_is_sorted_whole_with_the_same_result(
    tiny: tuple[Path, Path], run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    detect_module = importlib.import_module("models.detect")
    monkeypatch.setattr(detect_module, "CHUNK_BYTES", 2_000_000)  # so events are released early
    lines = gzip.decompress(tiny[0].read_bytes()).splitlines()
    # the first event moved to the very end: days after every later event
    source = tmp_path / "late.jsonl"
    source.write_bytes(b"\n".join([*lines[1:], lines[0]]) + b"\n")
    summary = detect(source, tmp_path / "out")
    assert not summary.streamed
    assert json.loads((run / "summary.json").read_text())["streamed"]
    again = pl.read_parquet(tmp_path / "out" / "exports" / "flagged_accounts.parquet")
    assert again.equals(pl.read_parquet(run / "exports" / "flagged_accounts.parquet"))
    campaigns = pl.read_parquet(tmp_path / "out" / "exports" / "campaigns.parquet")
    assert campaigns.equals(pl.read_parquet(run / "exports" / "campaigns.parquet"))
