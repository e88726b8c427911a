"""
### distillwatch · daily rescoring

Runs once per UTC day, as soon as the hourly features DAG has built all 24
hours of the day (partitioned asset `distillwatch_account_hourly`, rolled up by
day), with `partition_key` = the day:

* `build_daily_features`: `lake/features/account_daily/date=.../part-0.parquet`;
* `build_links`: the day's cross-account edges, `lake/features/links/date=.../part-0.parquet`;
* `rescore`: `models.rescore.rescore_day`: replays the lake's events of the last
  28 days up to the day's end through the detector (online models, campaign
  detection), publishes `lake/exports/runs/<day>/` (flagged accounts and
  campaigns as Parquet and CSV, the diff against the previous day, indicator
  bundles, `report.html`) and moves `lake/exports/latest` forward.

Every task rewrites its own outputs, so a retry or a re-run gives the same exports.
Rescoring runs one at a time (each run diffs against the day before).
Trigger a day by hand: `--conf '{"partition_key": "2026-11-02"}'`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import (
    Asset,
    DayWindow,
    PartitionedAssetTimetable,
    RollupMapper,
    StartOfDayMapper,
    dag,
    task,
)

from distillwatch.orchestration import (
    ACCOUNT_DAILY_ASSET,
    ACCOUNT_HOURLY_ASSET,
    EXPORTS_ASSET,
    LINKS_ASSET,
    day_interval,
    day_of,
    lake_dir,
    partition_key,
)

if TYPE_CHECKING:
    from airflow.sdk.types import DagRunProtocol


@dag(
    dag_id="distillwatch_rescoring_daily",
    schedule=PartitionedAssetTimetable(
        assets=Asset(ACCOUNT_HOURLY_ASSET),
        default_partition_mapper=RollupMapper(
            upstream_mapper=StartOfDayMapper(), window=DayWindow()
        ),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "distillwatch",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
    },
    tags=["distillwatch", "scoring", "exports"],
    doc_md=__doc__,
)
def rescoring_daily() -> None:
    @task(outlets=[Asset(ACCOUNT_DAILY_ASSET)])
    def build_daily_features(dag_run: DagRunProtocol | None = None) -> str:
        """Per-account features of the run's day; returns the file written."""
        from features.jobs import build_daily

        return str(build_daily(lake_dir(), day_of(partition_key(dag_run))))

    @task(outlets=[Asset(LINKS_ASSET)])
    def build_links(dag_run: DagRunProtocol | None = None) -> str:
        """Cross-account edges of the run's day; returns the file written."""
        from features.jobs import build_links

        return str(build_links(lake_dir(), *day_interval(partition_key(dag_run))))

    @task(outlets=[Asset(EXPORTS_ASSET)], execution_timeout=timedelta(hours=6))
    def rescore(dag_run: DagRunProtocol | None = None) -> str:
        """Detect, publish the day's run and its report; returns the run folder."""
        from models.rescore import rescore_day

        return str(rescore_day(lake_dir(), day_of(partition_key(dag_run))))

    build_daily_features()
    build_links()
    rescore()


rescoring_daily()
