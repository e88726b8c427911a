"""``distillwatch eval``: flagged accounts against the simulator's ground truth.

Inputs: the labels CSV (``account_id, population, campaign_id, campaign_type,
campaign_start``; campaign accounts have population ``campaign``) and a
flagged-accounts export (Parquet or CSV). An account is *flagged* when it has a
row in the export (any tier, or at least ``min_tier``).

Metrics:

* account precision, recall and F1; PR-AUC (average precision) over every
  labelled account, ranked by export score (unflagged accounts score 0), when
  the export has scores;
* recall per campaign and per campaign type;
* false-positive rate per benign population (flagged / accounts);
* time to detect: per campaign, its earliest ``first_flagged_at`` minus its
  ``campaign_start``; per flagged campaign account, its ``first_flagged_at``
  minus its first event (``first_seen`` of the export); medians in minutes.
* detection latency once a campaign shows: per campaign, its earliest
  ``first_flagged_at`` minus the later of its ``campaign_start`` and its first
  request (the earliest ``first_seen`` of its flagged accounts). A campaign's
  labelled start is when its operator begins, but its accounts may send their
  first request much later (a single whale account, a few logit harvesters):
  no detector sees anything before that request, so the time to detect has a
  floor set by the campaign, and this latency is the detector's share of it.
  The export knows no unflagged account's events, so a campaign whose
  unflagged members sent earlier shows a latency shorter than its true one.

Flagged accounts missing from the labels count as false positives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from models.exports import read_flags

TIERS = ("low", "medium", "high")
_MINUTE_US = 60e6


def _labels(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(
        path,
        schema_overrides={
            "account_id": pl.String,
            "population": pl.String,
            "campaign_id": pl.String,
            "campaign_type": pl.String,
            "campaign_start": pl.String,
        },
    )
    return frame.with_columns(
        pl.col("campaign_start").str.to_datetime(time_zone="UTC", time_unit="us", strict=False),
        (pl.col("population") == "campaign").alias("positive"),
    )


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Average precision (area under the precision-recall curve, step-wise), ties grouped."""
    n_pos = int(positive.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], positive[order].astype(np.float64)
    tp = np.cumsum(y)
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tp_at, n_at = tp[last_of_tie], np.flatnonzero(last_of_tie) + 1
    precision = tp_at / n_at
    recall_gain = np.diff(np.r_[0.0, tp_at]) / n_pos
    return float((precision * recall_gain).sum())


def _minutes(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds() / _MINUTE_US


def _median(values: pl.Series) -> float | None:
    clean = values.drop_nulls()
    return None if clean.is_empty() else float(clean.median())  # type: ignore[arg-type]


def _first_request(joined: pl.DataFrame) -> pl.Expr:
    """A campaign's first request as far as the export shows it (null without ``first_seen``)."""
    if "first_seen" not in joined.columns:
        return pl.lit(None, pl.Datetime("us", "UTC")).alias("first_request")
    return pl.col("first_seen").filter(pl.col("flagged")).min().alias("first_request")


def evaluate(labels: Path, flags: Path, min_tier: str = "low") -> dict[str, Any]:
    """Compare a flagged-accounts export with the labels; return every metric as a dict.

    Parameters
    ----------
    labels
        Labels CSV of the simulator.
    flags
        ``flagged_accounts.parquet`` or ``.csv``.
    min_tier
        Lowest tier that counts as flagged.
    """
    truth = _labels(labels)
    exported = read_flags(flags)
    kept = exported.filter(
        pl.col("tier").replace_strict({t: i for i, t in enumerate(TIERS)}, default=0)
        >= TIERS.index(min_tier)
    )
    joined = truth.join(
        kept.select(
            "account_id",
            "score",
            "first_flagged_at",
            *(["first_seen"] if "first_seen" in kept.columns else []),
        ),
        on="account_id",
        how="left",
    ).with_columns(pl.col("score").is_not_null().alias("flagged"))
    unlabelled = kept.filter(~pl.col("account_id").is_in(truth["account_id"].implode())).height

    tp = joined.filter(pl.col("positive") & pl.col("flagged")).height
    fp = joined.filter(~pl.col("positive") & pl.col("flagged")).height + unlabelled
    fn = joined.filter(pl.col("positive") & ~pl.col("flagged")).height
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    scores = joined["score"].fill_null(0.0).to_numpy()
    pr_auc = average_precision(scores, joined["positive"].to_numpy())

    campaigns = (
        joined.filter(pl.col("positive"))
        .group_by("campaign_id", "campaign_type")
        .agg(
            pl.len().alias("accounts"),
            pl.col("flagged").sum().alias("flagged"),
            pl.col("campaign_start").min(),
            pl.col("first_flagged_at").min().alias("first_flag"),
            _first_request(joined),
        )
        .with_columns(
            (pl.col("flagged") / pl.col("accounts")).alias("recall"),
            _minutes(pl.col("first_flag") - pl.col("campaign_start")).alias("minutes_to_detect"),
            # null, not the time to detect, when the export has no first_seen
            _minutes(
                pl.when(pl.col("first_request").is_not_null()).then(
                    pl.col("first_flag") - pl.max_horizontal("campaign_start", "first_request")
                )
            ).alias("minutes_after_first_request"),
        )
        .drop("first_request")
        .sort("campaign_id")
    )
    by_type = (
        campaigns.group_by("campaign_type")
        .agg(pl.col("accounts").sum(), pl.col("flagged").sum())
        .with_columns((pl.col("flagged") / pl.col("accounts")).alias("recall"))
        .sort("campaign_type")
    )
    populations = (
        joined.filter(~pl.col("positive"))
        .group_by("population")
        .agg(pl.len().alias("accounts"), pl.col("flagged").sum().alias("flagged"))
        .with_columns((pl.col("flagged") / pl.col("accounts")).alias("fpr"))
        .sort("population")
    )
    account_ttd = (
        joined.filter(pl.col("positive") & pl.col("flagged"))
        .select(_minutes(pl.col("first_flagged_at") - pl.col("first_seen")))
        .to_series()
        if "first_seen" in joined.columns
        else pl.Series([], dtype=pl.Float64)
    )
    return {
        "accounts": {
            "labelled": truth.height,
            "campaign_accounts": int(truth["positive"].sum()),
            "flagged": kept.height,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "flagged_unlabelled": unlabelled,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "pr_auc": pr_auc,
        },
        "campaigns": campaigns.drop("campaign_start", "first_flag").to_dicts(),
        "campaign_types": by_type.to_dicts(),
        "populations": populations.to_dicts(),
        "time_to_detect_minutes": {
            "campaign_median": _median(campaigns["minutes_to_detect"]),
            "campaign_median_after_first_request": _median(
                campaigns["minutes_after_first_request"]
            ),
            "account_median": _median(account_ttd),
            "account_p90": (
                None
                if account_ttd.drop_nulls().is_empty()
                else float(account_ttd.drop_nulls().quantile(0.9))  # type: ignore[arg-type]
            ),
        },
    }


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _table(title: str, rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return [title, "  (none)", ""]
    columns = list(rows[0])
    cells = [[_fmt(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [title, "  " + line, "  " + "  ".join("-" * w for w in widths)]
    out += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return [*out, ""]


def render_table(result: dict[str, Any]) -> str:
    """The evaluation as plain-text tables."""
    accounts = [{"metric": k, "value": v} for k, v in result["accounts"].items()]
    ttd = [{"metric": k, "value": v} for k, v in result["time_to_detect_minutes"].items()]
    lines = (
        _table("Accounts", accounts)
        + _table("Campaigns", result["campaigns"])
        + _table("Campaign types", result["campaign_types"])
        + _table("Benign populations (false-positive rate)", result["populations"])
        + _table("Time to detect (minutes of event time)", ttd)
    )
    return "\n".join(lines)


def render_json(result: dict[str, Any]) -> str:
    """The evaluation as JSON."""
    return json.dumps(result, indent=1, default=str)
