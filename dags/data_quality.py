"""
### distillwatch · data quality

One run per lake hour, like the features DAG (`partition_key` = the hour's
start, UTC), each check a task of its own so a failure names what broke
(`ingest.quality`):

* `check_row_counts`: rows in the hour's event files reconcile with the ingest
  log (accepted, rejected, consumed) of the batches that wrote them; no orphan files;
* `check_schema`: every event and quarantine file has the pinned schema;
* `check_freshness`: the newest event at the hour's end is at most 2 h old;
* `check_quarantine_rate`: at most 2 % of the batches' messages were rejected.

A failed check fails its task (alerting through the usual Airflow callbacks or
e-mail); it does not block the features or the rescoring.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import CronPartitionTimetable, dag, task

from distillwatch.orchestration import hour_interval, lake_dir, partition_key

if TYPE_CHECKING:
    from airflow.sdk.types import DagRunProtocol

#: The checks of ingest.quality.CHECKS, one task each.
CHECKS = ("row_counts", "schema", "freshness", "quarantine_rate")


@dag(
    dag_id="distillwatch_data_quality",
    schedule=CronPartitionTimetable("0 * * * *", timezone="UTC", run_offset=-1),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={
        "owner": "distillwatch",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
    },
    tags=["distillwatch", "data-quality"],
    doc_md=__doc__,
)
def data_quality() -> None:
    @task
    def check(name: str, dag_run: DagRunProtocol | None = None) -> dict:
        """Run one data-quality check over the run's hour; fail the task if it fails."""
        from ingest.quality import require_quality

        start, end = hour_interval(partition_key(dag_run))
        return require_quality(lake_dir(), start, end, checks=[name])

    for name in CHECKS:
        check.override(task_id=f"check_{name}")(name)


data_quality()
