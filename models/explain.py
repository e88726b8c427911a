"""Reason codes: why an account was flagged, in words a reviewer reads without the code.

Every flag carries ``code:value`` pairs, ``;``-separated, most important first
(the export contract's ``reasons``), for example::

    shared_template:412_accounts;flat_24h_timing:0.97;cot_elicitation:0.91

Shares of an account's requests are over its lifetime, or over its recent
requests (half-life 6 hours, see :func:`models.scoring.account_rates`) when it
asks for more reasoning lately than it did all along.

Importance is the evidence's weight in the score (its log-odds points, see
:mod:`models.scoring`; campaign evidence weighted by the account's membership).
Codes and the meaning of their values:

============================  ================================================================
code                          value
============================  ================================================================
``cot_elicitation``           share of the account's requests asking for step-by-step /
                              chain-of-thought reasoning
``rubric_grading``            share using the model as a grader against a rubric
``reasoning_reconstruction``  share asking to rebuild the reasoning behind a given answer
``long_output_extraction``    share of reasoning-elicitation requests with max_tokens ≥ 8,000
``extraction_volume``         number of reasoning-elicitation requests with max_tokens ≥ 8,000
``logit_harvest``             share of requests with logit-bias maps of ≥ 32 entries
``fresh_account``             account age at its first request, in days
``hosting_proxy``             share of requests from hosting or proxy networks
``flat_24h_timing``           share of the 24 UTC hours the account was active in
``anomalous_usage``           how far its usage pattern is from everyone's (0–1)
``reviewer_model``            probability from the model trained on reviewers' verdicts
``campaign_extraction``       mean reasoning-elicitation share of the campaign's accounts
``campaign_long_output``      same, with max_tokens ≥ 8,000
``campaign_logit_harvest``    mean logit-harvest share of the campaign's accounts
``campaign_size``             accounts in the campaign
``fresh_burst_signup``        campaign accounts created within 6 hours of each other,
                              at most 14 days before use
``shared_payment``            campaign accounts sharing a payment instrument with another
``shared_template``           campaign accounts sharing prompt templates (with network)
``shared_network``            campaign accounts sharing addresses / networks
``synchronized_activity``     campaign accounts active in the same 5-minute slots
``campaign_hosting_proxy``    campaign's share of traffic from hosting or proxy networks
``campaign_flat_timing``      campaign accounts' mean flatness over the 24 hours
``model_pivot``               fastest move of a campaign account to a newly released model
``reuses_campaign_payment``   the known campaign whose payment instrument the account uses
============================  ================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: Largest number of reason codes kept per flag.
MAX_REASONS = 8


def _share(value: float | str) -> str:
    return f"{float(value):.2f}"


def _accounts(value: float | str) -> str:
    return f"{round(float(value))}_accounts"


FORMATS: dict[str, Callable[[float | str], str]] = {
    "cot_elicitation": _share,
    "rubric_grading": _share,
    "reasoning_reconstruction": _share,
    "long_output_extraction": _share,
    "extraction_volume": lambda v: f"{round(float(v))}_requests",
    "logit_harvest": _share,
    "fresh_account": lambda v: f"{float(v):.1f}_days",
    "hosting_proxy": _share,
    "flat_24h_timing": _share,
    "anomalous_usage": _share,
    "reviewer_model": _share,
    "campaign_extraction": _share,
    "campaign_long_output": _share,
    "campaign_logit_harvest": _share,
    "campaign_size": _accounts,
    "fresh_burst_signup": lambda v: f"{round(float(v))}_accounts_in_6h",
    "shared_payment": _accounts,
    "shared_template": _accounts,
    "shared_network": _accounts,
    "synchronized_activity": _accounts,
    "campaign_hosting_proxy": _share,
    "campaign_flat_timing": _share,
    "model_pivot": lambda v: f"{float(v):.1f}h_after_release",
    "reuses_campaign_payment": str,
}


def reason(code: str, value: float | str) -> str:
    """One ``code:value`` reason."""
    return f"{code}:{FORMATS[code](value)}"


def reasons(items: Iterable[tuple[float, str, float | str]], limit: int = MAX_REASONS) -> str:
    """The reasons string of one flag from ``(importance, code, value)`` items.

    Items with no positive importance are left out; the rest are sorted by
    importance, most important first (ties by code, so the order is stable).

    Examples
    --------
    >>> reasons([(1.2, "flat_24h_timing", 0.97), (3.5, "shared_template", 412),
    ...          (2.0, "cot_elicitation", 0.912), (0.0, "hosting_proxy", 0.1)])
    'shared_template:412_accounts;cot_elicitation:0.91;flat_24h_timing:0.97'
    """
    kept = sorted(((-w, code, value) for w, code, value in items if w > 0), key=lambda t: t[:2])
    return ";".join(reason(code, value) for _, code, value in kept[:limit])
