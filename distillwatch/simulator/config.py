"""Scenario configuration: every number that sets the size and shape of a simulated run.

A :class:`Scenario` is a frozen tree of dataclasses: one parameter object per benign
population, one per campaign instance, the model catalogue (including the mid-window
release of a new model) and the gateway's logging quirks. The presets in
:data:`PRESETS` differ only in length and scale; they are all derived from the
reference scenario ``small`` by :meth:`Scenario.scaled`, so the traffic mix (each
population's share of requests) is the same in every preset. A custom scenario is a
``dataclasses.replace`` of a preset away.

Campaign defaults follow the public account of a real distillation campaign: about
25,000 accounts sent 28.8M exchanges in 44 days, i.e. about 26 requests per account per
day (:data:`REFERENCE_REQUESTS_PER_ACCOUNT_DAY`). Presets scale the number of accounts
down, not the per-account rate, because the low per-account rate is what makes such a
campaign hard to see account by account.

Times inside the window are given as fractions of the window (``0.0`` = start,
``1.0`` = end) so that the same scenario shape works for a one-day and a ten-day run;
durations that must stay realistic in absolute terms (the hours a pivot campaign needs
to move to a new model, the gap before a ban-evasion wave) are given in hours or days.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import ClassVar, Self

__all__ = [
    "EPOCH",
    "PRESETS",
    "REFERENCE_REQUESTS_PER_ACCOUNT_DAY",
    "BanEvasionParams",
    "CampaignParams",
    "CodingAgentParams",
    "CorporateParams",
    "GatewayParams",
    "HydraParams",
    "IndividualParams",
    "LogprobHarvestParams",
    "MimicryParams",
    "MixedResellerParams",
    "ModelCatalog",
    "ModelPivotParams",
    "PopulationParams",
    "ResearcherParams",
    "Scenario",
    "WhaleParams",
    "scenario_for",
]

EPOCH = datetime(2026, 11, 2, tzinfo=UTC)
"""Start of every preset's window: a Monday, so office-hours populations are active on day one."""

REFERENCE_CAMPAIGN_ACCOUNTS = 25_000
REFERENCE_CAMPAIGN_EXCHANGES = 28_800_000
REFERENCE_CAMPAIGN_DAYS = 44
REFERENCE_REQUESTS_PER_ACCOUNT_DAY = REFERENCE_CAMPAIGN_EXCHANGES / (
    REFERENCE_CAMPAIGN_ACCOUNTS * REFERENCE_CAMPAIGN_DAYS
)
"""Requests per account per day of the publicly reported campaign (about 26)."""


@dataclass(frozen=True, kw_only=True)
class PopulationParams:
    """Size and volume of a group of accounts that behave alike.

    Attributes
    ----------
    n_accounts : int
        Number of accounts.
    requests_per_day : float
        Median, over the accounts, of an account's mean number of requests per day while
        it is active.
    rate_spread : float
        Sigma of the log-normal spread of per-account rates around the median: real
        populations mix light and heavy users.
    step_by_step_share : float
        Share of the population's prompts that ask for step-by-step reasoning; benign
        users do this too, so the phrase alone must not be a verdict.
    min_accounts, max_accounts : int, int or None
        Bounds on ``n_accounts`` when a preset scales the population; where a bound
        binds, :meth:`scaled` changes the per-account rate instead so that the
        population keeps its share of the traffic.
    """

    n_accounts: int
    requests_per_day: float
    rate_spread: float = 0.8
    step_by_step_share: float = 0.0
    min_accounts: int = 1
    max_accounts: int | None = None

    def scaled(self, factor: float) -> Self:
        """Return a copy with ``factor`` times the traffic, mostly through more or fewer accounts.

        Parameters
        ----------
        factor : float
            Multiplier of the population's total request volume.
        """
        wanted = self.n_accounts * factor
        n = max(self.min_accounts, round(wanted))
        if self.max_accounts is not None:
            n = min(n, self.max_accounts)
        return replace(self, n_accounts=n, requests_per_day=self.requests_per_day * wanted / n)


@dataclass(frozen=True, kw_only=True)
class IndividualParams(PopulationParams):
    """Individual users: low volume, diurnal in local time, residential and mobile networks.

    Attributes
    ----------
    active_day_share : float
        Probability that an individual uses the API on a given day at all.
    mobile_share : float
        Share of an individual's requests sent from a mobile network (carrier-grade NAT,
        so unrelated users share these addresses).
    new_account_share : float
        Share of individuals whose account is less than two weeks old: fresh accounts
        are not by themselves suspicious.
    browser_share : float
        Share of individuals that call the API from a browser-based client.
    student_share : float
        Share of individuals (students, learners) who ask for step-by-step help in most
        of their prompts.
    vpn_share : float
        Share of individuals behind a commercial VPN, whose exit addresses are hosting
        or proxy networks shared with many strangers.
    family_card_share : float
        Probability that an individual pays with the card of the previous one (family
        members, a couple, a small team): benign card sharing.
    """

    active_day_share: float = 0.55
    mobile_share: float = 0.3
    new_account_share: float = 0.08
    browser_share: float = 0.25
    student_share: float = 0.12
    vpn_share: float = 0.08
    family_card_share: float = 0.05


@dataclass(frozen=True, kw_only=True)
class ResearcherParams(PopulationParams):
    """Evaluation and research users who run benchmarks in bursts.

    Attributes
    ----------
    burst_size : int
        Median number of requests in one benchmark run.
    burst_rate_per_s : float
        Median request rate inside a run; fast asynchronous harnesses hit rate limits.
    logprob_share : float
        Share of runs that request log-probabilities (multiple-choice scoring).
    """

    burst_size: int = 120
    burst_rate_per_s: float = 2.0
    logprob_share: float = 0.7


@dataclass(frozen=True, kw_only=True)
class CodingAgentParams(PopulationParams):
    """Developers running coding agents: tool declarations, long contexts, task loops.

    Attributes
    ----------
    team_start_share : float
        Probability that an account starts a team whose members share an org and a card.
    team_size : tuple of int
        Range of the number of accounts in a team.
    cloud_share : float
        Share of agents that run in CI or on a cloud workstation instead of a laptop.
    """

    team_start_share: float = 0.1
    team_size: tuple[int, int] = (2, 6)
    cloud_share: float = 0.3


@dataclass(frozen=True, kw_only=True)
class CorporateParams(PopulationParams):
    """Employees of companies that provision one API account per employee.

    All accounts of one company sit behind a few NAT addresses, use the company's
    internal tool (one user agent, one system prompt), are billed to one company card
    and were created in one onboarding burst: coordinated-looking but benign.

    Attributes
    ----------
    company_size : tuple of int
        Range of the number of accounts per company.
    nat_addresses : tuple of int
        Range of the number of NAT egress addresses per company.
    """

    company_size: tuple[int, int] = (30, 120)
    nat_addresses: tuple[int, int] = (2, 4)


@dataclass(frozen=True, kw_only=True)
class CampaignParams(PopulationParams):
    """One campaign instance: a group of accounts run by one actor.

    Attributes
    ----------
    campaign_id : str
        Identifier written to the labels.
    start : float
        Fraction of the window at which the campaign's traffic starts.
    end : float
        Fraction of the window at which it stops.
    """

    campaign_type: ClassVar[str]
    campaign_id: str
    start: float
    end: float = 1.0


@dataclass(frozen=True, kw_only=True)
class HydraParams(CampaignParams):
    """ "Hydra" campaign: many accounts, each low and slow, sharing templates and infrastructure.

    Attributes
    ----------
    n_templates : int
        Number of shared prompt templates (chain-of-thought elicitation, reasoning
        reconstruction, rubric grading, agentic planning, sensitive-topic rewrites).
    payment_group_size : tuple of int
        Range of the number of accounts that share one payment fingerprint.
    n_prefixes : int
        Number of hosting/proxy /24 prefixes the accounts rotate through.
    accounts_per_burst : int
        Accounts created in one account-creation burst.
    creation_lead_days : tuple of float
        Range of how long before the campaign start a creation burst happens.
    creation_burst_hours : float
        Duration of one creation burst.
    onboarding_hours : float
        Accounts start sending within this many hours of the campaign start.
    sdk_share : float
        Share of accounts that use the campaign's one SDK user agent.
    max_tokens : int
        Output cap the campaign requests (high: it wants long reasoning).
    temperature, top_p : float
        The campaign's fixed sampling settings.
    non_english_share : float
        Share of prompts written in another language than English.
    """

    campaign_type: ClassVar[str] = "hydra"
    requests_per_day: float = REFERENCE_REQUESTS_PER_ACCOUNT_DAY
    rate_spread: float = 0.25
    n_templates: int = 5
    payment_group_size: tuple[int, int] = (3, 10)
    n_prefixes: int = 4
    accounts_per_burst: int = 120
    creation_lead_days: tuple[float, float] = (0.5, 6.0)
    creation_burst_hours: float = 3.0
    onboarding_hours: float = 4.0
    sdk_share: float = 0.85
    max_tokens: int = 16_000
    temperature: float = 0.7
    top_p: float = 0.95
    non_english_share: float = 0.1


@dataclass(frozen=True, kw_only=True)
class ModelPivotParams(HydraParams):
    """A hydra-like campaign that moves to a newly released model within hours.

    Attributes
    ----------
    pivot_delay_hours : tuple of float
        Range of the delay, after the release, at which an account switches.
    pivot_share : float
        Share of the campaign's traffic on the new model once it has switched.
    """

    campaign_type: ClassVar[str] = "model_pivot"
    pivot_delay_hours: tuple[float, float] = (0.5, 4.0)
    pivot_share: float = 0.9


@dataclass(frozen=True, kw_only=True)
class BanEvasionParams(HydraParams):
    """A hydra-like campaign whose first wave stops (is banned) and comes back with fresh accounts.

    ``n_accounts`` counts both waves; ``end`` is the end of the second wave.

    Attributes
    ----------
    first_wave_end : float
        Fraction of the window at which the first wave stops.
    gap_hours : float
        Hours between the end of the first wave and the start of the second.
    second_wave_share : float
        Share of ``n_accounts`` in the second wave.
    infra_reuse : float
        Share of the second wave's IP prefixes and payment fingerprints taken over
        from the first wave.
    """

    campaign_type: ClassVar[str] = "ban_evasion"
    first_wave_end: float = 0.45
    gap_hours: float = 5.0
    second_wave_share: float = 0.5
    infra_reuse: float = 0.5


@dataclass(frozen=True, kw_only=True)
class MixedResellerParams(CampaignParams):
    """A few reseller accounts that blend campaign traffic into real customers' traffic.

    The accounts exist, and resell benign traffic, before ``start``; from ``start`` on a
    ``campaign_share`` of their requests is templated extraction traffic.

    Attributes
    ----------
    campaign_share : float
        Share of the accounts' requests that belong to the campaign after ``start``.
    """

    campaign_type: ClassVar[str] = "mixed_reseller"
    campaign_share: float = 0.35
    rate_spread: float = 0.3
    max_accounts: int | None = 6


@dataclass(frozen=True, kw_only=True)
class WhaleParams(CampaignParams):
    """A single account with very high volume, bursty enough to hit its rate limit.

    Attributes
    ----------
    burst_size : int
        Mean number of requests in one burst of parallel workers.
    burst_rate_per_s : float
        Request rate inside a burst; above the rate limit, so bursts draw 429s.
    rate_limit_rpm : float
        The account's rate limit in requests per minute.
    """

    campaign_type: ClassVar[str] = "whale"
    n_accounts: int = 1
    min_accounts: int = 1
    max_accounts: int | None = 1
    rate_spread: float = 0.0
    burst_size: int = 120
    burst_rate_per_s: float = 8.0
    rate_limit_rpm: float = 300.0


@dataclass(frozen=True, kw_only=True)
class LogprobHarvestParams(CampaignParams):
    """Logit harvesting (Carlini et al. 2024): max_tokens 1, top_logprobs 20, large logit_bias maps.

    Each prompt prefix is queried many times with different logit-bias maps to recover
    the full next-token distribution.

    Attributes
    ----------
    logit_bias_size : tuple of int
        Range of the number of logit-bias entries per request.
    queries_per_prefix : tuple of int
        Range of the number of requests sent for one prompt prefix.
    query_rate_per_s : float
        Request rate while sweeping one prefix.
    """

    campaign_type: ClassVar[str] = "logprob_harvest"
    rate_spread: float = 0.4
    logit_bias_size: tuple[int, int] = (64, 300)
    queries_per_prefix: tuple[int, int] = (80, 400)
    query_rate_per_s: float = 10.0


@dataclass(frozen=True, kw_only=True)
class MimicryParams(CampaignParams):
    """A campaign that imitates benign users; only cross-account structure gives it away.

    Accounts are diurnal in their claimed time zone, use residential addresses spread
    over many prefixes, varied user agents and paraphrased templates. They are run in
    groups: a group's accounts were created in one burst, join the group's shared
    sessions, and payment cards are shared across groups.

    Attributes
    ----------
    group_size : tuple of int
        Range of the number of accounts operated together.
    accounts_per_card : tuple of int
        Range of the number of accounts, drawn from different groups, billed to one card.
    join_share : float
        Probability that an account takes part in one of its group's sessions.
    max_lag_s : float
        Largest delay of an account's first request after its group's session start.
    """

    campaign_type: ClassVar[str] = "mimicry"
    requests_per_day: float = 18.0
    rate_spread: float = 0.3
    group_size: tuple[int, int] = (8, 16)
    accounts_per_card: tuple[int, int] = (2, 5)
    join_share: float = 0.7
    max_lag_s: float = 240.0


@dataclass(frozen=True, kw_only=True)
class ModelCatalog:
    """Models served and the mid-window release of a new model.

    Attributes
    ----------
    large, small, new_large, embedding : str
        Model names. ``new_large`` is released at ``release_at``.
    release_at : float
        Fraction of the window at which ``new_large`` becomes available.
    adoption_days : float
        Mean delay, in days, after which a benign account that adopts the new model
        starts using it: benign users adopt over days.
    never_adopt_share : float
        Share of benign accounts that stay on their current model through the window.
    adopted_share : float
        Share of an adopter's large-model traffic that moves to the new model.
    """

    large: str = "frontier-large-2026-09"
    small: str = "frontier-small-2026-06"
    new_large: str = "frontier-large-2026-11"
    embedding: str = "embed-2026-03"
    release_at: float = 0.5
    adoption_days: float = 3.0
    never_adopt_share: float = 0.4
    adopted_share: float = 0.6


@dataclass(frozen=True, kw_only=True)
class GatewayParams:
    """How the API gateway logs requests.

    Attributes
    ----------
    simhash_share : float
        Share of events whose gateway withholds the prompt and sends its SimHash.
    bare_share : float
        Share of events from a legacy gateway that logs only the required fields.
    null_style_share : float
        Share of events that spell unknown optional fields as ``null`` instead of
        leaving them out.
    extra_field_share : float
        Share of events carrying fields outside the contract (e.g. ``gateway_region``).
    unknown_asn_share : float
        Share of events whose address the gateway's IP intelligence does not know.
    server_error_rate, client_error_rate : float
        Probability of a 5xx or a 400 response.
    mean_log_delay_s : float
        Mean delay between a request reaching the gateway and its log record being
        emitted; it makes the stream roughly, not strictly, time-ordered.
    late_share : float
        Share of records delayed by up to ``max_late_delay_s``.
    max_late_delay_s : float
        Largest delay of a late record.
    """

    simhash_share: float = 0.03
    bare_share: float = 0.01
    null_style_share: float = 0.1
    extra_field_share: float = 0.02
    unknown_asn_share: float = 0.01
    server_error_rate: float = 0.003
    client_error_rate: float = 0.002
    mean_log_delay_s: float = 0.4
    late_share: float = 0.001
    max_late_delay_s: float = 90.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A complete simulated run: window, populations, campaigns, models and gateway.

    Attributes
    ----------
    name : str
        Preset name, for reports.
    days : float
        Length of the simulated window.
    start : datetime
        Start of the window (UTC).
    individual, app_backend, batch_pipeline, researcher, corporate, coding_agent, reseller
        The benign populations.
    campaigns : tuple of CampaignParams
        The campaign instances; several instances of one type are allowed.
    models : ModelCatalog
        Models and the new-model release.
    gateway : GatewayParams
        Logging quirks.
    """

    name: str
    days: float
    start: datetime = EPOCH
    individual: IndividualParams
    app_backend: PopulationParams
    batch_pipeline: PopulationParams
    researcher: ResearcherParams
    corporate: CorporateParams
    coding_agent: CodingAgentParams
    reseller: PopulationParams
    campaigns: tuple[CampaignParams, ...]
    models: ModelCatalog = field(default_factory=ModelCatalog)
    gateway: GatewayParams = field(default_factory=GatewayParams)

    BENIGN: ClassVar[tuple[str, ...]] = (
        "individual",
        "app_backend",
        "batch_pipeline",
        "researcher",
        "corporate",
        "coding_agent",
        "reseller",
    )
    """Names of the benign populations, which are also the attribute names."""

    def scaled(self, *, name: str, days: float, factor: float) -> Scenario:
        """Return a scenario of another length and ``factor`` times the daily traffic.

        Parameters
        ----------
        name : str
            Name of the new scenario.
        days : float
            Its window length; campaign times scale with it (they are fractions).
        factor : float
            Multiplier of every population's and campaign's daily traffic.
        """
        return replace(
            self,
            name=name,
            days=days,
            individual=self.individual.scaled(factor),
            app_backend=self.app_backend.scaled(factor),
            batch_pipeline=self.batch_pipeline.scaled(factor),
            researcher=self.researcher.scaled(factor),
            corporate=self.corporate.scaled(factor),
            coding_agent=self.coding_agent.scaled(factor),
            reseller=self.reseller.scaled(factor),
            campaigns=tuple(c.scaled(factor) for c in self.campaigns),
        )


SMALL = Scenario(
    name="small",
    days=3.5,
    individual=IndividualParams(
        n_accounts=9_000,
        requests_per_day=5.0,
        rate_spread=0.9,
        step_by_step_share=0.08,
        min_accounts=200,
    ),
    app_backend=PopulationParams(n_accounts=40, requests_per_day=1_100.0, min_accounts=3),
    batch_pipeline=PopulationParams(
        n_accounts=10, requests_per_day=4_000.0, rate_spread=0.5, min_accounts=2
    ),
    researcher=ResearcherParams(
        n_accounts=60, requests_per_day=150.0, step_by_step_share=0.3, min_accounts=8
    ),
    corporate=CorporateParams(
        n_accounts=240, requests_per_day=30.0, rate_spread=0.6, min_accounts=30
    ),
    coding_agent=CodingAgentParams(
        n_accounts=250, requests_per_day=100.0, step_by_step_share=0.12, min_accounts=12
    ),
    reseller=PopulationParams(
        n_accounts=4, requests_per_day=5_500.0, rate_spread=0.4, min_accounts=1
    ),
    campaigns=(
        HydraParams(campaign_id="cmp-hydra-01", n_accounts=800, start=0.15, min_accounts=50),
        ModelPivotParams(
            campaign_id="cmp-pivot-01",
            n_accounts=120,
            requests_per_day=40.0,
            start=0.3,
            min_accounts=15,
        ),
        BanEvasionParams(campaign_id="cmp-evasion-01", n_accounts=300, start=0.1, min_accounts=30),
        MixedResellerParams(
            campaign_id="cmp-mixed-01", n_accounts=3, requests_per_day=5_000.0, start=0.25
        ),
        WhaleParams(campaign_id="cmp-whale-01", requests_per_day=20_000.0, start=0.4),
        LogprobHarvestParams(
            campaign_id="cmp-logit-01",
            n_accounts=8,
            requests_per_day=2_500.0,
            start=0.35,
            min_accounts=2,
        ),
        MimicryParams(campaign_id="cmp-mimic-01", n_accounts=240, start=0.2, min_accounts=30),
    ),
)
"""Reference scenario (~1M events over 3.5 days); the other presets are scaled from it."""

PRESETS: dict[str, Scenario] = {
    "tiny": SMALL.scaled(name="tiny", days=1.0, factor=0.05),
    "small": SMALL,
    "medium": SMALL.scaled(name="medium", days=7.0, factor=1.45),
    "large": SMALL.scaled(name="large", days=10.0, factor=4.0),
}
"""Named scenarios, with their size for seed 1 (events vary by about ±20% with the seed):

========  ======  ==========  ========  =================
preset    days    events      accounts  campaign accounts
========  ======  ==========  ========  =================
tiny      1       ~16k        635       129
small     3.5     ~1.07M      11,076    1,472
medium    7       ~2.9M       16,059    2,134
large     10      ~11.7M      44,295    5,879
========  ======  ==========  ========  =================

Each has seven campaigns, one of each type.
"""


def scenario_for(preset: str) -> Scenario:
    """Return the scenario of a named preset.

    Parameters
    ----------
    preset : str
        One of the keys of :data:`PRESETS`.

    Raises
    ------
    ValueError
        If the preset is unknown.
    """
    try:
        return PRESETS[preset]
    except KeyError:
        known = ", ".join(PRESETS)
        raise ValueError(f"unknown preset {preset!r}; expected one of: {known}") from None
