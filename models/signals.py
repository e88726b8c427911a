"""Per-account window signals: the ``features.windows`` aggregates plus what detection adds.

Every window the online scorer closes is summarised per account by
:func:`account_windows`: all of :func:`features.windows.window_aggregations`
(one definition of every feature, shared with the batch jobs and Airflow),
plus the few counts the detectors need that the catalogue does not define yet
(:func:`detection_aggregations`): how many requests elicit reasoning of each
kind, how many combine that with a large output cap, how many look like logit
harvesting, and the hours of the day the account was active. They are counts,
not shares, so that the scorer can add them up across windows.

:func:`model_features` turns a window row into the fixed feature vector of the
river models (:mod:`models.anomaly`, :mod:`models.classifier`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from features.windows import SCORE_THRESHOLD, window_features

#: A request with ``max_tokens`` at least this large asks for a long answer
#: (full reasoning traces); a null cap is not counted (unknown).
LONG_OUTPUT_TOKENS = 8_000
#: A request with a logit-bias map at least this large probes the next-token
#: distribution (logit harvesting, Carlini et al. 2024); evaluation harnesses
#: bias a handful of answer tokens only.
HARVEST_LOGIT_BIAS = 32
#: Bits of the per-account sketch of the head templates its reasoning-elicitation
#: requests used (a linear-counting bitmap, see :func:`models.scoring.account_rates`):
#: :data:`TEMPLATE_SKETCH_WORDS` words of 64 bits.
TEMPLATE_SKETCH_WORDS = 4
TEMPLATE_SKETCH_BITS = 64 * TEMPLATE_SKETCH_WORDS
#: Window columns of the template sketch, one 64-bit word each.
TEMPLATE_SKETCH_COLUMNS: tuple[str, ...] = tuple(
    f"det_tmpl_bits_{w}" for w in range(TEMPLATE_SKETCH_WORDS)
)

#: Columns of :func:`detection_aggregations`.
DETECTION_COUNTS: tuple[str, ...] = (
    "det_content_known",
    "det_cot",
    "det_rubric",
    "det_reconstruct",
    "det_extraction",
    "det_extraction_long",
    "det_harvest",
    "det_hosting",
    "det_hour_mask",
    "det_extraction_tmpl",
    *TEMPLATE_SKETCH_COLUMNS,
)

#: Window features fed to the river models, with the transform applied to each.
MODEL_FEATURES: tuple[str, ...] = (
    "vol_requests",
    "tok_completion_mean",
    "samp_max_tokens_mean",
    "samp_temperature_zero_share",
    "lp_logprobs_share",
    "lp_logit_bias_share",
    "time_iat_cv",
    "tmpl_top_share",
    "tmpl_prompt_unique_share",
    "cont_cot_share",
    "cont_rubric_share",
    "cont_reconstruct_share",
    "cont_topic_entropy",
    "err_429_rate",
    "net_hosting_share",
    "acct_age_days",
)
_LOG_SCALED = frozenset(
    {"vol_requests", "tok_completion_mean", "samp_max_tokens_mean", "acct_age_days"}
)


def _is(score: str) -> pl.Expr:
    return pl.col(score) >= SCORE_THRESHOLD


def detection_aggregations() -> list[pl.Expr]:
    """Per-account counts the detectors add to the window features.

    ``det_extraction`` counts requests that elicit chain-of-thought, rubric
    grading or reasoning reconstruction (any content score at or above
    ``features.windows.SCORE_THRESHOLD``); ``det_extraction_long`` those of them
    that also ask for at least :data:`LONG_OUTPUT_TOKENS` output tokens;
    ``det_harvest`` requests with a logit-bias map of at least
    :data:`HARVEST_LOGIT_BIAS` entries; ``det_hosting`` requests from hosting
    or proxy networks; ``det_hour_mask`` has bit ``h`` set when the account
    sent a request in UTC hour ``h``.

    ``det_extraction_tmpl`` counts the reasoning-elicitation requests whose head
    template (``template_sig``) is known, and ``det_tmpl_bits_<w>`` set bit
    ``b`` of word ``w`` when one of them had ``template_sig`` ≡ ``64 w + b``
    (mod :data:`TEMPLATE_SKETCH_BITS`): OR-ed across windows, the words are a
    fixed-size sketch of how many distinct templates the account's extraction
    traffic used, so the scorer can tell a harvesting pipeline filling a few
    templates from a person asking new questions (template reuse).
    """
    extraction = _is("cot_score") | _is("rubric_score") | _is("reconstruct_score")
    long_output = pl.col("max_tokens").fill_null(0) >= LONG_OUTPUT_TOKENS
    hours = pl.col("ts").dt.hour().unique().cast(pl.Int64)
    return [
        pl.col("cot_score").is_not_null().sum().alias("det_content_known"),
        _is("cot_score").sum().alias("det_cot"),
        _is("rubric_score").sum().alias("det_rubric"),
        _is("reconstruct_score").sum().alias("det_reconstruct"),
        extraction.sum().alias("det_extraction"),
        (extraction & long_output).sum().alias("det_extraction_long"),
        (pl.col("logit_bias_size").fill_null(0) >= HARVEST_LOGIT_BIAS).sum().alias("det_harvest"),
        pl.col("asn_kind").is_in(["hosting", "proxy"]).sum().alias("det_hosting"),
        pl.lit(2, pl.Int64).pow(hours).sum().alias("det_hour_mask"),
        (extraction & pl.col("template_sig").is_not_null()).sum().alias("det_extraction_tmpl"),
        *_template_sketch(extraction),
    ]


def _template_sketch(extraction: pl.Expr) -> list[pl.Expr]:
    """The words of the window's template sketch (see :func:`detection_aggregations`)."""
    bit = (
        pl.when(extraction)
        .then(pl.col("template_sig") % TEMPLATE_SKETCH_BITS)
        .cast(pl.Int64)
        .drop_nulls()
        .unique()
    )
    return [
        pl.lit(2, pl.UInt64)
        .pow((bit % 64).filter(bit // 64 == w))
        .cast(pl.UInt64)
        .sum()
        .cast(pl.UInt64)
        .alias(column)
        for w, column in enumerate(TEMPLATE_SKETCH_COLUMNS)
    ]


def account_windows(
    events: pl.DataFrame, model_first_seen: pl.DataFrame | None, window: str | None = None
) -> pl.DataFrame:
    """One row per account of ``events`` (one window): window features and detection counts.

    Parameters
    ----------
    events
        Lake-schema events of one window, or of several with ``window``.
    model_first_seen
        When each model first appeared (``model``, ``first_seen``), for the
        model-adoption features; None leaves them null.
    window
        Column of ``events`` telling the window of each event: then one row per
        window and account (one pass over many windows costs far less than
        one per window).

    Returns
    -------
    pl.DataFrame
        ``window`` (if given), ``account_id``, the :mod:`features.windows`
        columns and :data:`DETECTION_COUNTS`, sorted by window and
        ``account_id`` (deterministic).
    """
    keys = ["account_id"] if window is None else [window, "account_id"]
    return window_features(events, keys, model_first_seen, extra=detection_aggregations()).sort(
        keys
    )


def model_features(windows: pl.DataFrame) -> np.ndarray:
    """The river models' feature vector of each window row (nulls as 0, counts log-scaled).

    One row per window, one column per name of :data:`MODEL_FEATURES`.
    """
    columns = [
        (
            pl.col(name).cast(pl.Float64).fill_null(0.0).fill_nan(0.0).clip(lower_bound=0.0).log1p()
            if name in _LOG_SCALED
            else pl.col(name).cast(pl.Float64).fill_null(0.0).fill_nan(0.0)
        ).alias(name)
        for name in MODEL_FEATURES
    ]
    return windows.select(columns).to_numpy()
