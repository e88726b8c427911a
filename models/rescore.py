"""Daily batch rescoring: detect over the lake up to a day's end, publish, render the report.

:func:`rescore_day` is the one call of the daily rescoring DAG (and of
``distillwatch rescore``). It replays the lake's events of the
``lookback_days`` UTC days ending with ``day`` through the detector
(:func:`models.detect.detect`: the same online models as the live scorer, in
event-time order, with campaign detection), publishes the exports as the run
``<day>`` (:func:`models.publish.publish`: dated folder, diff against the
previous day, indicator bundles, ``latest`` pointer) and writes
``report.html`` into the run folder (:func:`models.report.render_report`).

Only event partitions up to ``day`` are read, by their folder names, so
rescoring a past day (a backfill) gives the same run whatever arrived since.
The run's inputs are linked, not copied, into a scratch folder that is deleted
afterwards.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from distillwatch.settings import Settings
from ingest.lake import EVENTS

#: Days of events each rescoring replays: accounts active in them are rescored.
LOOKBACK_DAYS = 28
REPORT = "report.html"


def event_files(lake: Path, day: date, lookback_days: int = LOOKBACK_DAYS) -> list[Path]:
    """Event files of the ``lookback_days`` UTC days ending with ``day``, in partition order."""
    first = day - timedelta(days=lookback_days - 1)
    folders = sorted((lake / EVENTS).glob("date=*"))
    return [
        path
        for folder in folders
        if first <= date.fromisoformat(folder.name.removeprefix("date=")) <= day
        for path in sorted(folder.glob("hour=*/*.parquet"))
    ]


def rescore_day(
    lake: Path,
    day: date,
    out: Path | None = None,
    *,
    lookback_days: int = LOOKBACK_DAYS,
    settings: Settings | None = None,
) -> Path:
    """Rescore the accounts active in the lookback window ending with ``day`` and publish the run.

    Parameters
    ----------
    lake
        Root of the Parquet lake.
    day
        Last UTC day of events scored; the run id.
    out
        Exports root (default ``<lake>/exports``): the run goes to
        ``out/runs/<day>/``, with ``out/latest`` pointing at the newest run.
    lookback_days
        Days of events replayed, ``day`` included.
    settings
        Pipeline settings handed to the detector (from the environment by default).

    Returns
    -------
    Path
        The published run folder (with ``report.html``).

    Raises
    ------
    FileNotFoundError
        If the lake holds no event partition in the window.
    """
    from features.jobs import scan_events
    from models.detect import detect
    from models.exports import CAMPAIGNS_PARQUET, FLAGGED_PARQUET, read_flags
    from models.publish import EXPORTS, day_run_id, publish
    from models.report import render_report

    files = event_files(lake, day, lookback_days)
    if not files:
        raise FileNotFoundError(
            f"no events in {lake / EVENTS} for the {lookback_days} days to {day}"
        )
    exports = out if out is not None else lake / EXPORTS
    with tempfile.TemporaryDirectory(prefix=f"rescore-{day}-") as scratch:
        inputs = Path(scratch) / "events"
        for path in files:
            link = inputs / path.relative_to(lake / EVENTS)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
        detect(inputs, Path(scratch) / "detect", settings)
        results = Path(scratch) / "detect" / "exports"
        flagged = read_flags(results / FLAGGED_PARQUET)
        campaigns = pl.read_parquet(results / CAMPAIGNS_PARQUET)
    publication = publish(exports, day_run_id(day), flagged, campaigns, scan_events(files))
    render_report(lake, publication.run_dir / REPORT, run=publication.run_dir)
    return publication.run_dir
