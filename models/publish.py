"""Publication of a rescoring run: dated export folder, diff, indicator bundles, ``latest`` pointer.

A run is published under an exports root (``<lake>/exports`` by default) as::

    runs/<run_id>/
        flagged_accounts.parquet, flagged_accounts.csv   export contract v1 (models.exports)
        campaigns.parquet, campaigns.csv
        diff.parquet, diff.csv                           changes since the previous run
        indicators/<campaign_id>.json                    one indicator bundle per campaign
        manifest.json                                    run id, counts, previous run, files
    latest -> runs/<run_id>                              the newest published run

``run_id`` is the data interval's date (``2026-11-02``) for the daily rescoring,
or a UTC time stamp (``2026-11-02T153000Z``) for an ad-hoc run; run ids sort in
time order, and the *previous* run of a run is the greatest run id below its
own, so re-publishing a day (a retry, a backfill) always diffs against the same
run and gives the same export files (only the manifest's publication time changes).

**Atomic.** The run is assembled in a hidden staging folder beside its final
place (every file written with fsync) and renamed into place; re-publishing an
existing run id swaps the folders (the old one is renamed aside first, so
readers see the old or the new run, and only for that instant neither).
``latest`` is a relative symlink replaced with a rename, and only moves
forward: publishing an older day (a backfill) leaves it on the newest run.

**Diff** (``diff.parquet``/``.csv``): one row per account whose standing
changed, with ``account_id``, ``change``, ``old_tier``, ``new_tier``,
``old_score``, ``new_score`` and ``campaign_id`` (the new one, else the old):

================  ===============================================
``new``           flagged now, not in the previous run
``escalated``     tier went up (low < medium < high)
``de-escalated``  tier went down
``cleared``       flagged in the previous run, not now
================  ===============================================

Accounts whose tier did not change are not listed. The first run lists every
flagged account as ``new``.

**Indicator bundle** (``indicators/<campaign_id>.json``), a JSON object meant
for sharing with other providers, so it holds no account ids and no prompt
text::

    {
      "format": "distillwatch.indicators/v1",
      "campaign_id": "cmp_245ae8c73500",
      "run_id": "2026-11-02",
      "tlp": "amber",
      "first_seen": "2026-11-02T00:00:18.108000Z",
      "last_seen": "2026-11-02T23:59:37.889000Z",
      "n_accounts": 79,
      "n_requests": 2981,
      "score": 0.9999,
      "indicators": [
        {"type": "ip_prefix", "value": "88.198.38.0/24", "n_accounts": 19, "n_requests": 712},
        {"type": "payment_fingerprint", "value": "pf_f8295b5472f7", "n_accounts": 12, ...},
        {"type": "template_signature", "value": "9f1c0e7a5b3d2c11", "n_accounts": 60, ...},
        {"type": "user_agent", "value": "OpenAI/Python 1.52.0", "n_accounts": 69, ...},
        {"type": "asn", "value": "24940", "n_accounts": 30, ...}
      ],
      "evidence": {"shared_template": 69.0, "campaign_extraction": 0.55, ...}
    }

``indicators`` lists, per type, the values shared by at least
:data:`MIN_SHARED_ACCOUNTS` of the campaign's flagged accounts in the scored
events (at most :data:`MAX_INDICATORS_PER_TYPE` per type, most shared first).
Types: ``ip_prefix`` (/24 IPv4, /48 IPv6), ``payment_fingerprint`` (the
gateway's opaque hash of the payment instrument), ``template_signature`` (16
hex digits: hash of the first eight word tokens of the prompt, digits masked,
see ``features.content``; comparable only between deployments of the same
fingerprinting code), ``user_agent`` and ``asn``. ``evidence`` is the
campaign's evidence from the detector (the ``evidence`` member of the
``campaigns`` export's ``indicators``). ``tlp`` is the Traffic Light Protocol
marking: share with trusted peers, not publicly.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from features.windows import network_prefix
from ingest.lake import atomic_path, fsync_dir, write_bytes, write_parquet
from models.exports import CAMPAIGNS_SCHEMA, FLAGGED_PARQUET, FLAGGED_SCHEMA, write_exports

#: Default exports root, under the lake.
EXPORTS = "exports"
RUNS = "runs"
LATEST = "latest"
MANIFEST = "manifest.json"
INDICATORS = "indicators"
BUNDLE_FORMAT = "distillwatch.indicators/v1"
#: A value must be shared by this many accounts of a campaign to be an indicator.
MIN_SHARED_ACCOUNTS = 2
MAX_INDICATORS_PER_TYPE = 10
TIERS: tuple[str, ...] = ("low", "medium", "high")
CHANGES: tuple[str, ...] = ("new", "escalated", "de-escalated", "cleared")
_CSV_TIME = "%Y-%m-%dT%H:%M:%S%.6fZ"

DIFF_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("change", pa.string()),
        ("old_tier", pa.string()),
        ("new_tier", pa.string()),
        ("old_score", pa.float64()),
        ("new_score", pa.float64()),
        ("campaign_id", pa.string()),
    ]
)

#: Indicator types of a bundle, with the expression reading each from lake-schema events.
INDICATOR_COLUMNS: dict[str, pl.Expr] = {
    "ip_prefix": network_prefix(pl.col("client_ip")),
    "payment_fingerprint": pl.col("payment_fingerprint"),
    "template_signature": pl.col("template_sig"),
    "user_agent": pl.col("user_agent"),
    "asn": pl.col("asn"),
}


@dataclass(frozen=True)
class Publication:
    """A published run: where it is, what it diffed against, and what changed."""

    run_id: str
    run_dir: Path
    previous_run: str | None
    n_flagged: int
    n_campaigns: int
    changes: dict[str, int] = field(default_factory=dict)
    is_latest: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable): the manifest, and an Airflow XCom."""
        return asdict(self) | {"run_dir": str(self.run_dir)}


def latest_dir(lake: Path) -> Path:
    """The ``latest`` pointer of the lake's default exports root: the newest published run."""
    return lake / EXPORTS / LATEST


def day_run_id(day: date) -> str:
    """Run id of the daily rescoring of ``day``: its ISO date."""
    return day.isoformat()


def adhoc_run_id(moment: datetime) -> str:
    """Run id of an ad-hoc run at ``moment``: ``YYYY-MM-DDTHHMMSSZ`` (UTC)."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H%M%SZ}"


def published_runs(exports: Path) -> list[str]:
    """Ids of the complete runs under ``exports`` (those with a manifest), oldest first."""
    manifests = (exports / RUNS).glob(f"*/{MANIFEST}")
    return sorted(p.parent.name for p in manifests if not p.parent.name.startswith("."))


def latest_run(exports: Path) -> str | None:
    """Run id the ``latest`` pointer names, or None."""
    pointer = exports / LATEST
    return Path(os.readlink(pointer)).name if pointer.is_symlink() else None


def diff_flags(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Accounts whose standing changed between two flagged-account exports (see module doc).

    Both frames need ``account_id``, ``tier``, ``score`` and ``campaign_id``.
    """
    columns = ["account_id", "tier", "score", "campaign_id"]
    joined = previous.select(columns).join(
        current.select(columns), on="account_id", how="full", coalesce=True, suffix="_new"
    )
    rank = {tier: i for i, tier in enumerate(TIERS)}
    old_rank = pl.col("tier").replace_strict(rank, default=None, return_dtype=pl.Int8)
    new_rank = pl.col("tier_new").replace_strict(rank, default=None, return_dtype=pl.Int8)
    change = (
        pl.when(pl.col("tier").is_null())
        .then(pl.lit("new"))
        .when(pl.col("tier_new").is_null())
        .then(pl.lit("cleared"))
        .when(new_rank > old_rank)
        .then(pl.lit("escalated"))
        .when(new_rank < old_rank)
        .then(pl.lit("de-escalated"))
    )
    return (
        joined.select(
            "account_id",
            change.alias("change"),
            pl.col("tier").alias("old_tier"),
            pl.col("tier_new").alias("new_tier"),
            pl.col("score").cast(pl.Float64).alias("old_score"),
            pl.col("score_new").cast(pl.Float64).alias("new_score"),
            pl.coalesce("campaign_id_new", "campaign_id").alias("campaign_id"),
        )
        .filter(pl.col("change").is_not_null())
        .sort("change", "account_id")
    )


def indicator_bundles(
    flagged: pl.DataFrame, campaigns: pl.DataFrame, events: pl.LazyFrame, run_id: str
) -> dict[str, dict[str, Any]]:
    """One indicator bundle per campaign (see module doc), by campaign id.

    Parameters
    ----------
    flagged, campaigns
        The run's exports.
    events
        Lake-schema events the run scored (only the indicator columns are read).
    """
    members = flagged.filter(pl.col("campaign_id").is_not_null()).select(
        "account_id", "campaign_id"
    )
    shared = _shared_values(events, members)
    bundles = {}
    for campaign in campaigns.iter_rows(named=True):
        campaign_id = campaign["campaign_id"]
        found = shared.filter(pl.col("campaign_id") == campaign_id)
        bundles[campaign_id] = {
            "format": BUNDLE_FORMAT,
            "campaign_id": campaign_id,
            "run_id": run_id,
            "tlp": "amber",
            "first_seen": _rfc3339(campaign["first_seen"]),
            "last_seen": _rfc3339(campaign["last_seen"]),
            "n_accounts": campaign["n_accounts"],
            "n_requests": campaign["n_requests"],
            "score": round(float(campaign["score"]), 4),
            "indicators": [
                {
                    "type": row["type"],
                    "value": _indicator_text(row["type"], row["value"]),
                    "n_accounts": row["n_accounts"],
                    "n_requests": row["n_requests"],
                }
                for row in found.iter_rows(named=True)
            ],
            "evidence": json.loads(campaign["indicators"] or "{}").get("evidence", {}),
        }
    return bundles


def _shared_values(events: pl.LazyFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Per campaign and indicator type, the values most shared among its accounts."""
    values = [expr.cast(pl.String).alias(kind) for kind, expr in INDICATOR_COLUMNS.items()]
    return (
        events.join(members.lazy(), on="account_id")
        .select("campaign_id", "account_id", *values)
        .unpivot(index=["campaign_id", "account_id"], variable_name="type", value_name="value")
        .drop_nulls("value")
        .group_by("campaign_id", "type", "value")
        .agg(pl.col("account_id").n_unique().alias("n_accounts"), pl.len().alias("n_requests"))
        .filter(pl.col("n_accounts") >= MIN_SHARED_ACCOUNTS)
        .sort(
            ["campaign_id", "type", "n_accounts", "n_requests", "value"],
            descending=[False, False, True, True, False],
        )
        .group_by("campaign_id", "type", maintain_order=True)
        .head(MAX_INDICATORS_PER_TYPE)
        .collect()
    )


def _indicator_text(kind: str, value: str) -> str:
    """An indicator value as shared: template signatures as 16 hex digits, others unchanged."""
    return f"{int(value):016x}" if kind == "template_signature" else value


def _rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV atomically, timestamps in RFC 3339 UTC like the export contract."""
    with atomic_path(path) as tmp:
        frame.write_csv(tmp, datetime_format=_CSV_TIME)
    return path


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def publish(
    exports: Path,
    run_id: str,
    flagged: pl.DataFrame,
    campaigns: pl.DataFrame,
    events: pl.LazyFrame,
    *,
    now: datetime | None = None,
) -> Publication:
    """Publish a run's exports under ``exports/runs/<run_id>`` and move ``latest`` (see module doc).

    Parameters
    ----------
    exports
        Exports root, e.g. ``<lake>/exports``.
    run_id
        :func:`day_run_id` or :func:`adhoc_run_id`.
    flagged, campaigns
        The detector's exports (at least the contract's columns; see
        :mod:`models.exports`).
    events
        The events the run scored, for the indicator bundles.
    now
        Publication time recorded in the manifest (default: the current time).
    """
    previous = max((r for r in published_runs(exports) if r < run_id), default=None)
    previous_flags = (
        pl.read_parquet(exports / RUNS / previous / FLAGGED_PARQUET)
        if previous is not None
        else _frame(FLAGGED_SCHEMA.empty_table())
    )
    diff = _frame(diff_flags(previous_flags, flagged).to_arrow().cast(DIFF_SCHEMA))
    campaigns_table = campaigns.select(CAMPAIGNS_SCHEMA.names).to_arrow().cast(CAMPAIGNS_SCHEMA)
    bundles = indicator_bundles(flagged, _frame(campaigns_table), events, run_id)
    current = latest_run(exports)
    publication = Publication(
        run_id=run_id,
        run_dir=exports / RUNS / run_id,
        previous_run=previous,
        n_flagged=flagged.height,
        n_campaigns=campaigns.height,
        changes={change: diff.filter(pl.col("change") == change).height for change in CHANGES},
        is_latest=current is None or run_id >= current,
    )

    for leftover in (exports / RUNS).glob(f".{run_id}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # of an interrupted publication
    staging = exports / RUNS / f".{run_id}.staging-{os.getpid()}"
    write_exports(flagged, campaigns, staging)
    _write_csv(_frame(campaigns_table), staging / "campaigns.csv")
    write_parquet(diff.to_arrow(), staging / "diff.parquet")
    _write_csv(diff, staging / "diff.csv")
    for campaign_id, bundle in bundles.items():
        text = json.dumps(bundle, indent=1).encode()
        write_bytes(text, staging / INDICATORS / f"{campaign_id}.json")
    published_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    manifest = publication.to_dict() | {
        "run_dir": f"{RUNS}/{run_id}",
        "published_at": published_at,
    }
    write_bytes(json.dumps(manifest, indent=1).encode(), staging / MANIFEST)
    _swap_into_place(staging, publication.run_dir)
    if publication.is_latest:
        _point_latest(exports, run_id)
    return publication


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished ``staging`` folder to ``target``, moving an older ``target`` aside."""
    retired = target.with_name(f".{target.name}.retired-{os.getpid()}")
    if target.exists():
        target.replace(retired)
    staging.replace(target)
    fsync_dir(target.parent)
    shutil.rmtree(retired, ignore_errors=True)


def _point_latest(exports: Path, run_id: str) -> None:
    """Make ``exports/latest`` a symlink to ``runs/<run_id>``, replaced atomically by a rename."""
    temporary = exports / f".{LATEST}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(Path(RUNS) / run_id, target_is_directory=True)
    temporary.replace(exports / LATEST)
    fsync_dir(exports)
