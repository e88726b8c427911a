"""Cross-account edges: shared evidence, bounded size, frequency weights, synchronisation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from features import links
from features.catalog import LINK_COLUMNS
from features.links import EDGE_SCHEMA, KINDS, account_links
from tests.lakes import lake_table

T0 = datetime(2026, 11, 21, tzinfo=UTC)
DAY_END = T0 + timedelta(days=1)


def edges(rows: list[dict[str, Any]], kind: str | None = None) -> pl.DataFrame:
    """Edges of the day T0 over ``rows`` (of one kind when given)."""
    events = pl.from_arrow(lake_table(rows))
    assert isinstance(events, pl.DataFrame)
    out = account_links(events.lazy(), T0, DAY_END)
    return out if kind is None else out.filter(pl.col("kind") == kind)


def row(account: str, minutes: float = 0, **fields: Any) -> dict[str, Any]:
    return {"account_id": account, "ts": T0 + timedelta(minutes=minutes), **fields}


def pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select("account_a", "account_b").iter_rows())


def test_schema_and_catalog_agree() -> None:
    out = edges([row("a"), row("b")])
    assert dict(out.schema) == EDGE_SCHEMA
    assert list(EDGE_SCHEMA) == [column.name for column in LINK_COLUMNS]
    assert out.is_empty()


def test_shared_payment_gives_an_edge() -> None:
    out = edges(
        [
            row("b", 5, payment_fingerprint="card-1"),
            row("a", 60, payment_fingerprint="card-1"),
            row("a", 90, payment_fingerprint="card-1"),
            row("c", 0, payment_fingerprint="card-2"),
        ],
        "payment",
    )
    assert out.height == 1
    edge = out.row(0, named=True)
    assert (edge["account_a"], edge["account_b"]) == ("a", "b")
    assert edge["weight"] == 1.0
    assert edge["first_seen"] == T0 + timedelta(minutes=60)
    assert edge["last_seen"] == T0 + timedelta(minutes=90)
    assert edge["n_shared"] == 1


def test_every_value_kind_links_what_it_should() -> None:
    rows = [
        row("a", 0, template_sig=11, client_ip="10.0.0.1", asn=7, user_agent="sdk/1"),
        row("b", 1, template_sig=11, client_ip="10.0.0.2", asn=7, user_agent="sdk/1"),
        row("c", 2, template_sig=12, client_ip="10.0.0.2", asn=7, user_agent="curl/8"),
    ]
    out = edges(rows)
    by_kind = {kind: pairs(out.filter(pl.col("kind") == kind)) for kind in KINDS}
    assert by_kind["template"] == {("a", "b")}
    assert by_kind["ip"] == {("b", "c")}
    assert by_kind["prefix"] == {("a", "b"), ("a", "c"), ("b", "c")}
    assert by_kind["asn_ua"] == {("a", "b")}
    assert by_kind["payment"] == set()


def test_near_duplicate_prompts_link_through_lsh() -> None:
    base = (
        "Please write a detailed explanation of how photosynthesis converts sunlight "
        "into chemical energy, covering chlorophyll, the light reactions and the Calvin cycle"
    )
    out = edges(
        [
            row("a", prompt=base),
            row("b", prompt=base.replace("detailed", "thorough")),
            row(
                "c", prompt="What are good restaurants for dinner near the central station tonight?"
            ),
        ],
        "lsh",
    )
    assert pairs(out) == {("a", "b")}


def test_corporate_nat_is_capped_and_down_weighted() -> None:
    nat = [row(f"emp{i:03d}", i % 60, client_ip="203.0.113.9") for i in range(200)]
    home = [row("x", 0, client_ip="198.51.100.7"), row("y", 1, client_ip="198.51.100.7")]
    out = edges(nat + home, "ip")
    nat_edges = out.filter(pl.col("account_a").str.starts_with("emp"))
    assert nat_edges.height <= 200 * links.RING_NEIGHBOURS
    assert nat_edges.height < 19_900 // 10
    assert nat_edges["weight"].max() == pytest.approx(1 / math.log2(200))
    assert out.filter(pl.col("account_a") == "x")["weight"].to_list() == [1.0]
    # the capped edges still connect all 200 accounts into one component
    parent = {f"emp{i:03d}": f"emp{i:03d}" for i in range(200)}

    def find(node: str) -> str:
        while parent[node] != node:
            node = parent[node]
        return node

    for a, b in pairs(nat_edges):
        parent[find(a)] = find(b)
    assert len({find(node) for node in parent}) == 1


def test_small_groups_link_every_pair() -> None:
    group = [row(f"m{i}", i, payment_fingerprint="shared") for i in range(links.MAX_CLIQUE)]
    out = edges(group, "payment")
    assert out.height == links.MAX_CLIQUE * (links.MAX_CLIQUE - 1) // 2


def test_too_common_values_give_no_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "MAX_VALUE_ACCOUNTS", 3)
    rows = [row(f"u{i}", i, user_agent="popular-sdk/1.0", asn=16509) for i in range(4)]
    assert edges(rows, "asn_ua").is_empty()


def test_weights_combine_shared_values_as_noisy_or() -> None:
    rows = [
        row(account, minutes, payment_fingerprint=card)
        for minutes, (account, card) in enumerate(
            [("a", "p1"), ("b", "p1"), ("c", "p1"), ("a", "p2"), ("b", "p2"), ("d", "p2")]
        )
    ]
    out = edges(rows, "payment")
    weight = {(a, b): w for a, b, w in out.select("account_a", "account_b", "weight").iter_rows()}
    single = 1 / math.log2(3)
    assert weight[("a", "b")] == pytest.approx(1 - (1 - single) ** 2)
    assert weight[("a", "c")] == pytest.approx(single)
    assert out.filter(pl.col("account_a") == "a", pl.col("account_b") == "b")["n_shared"][0] == 2


def bins(account: str, indices: list[int]) -> list[dict[str, Any]]:
    """One request of ``account`` in each 5-minute bin of ``indices``."""
    return [row(account, 5 * i + 1) for i in indices]


def test_sync_finds_accounts_active_in_the_same_bins() -> None:
    shared = [3, 40, 41, 100, 170, 250]
    rows = (
        bins("sync1", shared)
        + bins("sync2", [*shared[:-1], 260])
        + bins("loner", [7, 50, 90, 120, 200, 280])
        + bins("always1", list(range(288)))
        + bins("always2", list(range(288)))
    )
    out = edges(rows, "sync")
    assert pairs(out) == {("sync1", "sync2")}
    edge = out.row(0, named=True)
    assert edge["n_shared"] == 5
    expected = 6 * 6 / 288
    assert edge["weight"] == pytest.approx((5 - expected) / (6 - expected))
    assert edge["first_seen"] == T0 + timedelta(minutes=15)
    assert edge["last_seen"] == T0 + timedelta(minutes=5 * 170)


def test_sync_needs_enough_shared_bins() -> None:
    rows = bins("a", [1, 2, 100]) + bins("b", [1, 2, 200])
    assert edges(rows, "sync").is_empty()


def test_accounts_are_ordered_and_pairs_unique() -> None:
    rows = [row(name, i, template_sig=5, client_ip="10.9.9.9") for i, name in enumerate("zyx")]
    out = edges(rows)
    assert (out["account_a"] < out["account_b"]).all()
    assert not out.select("account_a", "account_b", "kind").is_duplicated().any()


def test_one_pass_and_kind_by_kind_pairing_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # the same value under two kinds must not link across kinds; a ring value too
    nat = [row(f"emp{i:02d}", i, client_ip="203.0.113.9", template_sig=77) for i in range(30)]
    rows = [
        *nat,
        row("a", 0, template_sig=11, payment_fingerprint="card", client_ip="10.0.0.1"),
        row("b", 1, template_sig=11, payment_fingerprint="card", client_ip="10.0.0.2"),
        row("c", 2, asn=7, user_agent="sdk/1", client_ip="10.0.0.2"),
        row("d", 3, asn=7, user_agent="sdk/1"),
        *bins("s1", [3, 40, 41, 100, 170]),
        *bins("s2", [3, 40, 41, 100, 170]),
    ]
    one_pass = edges(rows)
    monkeypatch.setattr(links, "ONE_PASS_ROWS", 0)
    kind_by_kind = edges(rows)
    assert one_pass.equals(kind_by_kind)
    assert set(one_pass["kind"]) == {"template", "payment", "ip", "prefix", "asn_ua", "sync"}
    # a-b, and each of the 30 accounts on template 77 with the next RING_NEIGHBOURS in its ring
    ring = 30 * links.RING_NEIGHBOURS - sum(range(1, links.RING_NEIGHBOURS + 1))
    assert one_pass.filter(pl.col("kind") == "template").height == 1 + ring
    # sorted by kind name, then pair
    keys = one_pass.select("kind", "account_a", "account_b").rows()
    assert keys == sorted(keys)
