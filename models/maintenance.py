"""Model maintenance: checkpoint compaction and verdict ingestion (the maintenance DAG's tasks).

**Checkpoint compaction.** The online scorer snapshots itself
(:meth:`models.online.OnlineScorer.snapshot`) into files under
``lake/checkpoints/`` (one folder per scorer, or the folder itself).
:func:`compact_checkpoints` keeps the newest ``keep`` files of each folder and
deletes the rest. Checkpoint names must sort in time order (zero-padded offsets
or UTC time stamps); hidden files (in-flight temporary names) are never touched.

**Verdict ingestion.** Reviewers drop files into ``lake/verdicts_inbox/``:
CSV or Parquet with the columns

==================  =======================================================
``account_id``      the account reviewed
``label``           ``abuse``, ``benign`` or ``inconclusive`` (any case)
``decided_at``      when the decision was made: RFC 3339 text, or a timestamp
==================  =======================================================

:func:`ingest_verdicts` validates each file and appends its rows to
``lake/verdicts/<digest>.parquet`` (:data:`VERDICTS_SCHEMA`), where ``digest``
is a hash of the file's bytes: ingesting the same file again rewrites the same
output, so a retried or repeated run never duplicates verdicts. The file then
moves to ``verdicts_inbox/processed/``; a file that fails validation moves to
``verdicts_inbox/rejected/`` with a ``<name>.reason.txt`` beside it, and the
others are still ingested.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingest.lake import write_bytes, write_parquet

CHECKPOINTS = "checkpoints"
INBOX = "verdicts_inbox"
VERDICTS = "verdicts"
PROCESSED = "processed"
REJECTED = "rejected"
#: Checkpoints kept per folder by default.
KEEP_CHECKPOINTS = 5
VERDICT_LABELS: tuple[str, ...] = ("abuse", "benign", "inconclusive")

_TS = pa.timestamp("us", tz="UTC")
#: Every file under ``lake/verdicts`` has exactly these columns.
VERDICTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("label", pa.string()),
        ("decided_at", _TS),
        ("source_file", pa.string()),
        ("ingested_at", _TS),
    ]
)


def compact_checkpoints(lake: Path, keep: int = KEEP_CHECKPOINTS) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints of each folder under ``lake/checkpoints``.

    Returns
    -------
    list of Path
        The files deleted.
    """
    if keep < 1:
        raise ValueError(f"keep at least one checkpoint, not {keep}")
    root = lake / CHECKPOINTS
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())] if root.exists() else []
    removed: list[Path] = []
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        for path in files[:-keep]:
            path.unlink()
            removed.append(path)
    return removed


@dataclass
class VerdictIngest:
    """What :func:`ingest_verdicts` did: files taken in, rows written, files rejected and why."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


class InvalidVerdictsError(ValueError):
    """A verdict file that cannot be ingested; the message says why."""


def read_verdict_file(path: Path) -> pl.DataFrame:
    """Validated verdicts of one inbox file: ``account_id``, ``label``, ``decided_at`` (UTC).

    Raises
    ------
    InvalidVerdictsError
        If a column is missing, an account id is empty, a label is unknown or a
        decision time cannot be read.
    """
    try:
        raw = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidVerdictsError(f"unreadable: {exc}") from exc
    missing = {"account_id", "label", "decided_at"} - set(raw.columns)
    if missing:
        raise InvalidVerdictsError(f"missing columns {sorted(missing)}")
    decided = pl.col("decided_at")
    if raw.schema["decided_at"] == pl.String:
        decided = decided.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    elif isinstance(raw.schema["decided_at"], pl.Datetime):
        decided = decided.dt.replace_time_zone(None).dt.replace_time_zone("UTC")
    else:
        raise InvalidVerdictsError(f"decided_at has type {raw.schema['decided_at']}")
    frame = raw.select(
        pl.col("account_id").cast(pl.String).str.strip_chars(),
        pl.col("label").cast(pl.String).str.strip_chars().str.to_lowercase(),
        decided.dt.cast_time_unit("us").alias("decided_at"),
    )
    problems = {
        "empty account_id": pl.col("account_id").is_null() | (pl.col("account_id") == ""),
        f"label not one of {VERDICT_LABELS}": ~pl.col("label")
        .is_in(VERDICT_LABELS)
        .fill_null(False),
        "unreadable decided_at": pl.col("decided_at").is_null(),
    }
    for reason, condition in problems.items():
        bad = frame.with_row_index("row").filter(condition)
        if bad.height:
            raise InvalidVerdictsError(f"{reason} in row {bad['row'][0] + 1} ({bad.height} rows)")
    return frame.unique().sort("decided_at", "account_id", "label")


def ingest_verdicts(lake: Path, *, now: datetime | None = None) -> VerdictIngest:
    """Move every verdict file of ``lake/verdicts_inbox`` into ``lake/verdicts`` (see module doc).

    Parameters
    ----------
    now
        Time stamped in ``ingested_at`` (default: the current time).
    """
    inbox = lake / INBOX
    stamp = now or datetime.now(UTC)
    result = VerdictIngest()
    candidates = sorted(
        p for p in inbox.glob("*") if p.is_file() and p.suffix in {".csv", ".parquet"}
    )
    for path in candidates:
        try:
            frame = read_verdict_file(path)
        except InvalidVerdictsError as exc:
            result.rejected[path.name] = str(exc)
            write_bytes(f"{exc}\n".encode(), inbox / REJECTED / f"{path.name}.reason.txt")
            _move(path, inbox / REJECTED)
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        table = frame.with_columns(
            pl.lit(path.name).alias("source_file"),
            pl.lit(stamp).dt.replace_time_zone("UTC").dt.cast_time_unit("us").alias("ingested_at"),
        )
        write_parquet(table.to_arrow().cast(VERDICTS_SCHEMA), lake / VERDICTS / f"{digest}.parquet")
        _move(path, inbox / PROCESSED)
        result.files.append(path.name)
        result.rows += frame.height
    return result


def _move(path: Path, folder: Path) -> None:
    """Move ``path`` into ``folder`` (same file system: a rename), replacing a namesake."""
    folder.mkdir(parents=True, exist_ok=True)
    path.replace(folder / path.name)
