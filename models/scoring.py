"""Account and campaign risk scores, and the tiers that turn them into actions.

A score is a probability-like number in [0, 1]: the logistic function of a sum
of *evidence points* (log-odds), one term per piece of evidence, each term a
weight times a ramp of an interpretable quantity. Terms are kept separately so
that every flag can say which evidence made it, in order (:mod:`models.explain`).

**Own evidence** of an account (:func:`own_evidence`), from its running state:

==========================  =====  ==========================================================
term                        max    quantity (ramp from → to)
==========================  =====  ==========================================================
``extraction``              6.0    share of requests eliciting chain-of-thought, rubric
                                   grading or reasoning reconstruction (0.10 → 0.40)
``long_output_extraction``  5.0    share of requests that do so with ``max_tokens`` ≥ 8,000
                                   (0 → 0.10), scaled by the corroborating points (full
                                   at 1): volume, flat timing, anomaly, plus fresh and
                                   hosting times the template-reuse ramp (0.10 → 0.30)
``extraction_volume``       1.5    number of such long-output requests (100 → 3,000, log)
``logit_harvest``           9.0    share of requests with a logit-bias map of ≥ 32 entries
                                   (0 → 0.5)
``fresh_account``           2.0    account age at its first request (14 → 7 days)
``hosting_proxy``           0.75   share of requests from hosting or proxy networks
``flat_24h_timing``         1.25   share of the 24 UTC hours with activity, once the
                                   account has been seen for 20 hours (0.5 → 0.9)
``anomalous_usage``         0.75   smoothed HalfSpaceTrees score above the running mean
                                   (a new account starts at the mean; a window counts
                                   by its requests, see :meth:`AccountState.fold`)
``reviewer_model``          ±4.0   verdict classifier's probability, once trained
==========================  =====  ==========================================================

*Template reuse* is the share of the account's reasoning-elicitation requests
that re-use a head template (``template_sig``) the account already used,
estimated from a 256-bit sketch by linear counting and shrunk like the other
shares (:func:`template_reuse`). It earns no points of its own; it decides
whether a fresh account or a VPN / hosting exit corroborates long outputs: a
harvesting pipeline fills a few templates with many problems (measured: 0.2 to
0.99 for every campaign type), a new customer asks new questions (≈ 0).

with a bias of :data:`OWN_BIAS`: a customer needs strong extraction evidence
*and* something else (fresh account, large output caps, hosting, flat timing)
to be flagged on its own. Shares are shrunk towards a low prior over the first
few requests (:data:`PRIOR_REQUESTS`), so one chain-of-thought question from
a new customer is not a 100 % share.

The content shares (extraction and its kinds, long outputs) are an account's
lifetime shares, or its recent ones (counts with a half-life of
:data:`models.state.RECENT_HALF_LIFE_HOURS`, shrunk towards the lifetime shares
over :data:`RECENT_PRIOR_REQUESTS`) where its extraction share is higher lately
(:func:`account_rates`). A reseller that starts relaying a campaign's traffic
among its customers' has days of clean history that dilute its lifetime shares:
on seed 10 of the ``small`` preset two of three such accounts stayed below the
threshold to the end (lifetime long-output share 0.08, 0.11 since the campaign
began). Judged on recent traffic, every mixed-reseller account of seeds 1 to 10
is flagged, and each seed's first one 2.5 to 19.5 hours sooner; no benign
account more is.

**Campaign evidence** of a campaign's core members (:func:`campaign_evidence`),
bias :data:`CAMPAIGN_BIAS`:

==========================  =====  ==========================================================
term                        max    quantity (ramp from → to)
==========================  =====  ==========================================================
``campaign_extraction``     6.0    members' mean extraction share (0.08 → 0.33)
``campaign_long_output``    3.0    members' mean long-output extraction share (0 → 0.2)
``campaign_logit_harvest``  6.0    members' mean logit-harvest share (0 → 0.5)
``campaign_size``           3.0    members (4 → 128, log)
``fresh_burst_signup``      3.0    share of members created within 6 h of each other, at
                                   most 14 days before their first request
``shared_payment``          0.5    share of members tied by a payment instrument
``shared_template``         1.0    share tied by templates (with network)
``shared_network``          0.5    share tied by addresses / prefixes
``synchronized_activity``   1.5    share tied by synchronised activity
``campaign_hosting_proxy``  1.5    members' mean hosting / proxy share
``campaign_flat_timing``    1.5    members' mean flat-timing ramp (as for accounts)
``model_pivot``             1.5    share of members on a newly released model within 24 h
==========================  =====  ==========================================================

It is *gated* by extraction (multiplied by a ramp of the mean logit-harvest
share from 0.05 to 0.15, or of the mean extraction share from 0.05 to 0.15
times a ramp of the group's *shared template reuse* from
:data:`CAMPAIGN_REUSE_LOW` to :data:`CAMPAIGN_REUSE_HIGH`, whichever is larger):
customers of one commercial VPN who ask popular step-by-step questions share
exit addresses and problem texts, but each asks new questions, whereas a
campaign's members re-use its templates. Shared reuse (:func:`shared_template_reuse`)
counts a template once for the whole group (the OR of the members' sketches),
so a campaign re-uses its templates from its first hour, when each member has
sent a handful of requests and none has repeated one itself (measured: 0.75 to
0.95 for the simulator's larger campaigns while their members' own reuse was
still 0.04 to 0.09; a cluster of VPN customers: 0.22 to 0.28). A group that does not harvest
reasoning or logits scores 0 however coordinated it is (a company behind one
NAT, a lab on one grant card); and coordination alone (shared card and
address, a handful of accounts, no freshness, no hosting, no flat timing) does
not make a research lab running chain-of-thought benchmarks a campaign.

**Final score** of an account: ``1 - (1 - own) * (1 - m * campaign)``, where
``m`` in [0, 1] is its membership (:func:`models.campaigns.membership`).

**Tiers**: ``high`` ≥ :data:`HIGH_THRESHOLD` (act: suspend pending review),
``medium`` ≥ :data:`MEDIUM_THRESHOLD` (review within a day), ``low`` ≥
:data:`FLAG_THRESHOLD` (watch list). An account is flagged the first time its
final score reaches :data:`FLAG_THRESHOLD`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.signals import TEMPLATE_SKETCH_BITS
from models.state import NO_TIME, RECENT, SKETCH, AccountState

FLAG_THRESHOLD = 0.6
MEDIUM_THRESHOLD = 0.75
HIGH_THRESHOLD = 0.9

#: Long-output extraction share at which ``long_output_extraction`` is full. A
#: reseller relaying a campaign's traffic among its customers' dilutes the share:
#: 0.10 to 0.12 on one seed's mixed-reseller accounts (0.15 to 0.27 on others'),
#: which a ramp to 0.15 left below the flag threshold. No benign account with 100
#: or more long-output extraction requests had a share above 0.03 (seeds 1 and 5);
#: below that volume the corroboration, not the share, holds the points down.
LONG_EXTRACTION_FULL = 0.10

#: Pseudo-requests of prior behaviour every share is shrunk with.
PRIOR_REQUESTS = 4.0
#: Prior extraction share (benign customers ask for step-by-step answers too).
PRIOR_EXTRACTION = 0.05
#: Content counts (state columns) whose shares are scored, and each one's prior share.
CONTENT_SHARES: dict[str, float] = {
    "n_extraction": PRIOR_EXTRACTION,
    "n_cot": 0.0,
    "n_rubric": 0.0,
    "n_reconstruct": 0.0,
    "n_extraction_long": 0.0,
}
#: The recent (decaying) state column of each content count.
RECENT_OF: dict[str, str] = {count: recent for recent, count in RECENT.items()}
#: Pseudo-requests of the lifetime share every recent share is shrunk with: a
#: customer's few questions of the last hours do not outweigh its history; a
#: reseller's thousands of requests since it turned to extraction do.
RECENT_PRIOR_REQUESTS = 500.0

OWN_BIAS = -8.5
#: Own-evidence terms that corroborate content evidence (see :func:`own_evidence`).
CORROBORATING = (
    "extraction_volume",
    "flat_24h_timing",
    "anomalous_usage",
)
#: Own-evidence terms that corroborate content evidence only as far as the account
#: re-uses its prompt templates (see :func:`own_evidence`).
CORROBORATING_WITH_REUSE = (
    "fresh_account",
    "hosting_proxy",
)
CAMPAIGN_BIAS = -8.0
#: An account counts as fresh when created at most this many days before its first request.
FRESH_DAYS = 14.0
#: Accounts created within this many hours of each other form one creation burst.
BURST_HOURS = 6.0
#: A new model adopted within this many hours of its first appearance is a pivot.
PIVOT_HOURS = 24.0
#: Seen for at least this long before the hour-of-day coverage counts.
FLAT_MIN_SPAN_HOURS = 20.0

#: State columns of the template sketch.
SKETCH_WORDS: tuple[str, ...] = tuple(SKETCH)
#: Template reuse (share of reasoning requests re-using a head template) from
#: which fresh-account and hosting evidence start to corroborate long outputs, and
#: at which they do fully.
REUSE_LOW, REUSE_HIGH = 0.1, 0.3

#: Shared template reuse of a group (see :func:`shared_template_reuse`) from which
#: reasoning extraction opens the campaign gate, and at which it does fully (see
#: :func:`campaign_evidence`).
CAMPAIGN_REUSE_LOW, CAMPAIGN_REUSE_HIGH = 0.3, 0.6

#: Share of set bits from which a template sketch is saturated (about 770
#: distinct templates in 256 bits): it then gives no evidence of reuse.
SKETCH_SATURATION = 0.95

_US_PER_HOUR = 3_600e6
_US_PER_DAY = 86_400e6


def ramp(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 below ``low``, 1 above ``high``, linear in between (NaN as 0)."""
    return np.clip((np.nan_to_num(x) - low) / (high - low), 0.0, 1.0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def tier(score: float) -> str:
    """Action tier of a flagged account's score."""
    if score >= HIGH_THRESHOLD:
        return "high"
    if score >= MEDIUM_THRESHOLD:
        return "medium"
    return "low"


@dataclass
class Evidence:
    """Evidence terms of a set of rows (accounts or groups) and the resulting score.

    Attributes
    ----------
    points
        Log-odds points of each term, per row.
    values
        The quantity behind each term (what a reason code shows), per row.
    score
        Resulting score in [0, 1], per row.
    """

    points: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    score: np.ndarray


@dataclass
class AccountRates:
    """Shrunk per-account shares and times derived from the state, for some rows."""

    extraction: np.ndarray
    cot: np.ndarray
    rubric: np.ndarray
    reconstruct: np.ndarray
    long_extraction: np.ndarray
    long_extraction_count: np.ndarray
    harvest: np.ndarray
    hosting: np.ndarray
    age_days: np.ndarray
    hour_coverage: np.ndarray
    span_hours: np.ndarray
    template_reuse: np.ndarray


def _reuse_from_sketch(words: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Share of ``known`` requests beyond the distinct templates of ``words``, shrunk.

    ``words`` holds the sketch words (one row per word, one column per entry).
    The distinct templates are estimated by linear counting (``-m ln(1 - set
    bits / m)`` for an ``m``-bit sketch, exact in expectation up to several
    times ``m`` templates); the repeats are the requests beyond them, over the
    requests plus :data:`PRIOR_REQUESTS` (so two requests on one template are
    not 50 % reuse).
    """
    set_bits = np.bitwise_count(words).sum(axis=0).astype(np.float64)
    m = float(TEMPLATE_SKETCH_BITS)
    distinct = -m * np.log1p(-np.minimum(set_bits, m - 0.5) / m)
    known = known.astype(np.float64)
    reuse = np.clip(known - distinct, 0.0, None) / (known + PRIOR_REQUESTS)
    # A nearly full sketch cannot tell many templates from re-used ones (the
    # estimate is capped near m ln m): count it as no evidence of reuse.
    return np.where(set_bits >= SKETCH_SATURATION * m, 0.0, reuse)


def template_sketch(state: AccountState, rows: np.ndarray) -> np.ndarray:
    """The template-sketch words of ``rows``: one row per word, one column per account."""
    return np.stack([state[name][rows] for name in SKETCH_WORDS])


def template_reuse(state: AccountState, rows: np.ndarray) -> np.ndarray:
    """Share of reasoning-elicitation requests that re-use a head template, shrunk.

    From the account's template sketch (see :func:`_reuse_from_sketch`), over
    its reasoning-elicitation requests with a known template.
    """
    return _reuse_from_sketch(template_sketch(state, rows), state["n_extraction_tmpl"][rows])


def shared_template_reuse(
    group: np.ndarray, n_groups: int, sketch: np.ndarray, known: np.ndarray
) -> np.ndarray:
    """Per group, the share of its members' reasoning requests on templates the group re-uses.

    The members' template sketches (``sketch``: one row per word, one column
    per member) are OR-ed per group, so a template two members use counts once:
    the repeats are the group's requests with a known template (``known`` per
    member) beyond the distinct templates of the union (:func:`_reuse_from_sketch`).
    A campaign's accounts fill the same few templates, so this is high (0.75 to
    0.95 on the simulator's larger campaigns after their first hours) even while
    each account has sent too few requests to repeat one itself; strangers on one
    VPN exit who each ask their own questions share few templates (≈ 0.25).
    """
    union = np.zeros((sketch.shape[0], n_groups), dtype=np.uint64)
    for w in range(sketch.shape[0]):
        np.bitwise_or.at(union[w], group, sketch[w].astype(np.uint64))
    total = np.bincount(group, known.astype(np.float64), minlength=n_groups)
    return _reuse_from_sketch(union, total)


def _content_shares(state: AccountState, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Content shares of ``rows`` over their lifetime, or lately where extraction is higher.

    Lifetime shares are shrunk towards a low prior over the first
    :data:`PRIOR_REQUESTS`. Recent shares (counts with a half-life, see
    :data:`models.state.RECENT`) are shrunk towards the lifetime shares over
    :data:`RECENT_PRIOR_REQUESTS`, so only an account with many recent requests
    has recent shares of its own. Each account is judged on the basis, lifetime
    or recent, where its extraction share is higher, and all its shares come
    from that basis, so its reasons add up.
    """
    known = state["n_content"][rows].astype(np.float64) + PRIOR_REQUESTS
    lifetime = {
        name: (state[name][rows] + PRIOR_REQUESTS * prior) / known
        for name, prior in CONTENT_SHARES.items()
    }
    weight = state["recent_content"][rows].astype(np.float64) + RECENT_PRIOR_REQUESTS
    recent = {
        name: (state[RECENT_OF[name]][rows] + RECENT_PRIOR_REQUESTS * lifetime[name]) / weight
        for name in CONTENT_SHARES
    }
    lately = recent["n_extraction"] > lifetime["n_extraction"]
    return {name: np.where(lately, recent[name], lifetime[name]) for name in CONTENT_SHARES}


def account_rates(state: AccountState, rows: np.ndarray) -> AccountRates:
    """Shares and times of the accounts in ``rows`` (content shares: :func:`_content_shares`)."""
    n = state["n_requests"][rows].astype(np.float64)
    shares = _content_shares(state, rows)

    first, last = state["first_us"][rows], state["last_us"][rows]
    created = state["created_us"][rows]
    age = np.where(created == NO_TIME, np.nan, (first - created) / _US_PER_DAY)
    mask = state["hour_mask"][rows].astype(">u4")
    coverage = np.unpackbits(mask.view(np.uint8)).reshape(-1, 32).sum(axis=1) / 24.0
    return AccountRates(
        extraction=shares["n_extraction"],
        cot=shares["n_cot"],
        rubric=shares["n_rubric"],
        reconstruct=shares["n_reconstruct"],
        long_extraction=shares["n_extraction_long"],
        long_extraction_count=state["n_extraction_long"][rows].astype(np.float64),
        harvest=state["n_harvest"][rows] / (n + PRIOR_REQUESTS),
        hosting=state["n_hosting"][rows] / np.maximum(n, 1.0),
        age_days=age,
        hour_coverage=coverage,
        span_hours=(last - first) / _US_PER_HOUR,
        template_reuse=template_reuse(state, rows),
    )


def own_evidence(
    rates: AccountRates,
    anomaly_excess: np.ndarray,
    verdict_p: np.ndarray,
) -> Evidence:
    """Own evidence of accounts (see module docstring for the terms).

    ``anomaly_excess`` is the smoothed anomaly score above the running mean,
    scaled to [0, 1]; ``verdict_p`` the verdict classifier's probability (NaN
    while the classifier is not trained).
    """
    flat = np.where(rates.span_hours >= FLAT_MIN_SPAN_HOURS, rates.hour_coverage, 0.0)
    fresh = np.where(np.isnan(rates.age_days), 0.0, ramp(FRESH_DAYS - rates.age_days, 0.0, 7.0))
    points = {
        "extraction": 6.0 * ramp(rates.extraction, 0.10, 0.40),
        "extraction_volume": 1.5 * ramp(np.log10(rates.long_extraction_count + 1.0), 2.0, 3.5),
        "logit_harvest": 9.0 * ramp(rates.harvest, 0.0, 0.5),
        "fresh_account": 2.0 * fresh,
        "hosting_proxy": 0.75 * np.nan_to_num(rates.hosting),
        "flat_24h_timing": 1.25 * ramp(flat, 0.5, 0.9),
        "anomalous_usage": 0.75 * np.clip(anomaly_excess, 0.0, 1.0),
        "reviewer_model": np.where(np.isnan(verdict_p), 0.0, 4.0 * (2.0 * verdict_p - 1.0)),
    }
    # Long output caps on step-by-step prompts are what a curious customer also
    # sends: they count fully only with behavioural corroboration (flat timing,
    # volume or anomaly), never on content alone. A fresh account or a VPN /
    # hosting exit is what a new customer asking new questions also has, so
    # those corroborate only as far as the account re-uses its prompt templates
    # (a harvesting pipeline fills a few templates; a person asks new questions).
    reuse = ramp(rates.template_reuse, REUSE_LOW, REUSE_HIGH)
    corroboration = sum(points[k] for k in CORROBORATING) + reuse * sum(
        points[k] for k in CORROBORATING_WITH_REUSE
    )
    points["long_output_extraction"] = (
        5.0
        * ramp(rates.long_extraction, 0.0, LONG_EXTRACTION_FULL)
        * np.clip(corroboration, 0.0, 1.0)
    )
    values = {
        "extraction": rates.extraction,
        "long_output_extraction": rates.long_extraction,
        "extraction_volume": rates.long_extraction_count,
        "logit_harvest": rates.harvest,
        "fresh_account": rates.age_days,
        "hosting_proxy": rates.hosting,
        "flat_24h_timing": flat,
        "anomalous_usage": anomaly_excess,
        "reviewer_model": verdict_p,
    }
    total = OWN_BIAS + sum(points.values())
    return Evidence(points, values, sigmoid(total))


@dataclass
class GroupStats:
    """Per-group aggregates of member state, one entry per group (see :func:`group_stats`)."""

    n_accounts: np.ndarray
    extraction: np.ndarray
    long_extraction: np.ndarray
    harvest: np.ndarray
    hosting: np.ndarray
    flat: np.ndarray
    burst: np.ndarray
    pivot: np.ndarray
    pivot_hours: np.ndarray
    shared_reuse: np.ndarray
    tie_share: dict[str, np.ndarray]


def _fresh_burst(
    group: np.ndarray, created_us: np.ndarray, fresh: np.ndarray, n: int
) -> np.ndarray:
    """Per group: most fresh members created within :data:`BURST_HOURS` of each other."""
    burst = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(fresh)
    if len(idx) == 0:
        return burst
    seconds = (created_us[idx] // 1_000_000).astype(np.int64)
    seconds -= seconds.min()
    key = group[idx].astype(np.int64) * (1 << 34) + seconds
    key.sort()
    group_sorted = key >> 34
    ends = np.searchsorted(key, key + int(BURST_HOURS * 3600), side="right")
    np.maximum.at(burst, group_sorted, ends - np.arange(len(key)))
    return burst


def group_stats(
    group: np.ndarray,
    n_groups: int,
    rates: AccountRates,
    *,
    created_us: np.ndarray,
    adoption_h: np.ndarray,
    tie_kinds: dict[str, np.ndarray],
    sketch: np.ndarray,
    known_templates: np.ndarray,
) -> GroupStats:
    """Aggregate member rates per group (``group`` gives each member's group index).

    ``sketch`` holds the members' template-sketch words (one row per word) and
    ``known_templates`` their reasoning requests with a known template, for
    :func:`shared_template_reuse`.
    """
    n = np.bincount(group, minlength=n_groups).astype(np.float64)
    safe = np.maximum(n, 1.0)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, np.nan_to_num(values), minlength=n_groups) / safe

    flat = np.where(rates.span_hours >= FLAT_MIN_SPAN_HOURS, rates.hour_coverage, 0.0)
    fresh = (~np.isnan(rates.age_days)) & (rates.age_days <= FRESH_DAYS)
    pivoted = adoption_h <= PIVOT_HOURS
    fastest = np.full(n_groups, np.inf)
    np.minimum.at(fastest, group, np.where(np.isnan(adoption_h), np.inf, adoption_h))
    return GroupStats(
        n_accounts=n,
        extraction=mean(rates.extraction),
        long_extraction=mean(rates.long_extraction),
        harvest=mean(rates.harvest),
        hosting=mean(rates.hosting),
        flat=mean(ramp(flat, 0.5, 0.9)),
        burst=_fresh_burst(group, created_us, fresh, n_groups).astype(np.float64),
        pivot=mean(pivoted.astype(np.float64)),
        pivot_hours=fastest,
        shared_reuse=shared_template_reuse(group, n_groups, sketch, known_templates),
        tie_share={family: mean(has.astype(np.float64)) for family, has in tie_kinds.items()},
    )


def campaign_evidence(stats: GroupStats) -> Evidence:
    """Campaign evidence of groups (see module docstring); gated by extraction."""
    n = stats.n_accounts
    points = {
        "campaign_extraction": 6.0 * ramp(stats.extraction, 0.08, 0.33),
        "campaign_long_output": 3.0 * ramp(stats.long_extraction, 0.0, 0.2),
        "campaign_logit_harvest": 6.0 * ramp(stats.harvest, 0.0, 0.5),
        "campaign_size": 3.0 * ramp(np.log2(np.maximum(n, 1.0)), 2.0, 7.0),
        "fresh_burst_signup": 3.0 * np.clip(stats.burst / np.maximum(n, 1.0), 0.0, 1.0),
        "shared_payment": 0.5 * stats.tie_share["payment"],
        "shared_template": 1.0 * stats.tie_share["content"],
        "shared_network": 0.5 * stats.tie_share["network"],
        "synchronized_activity": 1.5 * stats.tie_share["sync"],
        "campaign_hosting_proxy": 1.5 * stats.hosting,
        "campaign_flat_timing": 1.5 * stats.flat,
        "model_pivot": 1.5 * stats.pivot,
    }
    values = {
        "campaign_extraction": stats.extraction,
        "campaign_long_output": stats.long_extraction,
        "campaign_logit_harvest": stats.harvest,
        "campaign_size": n,
        "fresh_burst_signup": stats.burst,
        "shared_payment": stats.tie_share["payment"] * n,
        "shared_template": stats.tie_share["content"] * n,
        "shared_network": stats.tie_share["network"] * n,
        "synchronized_activity": stats.tie_share["sync"] * n,
        "campaign_hosting_proxy": stats.hosting,
        "campaign_flat_timing": stats.flat,
        "model_pivot": stats.pivot_hours,
    }
    reuse = ramp(stats.shared_reuse, CAMPAIGN_REUSE_LOW, CAMPAIGN_REUSE_HIGH)
    gate = np.maximum(ramp(stats.harvest, 0.05, 0.15), ramp(stats.extraction, 0.05, 0.15) * reuse)
    total = CAMPAIGN_BIAS + sum(points.values())
    return Evidence(points, values, sigmoid(total) * gate)


def combine(own: np.ndarray, campaign: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Final account score from its own score and its campaign's, weighted by membership."""
    return 1.0 - (1.0 - own) * (1.0 - member * campaign)
