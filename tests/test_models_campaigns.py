"""Campaign detection on small synthetic traffic with known answers.

Two campaigns (low-and-slow accounts sharing templates, proxy blocks and cards,
one eliciting chain-of-thought, one using the model as a grader) and a
company of thirty employees behind one NAT on one card (coordinated-looking,
benign), among ordinary individuals. Expected: two campaigns, with different
ids, every campaign account flagged with its campaign's id, no benign account
flagged.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from models.campaigns import CORE_MEMBERSHIP, TieStore, components, find_campaigns
from models.online import OnlineScorer
from tests.lakes import lake_table

START = datetime(2026, 11, 2, tzinfo=UTC)
HOURS = 30

PROBLEMS = [
    "A train leaves at {a} km/h and another at {b} km/h; when do they meet?",
    "What is {a} times {b} minus {a}?",
    "A shop sells {a} apples for {b} dollars; what does one cost?",
]
COT = "Solve the following problem. Think step by step and write out your full reasoning.\n\n{p}"
RUBRIC = (
    "You are grading a student's answer. Score the answer on a scale of 1 to 10 against "
    "the rubric and explain each score.\n\nQuestion: {p}\nStudent answer: {a}"
)
WORK = [
    "Summarise the meeting notes from {a} for the team.",
    "Draft a reply to the customer about invoice {a}.",
    "Translate the product description {a} into German.",
    "Write a polite reminder about the deadline on day {a}.",
]
CASUAL = [
    "hello, what is a good recipe with {a} eggs",
    "how do I fix my bike chain, it slipped {a} times",
    "write a short poem about the number {a}",
    "what should I pack for a {a} day trip",
    "Explain step by step how {a} plus {b} works",
]


def _problem(rng: random.Random) -> str:
    return rng.choice(PROBLEMS).format(a=rng.randint(2, 99), b=rng.randint(2, 99))


def _campaign(
    rng: random.Random, name: str, n: int, template: str, *, block: str, start_h: float
) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        account = f"{name}_{i:02d}"
        created = START + timedelta(hours=start_h - 30 + rng.uniform(0, 3))
        card = f"pf_{name}_{i // 4}"
        t = start_h + rng.uniform(0, 1.5)
        while t < HOURS:
            prompt = template.format(p=_problem(rng), a=rng.randint(1, 9))
            rows.append(
                {
                    "ts": START + timedelta(hours=t),
                    "account_id": account,
                    "prompt": prompt,
                    "max_tokens": 16000,
                    "client_ip": f"{block}.{rng.randint(1, 6)}",
                    "asn": 64500,
                    "asn_kind": "proxy",
                    "user_agent": "OpenAI/Python 1.54.3",
                    "payment_fingerprint": card,
                    "account_created_at": created,
                }
            )
            t += rng.expovariate(1.0)
    return rows


def _company(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        account = f"corp_{i:02d}"
        for day in range(2):
            for _ in range(rng.randint(4, 9)):
                hour = day * 24 + rng.uniform(8, 17)
                if hour >= HOURS:
                    continue
                rows.append(
                    {
                        "ts": START + timedelta(hours=hour),
                        "account_id": account,
                        "prompt": rng.choice(WORK).format(a=rng.randint(1, 999)),
                        "system_prompt": "You are Acme's internal assistant.",
                        "max_tokens": 2048,
                        "client_ip": f"203.0.113.{rng.randint(1, 2)}",
                        "asn": 64777,
                        "asn_kind": "business",
                        "user_agent": "acme-assist/2.1 python-httpx/0.27.2",
                        "payment_fingerprint": "pf_acme",
                        "account_created_at": START - timedelta(days=400),
                    }
                )
    return rows


def _individuals(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        account = f"person_{i:03d}"
        ip = f"100.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(rng.randint(2, 10)):
            rows.append(
                {
                    "ts": START + timedelta(hours=rng.uniform(0, HOURS)),
                    "account_id": account,
                    "prompt": rng.choice(CASUAL).format(a=rng.randint(1, 99), b=rng.randint(1, 9)),
                    "client_ip": ip,
                    "asn": 7922,
                    "asn_kind": "residential",
                    "user_agent": "Mozilla/5.0",
                    "payment_fingerprint": f"pf_person_{i}",
                    "account_created_at": START - timedelta(days=rng.uniform(30, 900)),
                }
            )
    return rows


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    rng = random.Random(7)
    rows = (
        _campaign(rng, "cot", 24, COT, block="198.51.100", start_h=4.0)
        + _campaign(rng, "grader", 16, RUBRIC, block="192.0.2", start_h=10.0)
        + _company(rng, 30)
        + _individuals(rng, 120)
    )
    frame = pl.from_arrow(lake_table(rows))
    assert isinstance(frame, pl.DataFrame)
    return frame.sort("ts")


@pytest.fixture(scope="module")
def result(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    scorer = OnlineScorer()
    scorer.process(events)
    scorer.flush()
    return scorer.flagged(), scorer.campaigns()


def test_two_campaigns_found_with_distinct_ids(result: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    flagged, campaigns = result
    assert campaigns.height == 2
    by_prefix = (
        flagged.with_columns(pl.col("account_id").str.extract(r"^([a-z]+)_").alias("who"))
        .group_by("who")
        .agg(pl.len(), pl.col("campaign_id").drop_nulls().unique())
    )
    ids = {who: set(found) for who, _, found in by_prefix.iter_rows()}
    assert len(ids["cot"]) == 1 and len(ids["grader"]) == 1
    assert ids["cot"] != ids["grader"]
    assert ids["cot"] | ids["grader"] == set(campaigns["campaign_id"])


def test_every_campaign_account_flagged_and_nat_not(
    result: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    flagged, _ = result
    who = flagged["account_id"].str.extract(r"^([a-z]+)_").value_counts()
    counts = dict(who.iter_rows())
    assert counts.get("cot") == 24
    assert counts.get("grader") == 16
    assert counts.get("corp", 0) == 0
    assert counts.get("person", 0) == 0


def test_flags_carry_reasons_and_campaign_indicators(
    result: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    flagged, campaigns = result
    assert flagged["reasons"].str.len_chars().min() > 0
    assert flagged["tier"].is_in(["high", "medium", "low"]).all()
    assert ((flagged["score"] >= 0.6) & (flagged["score"] <= 1.0)).all()
    cot = flagged.filter(pl.col("account_id").str.starts_with("cot_"))
    assert cot["reasons"].str.contains("cot_elicitation").any()
    assert (campaigns["n_accounts"] >= 16).all()
    assert campaigns["indicators"].str.contains("payment_fingerprints").all()


def test_first_flag_comes_after_the_campaign_starts(
    result: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    flagged, _ = result
    grader = flagged.filter(pl.col("account_id").str.starts_with("grader_"))
    assert grader["first_flagged_at"].min() >= START + timedelta(hours=10)
    assert (flagged["first_flagged_at"] >= flagged["first_seen"]).all()


def test_campaign_ids_are_stable_across_runs(
    events: pl.DataFrame, result: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    again = OnlineScorer()
    for chunk in events.iter_slices(1000):  # another batching: same answer
        again.process(chunk)
    again.flush()
    assert again.campaigns()["campaign_id"].to_list() == result[1]["campaign_id"].to_list()
    assert again.flagged().equals(result[0])


def test_components_follow_long_chains() -> None:
    n = 1000
    a = np.arange(n - 1)
    labels = components(n + 3, a, a + 1)
    assert (labels[:n] == 0).all()
    assert list(labels[n:]) == [n, n + 1, n + 2]


def test_tie_store_merges_and_remaps() -> None:
    store = TieStore()
    rows = {"a": 0, "b": 1, "c": 2}.__getitem__
    when = datetime(2026, 11, 2, tzinfo=UTC)
    edges = pl.DataFrame(
        {
            "account_a": ["a", "a", "b"],
            "account_b": ["b", "b", "c"],
            "kind": ["payment", "ip", "template"],
            "weight": [1.0, 0.9, 1.0],
            "first_seen": [when] * 3,
            "last_seen": [when] * 3,
            "n_shared": [1, 1, 1],
        }
    )
    store.add(edges, lambda ids: np.asarray([rows(i) for i in ids]))
    a, b, families = store.ties()
    assert (list(a), list(b)) == ([0], [1])  # b-c shares content only: no tie
    assert families[0] == 0b101  # payment and network
    store.remap(np.asarray([-1, 0, 1]))
    assert len(store) == 0


def test_verdicts_teach_the_classifier(events: pl.DataFrame) -> None:
    scorer = OnlineScorer()
    scorer.process(events)
    scorer.flush()
    assert not scorer.learn_verdict("nobody", True)
    for i in range(24):
        assert scorer.learn_verdict(f"cot_{i:02d}", True)
    for i in range(30):
        assert scorer.learn_verdict(f"corp_{i:02d}", False)
    again = scorer.snapshot()
    restored = OnlineScorer.restore(again)
    assert restored.flagged().equals(scorer.flagged())


def _store(pairs: list[tuple[int, int, str]]) -> TieStore:
    """Ties between numbered accounts, one edge of weight 1 per (a, b, kind)."""
    when = datetime(2026, 11, 2, tzinfo=UTC)
    edges = pl.DataFrame(
        {
            "account_a": [f"{a:02d}" for a, _, _ in pairs],
            "account_b": [f"{b:02d}" for _, b, _ in pairs],
            "kind": [kind for _, _, kind in pairs],
            "weight": [1.0] * len(pairs),
            "first_seen": [when] * len(pairs),
            "last_seen": [when] * len(pairs),
            "n_shared": [1] * len(pairs),
        }
    )
    store = TieStore()
    store.add(edges, lambda ids: np.asarray([int(i) for i in ids]))
    return store


def test_a_shared_card_needs_no_matching_output_lengths() -> None:
    """Accounts 0-4 harvest long reasoning on shared cards; 5 and 6 ask short.

    Account 5 pays with the campaign's card (same operator, other client
    settings): a member. Account 6, a tutoring app, shares templates and an
    address only: unlike its neighbours, not a member.
    """
    core = [(a, b, "payment") for a in range(5) for b in range(a + 1, 5)]
    store = _store([*core, (0, 5, "payment"), (1, 5, "payment"), (2, 6, "template"), (2, 6, "ip")])
    extraction = np.full(7, 0.6)
    long_output = np.array([0.6] * 5 + [0.0, 0.0])
    found = find_campaigns(
        store, [extraction, long_output, np.zeros(7)], np.full(7, 20), np.ones(7, dtype=bool)
    )
    assert (found.member[:6] >= CORE_MEMBERSHIP).all()
    assert found.member[6] == 0.0


def test_vpn_customers_tied_to_a_campaign_by_addresses_are_not_its_core() -> None:
    """Accounts 0-5 harvest long reasoning on shared cards; 6-9 share one VPN exit.

    The VPN's customers ask popular step-by-step questions from shared
    addresses: each is tied to the other three by template and address, and to
    one campaign account by an address alone. Like their own neighbours (each
    other), they are not like the campaign they would join (no long outputs),
    so none is a core member of it (seed 10 of ``small`` had seven such).
    """
    campaign = [(a, b, "payment") for a in range(6) for b in range(a + 1, 6)]
    vpn = [
        (a, b, kind) for a in range(6, 10) for b in range(a + 1, 10) for kind in ("template", "ip")
    ]
    bridges = [(c, c + 6, "ip") for c in range(4)]
    store = _store([*campaign, *vpn, *bridges])
    extraction = np.array([0.6] * 6 + [0.2] * 4)
    long_output = np.array([0.6] * 6 + [0.0] * 4)
    found = find_campaigns(
        store, [extraction, long_output, np.zeros(10)], np.full(10, 20), np.ones(10, dtype=bool)
    )
    assert list(found.core_rows) == [0, 1, 2, 3, 4, 5]
    assert (found.member[6:] < CORE_MEMBERSHIP).all()


def test_windows_are_the_same_whichever_batches_close_them(
    events: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch closing many windows gives each the inputs a window-by-window run does.

    A new model is released late in the stream and its very first request
    arrives after the lateness (a straggler, taken by a later window): the
    windows before it must see the model's first appearance as it was then.
    """
    release = START + timedelta(hours=25)
    frame = events.with_columns(
        model=pl.when(pl.col("account_id").str.starts_with("cot_") & (pl.col("ts") >= release))
        .then(pl.lit("frontier-2"))
        .otherwise(pl.col("model"))
    )
    first = int(frame["model"].eq("frontier-2").arg_true()[0])
    straggler = frame.slice(first, 1)
    after = int(frame["ts"].search_sorted(straggler["ts"][0] + timedelta(hours=1)))
    stream = pl.concat(
        [
            frame.slice(0, first),
            frame.slice(first + 1, after - first - 1),
            straggler,
            frame.slice(after),
        ]
    )
    scored: dict[int, list[list[pl.DataFrame]]] = {}

    def record(scorer: OnlineScorer, inputs: Any) -> list[Any]:
        # every input of the window; those built by a group-by in a set order
        frames = [inputs.accounts, inputs.link_sample]
        frames += [f.sort(f.columns) for f in (inputs.identity, inputs.sync_bins, inputs.payments)]
        scored.setdefault(id(scorer), []).append(frames)
        return original(scorer, inputs)

    original = OnlineScorer._score_window
    monkeypatch.setattr(OnlineScorer, "_score_window", record)
    runs = []
    for size in (stream.height, 1000, 37):
        scorer = OnlineScorer()
        for chunk in stream.iter_slices(size):
            scorer.process(chunk)
        scorer.flush()
        runs.append(scored[id(scorer)])
    whole, *others = runs
    adopting = [w for w, *_ in whole if w["model_adoption_hours"].is_not_null().any()]
    assert adopting, "the new model's adoption shows in some window"
    for other in others:
        assert len(other) == len(whole)
        for mine, theirs in zip(whole, other, strict=True):
            assert all(a.equals(b) for a, b in zip(mine, theirs, strict=True))
