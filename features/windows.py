"""Per-account window features: one definition of every aggregate, for any frame of events.

:func:`window_features` groups lake-schema events (see
``ingest.schema.LAKE_SCHEMA``) and computes them::

    window_features(events, ["account_id", window_key("1h")])

It adds the row-level inputs of :func:`window_inputs` to the whole frame
first (a network prefix per address, a hash per sampling-parameter
combination, the hour of day), then aggregates with
:func:`window_aggregations`: an expression that is not an aggregation runs
once per group inside ``agg``, which for string work over many small groups
costs several times what one pass over the column does.

The batch jobs (:mod:`features.jobs`) run them per event-time hour and day; the
online scorer runs them on each polled micro-batch. Names carry the family as a
prefix (``vol_``, ``tok_``, ``samp_``, ``lp_``, ``time_``, ``tmpl_``,
``cont_``, ``err_``, ``model_``, ``net_``, ``acct_``); meanings and units are
in :mod:`features.catalog` (rendered to ``features/FEATURES.md``).

Every aggregate is order-independent (inter-arrival times sort first), so the
result does not depend on how the events were batched or ordered, and shares
are over the requests where the input is known (nulls ignored) unless the
catalog says otherwise. Share-of-null-input aggregates are null, not 0.

One feature needs state from outside the window: how soon an account uses a
model after the model's first appearance in the whole lake. It takes that
state as a parameter, ``model_first_seen`` (see :func:`window_aggregations`).
Account age needs none: every event carries ``account_created_at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import polars as pl

from features.patterns import OTHER_TOPIC, TOPICS

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

#: ``asn_kind`` values counted as hosting or anonymising infrastructure.
HOSTING_KINDS: tuple[str, ...] = ("hosting", "proxy")
#: A model is *new* for this long after its first appearance in the lake.
NEW_MODEL_DAYS = 7.0
#: Content scores at or above this count as a CoT / rubric / reconstruct request.
SCORE_THRESHOLD = 0.5
#: Endpoint of asynchronous batch jobs.
BATCH_ENDPOINT = "/v1/batch"

_TOPIC_LABELS = (*(topic.label for topic in TOPICS), OTHER_TOPIC)
_US_PER_S = 1_000_000.0
_S_PER_HOUR = 3_600
_S_PER_DAY = 86_400


def window_key(every: str) -> pl.Expr:
    """Start of the event-time window of length ``every`` (``"1h"``, ``"1d"``): ``window_start``."""
    return pl.col("ts").dt.truncate(every).alias("window_start")


def network_prefix(ip: pl.Expr) -> pl.Expr:
    """Routing prefix of a (valid) IP address: ``a.b.c.0/24`` for IPv4, ``x:y:z::/48`` for IPv6.

    IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) count as IPv4. IPv6 groups
    are lower-cased with leading zeros dropped, and groups elided by ``::``
    become ``0``, so every spelling of one /48 gives one string. Null for null
    input or text that is neither. The input is assumed valid (ingest rejects
    malformed ``client_ip``). This runs on every event inside aggregations, so
    each step runs only on the rows of its address family (null elsewhere,
    which costs nothing) and uses no lists.
    """
    text = ip.str.strip_prefix("::ffff:")
    is_v4 = text.str.contains(".", literal=True)
    v4 = pl.when(is_v4).then(text).str.strip_chars_end("0123456789") + "0/24"
    # IPv6 steps on IPv6 rows only (null elsewhere, which costs nothing): the groups
    # before "::" (all of them when there is none), padded with zero groups
    v6 = pl.when(~is_v4 & text.str.contains(":", literal=True)).then(text.str.to_lowercase())
    head = v6.str.replace(r"::.*$", "").replace("", "0") + ":0:0:0"
    first3 = head.str.replace_all(r"(^|:)0+([0-9a-f])", "$1$2").str.extract(
        r"^([0-9a-f]+:[0-9a-f]+:[0-9a-f]+)", 1
    )
    return pl.coalesce(v4, first3 + "::/48")


#: Row-level input columns of the aggregates (see :func:`window_inputs`).
PREFIX_INPUT = "_window_prefix"
SAMPLING_INPUT = "_window_sampling"
HOUR_INPUT = "_window_hour"


def window_inputs() -> list[pl.Expr]:
    """Row-level columns :func:`window_aggregations` reads, computed before grouping."""
    return [
        network_prefix(pl.col("client_ip")).alias(PREFIX_INPUT),
        _sampling_fingerprint().alias(SAMPLING_INPUT),
        pl.col("ts").dt.hour().alias(HOUR_INPUT),
    ]


def window_features(
    events: Frame,
    by: Sequence[str | pl.Expr],
    model_first_seen: pl.DataFrame | None = None,
    *,
    new_model_days: float = NEW_MODEL_DAYS,
    extra: Sequence[pl.Expr] = (),
) -> Frame:
    """Every window feature of ``events`` grouped by ``by`` (and ``extra`` aggregates).

    ``by`` is, for instance, ``["account_id", window_key("1h")]``; the other
    parameters are those of :func:`window_aggregations`. Returns one row per
    group, in no particular order.
    """
    aggregations = window_aggregations(model_first_seen, new_model_days)
    return events.with_columns(window_inputs()).group_by(*by).agg(*aggregations, *extra)


def _share(condition: pl.Expr) -> pl.Expr:
    """Mean of a boolean over the rows where it is known."""
    return condition.cast(pl.Float64).mean()


def _distinct(column: str) -> pl.Expr:
    """Distinct non-null values of a column (vectorised: no per-group filtering)."""
    values = pl.col(column)
    return values.n_unique() - (values.null_count() > 0).cast(pl.UInt32)


def _top_share(values: pl.Expr) -> pl.Expr:
    """Share of the known values taken by the most frequent one (1.0 = constant)."""
    known = values.drop_nulls()
    return known.unique_counts().max() / known.count()


def _unique_share(column: str) -> pl.Expr:
    """Distinct known values over known values (null when none is known)."""
    known = pl.col(column).count()
    return pl.when(known > 0).then(_distinct(column) / known)


def _entropy(values: pl.Expr, categories: Sequence[object]) -> pl.Expr:
    """Shannon entropy of the values over known ``categories``, normalised to [0, 1].

    Built from one vectorised count per category, ``H = (ln n - sum(c ln c) / n)
    / ln K``, rather than a per-group ``unique_counts``; values outside
    ``categories`` are ignored. Null when no value is in a category.
    """
    counts = [values.eq(category).sum().cast(pl.Float64) for category in categories]
    n = pl.sum_horizontal(counts)
    c_log_c = pl.sum_horizontal(c * c.clip(lower_bound=1.0).log() for c in counts)
    return pl.when(n > 0).then((n.log() - c_log_c / n) / math.log(len(categories)))


def _inter_arrival() -> tuple[pl.Expr, pl.Expr]:
    """Mean and standard deviation of the seconds between consecutive requests.

    The mean needs no ordering: the gaps add up to ``last - first``. The
    deviation sorts the window's times into one list per group and takes the
    list's differences, which polars runs on the whole list column, far faster
    than a per-group ``diff``.
    """
    ts = pl.col("ts")
    n = pl.len()
    mean = pl.when(n > 1).then((ts.max() - ts.min()).dt.total_microseconds() / (n - 1))
    times = ts.sort().dt.epoch("us").cast(pl.Float64).implode()
    return mean / _US_PER_S, times.list.diff(null_behavior="drop").list.std() / _US_PER_S


def _sampling_fingerprint() -> pl.Expr:
    """One hash per combination of the request's sampling parameters."""
    params = ("temperature", "top_p", "max_tokens", "n", "logprobs", "top_logprobs")
    return pl.struct(params).hash(0x5A4D)


def _model_age_s(model_first_seen: pl.DataFrame) -> pl.Expr:
    """Seconds between each request and its model's first appearance in the lake."""
    first_seen = pl.col("model").replace_strict(
        model_first_seen["model"],
        model_first_seen["first_seen"],
        default=None,
        return_dtype=pl.Datetime("us", "UTC"),
    )
    return (pl.col("ts") - first_seen).dt.total_microseconds() / _US_PER_S


def _model_adoption(model_first_seen: pl.DataFrame | None, new_model_days: float) -> list[pl.Expr]:
    """``model_new_share`` and ``model_adoption_hours`` (null without first-seen state)."""
    if model_first_seen is None:
        return [
            pl.lit(None, pl.Float64).alias("model_new_share"),
            pl.lit(None, pl.Float64).alias("model_adoption_hours"),
        ]
    age_s = _model_age_s(model_first_seen)
    is_new = (age_s < new_model_days * _S_PER_DAY).fill_null(False)
    return [
        _share(is_new).alias("model_new_share"),
        (age_s.filter(is_new).min() / _S_PER_HOUR).alias("model_adoption_hours"),
    ]


def window_aggregations(
    model_first_seen: pl.DataFrame | None = None, new_model_days: float = NEW_MODEL_DAYS
) -> list[pl.Expr]:
    """Aggregation expressions of every per-account window feature.

    Parameters
    ----------
    model_first_seen
        Frame with columns ``model`` (String) and ``first_seen`` (Datetime us
        UTC): when each model first appeared in the lake (see
        :func:`features.jobs.model_first_seen`). Without it, the two adoption
        features are null. Models missing from it count as not new.
    new_model_days
        How long after its first appearance a model counts as new.

    Returns
    -------
    list of pl.Expr
        One aliased aggregate per feature of :data:`features.catalog.WINDOW_FEATURES`,
        in that order, for ``group_by(...).agg(...)`` over lake-schema events
        with the :func:`window_inputs` columns (:func:`window_features` adds them).
    """
    ts = pl.col("ts")
    status = pl.col("status")
    prompt_tokens = pl.col("prompt_tokens").sum()
    completion_tokens = pl.col("completion_tokens").sum()
    iat_mean, iat_std = _inter_arrival()
    iat_cv = pl.when(iat_mean > 0).then(iat_std / iat_mean)
    age = (ts.max() - pl.col("account_created_at").min()).dt.total_microseconds()
    return [
        # volume
        pl.len().alias("vol_requests"),
        _share(pl.col("endpoint") == BATCH_ENDPOINT).alias("vol_batch_share"),
        _share(pl.col("stream")).alias("vol_stream_share"),
        _share(pl.col("tool_count") > 0).alias("vol_tool_share"),
        # tokens
        prompt_tokens.alias("tok_prompt_sum"),
        completion_tokens.alias("tok_completion_sum"),
        pl.col("completion_tokens").mean().alias("tok_completion_mean"),
        pl.when(prompt_tokens > 0)
        .then(completion_tokens / prompt_tokens)
        .alias("tok_out_in_ratio"),
        _share(pl.col("completion_tokens") >= pl.col("max_tokens")).alias("tok_cap_hit_share"),
        # sampling parameters
        pl.col(SAMPLING_INPUT).n_unique().alias("samp_fingerprint_distinct"),
        _top_share(pl.col(SAMPLING_INPUT)).alias("samp_fingerprint_top_share"),
        _distinct("max_tokens").alias("samp_max_tokens_distinct"),
        pl.col("max_tokens").mean().alias("samp_max_tokens_mean"),
        pl.col("temperature").mean().alias("samp_temperature_mean"),
        _share(pl.col("temperature") == 0).alias("samp_temperature_zero_share"),
        pl.col("n").mean().alias("samp_n_mean"),
        # log-probabilities and logit bias
        _share(pl.col("logprobs").fill_null(False)).alias("lp_logprobs_share"),
        pl.col("top_logprobs").fill_null(0).mean().alias("lp_top_logprobs_mean"),
        pl.col("top_logprobs").max().alias("lp_top_logprobs_max"),
        _share(pl.col("logit_bias_size").fill_null(0) > 0).alias("lp_logit_bias_share"),
        # timing
        ts.min().alias("time_first"),
        ts.max().alias("time_last"),
        ts.dt.truncate("1m").n_unique().alias("time_active_minutes"),
        iat_mean.alias("time_iat_mean_s"),
        iat_cv.alias("time_iat_cv"),
        # (sd - mean) / (sd + mean) written with a single reference to the costly sd
        (1.0 - 2.0 / (iat_cv + 1.0)).alias("time_burstiness"),
        _entropy(pl.col(HOUR_INPUT), range(24)).alias("time_hour_entropy"),
        # templates and prompt uniqueness
        _distinct("template_sig").alias("tmpl_distinct"),
        _top_share(pl.col("template_sig")).alias("tmpl_top_share"),
        _distinct("template_tail_sig").alias("tmpl_tail_distinct"),
        _unique_share("prompt_hash").alias("tmpl_prompt_unique_share"),
        _distinct("system_prompt_hash").alias("tmpl_system_distinct"),
        # content
        _share(pl.col("prompt_chars").is_not_null()).alias("cont_text_share"),
        pl.col("prompt_chars").mean().alias("cont_prompt_chars_mean"),
        _share(pl.col("cot_score") >= SCORE_THRESHOLD).alias("cont_cot_share"),
        pl.col("cot_score").mean().alias("cont_cot_mean"),
        _share(pl.col("rubric_score") >= SCORE_THRESHOLD).alias("cont_rubric_share"),
        _share(pl.col("reconstruct_score") >= SCORE_THRESHOLD).alias("cont_reconstruct_share"),
        _distinct("topic").alias("cont_topic_distinct"),
        _entropy(pl.col("topic"), _TOPIC_LABELS).alias("cont_topic_entropy"),
        _share(pl.col("topic") == OTHER_TOPIC).alias("cont_topic_other_share"),
        # errors
        _share(status >= 400).alias("err_rate"),
        _share(status == 429).alias("err_429_rate"),
        _share(status >= 500).alias("err_5xx_rate"),
        # models
        _distinct("model").alias("model_distinct"),
        *_model_adoption(model_first_seen, new_model_days),
        # network
        _distinct("client_ip").alias("net_ip_distinct"),
        _distinct(PREFIX_INPUT).alias("net_prefix_distinct"),
        _distinct("asn").alias("net_asn_distinct"),
        _distinct("country").alias("net_country_distinct"),
        _distinct("user_agent").alias("net_ua_distinct"),
        _share(pl.col("asn_kind").is_in(HOSTING_KINDS)).alias("net_hosting_share"),
        _share(pl.col("asn_kind") == "proxy").alias("net_proxy_share"),
        # account
        (age / (_US_PER_S * _S_PER_DAY)).alias("acct_age_days"),
        pl.col("signup_channel").drop_nulls().min().alias("acct_signup_channel"),
        _distinct("api_key_id").alias("acct_api_keys"),
        _distinct("payment_fingerprint").alias("acct_payment_distinct"),
    ]
