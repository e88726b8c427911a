"""
### distillwatch · hourly features

One run per lake hour (`partition_key` = the hour's start, UTC): builds the
per-account features of that hour,
`lake/features/account_hourly/date=YYYY-MM-DD/hour=HH/part-0.parquet`, with
`features.jobs.build_hourly`. The run for hour *H* starts at *H*+1h
(`run_offset=-1`); re-running it replaces the file (idempotent), so late data
is taken in by clearing the run.

Each success emits a partition of the asset `distillwatch_account_hourly`;
`distillwatch_rescoring_daily` runs once all 24 hours of a day have it.

Backfill: `airflow backfill create --dag-id distillwatch_features_hourly
--from-date 2026-11-01T00:00:00 --to-date 2026-11-02T23:00:00` (partition dates,
inclusive).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Asset, CronPartitionTimetable, dag, task

from distillwatch.orchestration import ACCOUNT_HOURLY_ASSET, hour_interval, lake_dir, partition_key

if TYPE_CHECKING:
    from airflow.sdk.types import DagRunProtocol


@dag(
    dag_id="distillwatch_features_hourly",
    schedule=CronPartitionTimetable("0 * * * *", timezone="UTC", run_offset=-1),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={
        "owner": "distillwatch",
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    tags=["distillwatch", "features"],
    doc_md=__doc__,
)
def features_hourly() -> None:
    @task(outlets=[Asset(ACCOUNT_HOURLY_ASSET)])
    def build_hourly_features(dag_run: DagRunProtocol | None = None) -> list[str]:
        """Per-account features of the run's hour; returns the file written."""
        from features.jobs import build_hourly

        return [str(p) for p in build_hourly(lake_dir(), *hour_interval(partition_key(dag_run)))]

    build_hourly_features()


features_hourly()
