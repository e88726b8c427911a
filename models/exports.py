"""The flagged-account export (contract v1): ``flagged_accounts`` and ``campaigns`` files.

``flagged_accounts.parquet`` and ``flagged_accounts.csv`` hold the same rows
and columns, one row per flagged account, highest score first:

======================  ==========================  ==============================================
column                  type                        meaning
======================  ==========================  ==============================================
``account_id``          string                      the account
``score``               float 0–1                   risk score at the end of the run (a flag
                                                    stands even if it fell below 0.6 since)
``tier``                ``high``/``medium``/``low``  action tier
``campaign_id``         string or null              campaign the account was linked to
``first_flagged_at``    timestamp (UTC)             event time of the first threshold crossing
``reasons``             string                      ``code:value`` reasons, most important first
``own_score``           float 0–1                   score from the account's own evidence alone
``campaign_score``      float 0–1                   score of its campaign (0 without one)
``n_requests``          integer                     requests seen from the account
``first_seen``          timestamp (UTC)             its first event (for time-to-detect)
``last_seen``           timestamp (UTC)             its latest event
======================  ==========================  ==============================================

``campaigns.parquet``: ``campaign_id``, ``n_accounts``, ``n_requests``,
``first_seen``, ``last_seen``, ``score`` and ``indicators``, a JSON object
string: ``payment_fingerprints``, ``network_prefixes`` and ``user_agents``
shared by at least two of its accounts (value → accounts), and ``evidence``
(the campaign evidence quantities of :func:`models.scoring.campaign_evidence`).

In the CSV, timestamps are RFC 3339 UTC with microseconds (``...Z``) and a
null ``campaign_id`` is an empty field. Every file is written atomically
(temporary name, fsync, rename), so a reader never sees a partial export.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa

from ingest.lake import atomic_path, write_parquet

_TS = pa.timestamp("us", tz="UTC")

FLAGGED_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("score", pa.float64()),
        ("tier", pa.string()),
        ("campaign_id", pa.string()),
        ("first_flagged_at", _TS),
        ("reasons", pa.string()),
        ("own_score", pa.float64()),
        ("campaign_score", pa.float64()),
        ("n_requests", pa.int64()),
        ("first_seen", _TS),
        ("last_seen", _TS),
    ]
)

CAMPAIGNS_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("n_accounts", pa.int64()),
        ("n_requests", pa.int64()),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("score", pa.float64()),
        ("indicators", pa.string()),
    ]
)

FLAGGED_PARQUET = "flagged_accounts.parquet"
FLAGGED_CSV = "flagged_accounts.csv"
CAMPAIGNS_PARQUET = "campaigns.parquet"


def _table(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    return frame.select(schema.names).to_arrow().cast(schema)


def write_exports(flagged: pl.DataFrame, campaigns: pl.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write the three export files into ``out_dir``; return their paths by file name.

    Parameters
    ----------
    flagged
        Frame with at least the :data:`FLAGGED_SCHEMA` columns.
    campaigns
        Frame with at least the :data:`CAMPAIGNS_SCHEMA` columns.
    out_dir
        Folder of the export (created if missing), usually ``DIR/exports``.
    """
    flagged_table = _table(flagged, FLAGGED_SCHEMA)
    paths = {
        FLAGGED_PARQUET: write_parquet(flagged_table, out_dir / FLAGGED_PARQUET),
        CAMPAIGNS_PARQUET: write_parquet(
            _table(campaigns, CAMPAIGNS_SCHEMA), out_dir / CAMPAIGNS_PARQUET
        ),
    }
    csv = pl.from_arrow(flagged_table)
    assert isinstance(csv, pl.DataFrame)
    with atomic_path(out_dir / FLAGGED_CSV) as tmp:
        csv.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
    paths[FLAGGED_CSV] = out_dir / FLAGGED_CSV
    return paths


def read_flags(path: Path) -> pl.DataFrame:
    """A flagged-accounts export (Parquet or CSV) as a frame of :data:`FLAGGED_SCHEMA` types."""
    if path.suffix == ".csv":
        frame = pl.read_csv(path, schema_overrides={"campaign_id": pl.String})
        return frame.with_columns(
            pl.col(name).str.to_datetime(time_zone="UTC", time_unit="us")
            for name in ("first_flagged_at", "first_seen", "last_seen")
            if name in frame.columns
        )
    return pl.read_parquet(path)
