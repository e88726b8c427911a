"""Who sends the traffic: the accounts of every benign population and campaign in a scenario.

:func:`build_accounts` turns a :class:`~distillwatch.simulator.config.Scenario` and a
seed into a list of :class:`Account` objects, each with its identity (ids, payment
fingerprint, creation time, signup channel, user agents), its rate limit, and three
behaviours: an :class:`~distillwatch.simulator.timing.Activity` (when),
a :class:`~distillwatch.simulator.network.Network` (from where) and a
:class:`~distillwatch.simulator.workloads.Workload` (what). Building accounts is cheap
and does not draw any event; memory is proportional to the number of accounts.

Every random choice comes from a generator seeded by ``(seed, population or campaign,
index)``, so an account does not change when another population is resized.

The benign populations are built to be hard negatives: batch pipelines are templated,
temperature 0 and 24/7; researchers use temperature 0, logprobs and bursts; corporate
accounts share NAT addresses, a user agent, a system prompt, a card and an onboarding
burst; some individuals and coding agents ask for step-by-step reasoning; individuals
on mobile networks share carrier-grade-NAT addresses with strangers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import singledispatch
from random import Random

from distillwatch.simulator import text, vocab
from distillwatch.simulator.config import (
    BanEvasionParams,
    CampaignParams,
    CodingAgentParams,
    CorporateParams,
    HydraParams,
    IndividualParams,
    LogprobHarvestParams,
    MimicryParams,
    MixedResellerParams,
    ModelPivotParams,
    PopulationParams,
    ResearcherParams,
    Scenario,
    WhaleParams,
)
from distillwatch.simulator.network import (
    ASNS,
    REGIONS,
    VPN_EXIT_ASNS,
    Address,
    Asn,
    FixedAddresses,
    HomeAndMobile,
    Network,
    Region,
    address_pool,
    asns,
    random_address,
    region_of,
)
from distillwatch.simulator.seeding import derive_seed, derive_token
from distillwatch.simulator.timing import DAY_S, Activity, GroupSessions, Rhythm, Sessions
from distillwatch.simulator.workloads import (
    BATCH,
    CHAT,
    EMBEDDINGS,
    AppBackendWorkload,
    BatchWorkload,
    BlendWorkload,
    ClientStyle,
    CodingAgentWorkload,
    CorporateWorkload,
    HarvestWorkload,
    IndividualWorkload,
    MimicryWorkload,
    ModelMix,
    ResearcherWorkload,
    ResellerWorkload,
    SessionMemo,
    TemplateWorkload,
    WhaleWorkload,
    Workload,
)

__all__ = ["BENIGN_POPULATIONS", "CAMPAIGN_TYPES", "Account", "AccountLabel", "build_accounts"]

BENIGN_POPULATIONS = Scenario.BENIGN
"""Population names of benign accounts; campaign accounts have population ``campaign``."""

CAMPAIGN_TYPES = (
    "hydra",
    "model_pivot",
    "ban_evasion",
    "mixed_reseller",
    "whale",
    "logprob_harvest",
    "mimicry",
)
"""Campaign types, as written to the labels."""

HOUR_S = 3_600.0

SDK_AGENTS = (
    "OpenAI/Python 1.54.3",
    "OpenAI/Python 1.52.0",
    "OpenAI/Python 1.58.1",
    "OpenAI/JS 4.71.1",
    "OpenAI/JS 4.68.4",
    "anthropic-sdk-python/0.39.0",
    "anthropic-sdk-js/0.30.1",
    "python-httpx/0.27.2",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Go-http-client/2.0",
    "axios/1.7.7",
    "langchain-openai/0.2.9",
    "okhttp/4.12.0",
)
"""User agents of API clients and HTTP libraries."""

BROWSER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
)
"""User agents of browser-based clients."""

CODING_AGENTS = (
    "claude-cli/1.0.3 (external, cli)",
    "Cursor/0.43.6",
    "aider/0.63.1",
    "Cline/3.0.2",
    "Continue/0.9.233 (vscode)",
    "OpenAI/Python 1.54.3",
)
"""User agents of coding-agent tools."""

STUDENT_STEP_BY_STEP_SHARE = 0.6
"""Share of a student's prompts that ask for step-by-step help."""

RATE_LIMIT_RPM = {
    "self_serve": 500.0,
    "startup_program": 1_000.0,
    "education": 500.0,
    "research_access": 2_000.0,
    "enterprise": 10_000.0,
}
"""Requests per minute allowed per signup channel (the account's tier)."""


@dataclass(frozen=True, slots=True)
class AccountLabel:
    """Ground truth of one account, as written to the labels CSV."""

    account_id: str
    population: str
    campaign_id: str | None = None
    campaign_type: str | None = None
    campaign_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A simulated billing account: identity, limits and behaviour.

    Attributes
    ----------
    label : AccountLabel
        Ground truth.
    seed : int
        Seed of the account's event randomness.
    org_id, api_keys, payment_fingerprint, created_at, signup_channel :
        Identity as the gateway logs it.
    user_agents : tuple of str
        User agents the account's clients send (repeats weight one).
    rate_limit_rpm : float
        Requests per minute before the gateway answers 429.
    activity, network, workload :
        When, from where and what the account sends.
    """

    label: AccountLabel
    seed: int
    org_id: str | None
    api_keys: tuple[str, ...]
    payment_fingerprint: str | None
    created_at: datetime
    signup_channel: str
    user_agents: tuple[str, ...]
    rate_limit_rpm: float
    activity: Activity
    network: Network
    workload: Workload


def build_accounts(scenario: Scenario, seed: int) -> list[Account]:
    """Return every account of ``scenario`` for run ``seed``, benign populations first.

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    seed : int
        Run seed; the same seed gives the same accounts.
    """
    b = _Builder(scenario, seed)
    _individuals(b, scenario.individual)
    _app_backends(b, scenario.app_backend)
    _batch_pipelines(b, scenario.batch_pipeline)
    _researchers(b, scenario.researcher)
    _corporate(b, scenario.corporate)
    _coding_agents(b, scenario.coding_agent)
    _resellers(b, scenario.reseller)
    for campaign in scenario.campaigns:
        _campaign(campaign, b)
    return b.accounts


class _Builder:
    """Shared context of one build: scenario, seed, clock helpers and the growing account list."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.window_s = scenario.days * DAY_S
        self.release_s = scenario.models.release_at * self.window_s
        self.accounts: list[Account] = []
        self._ids: set[str] = set()
        self._mobile_pools: dict[Asn, tuple[Address, ...]] = {}
        self._vpn_pools: dict[int, tuple[Address, ...]] = {}

    def rng(self, *key: object) -> Random:
        return Random(derive_seed(self.seed, "profile", *key))

    def token(self, prefix: str, *key: object, n_hex: int = 12) -> str:
        return f"{prefix}_{derive_token(n_hex, self.seed, prefix, *key)}"

    def moment(self, seconds: float) -> datetime:
        return self.scenario.start + timedelta(seconds=round(seconds))

    def rhythm(self, shape: str, utc_offset_h: float) -> Rhythm:
        return Rhythm(shape, utc_offset_h, self.scenario.start.weekday())

    def sessions(
        self,
        rhythm: Rhythm,
        requests_per_day: float,
        *,
        size: float = 1.0,
        gap_s: float = 1.0,
        start_s: float = 0.0,
        end_s: float | None = None,
        active_day_share: float = 1.0,
    ) -> Sessions:
        return Sessions(
            rhythm,
            requests_per_day,
            size,
            gap_s,
            start_s,
            self.window_s if end_s is None else end_s,
            active_day_share,
        )

    def models(self, rng: Random, large_share: float, *, adoption_speed: float = 1.0) -> ModelMix:
        """Return a benign account's model mix; it adopts the new model days after release."""
        m = self.scenario.models
        adopt_at = math.inf
        if rng.random() >= m.never_adopt_share:
            adopt_at = self.release_s + rng.expovariate(adoption_speed / (m.adoption_days * DAY_S))
        return ModelMix(m.large, m.small, m.new_large, large_share, adopt_at, m.adopted_share)

    def mobile_pool(self, asn: Asn) -> tuple[Address, ...]:
        """Return the carrier-grade-NAT addresses of a carrier, shared by all its subscribers."""
        if asn not in self._mobile_pools:
            rng = self.rng("mobile-pool", asn.number, asn.country)
            self._mobile_pools[asn] = tuple(
                random_address(rng, asn, ipv6=rng.random() < 0.3) for _ in range(48)
            )
        return self._mobile_pools[asn]

    def vpn_exits(self, provider: int) -> tuple[Address, ...]:
        """Return the exit addresses of a commercial VPN, shared by all its customers."""
        if provider not in self._vpn_pools:
            rng = self.rng("vpn", provider)
            asn = next(a for a in ASNS if a.number == VPN_EXIT_ASNS[provider])
            self._vpn_pools[provider] = address_pool(rng, asn, 40) + address_pool(rng, asn, 40)
        return self._vpn_pools[provider]

    def home_line(
        self,
        rng: Random,
        country: str,
        *,
        lease_s: float,
        mobile_share: float,
        ipv6_share: float = 0.3,
    ) -> HomeAndMobile:
        """Return a residential line with changing leases, plus a phone on a local carrier."""
        asn = rng.choice(asns("residential", country))
        ipv6 = rng.random() < ipv6_share
        leases = tuple(
            random_address(rng, asn, ipv6=ipv6) for _ in range(int(self.window_s // lease_s) + 1)
        )
        carriers = asns("mobile", country)
        mobile = self.mobile_pool(rng.choice(carriers)) if carriers[0].country == country else ()
        return HomeAndMobile(leases, lease_s, mobile, mobile_share)

    def add(
        self,
        population: str,
        key: tuple[object, ...],
        *,
        campaign: CampaignParams | None = None,
        org_id: str | None = None,
        n_keys: int = 1,
        payment_fingerprint: str | None,
        created_s: float,
        signup_channel: str,
        user_agents: tuple[str, ...],
        activity: Activity,
        network: Network,
        workload: Workload,
        rate_limit_rpm: float | None = None,
    ) -> None:
        """Append an account; ``key`` identifies it within the run."""
        salt = 0
        account_id = self.token("acct", *key)
        while account_id in self._ids:
            salt += 1
            account_id = self.token("acct", *key, salt)
        self._ids.add(account_id)
        label = AccountLabel(account_id, population)
        if campaign is not None:
            label = AccountLabel(
                account_id,
                population,
                campaign.campaign_id,
                campaign.campaign_type,
                self.moment(campaign.start * self.window_s),
            )
        self.accounts.append(
            Account(
                label=label,
                seed=derive_seed(self.seed, "events", *key),
                org_id=org_id,
                api_keys=tuple(self.token("key", *key, k, n_hex=10) for k in range(n_keys)),
                payment_fingerprint=payment_fingerprint,
                created_at=self.moment(created_s),
                signup_channel=signup_channel,
                user_agents=user_agents,
                rate_limit_rpm=rate_limit_rpm or RATE_LIMIT_RPM[signup_channel],
                activity=activity,
                network=network,
                workload=workload,
            )
        )


def _rate(rng: Random, params: PopulationParams) -> float:
    """Return one account's daily rate: log-normal around the population median."""
    return params.requests_per_day * rng.lognormvariate(0.0, params.rate_spread)


def _partition(rng: Random, n: int, sizes: tuple[int, int]) -> list[int]:
    """Split ``n`` accounts into groups of ``sizes[0]`` to ``sizes[1]`` accounts.

    Sizes stay in range whenever ``n`` can be split that way; otherwise the last group
    takes the rest (a group smaller than ``sizes[0]`` only when ``n`` itself is).
    """
    low, high = sizes
    groups: list[int] = []
    remaining = n
    while remaining > 0:
        upper = min(high, remaining - low)
        size = remaining if remaining <= high or upper < low else rng.randint(low, upper)
        groups.append(size)
        remaining -= size
    return groups


def _region(rng: Random, regions: Sequence[Region] = REGIONS) -> Region:
    return rng.choices(regions, weights=[r.weight for r in regions])[0]


def _days_ago(rng: Random, low: float, high: float) -> float:
    return -rng.uniform(low, high) * DAY_S


def _sdk_agents(rng: Random) -> tuple[str, ...]:
    """Return a developer's clients: mostly one SDK, sometimes a second tool."""
    primary = rng.choice(SDK_AGENTS)
    if rng.random() < 0.3:
        return (primary, primary, primary, rng.choice(SDK_AGENTS))
    return (primary,)


def _cloud_egress(rng: Random, country: str, size: int) -> FixedAddresses:
    """Return a back end's static egress addresses in one cloud block."""
    return FixedAddresses(address_pool(rng, rng.choice(asns("hosting", country)), size))


# --------------------------------------------------------------------------------- benign


def _individuals(b: _Builder, p: IndividualParams) -> None:
    card: str | None = None
    for i in range(p.n_accounts):
        rng = b.rng("individual", i)
        region = _region(rng)
        new = rng.random() < p.new_account_share
        agents = (
            (rng.choice(BROWSER_AGENTS),) if rng.random() < p.browser_share else (_sdk_agents(rng))
        )
        if card is None or rng.random() >= p.family_card_share:
            card = b.token("pf", "individual", i) if rng.random() < 0.8 else None
        network: Network
        if rng.random() < p.vpn_share:
            network = FixedAddresses(b.vpn_exits(rng.randrange(len(VPN_EXIT_ASNS))))
        else:
            network = b.home_line(
                rng,
                region.country,
                lease_s=rng.uniform(2, 14) * DAY_S,
                mobile_share=min(1.0, p.mobile_share * rng.uniform(0, 2)),
            )
        student = rng.random() < p.student_share
        b.add(
            "individual",
            ("individual", i),
            payment_fingerprint=card,
            created_s=_days_ago(rng, 0.2, 14) if new else _days_ago(rng, 30, 1500),
            signup_channel="self_serve",
            user_agents=agents,
            n_keys=rng.randint(1, 2),
            activity=b.sessions(
                b.rhythm("personal", region.utc_offset_h),
                _rate(rng, p),
                size=3.0,
                gap_s=60.0,
                active_day_share=p.active_day_share,
            ),
            network=network,
            workload=IndividualWorkload(
                b.models(rng, rng.uniform(0.3, 0.9)),
                region.language,
                STUDENT_STEP_BY_STEP_SHARE if student else p.step_by_step_share,
                ClientStyle.draw(rng),
                responses_share=rng.choice((0.0, 0.0, 1.0)),
            ),
        )


def _app_workload(b: _Builder, rng: Random) -> AppBackendWorkload:
    """Return a new application's workload: its persona and its fixed request settings."""
    return AppBackendWorkload(
        text.app_persona(rng),
        b.models(rng, rng.uniform(0.2, 1.0)),
        b.scenario.models.embedding,
        embed_share=rng.choice((0.0, 0.1, 0.3)),
        temperature=rng.choice((0.2, 0.3, 0.5, 0.7, 1.0)),
        top_p=rng.choice((1.0, 1.0, 0.95, 0.9, None)),
        max_tokens=rng.choice((512, 1024, 2048, None)),
        stream=rng.random() < 0.7,
    )


def _app_backends(b: _Builder, p: PopulationParams) -> None:
    for i in range(p.n_accounts):
        rng = b.rng("app_backend", i)
        region = _region(rng)
        b.add(
            "app_backend",
            ("app_backend", i),
            org_id=b.token("org", "app_backend", i, n_hex=10),
            n_keys=2,
            payment_fingerprint=b.token("pf", "app_backend", i),
            created_s=_days_ago(rng, 60, 900),
            signup_channel=rng.choice(("self_serve", "startup_program")),
            user_agents=(rng.choice(SDK_AGENTS[:7]),),
            activity=b.sessions(b.rhythm("app", region.utc_offset_h), _rate(rng, p)),
            network=_cloud_egress(rng, region.country, rng.randint(2, 6)),
            workload=_app_workload(b, rng),
            rate_limit_rpm=RATE_LIMIT_RPM["enterprise"],
        )


def _batch_pipelines(b: _Builder, p: PopulationParams) -> None:
    m = b.scenario.models
    for i in range(p.n_accounts):
        rng = b.rng("batch_pipeline", i)
        template = text.batch_template(rng)
        if template.kind == "embed":
            model, endpoint = m.embedding, EMBEDDINGS
        else:
            model = m.small if rng.random() < 0.7 else m.large
            endpoint = BATCH if rng.random() < 0.3 else CHAT
        b.add(
            "batch_pipeline",
            ("batch_pipeline", i),
            org_id=b.token("org", "batch_pipeline", i, n_hex=10),
            payment_fingerprint=b.token("pf", "batch_pipeline", i),
            created_s=_days_ago(rng, 400, 1500),
            signup_channel="enterprise",
            user_agents=(
                rng.choice(
                    (
                        "OpenAI/Python 1.40.6",
                        "python-httpx/0.27.2",
                        "OpenAI/Python 1.35.10",
                        "Go-http-client/2.0",
                    )
                ),
            ),
            activity=b.sessions(b.rhythm("flat", 0.0), _rate(rng, p)),
            network=_cloud_egress(rng, rng.choice(("US", "DE", "IE")), rng.randint(1, 2)),
            workload=BatchWorkload(
                template, model, endpoint, max_tokens=16 if template.kind == "label" else 256
            ),
        )


def _new_lab(b: _Builder, lab: int) -> tuple[int, Region, FixedAddresses]:
    """Return a research lab: its members share a grant card, an org and the lab's addresses."""
    rng = b.rng("lab", lab)
    region = rng.choice(
        [r for r in REGIONS if asns("education", r.country)[0].country == r.country]
    )
    network = FixedAddresses(
        tuple(
            random_address(rng, rng.choice(asns("education", region.country)))
            for _ in range(rng.randint(1, 3))
        )
    )
    return lab, region, network


def _researchers(b: _Builder, p: ResearcherParams) -> None:
    lab: tuple[int, Region, FixedAddresses] | None = None
    for i in range(p.n_accounts):
        rng = b.rng("researcher", i)
        if lab is None or rng.random() < 0.45:
            lab = _new_lab(b, i)
        lab_id, region, lab_network = lab
        b.add(
            "researcher",
            ("researcher", i),
            org_id=b.token("org", "lab", lab_id, n_hex=10),
            payment_fingerprint=b.token("pf", "lab", lab_id),
            created_s=_days_ago(rng, 100, 1000),
            signup_channel=rng.choice(("education", "research_access")),
            user_agents=_sdk_agents(rng),
            activity=b.sessions(
                b.rhythm("research", region.utc_offset_h),
                _rate(rng, p),
                size=p.burst_size,
                gap_s=1.0 / (p.burst_rate_per_s * rng.lognormvariate(0, 1.0)),
            ),
            network=lab_network,
            workload=ResearcherWorkload.create(
                b.models(rng, 0.8, adoption_speed=3.0),
                derive_seed(b.seed, "runs", i),
                p.logprob_share,
            ),
        )


def _corporate(b: _Builder, p: CorporateParams) -> None:
    i = 0
    for company, size in enumerate(_partition(b.rng("companies"), p.n_accounts, p.company_size)):
        c_rng = b.rng("company", company)
        name = c_rng.choice(vocab.COMPANY_NAMES)
        country = c_rng.choice(("US", "US", "GB", "DE", "JP", "IN", "FR"))
        nat = FixedAddresses(
            address_pool(
                c_rng, c_rng.choice(asns("business", country)), c_rng.randint(*p.nat_addresses)
            )
        )
        tool = name.lower().replace(" & ", "-").replace(" ", "-")
        agent = f"{tool}-assist/2.{c_rng.randint(0, 9)}.{c_rng.randint(0, 30)} python-httpx/0.27.2"
        onboarding_s = _days_ago(c_rng, 90, 700)
        # the company picks the model and the tool for everyone
        workload = CorporateWorkload(
            b.models(c_rng, 0.9), text.corporate_system_prompt(name), p.step_by_step_share
        )
        for _ in range(size):
            rng = b.rng("corporate", i)
            b.add(
                "corporate",
                ("corporate", i),
                org_id=b.token("org", "company", company),
                payment_fingerprint=b.token("pf", "company", company),
                created_s=onboarding_s + rng.uniform(0, 3 * HOUR_S),
                signup_channel="enterprise",
                user_agents=(agent,),
                activity=b.sessions(
                    b.rhythm("office", region_of(country).utc_offset_h),
                    _rate(rng, p),
                    size=2.5,
                    gap_s=90.0,
                ),
                network=nat,
                workload=workload,
                rate_limit_rpm=RATE_LIMIT_RPM["self_serve"],
            )
            i += 1


def _coding_agents(b: _Builder, p: CodingAgentParams) -> None:
    team, members_left = 0, 0
    for i in range(p.n_accounts):
        rng = b.rng("coding_agent", i)
        region = _region(rng)
        network: Network
        if rng.random() < p.cloud_share:  # agents running in CI or on a cloud workstation
            network = _cloud_egress(rng, region.country, 1)
        else:
            network = b.home_line(
                rng, region.country, lease_s=rng.uniform(3, 20) * DAY_S, mobile_share=0.0
            )
        if members_left == 0 and rng.random() < p.team_start_share:
            team, members_left = i, rng.randint(*p.team_size)
        owner: tuple[object, ...] = ("coding_agent", i)
        if members_left > 0:  # team members share the team's org and card
            owner, members_left = ("team", team), members_left - 1
        b.add(
            "coding_agent",
            ("coding_agent", i),
            org_id=b.token("org", *owner, n_hex=10) if owner[0] == "team" else None,
            payment_fingerprint=b.token("pf", *owner),
            created_s=_days_ago(rng, 1, 900),
            signup_channel="self_serve",
            user_agents=(rng.choice(CODING_AGENTS),),
            activity=b.sessions(
                b.rhythm("developer", region.utc_offset_h), _rate(rng, p), size=25.0, gap_s=12.0
            ),
            network=network,
            workload=CodingAgentWorkload.create(
                b.models(rng, 0.85, adoption_speed=2.0),
                derive_seed(b.seed, "tasks", i),
                tool_count=rng.randint(6, 40),
                max_tokens=rng.choice((8_192, 16_000, 32_000)),
                temperature=rng.choice((0.0, None, 0.2)),
                step_by_step_share=p.step_by_step_share,
            ),
        )


def _reseller_customers(b: _Builder, rng: Random) -> tuple[Workload, ...]:
    """Return the workloads of a reseller's end customers: people, apps and agents."""
    customers: list[Workload] = []
    for _ in range(rng.randint(6, 16)):
        region = _region(rng)
        roll = rng.random()
        if roll < 0.5:
            customers.append(
                IndividualWorkload(
                    b.models(rng, rng.uniform(0.3, 0.9)),
                    region.language,
                    0.08,
                    ClientStyle.draw(rng),
                    responses_share=0.0,
                )
            )
        elif roll < 0.85:
            customers.append(_app_workload(b, rng))
        else:
            customers.append(
                CorporateWorkload(
                    b.models(rng, 0.9),
                    text.corporate_system_prompt(rng.choice(vocab.COMPANY_NAMES)),
                    0.1,
                )
            )
    return tuple(customers)


def _add_reseller(
    b: _Builder,
    key: tuple[object, ...],
    rng: Random,
    rate: float,
    *,
    population: str = "reseller",
    campaign: MixedResellerParams | None = None,
    campaign_workload: Workload | None = None,
) -> None:
    """Append a reseller account; with a campaign, blend its traffic in from the campaign start."""
    workload: Workload = ResellerWorkload(_reseller_customers(b, rng))
    if campaign is not None and campaign_workload is not None:
        workload = BlendWorkload(
            workload, campaign_workload, campaign.campaign_share, campaign.start * b.window_s
        )
    b.add(
        population,
        key,
        campaign=campaign,
        org_id=b.token("org", *key, n_hex=10),
        payment_fingerprint=b.token("pf", *key),
        created_s=_days_ago(rng, 200, 900),
        signup_channel="enterprise",
        user_agents=(
            rng.choice(("litellm/1.52.0", "python-httpx/0.27.2", "OpenAI/Python 1.54.3")),
        ),
        activity=b.sessions(b.rhythm("app", rng.choice((-5.0, 0.0, 8.0))), rate),
        network=FixedAddresses(address_pool(rng, rng.choice(asns("hosting")), rng.randint(8, 30))),
        workload=workload,
        rate_limit_rpm=30_000.0,
    )


def _resellers(b: _Builder, p: PopulationParams) -> None:
    for i in range(p.n_accounts):
        rng = b.rng("reseller", i)
        _add_reseller(b, ("reseller", i), rng, _rate(rng, p))


# ------------------------------------------------------------------------------- campaigns


@dataclass(frozen=True, slots=True)
class _Infrastructure:
    """What a hydra-like campaign's accounts share."""

    blocks: tuple[tuple[Address, ...], ...]
    cards: tuple[str, ...]
    templates: tuple[text.Template, ...]
    foreign: tuple[text.Template, ...]
    user_agent: str

    @property
    def pool(self) -> tuple[Address, ...]:
        return tuple(itertools.chain.from_iterable(self.blocks))


def _proxy_blocks(rng: Random, n: int) -> tuple[tuple[Address, ...], ...]:
    """Return ``n`` rented /24 blocks of hosting or proxy addresses."""
    networks = asns("hosting") + asns("proxy") * 2
    return tuple(address_pool(rng, rng.choice(networks), rng.randint(24, 96)) for _ in range(n))


def _card_groups(
    b: _Builder, rng: Random, key: object, n: int, group_size: tuple[int, int]
) -> list[str]:
    """Return a payment fingerprint per account, each shared by a small group, shuffled."""
    cards = [
        b.token("pf", key, group)
        for group, size in enumerate(_partition(rng, n, group_size))
        for _ in range(size)
    ]
    rng.shuffle(cards)
    return cards


def _creation_times(rng: Random, n: int, first_use_s: float, c: HydraParams) -> list[float]:
    """Return account creation times, in bursts of ``c.accounts_per_burst``, before first use."""
    times: list[float] = []
    while len(times) < n:
        burst = first_use_s - rng.uniform(*c.creation_lead_days) * DAY_S
        times.extend(
            burst + rng.uniform(0, c.creation_burst_hours * HOUR_S)
            for _ in range(c.accounts_per_burst)
        )
    return times[:n]


def _swarm(
    b: _Builder,
    c: HydraParams,
    wave: str,
    *,
    n: int,
    infra: _Infrastructure,
    start_s: float,
    end_s: float,
    created: Sequence[float],
    models: Callable[[Random], ModelMix],
) -> None:
    """Append ``n`` low-and-slow accounts that share ``infra``, active in ``[start_s, end_s)``."""
    pool = FixedAddresses(infra.pool)
    for i in range(n):
        rng = b.rng(c.campaign_id, wave, i)
        agent = infra.user_agent if rng.random() < c.sdk_share else rng.choice(SDK_AGENTS)
        onboard_s = start_s + rng.uniform(0, c.onboarding_hours * HOUR_S)
        b.add(
            "campaign",
            (c.campaign_id, wave, i),
            campaign=c,
            payment_fingerprint=infra.cards[i],
            created_s=min(created[i], onboard_s - 60),
            signup_channel="self_serve" if rng.random() < 0.85 else "startup_program",
            user_agents=(agent,),
            activity=b.sessions(
                b.rhythm("flat", 0.0), _rate(rng, c), start_s=onboard_s, end_s=end_s
            ),
            network=pool,
            workload=TemplateWorkload(
                models(rng),
                infra.templates,
                infra.foreign,
                foreign_share=c.non_english_share,
                system_prompt=None,
                max_tokens=c.max_tokens,
                temperature=c.temperature,
                top_p=c.top_p,
            ),
        )


def _infrastructure(b: _Builder, c: HydraParams, rng: Random, n: int) -> _Infrastructure:
    return _Infrastructure(
        blocks=_proxy_blocks(rng, c.n_prefixes),
        cards=tuple(_card_groups(b, rng, c.campaign_id, n, c.payment_group_size)),
        templates=text.campaign_templates(rng, c.n_templates),
        foreign=text.foreign_cot_templates(rng, 2),
        user_agent=rng.choice(SDK_AGENTS[:3]),
    )


def _fixed_models(b: _Builder) -> Callable[[Random], ModelMix]:
    m = b.scenario.models
    return lambda rng: ModelMix(m.large, m.small, m.new_large, large_share=0.95)


@singledispatch
def _campaign(c: CampaignParams, b: _Builder) -> None:
    """Append the accounts of campaign ``c`` (dispatched on its parameter class)."""
    raise TypeError(f"no account builder for {type(c).__name__}")


def _one_wave(b: _Builder, c: HydraParams, models: Callable[[Random], ModelMix]) -> None:
    """Append a one-wave hydra-like campaign: bursts of fresh accounts on shared infrastructure."""
    rng = b.rng(c.campaign_id)
    start_s = c.start * b.window_s
    _swarm(
        b,
        c,
        "main",
        n=c.n_accounts,
        infra=_infrastructure(b, c, rng, c.n_accounts),
        start_s=start_s,
        end_s=c.end * b.window_s,
        created=_creation_times(rng, c.n_accounts, start_s, c),
        models=models,
    )


@_campaign.register
def _hydra(c: HydraParams, b: _Builder) -> None:
    _one_wave(b, c, _fixed_models(b))


@_campaign.register
def _model_pivot(c: ModelPivotParams, b: _Builder) -> None:
    m = b.scenario.models

    def models(rng: Random) -> ModelMix:
        delay_s = rng.uniform(*c.pivot_delay_hours) * HOUR_S
        return ModelMix(m.large, m.small, m.new_large, 1.0, b.release_s + delay_s, c.pivot_share)

    _one_wave(b, c, models)


@_campaign.register
def _ban_evasion(c: BanEvasionParams, b: _Builder) -> None:
    rng = b.rng(c.campaign_id)
    n2 = round(c.n_accounts * c.second_wave_share)
    n1 = c.n_accounts - n2
    start1, end1 = c.start * b.window_s, c.first_wave_end * b.window_s
    first = _infrastructure(b, c, rng, n1)
    _swarm(
        b,
        c,
        "wave1",
        n=n1,
        infra=first,
        start_s=start1,
        end_s=end1,
        created=_creation_times(rng, n1, start1, c),
        models=_fixed_models(b),
    )
    # the second wave: fresh accounts created after the ban, on part of the old infrastructure
    kept = max(1, round(c.infra_reuse * len(first.blocks)))
    new_cards = _card_groups(b, rng, (c.campaign_id, "wave2"), n2, c.payment_group_size)
    cards = [
        rng.choice(first.cards) if rng.random() < c.infra_reuse else card for card in new_cards
    ]
    second = replace(
        first,
        blocks=first.blocks[:kept] + _proxy_blocks(rng, len(first.blocks) - kept),
        cards=tuple(cards),
    )
    _swarm(
        b,
        c,
        "wave2",
        n=n2,
        infra=second,
        start_s=end1 + c.gap_hours * HOUR_S,
        end_s=c.end * b.window_s,
        created=[end1 + rng.uniform(0, c.gap_hours * HOUR_S) for _ in range(n2)],
        models=_fixed_models(b),
    )


@_campaign.register
def _mixed_reseller(c: MixedResellerParams, b: _Builder) -> None:
    rng = b.rng(c.campaign_id)
    m = b.scenario.models
    campaign = TemplateWorkload(
        ModelMix(m.large, m.small, m.new_large, 0.9),
        text.campaign_templates(rng, 3),
        text.foreign_cot_templates(rng, 1),
        foreign_share=0.1,
        system_prompt=None,
        max_tokens=8_192,
        temperature=0.8,
        top_p=1.0,
    )
    for i in range(c.n_accounts):
        account_rng = b.rng(c.campaign_id, i)
        _add_reseller(
            b,
            (c.campaign_id, i),
            account_rng,
            _rate(account_rng, c),
            population="campaign",
            campaign=c,
            campaign_workload=campaign,
        )


@_campaign.register
def _whale(c: WhaleParams, b: _Builder) -> None:
    m = b.scenario.models
    for i in range(c.n_accounts):
        rng = b.rng(c.campaign_id, i)
        b.add(
            "campaign",
            (c.campaign_id, i),
            campaign=c,
            org_id=b.token("org", c.campaign_id, i, n_hex=10),
            payment_fingerprint=b.token("pf", c.campaign_id, i),
            created_s=c.start * b.window_s - rng.uniform(20, 60) * DAY_S,
            signup_channel="startup_program",
            user_agents=("OpenAI/Python 1.54.3",),
            activity=b.sessions(
                b.rhythm("flat", 0.0),
                _rate(rng, c),
                size=c.burst_size,
                gap_s=1.0 / c.burst_rate_per_s,
                start_s=c.start * b.window_s,
                end_s=c.end * b.window_s,
            ),
            network=_cloud_egress(rng, "US", 6),
            workload=WhaleWorkload(ModelMix(m.large, m.small, m.new_large, 0.9), 16_000),
            rate_limit_rpm=c.rate_limit_rpm,
        )


@_campaign.register
def _logprob_harvest(c: LogprobHarvestParams, b: _Builder) -> None:
    rng = b.rng(c.campaign_id)
    start_s = c.start * b.window_s
    pool = FixedAddresses(tuple(itertools.chain.from_iterable(_proxy_blocks(rng, 2))))
    burst_s = start_s - rng.uniform(1, 3) * DAY_S
    mean_queries = sum(c.queries_per_prefix) / 2
    for i in range(c.n_accounts):
        account_rng = b.rng(c.campaign_id, i)
        b.add(
            "campaign",
            (c.campaign_id, i),
            campaign=c,
            payment_fingerprint=b.token("pf", c.campaign_id, i // 3),
            created_s=burst_s + account_rng.uniform(0, HOUR_S),
            signup_channel="self_serve",
            user_agents=(account_rng.choice(("python-requests/2.32.3", "python-httpx/0.27.2")),),
            activity=b.sessions(
                b.rhythm("flat", 0.0),
                _rate(account_rng, c),
                size=mean_queries,
                gap_s=1.0 / c.query_rate_per_s,
                start_s=start_s + account_rng.uniform(0, 2 * HOUR_S),
                end_s=c.end * b.window_s,
            ),
            network=pool,
            workload=HarvestWorkload(
                b.scenario.models.large,
                c.logit_bias_size,
                SessionMemo(derive_seed(b.seed, c.campaign_id, "prefixes", i), text.harvest_prefix),
            ),
        )


@_campaign.register
def _mimicry(c: MimicryParams, b: _Builder) -> None:
    rng = b.rng(c.campaign_id)
    start_s, end_s = c.start * b.window_s, c.end * b.window_s
    regions = [r for r in REGIONS if r.language == "en" and r.weight >= 0.05]
    sizes = _partition(rng, c.n_accounts, c.group_size)
    groups = [g for g, size in enumerate(sizes) for _ in range(size)]
    rank = [i for size in sizes for i in range(size)]  # position of each account in its group
    # cards are shared by accounts of different groups: deal them out across groups
    order = sorted(range(c.n_accounts), key=lambda i: (rank[i], groups[i]))
    cards = [""] * c.n_accounts
    position = 0
    for card, size in enumerate(_partition(rng, c.n_accounts, c.accounts_per_card)):
        for i in order[position : position + size]:
            cards[i] = b.token("pf", c.campaign_id, card)
        position += size
    group_region = [_region(rng, regions) for _ in sizes]
    group_created = [start_s - rng.uniform(20, 120) * DAY_S for _ in sizes]
    for i, group in enumerate(groups):
        account_rng = b.rng(c.campaign_id, i)
        region = group_region[group]
        schedule = b.sessions(
            b.rhythm("personal", region.utc_offset_h),
            c.requests_per_day / c.join_share,
            size=4.0,
            gap_s=50.0,
            start_s=start_s,
            end_s=end_s,
        )
        agents = (
            (account_rng.choice(BROWSER_AGENTS),)
            if account_rng.random() < 0.4
            else (_sdk_agents(account_rng))
        )
        b.add(
            "campaign",
            (c.campaign_id, i),
            campaign=c,
            payment_fingerprint=cards[i],
            created_s=group_created[group] + account_rng.uniform(0, 2 * HOUR_S),
            signup_channel="self_serve",
            user_agents=agents,
            activity=GroupSessions(
                schedule,
                derive_seed(b.seed, c.campaign_id, "group", group),
                c.join_share,
                c.max_lag_s,
            ),
            network=b.home_line(
                account_rng,
                region.country,
                lease_s=account_rng.uniform(2, 12) * HOUR_S,
                mobile_share=0.0,
            ),
            workload=MimicryWorkload(
                b.models(account_rng, account_rng.uniform(0.5, 0.9)), ClientStyle.draw(account_rng)
            ),
        )
