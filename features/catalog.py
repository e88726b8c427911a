"""Every feature the pipeline computes, with its meaning and unit, in one place.

:data:`CONTENT_FEATURES` are the lake columns computed at ingest
(:func:`features.content.with_content`), :data:`WINDOW_FEATURES` the
per-account window aggregates (:func:`features.windows.window_aggregations`,
tables ``account_hourly`` and ``account_daily``) and :data:`LINK_COLUMNS` the
columns of the ``links`` edge table (:func:`features.links.account_links`).
Tests check that these lists and the code agree name for name.

``python -m features.catalog`` rewrites ``features/FEATURES.md`` from them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

MARKDOWN_PATH = Path(__file__).with_name("FEATURES.md")


@dataclass(frozen=True)
class Feature:
    """One documented feature: column name, unit and meaning (why it matters)."""

    name: str
    unit: str
    meaning: str


CONTENT_FEATURES: tuple[Feature, ...] = (
    Feature("prompt_chars", "characters", "Length of the prompt."),
    Feature(
        "prompt_hash",
        "hash",
        "Hash of the trimmed, lower-cased prompt: exact duplicates across requests and accounts.",
    ),
    Feature(
        "template_sig",
        "hash",
        "Hash of the first 8 word tokens (within 96 characters), lower-cased, digit runs "
        "masked: equal for prompts filled into the same template.",
    ),
    Feature(
        "template_tail_sig",
        "hash",
        "Same on the last 8 tokens: templates whose variable slot comes first.",
    ),
    Feature(
        "prompt_lsh",
        "list of hashes",
        "MinHash LSH band keys (16 hash functions, 4 bands of 4) of the prompt's word or "
        "CJK-bigram shingles; from the gateway's SimHash chunks when only that is sent. "
        "Prompts sharing a key are near-duplicates.",
    ),
    Feature("system_prompt_hash", "hash", "Hash of the trimmed system prompt."),
    Feature(
        "cot_score",
        "score 0-1",
        "Strength of chain-of-thought elicitation ('think step by step') in prompt or "
        "system prompt: 0.9 strong, 0.6 medium, 0.3 weak phrase, 0 none.",
    ),
    Feature(
        "rubric_score",
        "score 0-1",
        "The model used as a grader ('score this answer 1-10 against the rubric').",
    ),
    Feature(
        "reconstruct_score",
        "score 0-1",
        "Requests to rebuild the reasoning behind a given answer ('reconstruct the hidden "
        "steps that led to').",
    ),
    Feature(
        "topic",
        "label",
        "Coarse topic: safety_sensitive, code, math, translation, science, reasoning, "
        "writing, chat or other (first match in that priority order).",
    ),
)

WINDOW_FEATURES: tuple[Feature, ...] = (
    Feature("vol_requests", "requests", "Requests in the window."),
    Feature("vol_batch_share", "share", "Share of requests to the batch endpoint."),
    Feature("vol_stream_share", "share", "Share of streamed requests (where known)."),
    Feature("vol_tool_share", "share", "Share of requests declaring tools (where known)."),
    Feature("tok_prompt_sum", "tokens", "Input tokens billed."),
    Feature("tok_completion_sum", "tokens", "Output tokens billed (reasoning included)."),
    Feature("tok_completion_mean", "tokens", "Mean output tokens per request."),
    Feature(
        "tok_out_in_ratio",
        "ratio",
        "Output over input tokens: harvesting maximises output per prompt. Null without input.",
    ),
    Feature(
        "tok_cap_hit_share",
        "share",
        "Share of requests whose output reached max_tokens (where max_tokens is set).",
    ),
    Feature(
        "samp_fingerprint_distinct",
        "count",
        "Distinct sampling-parameter combinations (temperature, top_p, max_tokens, n, "
        "logprobs, top_logprobs).",
    ),
    Feature(
        "samp_fingerprint_top_share",
        "share",
        "Share of the most common sampling combination: 1.0 means constant parameters, "
        "typical of scripted harvesting.",
    ),
    Feature(
        "samp_max_tokens_distinct",
        "count",
        "Distinct max_tokens values (where set): 1 means a constant output cap.",
    ),
    Feature("samp_max_tokens_mean", "tokens", "Mean requested max_tokens."),
    Feature("samp_temperature_mean", "temperature", "Mean sampling temperature."),
    Feature(
        "samp_temperature_zero_share",
        "share",
        "Share of requests at temperature 0 (deterministic outputs).",
    ),
    Feature("samp_n_mean", "completions", "Mean completions per request."),
    Feature(
        "lp_logprobs_share",
        "share",
        "Share of requests asking for log-probabilities (absent counts as not asked).",
    ),
    Feature(
        "lp_top_logprobs_mean",
        "alternatives",
        "Mean top_logprobs requested (absent counts as 0): soft-label harvesting.",
    ),
    Feature("lp_top_logprobs_max", "alternatives", "Largest top_logprobs requested."),
    Feature(
        "lp_logit_bias_share",
        "share",
        "Share of requests with a non-empty logit_bias: logit probing of the vocabulary.",
    ),
    Feature("time_first", "timestamp UTC", "First request of the window."),
    Feature("time_last", "timestamp UTC", "Last request of the window."),
    Feature("time_active_minutes", "minutes", "Distinct minutes with at least one request."),
    Feature("time_iat_mean_s", "seconds", "Mean time between consecutive requests (null for one)."),
    Feature(
        "time_iat_cv",
        "ratio",
        "Coefficient of variation of inter-arrival times: near 0 for a metronomic script, "
        "about 1 for Poisson traffic, above 1 for bursts.",
    ),
    Feature(
        "time_burstiness",
        "score -1..1",
        "Goh-Barabasi burstiness (sd - mean) / (sd + mean) of inter-arrival times: -1 "
        "periodic, 0 Poisson, towards 1 bursty.",
    ),
    Feature(
        "time_hour_entropy",
        "entropy 0-1",
        "Entropy of requests over hours of day, normalised by log 24: 1 for flat 24/7 "
        "activity, low for a human diurnal rhythm (meaningful on daily windows).",
    ),
    Feature("tmpl_distinct", "count", "Distinct template signatures."),
    Feature(
        "tmpl_top_share",
        "share",
        "Share of prompts on the most used template: template reuse.",
    ),
    Feature("tmpl_tail_distinct", "count", "Distinct tail signatures (slot-first templates)."),
    Feature(
        "tmpl_prompt_unique_share",
        "share",
        "Distinct prompts over prompts: 1.0 means no prompt repeats (harvesting rarely "
        "repeats; retries and apps do).",
    ),
    Feature("tmpl_system_distinct", "count", "Distinct system prompts."),
    Feature(
        "cont_text_share",
        "share",
        "Share of requests whose prompt text was seen (content features cover these).",
    ),
    Feature("cont_prompt_chars_mean", "characters", "Mean prompt length."),
    Feature("cont_cot_share", "share", "Share of prompts with cot_score >= 0.5."),
    Feature("cont_cot_mean", "score 0-1", "Mean cot_score."),
    Feature("cont_rubric_share", "share", "Share of prompts with rubric_score >= 0.5."),
    Feature("cont_reconstruct_share", "share", "Share of prompts with reconstruct_score >= 0.5."),
    Feature("cont_topic_distinct", "count", "Distinct topics."),
    Feature(
        "cont_topic_entropy",
        "entropy 0-1",
        "Entropy of the topic mix, normalised by log 9: systematic capability coverage "
        "is broad and even.",
    ),
    Feature("cont_topic_other_share", "share", "Share of prompts with no recognised topic."),
    Feature("err_rate", "share", "Share of requests with status >= 400."),
    Feature("err_429_rate", "share", "Share of requests rate-limited (429)."),
    Feature("err_5xx_rate", "share", "Share of requests with a server error."),
    Feature("model_distinct", "count", "Distinct models requested."),
    Feature(
        "model_new_share",
        "share",
        "Share of requests on models that first appeared in the lake less than 7 days "
        "before the request (null without first-seen state).",
    ),
    Feature(
        "model_adoption_hours",
        "hours",
        "Fewest hours between a new model's first appearance in the lake and this "
        "account's use of it: campaigns jump to new models within hours.",
    ),
    Feature("net_ip_distinct", "count", "Distinct client IPs."),
    Feature("net_prefix_distinct", "count", "Distinct /24 (IPv4) or /48 (IPv6) prefixes."),
    Feature("net_asn_distinct", "count", "Distinct autonomous systems."),
    Feature("net_country_distinct", "count", "Distinct countries."),
    Feature("net_ua_distinct", "count", "Distinct user agents."),
    Feature(
        "net_hosting_share",
        "share",
        "Share of requests from hosting or proxy networks (where asn_kind is known).",
    ),
    Feature("net_proxy_share", "share", "Share of requests from proxy networks."),
    Feature(
        "acct_age_days",
        "days",
        "Account age at the window's last request (from account_created_at).",
    ),
    Feature("acct_signup_channel", "label", "Signup channel of the account."),
    Feature("acct_api_keys", "count", "Distinct API keys used."),
    Feature("acct_payment_distinct", "count", "Distinct payment fingerprints seen."),
)

LINK_COLUMNS: tuple[Feature, ...] = (
    Feature("account_a", "account id", "One end of the edge (account_a < account_b)."),
    Feature("account_b", "account id", "Other end of the edge."),
    Feature(
        "kind",
        "label",
        "Shared evidence: template, lsh, payment, ip, prefix, asn_ua or sync.",
    ),
    Feature(
        "weight",
        "score 0-1",
        "Noisy-OR of the shared values' weights 1/log2(accounts sharing the value) (sync: "
        "share of the possible co-activity above chance).",
    ),
    Feature("first_seen", "timestamp UTC", "When both accounts had first shown the evidence."),
    Feature("last_seen", "timestamp UTC", "Last event carrying the evidence."),
    Feature("n_shared", "count", "Shared values (sync: shared 5-minute bins)."),
)

SECTIONS: tuple[tuple[str, str, tuple[Feature, ...]], ...] = (
    (
        "Content columns (lake `events`, computed at ingest)",
        "`features.content.with_content()`; null when the prompt is unknown.",
        CONTENT_FEATURES,
    ),
    (
        "Per-account window features (`account_hourly`, `account_daily`)",
        "`features.windows.window_aggregations()`, keyed by `account_id` and "
        "`window_start` (UTC). Shares ignore requests where the input is unknown unless "
        "stated.",
        WINDOW_FEATURES,
    ),
    (
        "Cross-account edges (`links`)",
        "`features.links.account_links()`: one row per pair and kind.",
        LINK_COLUMNS,
    ),
)


def render_markdown() -> str:
    """The catalogue as a Markdown document, one table per section."""
    lines = [
        "# Features",
        "",
        "Generated by `python -m features.catalog` from `features/catalog.py`; do not edit.",
    ]
    for title, intro, features in SECTIONS:
        lines += ["", f"## {title}", "", intro, "", "| name | unit | meaning |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {f.unit} | {f.meaning} |" for f in features]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write :data:`MARKDOWN_PATH`."""
    MARKDOWN_PATH.write_text(render_markdown(), encoding="utf-8")
    print(MARKDOWN_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
