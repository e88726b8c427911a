"""Tests of the traffic simulator: determinism, contract validity, labels, each population's tell.

One ``tiny`` run (seed 7) is written once per module and shared; a second, "focused"
three-day run with only individuals, a hydra and a mimicry campaign gives the timing
tests enough events. The statistical tests check the defining property of each benign
population and campaign, and where useful that a contrasting population lacks it. The
whole module runs in about 15 seconds.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice, pairwise
from pathlib import Path
from string import Formatter

import pytest
from jsonschema import Draft202012Validator

from distillwatch.simulator import (
    BENIGN_POPULATIONS,
    CAMPAIGN_TYPES,
    PRESETS,
    Scenario,
    SimulationSummary,
    account_labels,
    iter_events,
    scenario_for,
    simulate_to_file,
    write_labels,
)
from distillwatch.simulator.config import HydraParams, MimicryParams, ModelPivotParams
from distillwatch.simulator.network import REGIONS
from distillwatch.simulator.text import CAMPAIGN_FAMILIES, estimate_tokens, simhash64

SEED = 7
REPO_ROOT = Path(__file__).resolve().parent.parent
TS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LABEL_HEADER = ["account_id", "population", "campaign_id", "campaign_type", "campaign_start"]
NEW_MODEL = "frontier-large-2026-11"
CHI2_23_0999 = 49.73
"""99.9% quantile of the chi-square distribution with 23 degrees of freedom (24 hourly bins)."""

Event = dict[str, object]


def contract_dir() -> Path:
    """Return the contract folder: ``$DISTILLWATCH_CONTRACT_DIR`` or ``<repo>/../shared/contract``.

    The folder holds the ``api_access_log`` JSON Schema and its examples.
    """
    env = os.environ.get("DISTILLWATCH_CONTRACT_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "contract"


@dataclass
class Run:
    """A simulated run loaded back from its files."""

    events_path: Path
    labels_path: Path
    summary: SimulationSummary
    events: list[Event]
    labels: dict[str, dict[str, str]]

    def group(self, name: str) -> list[Event]:
        """Return the events of a benign population or a campaign type."""
        return [e for e in self.events if group_of(self.labels[str(e["account_id"])]) == name]

    def accounts(self, name: str) -> dict[str, list[Event]]:
        """Return the events of a population or campaign type, by account."""
        by_account: dict[str, list[Event]] = defaultdict(list)
        for e in self.group(name):
            by_account[str(e["account_id"])].append(e)
        return by_account


def group_of(label: dict[str, str]) -> str:
    return label["campaign_type"] or label["population"]


def num(event: Event, field: str, default: int = 0) -> int:
    """Return an integer field of an event, ``default`` when it is absent or null."""
    value = event.get(field)
    if value is None:
        return default
    assert isinstance(value, int), (field, value)
    return value


def when(event: Event) -> datetime:
    return datetime.fromisoformat(str(event["ts"]))


def hour_of_day(event: Event) -> float:
    t = when(event)
    return t.hour + t.minute / 60


def local_hour(event: Event) -> float | None:
    """Return the event's local hour from its country (US: mean of its time zones)."""
    offsets: dict[str, list[float]] = defaultdict(list)
    for region in REGIONS:
        offsets[region.country].append(region.utc_offset_h)
    country = event.get("country")
    if country not in offsets:
        return None
    return (hour_of_day(event) + statistics.mean(offsets[str(country)])) % 24


def chi2_uniform(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def read_events(path: Path) -> list[Event]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def read_labels(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def prefixes24(events: Iterable[Event]) -> set[str]:
    return {
        str(e["client_ip"]).rsplit(".", 1)[0]
        for e in events
        if e.get("client_ip") and ":" not in str(e["client_ip"])
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("sim")
    events_path, labels_path = folder / "events.jsonl.gz", folder / "labels.csv"
    summary = simulate_to_file("tiny", SEED, events_path, labels_path)
    _, rows = read_labels(labels_path)
    return Run(
        events_path,
        labels_path,
        summary,
        read_events(events_path),
        {row["account_id"]: row for row in rows},
    )


@dataclass
class Focused:
    """Events of a three-day run with large hydra and mimicry campaigns and individuals only."""

    scenario: Scenario
    by_group: dict[str, dict[str, list[Event]]]


@pytest.fixture(scope="module")
def focused() -> Focused:
    """Return a run big enough for timing statistics (~20k events, a few seconds)."""
    tiny = scenario_for("tiny")
    empty = {
        name: replace(getattr(tiny, name), n_accounts=0)
        for name in BENIGN_POPULATIONS
        if name != "individual"
    }
    scenario = replace(
        tiny,
        days=3.0,
        individual=replace(tiny.individual, n_accounts=300),
        **empty,
        campaigns=(
            HydraParams(campaign_id="h", n_accounts=120, start=0.05),
            MimicryParams(campaign_id="m", n_accounts=150, start=0.05),
        ),
    )
    groups = {
        label.account_id: label.campaign_type or label.population
        for label in account_labels(scenario, SEED)
    }
    by_group: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in iter_events(scenario, SEED):
        account = str(event["account_id"])
        by_group[groups[account]][account].append(event)
    return Focused(scenario, by_group)


def flatten(by_account: dict[str, list[Event]]) -> list[Event]:
    return [e for events in by_account.values() for e in events]


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes(run: Run, tmp_path: Path) -> None:
    events, labels = tmp_path / "e.jsonl.gz", tmp_path / "l.csv"
    simulate_to_file("tiny", SEED, events, labels)
    assert events.read_bytes() == run.events_path.read_bytes()
    assert labels.read_bytes() == run.labels_path.read_bytes()


def test_other_seed_gives_other_bytes(run: Run, tmp_path: Path) -> None:
    events, labels = tmp_path / "e.jsonl.gz", tmp_path / "l.csv"
    simulate_to_file("tiny", SEED + 1, events, labels)
    assert events.read_bytes() != run.events_path.read_bytes()
    assert labels.read_bytes() != run.labels_path.read_bytes()


def test_gzip_header_has_no_name_and_no_mtime(run: Run) -> None:
    header = run.events_path.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[3] & 0x08 == 0  # FNAME flag
    assert header[4:8] == b"\x00\x00\x00\x00"  # MTIME


def test_iter_events_is_the_file_content(run: Run) -> None:
    streamed = list(islice(iter_events(scenario_for("tiny"), SEED), 500))
    assert streamed == run.events[:500]


def test_progress_reports_every_ten_thousand_events(tmp_path: Path) -> None:
    seen: list[int] = []
    summary = simulate_to_file(
        "tiny", SEED, tmp_path / "e.jsonl.gz", tmp_path / "l.csv", progress=seen.append
    )
    assert seen[-1] == summary.n_events
    assert seen[:-1] == list(range(10_000, summary.n_events + 1, 10_000))


def test_write_labels_alone_matches_simulation_labels(run: Run, tmp_path: Path) -> None:
    n = write_labels(scenario_for("tiny"), SEED, tmp_path / "labels.csv")
    assert n == len(run.labels)
    assert (tmp_path / "labels.csv").read_bytes() == run.labels_path.read_bytes()


# --------------------------------------------------------------------------------- contract


def test_contract_examples_validate() -> None:
    schema = json.loads((contract_dir() / "api_access_log.schema.json").read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for line in (contract_dir() / "examples.jsonl").read_text().splitlines():
        validator.validate(json.loads(line))


def test_events_follow_the_contract(run: Run) -> None:
    schema = json.loads((contract_dir() / "api_access_log.schema.json").read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    sample = run.events[:1000] + run.events[1000::7]
    for event in sample:
        errors = list(validator.iter_errors(event))
        assert not errors, (event, errors[0].message)
    for event in run.events:
        assert TS_PATTERN.match(str(event["ts"])), event["ts"]
        created = event.get("account_created_at")
        assert created is None or datetime.fromisoformat(str(created)) < when(event)
        assert len(str(event.get("prompt") or "")) <= 8192
        assert ("prompt" in event) + ("prompt_simhash" in event) <= 1


def test_gateway_quirks_appear_in_plausible_shares(run: Run) -> None:
    n = len(run.events)
    simhash = sum("prompt_simhash" in e for e in run.events) / n
    bare = sum(len(e) == 8 for e in run.events) / n
    nulls = sum(any(v is None for v in e.values()) for e in run.events) / n
    extra = sum("gateway_region" in e for e in run.events) / n
    assert 0.02 < simhash < 0.04
    assert 0.005 < bare < 0.02
    assert 0.05 < nulls < 0.2
    assert 0.01 < extra < 0.04


def test_event_ids_are_unique(run: Run) -> None:
    assert len({e["event_id"] for e in run.events}) == len(run.events)


def test_stream_is_roughly_time_ordered(run: Run) -> None:
    latest = datetime.min.replace(tzinfo=when(run.events[0]).tzinfo)
    lags = []
    for event in run.events:
        t = when(event)
        lags.append((latest - t).total_seconds() if t < latest else 0.0)
        latest = max(latest, t)
    late = [lag for lag in lags if lag > 0]
    assert 0 < len(late) < 0.2 * len(lags)
    assert sum(lag > 5 for lag in lags) < 0.005 * len(lags)
    assert max(late) < 120


# ------------------------------------------------------------------------------ billing


def test_tokens_follow_text_and_limits(run: Run) -> None:
    ok = [e for e in run.events if e["status"] == 200 and "prompt" in e]
    for e in ok:
        assert num(e, "prompt_tokens") >= 0.9 * estimate_tokens(str(e["prompt"]))
        if e.get("max_tokens") is not None:
            assert num(e, "completion_tokens") <= num(e, "max_tokens") * num(e, "n", 1)
    # without hidden context, billed input is the text's tokens give or take noise
    plain = [
        e
        for e in ok
        if e.get("system_prompt") is None
        and not e.get("tool_count")
        and group_of(run.labels[str(e["account_id"])]) == "batch_pipeline"
    ]
    ratios = [num(e, "prompt_tokens") / estimate_tokens(str(e["prompt"])) for e in plain]
    assert 0.95 < statistics.median(ratios) < 1.4


def test_refused_requests_bill_nothing(run: Run) -> None:
    refused = [e for e in run.events if e["status"] != 200]
    assert {e["status"] for e in refused} >= {429, 400}
    assert all(e["completion_tokens"] == 0 and e["prompt_tokens"] == 0 for e in refused)


def test_latency_grows_with_completion_tokens(run: Run) -> None:
    pairs = [
        (num(e, "completion_tokens"), num(e, "latency_ms"))
        for e in run.events
        if e["status"] == 200
        and e.get("latency_ms") is not None
        and e["model"] == "frontier-large-2026-09"
    ]
    assert statistics.correlation(*zip(*pairs, strict=True)) > 0.7


def test_embeddings_produce_no_completion(run: Run) -> None:
    embeds = [e for e in run.events if e["endpoint"] == "/v1/embeddings"]
    assert embeds
    assert all(e["model"] == "embed-2026-03" and e["completion_tokens"] == 0 for e in embeds)


# --------------------------------------------------------------------------------- labels


def test_labels_are_consistent_with_events(run: Run) -> None:
    header, rows = read_labels(run.labels_path)
    assert header == LABEL_HEADER
    ids = [row["account_id"] for row in rows]
    assert len(ids) == len(set(ids)) == run.summary.n_accounts
    assert ids == sorted(ids)
    assert {str(e["account_id"]) for e in run.events} == set(ids)
    for row in rows:
        if row["population"] == "campaign":
            assert row["campaign_type"] in CAMPAIGN_TYPES
            assert row["campaign_id"]
            start = datetime.fromisoformat(row["campaign_start"])
            assert TS_PATTERN.match(row["campaign_start"])
            assert start > datetime.fromisoformat("2026-11-02T00:00:00Z")
        else:
            assert row["population"] in BENIGN_POPULATIONS
            assert row["campaign_id"] == row["campaign_type"] == row["campaign_start"] == ""


def test_every_population_and_campaign_type_is_present(run: Run) -> None:
    groups = Counter(group_of(label) for label in run.labels.values())
    assert set(groups) == set(BENIGN_POPULATIONS) | set(CAMPAIGN_TYPES)


def test_summary_matches_files(run: Run) -> None:
    s = run.summary
    assert s.n_events == len(run.events) <= 25_000
    assert s.events_by_population == dict(
        sorted(Counter(run.labels[str(e["account_id"])]["population"] for e in run.events).items())
    )
    assert s.n_campaign_accounts == sum(r["population"] == "campaign" for r in run.labels.values())
    assert s.start == min(when(e) for e in run.events)
    assert s.end == max(when(e) for e in run.events)


def test_campaign_traffic_starts_at_its_labelled_start(run: Run) -> None:
    for account_id, label in run.labels.items():
        if label["population"] != "campaign" or label["campaign_type"] == "mixed_reseller":
            continue
        first = min(when(e) for e in run.events if e["account_id"] == account_id)
        assert first >= datetime.fromisoformat(label["campaign_start"])


# ---------------------------------------------------------------------- benign populations


def test_individuals_are_diurnal_and_mostly_residential(focused: Focused) -> None:
    events = flatten(focused.by_group["individual"])
    home = [e for e in events if e.get("asn_kind") in ("residential", "mobile")]
    assert len(home) > 0.8 * len([e for e in events if e.get("asn_kind")])
    hours = [h for h in map(local_hour, home) if h is not None]
    night = sum(2 <= h < 5 for h in hours) / len(hours)
    assert night < 0.05  # uniform would be 0.125
    # the rest come through commercial VPN exits, shared with strangers
    assert {e.get("asn_kind") for e in events} <= {
        "residential",
        "mobile",
        "proxy",
        "hosting",
        None,
    }
    owners: dict[object, set[object]] = defaultdict(set)
    for e in events:
        if e.get("payment_fingerprint"):
            owners[e["payment_fingerprint"]].add(e["account_id"])
    shared = [accounts for accounts in owners.values() if len(accounts) > 1]
    assert all(len(accounts) <= 4 for accounts in shared)  # families, not card farms
    assert 0 < sum(map(len, shared)) < 0.2 * len(focused.by_group["individual"])


def test_mobile_carriers_share_addresses_across_strangers(run: Run) -> None:
    users_per_ip = defaultdict(set)
    for e in run.group("individual"):
        if e.get("asn_kind") == "mobile":
            users_per_ip[e["client_ip"]].add(e["account_id"])
    assert max(len(users) for users in users_per_ip.values()) >= 2


def test_app_backends_serve_many_users_behind_one_system_prompt(run: Run) -> None:
    for events in run.accounts("app_backend").values():
        chats = [e for e in events if e["endpoint"] != "/v1/embeddings"]
        assert len({e.get("system_prompt") for e in chats} - {None}) == 1
        assert len({e.get("prompt") for e in chats}) > 0.5 * len(chats)
        assert {e.get("asn_kind") for e in events} <= {"hosting", None}


def test_batch_pipelines_are_templated_temperature_zero_and_steady(run: Run) -> None:
    for events in run.accounts("batch_pipeline").values():
        chats = [e for e in events if e["endpoint"] != "/v1/embeddings"]
        if not chats:
            continue
        assert all(e.get("temperature") in (0.0, None) for e in chats)
        prompts = [str(e["prompt"]) for e in chats if "prompt" in e]
        head = Counter(p[:60] for p in prompts).most_common(1)[0][1]
        assert head == len(prompts)  # one template
        assert all(num(e, "max_tokens") <= 256 for e in chats)
        assert statistics.median(num(e, "completion_tokens") for e in chats) <= 100
        per_hour = Counter(when(e).hour for e in events)
        assert len(per_hour) == 24
        assert chi2_uniform([per_hour[h] for h in range(24)]) < 60


def test_researchers_run_bursts_with_logprobs_at_temperature_zero(run: Run) -> None:
    events = run.group("researcher")
    assert all(e.get("temperature") in (0.0, None) for e in events)
    with_logprobs = [e for e in events if e.get("logprobs")]
    assert with_logprobs and all(e.get("top_logprobs") in (5, 10, 20, None) for e in with_logprobs)
    assert {e.get("asn_kind") for e in events} <= {"education", None}
    gaps = []
    for account_events in run.accounts("researcher").values():
        times = sorted(when(e) for e in account_events)
        gaps += [(b - a).total_seconds() for a, b in pairwise(times)]
    assert statistics.median(gaps) < 10


def test_corporate_accounts_share_nat_agent_prompt_and_card(run: Run) -> None:
    by_org: dict[object, list[Event]] = defaultdict(list)
    for e in run.group("corporate"):
        if e.get("org_id"):
            by_org[e["org_id"]].append(e)
    assert by_org
    for events in by_org.values():
        accounts = {e["account_id"] for e in events}
        assert len(accounts) >= 20
        assert len({e["client_ip"] for e in events if e.get("client_ip")}) <= 4
        for field in ("user_agent", "system_prompt", "payment_fingerprint"):
            assert len({e[field] for e in events if e.get(field)}) == 1
        hours = [h for h in map(local_hour, events) if h is not None]
        assert sum(7 <= h < 20 for h in hours) / len(hours) > 0.9


def test_coding_agents_declare_tools_and_carry_long_contexts(run: Run) -> None:
    events = [e for e in run.group("coding_agent") if e["status"] == 200]
    assert all(num(e, "tool_count", 6) >= 6 for e in events)
    assert statistics.median(num(e, "prompt_tokens") for e in events) > 5_000


def test_benign_users_ask_for_step_by_step_reasoning_too(run: Run) -> None:
    phrase = re.compile(r"step by step|step-by-step", re.IGNORECASE)
    benign = Counter(
        group_of(run.labels[str(e["account_id"])])
        for e in run.events
        if phrase.search(str(e.get("prompt") or ""))
    )
    assert sum(benign[p] for p in BENIGN_POPULATIONS) > 50
    assert benign["individual"] > 0
    assert sum(benign[p] > 0 for p in BENIGN_POPULATIONS) >= 3


def test_resellers_carry_diverse_traffic_from_hosting(run: Run) -> None:
    events = run.group("reseller")
    assert {e.get("asn_kind") for e in events} <= {"hosting", None}
    assert len({e.get("system_prompt") for e in events}) >= 4
    assert len({e["model"] for e in events}) >= 2


# --------------------------------------------------------------------------------- campaigns


def test_hydra_is_flat_around_the_clock(focused: Focused) -> None:
    steady = focused.scenario.start + timedelta(days=1)
    hydra = Counter(when(e).hour for e in flatten(focused.by_group["hydra"]) if when(e) >= steady)
    assert chi2_uniform([hydra[h] for h in range(24)]) < CHI2_23_0999
    local = [local_hour(e) for e in flatten(focused.by_group["individual"])]
    people = Counter(int(h) for h in local if h is not None)
    assert chi2_uniform([people[h] for h in range(24)]) > 10 * CHI2_23_0999


def test_hydra_accounts_share_templates_networks_cards_and_creation_bursts(run: Run) -> None:
    accounts = run.accounts("hydra")
    events = run.group("hydra")
    assert len(accounts) >= 40
    assert statistics.median(len(v) for v in accounts.values()) < 40  # low and slow
    assert len(prefixes24(events)) <= 4
    assert len({e["max_tokens"] for e in events if e.get("max_tokens")}) == 1
    assert len({e["temperature"] for e in events if e.get("temperature") is not None}) == 1
    agents = Counter(e["user_agent"] for e in events if e.get("user_agent"))
    assert agents.most_common(1)[0][1] > 0.7 * sum(agents.values())
    card_owners: dict[object, set[object]] = defaultdict(set)
    for e in events:
        if e.get("payment_fingerprint"):
            card_owners[e["payment_fingerprint"]].add(e["account_id"])
    assert all(2 <= len(owners) <= 10 for owners in card_owners.values())
    start = datetime.fromisoformat(run.labels[next(iter(accounts))]["campaign_start"])
    created = {
        datetime.fromisoformat(str(e["account_created_at"]))
        for e in events
        if e.get("account_created_at")
    }
    assert all(start - timedelta(days=7) < c < start for c in created)


def test_model_pivot_moves_within_hours_while_benign_adopt_slowly(run: Run) -> None:
    scenario = scenario_for("tiny")
    release = scenario.start + timedelta(days=scenario.days * scenario.models.release_at)
    pivot = next(c for c in scenario.campaigns if isinstance(c, ModelPivotParams))
    settled = release + timedelta(hours=pivot.pivot_delay_hours[1])
    late_pivot = [e for e in run.group("model_pivot") if when(e) >= settled]
    assert sum(e["model"] == NEW_MODEL for e in late_pivot) / len(late_pivot) > 0.75
    assert all(e["model"] != NEW_MODEL for e in run.group("model_pivot") if when(e) < release)
    benign = [
        e
        for e in run.events
        if when(e) >= settled and run.labels[str(e["account_id"])]["population"] != "campaign"
    ]
    assert 0 < sum(e["model"] == NEW_MODEL for e in benign) / len(benign) < 0.15


def test_ban_evasion_returns_with_fresh_accounts_on_old_infrastructure(run: Run) -> None:
    accounts = run.accounts("ban_evasion")
    spans = {a: (min(map(when, ev)), max(map(when, ev))) for a, ev in accounts.items()}
    ordered = sorted(spans.values())
    gaps = [(b[0] - max(s[1] for s in ordered[: i + 1])) for i, b in enumerate(ordered[1:])]
    split = max(range(len(gaps)), key=lambda i: gaps[i]) + 1
    first_wave = {a for a, s in spans.items() if s <= ordered[split - 1]}
    second_wave = set(accounts) - first_wave
    assert len(first_wave) >= 5 and len(second_wave) >= 5
    first_end = max(spans[a][1] for a in first_wave)
    assert min(spans[a][0] for a in second_wave) > first_end + timedelta(hours=1)
    wave1 = [e for a in first_wave for e in accounts[a]]
    wave2 = [e for a in second_wave for e in accounts[a]]
    created2 = [
        datetime.fromisoformat(str(e["account_created_at"]))
        for e in wave2
        if e.get("account_created_at")
    ]
    assert min(created2) > first_end - timedelta(minutes=5)
    assert prefixes24(wave1) & prefixes24(wave2)
    cards1 = {e.get("payment_fingerprint") for e in wave1} - {None}
    cards2 = {e.get("payment_fingerprint") for e in wave2} - {None}
    assert cards1 & cards2


def template_fragments() -> list[str]:
    """Return the literal text between the slots of every campaign template wording."""
    fragments = []
    for wordings, _ in CAMPAIGN_FAMILIES.values():
        for wording in wordings:
            fragments += [text for text, *_ in Formatter().parse(wording) if len(text) > 15]
    return fragments


def test_mixed_reseller_blends_campaign_traffic_in_after_its_start(run: Run) -> None:
    events = run.group("mixed_reseller")
    start = datetime.fromisoformat(run.labels[str(events[0]["account_id"])]["campaign_start"])
    fragments = template_fragments()

    def share(part: list[Event]) -> float:
        texts = [str(e["prompt"]) for e in part if "prompt" in e]
        return sum(any(f in t for f in fragments) for t in texts) / len(texts)

    before = [e for e in events if when(e) < start]
    after = [e for e in events if when(e) >= start]
    assert before and after
    assert share(before) == 0
    assert 0.2 < share(after) < 0.5
    assert {e.get("asn_kind") for e in events} <= {"hosting", None}


def test_whale_is_one_bursty_account_hitting_its_rate_limit(run: Run) -> None:
    accounts = run.accounts("whale")
    assert len(accounts) == 1
    events = next(iter(accounts.values()))
    others = [
        len(v) for name in ("hydra", "mimicry", "model_pivot") for v in run.accounts(name).values()
    ]
    assert len(events) > 5 * max(others)
    assert 0.02 < sum(e["status"] == 429 for e in events) / len(events) < 0.5


def test_logprob_harvest_probes_single_tokens_with_large_logit_bias(run: Run) -> None:
    events = [e for e in run.group("logprob_harvest") if len(e) > 8]
    assert events
    for e in events:
        assert e["max_tokens"] == 1 and e["top_logprobs"] == 20 and e["logprobs"] is True
        assert e["temperature"] == 0.0 and num(e, "logit_bias_size") >= 64
        assert num(e, "completion_tokens") <= 1
    prompts = [e["prompt"] for e in events if "prompt" in e]
    assert len(set(prompts)) < 0.05 * len(prompts)  # each prefix is probed many times


def test_mimicry_looks_benign_but_shares_structure(focused: Focused) -> None:
    accounts = focused.by_group["mimicry"]
    events = flatten(accounts)
    hours = [h for h in map(local_hour, events) if h is not None]
    assert sum(2 <= h < 5 for h in hours) / len(hours) < 0.05
    assert {e.get("asn_kind") for e in events} <= {"residential", None}
    networks = {str(e["client_ip"]).rsplit(".", 2)[0] for e in events if e.get("client_ip")}
    assert len(networks) > len(accounts) / 2
    assert len({e.get("user_agent") for e in events}) >= 8
    assert len({e.get("prompt") for e in events}) > 0.8 * len(events)
    # ...but cards are shared, accounts were created in bursts, prompts share a skeleton
    owners: dict[object, set[object]] = defaultdict(set)
    created: dict[object, datetime] = {}
    for e in events:
        if e.get("payment_fingerprint"):
            owners[e["payment_fingerprint"]].add(e["account_id"])
        if e.get("account_created_at"):
            created[e["account_id"]] = datetime.fromisoformat(str(e["account_created_at"]))
    assert all(len(o) >= 2 for o in owners.values())
    moments = sorted(created.values())
    near = sum(
        any(abs((m - n).total_seconds()) < 7_200 for n in moments if n is not m) for m in moments
    )
    assert near > 0.9 * len(moments)
    asks = re.compile(r"step|reasoning|thought process|working|explain|justify|why", re.I)
    assert sum(bool(asks.search(str(e.get("prompt") or ""))) for e in events) > 0.8 * len(
        [e for e in events if e.get("prompt")]
    )


def test_mimicry_groups_act_in_sync_unlike_individuals(focused: Focused) -> None:
    def sync_share(groups: list[list[list[datetime]]]) -> float:
        hits = total = 0
        for group in groups:
            for i, times in enumerate(group):
                others = [t for j, other in enumerate(group) if j != i for t in other]
                for t in times:
                    total += 1
                    hits += any(abs((o - t).total_seconds()) <= 180 for o in others)
        return hits / total

    by_account = focused.by_group["mimicry"]
    bursts: dict[str, list[list[datetime]]] = defaultdict(list)
    for events in by_account.values():
        created = str(next(e["account_created_at"] for e in events if e.get("account_created_at")))
        bursts[created[:13]].append([when(e) for e in events])  # same creation hour
    people = [[when(e) for e in ev] for ev in focused.by_group["individual"].values()]
    size = max(2, round(statistics.mean(len(g) for g in bursts.values())))
    random_groups = [people[i : i + size] for i in range(0, len(people), size)]
    assert sync_share(list(bursts.values())) > 0.6
    assert sync_share(random_groups) < 0.3


# ------------------------------------------------------------------------ config and helpers


def test_presets_grow_in_size_and_unknown_preset_is_rejected() -> None:
    sizes = [(s.days, s.individual.n_accounts, s.campaigns[0].n_accounts) for s in PRESETS.values()]
    assert list(PRESETS) == ["tiny", "small", "medium", "large"]
    assert sizes == sorted(sizes)
    with pytest.raises(ValueError, match="unknown preset"):
        scenario_for("huge")


def test_simhash_keeps_near_duplicates_close() -> None:
    def distance(a: str, b: str) -> int:
        return bin(int(simhash64(a), 16) ^ int(simhash64(b), 16)).count("1")

    base = (
        "Solve the following problem. Think step by step and write out your full reasoning "
        "before giving the final answer. A train leaves Ashford at 80 km/h."
    )
    near = base.replace("80 km/h", "95 km/h")
    other = "Give me a recipe for banana bread using oats and eggs. I don't have butter."
    assert re.fullmatch(r"[0-9a-f]{16}", simhash64(base))
    assert distance(base, near) < 12 < distance(base, other)
