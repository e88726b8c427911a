"""
### distillwatch · model maintenance

Daily housekeeping of the online scorer (`models.maintenance`):

* `compact_checkpoints`: keeps the newest 5 scorer checkpoints of each folder
  under `lake/checkpoints/` and deletes older ones;
* `ingest_verdicts`: moves reviewer verdict files (CSV or Parquet with
  `account_id, label, decided_at`) from `lake/verdicts_inbox/` into
  `lake/verdicts/`; a file is written under a name derived from its content, so
  re-running never duplicates verdicts; invalid files go to
  `lake/verdicts_inbox/rejected/` with the reason beside them.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from distillwatch.orchestration import lake_dir


@dag(
    dag_id="distillwatch_model_maintenance",
    schedule="30 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "distillwatch",
        "retries": 2,
        "retry_delay": timedelta(minutes=15),
    },
    tags=["distillwatch", "models", "maintenance"],
    doc_md=__doc__,
)
def model_maintenance() -> None:
    @task
    def compact_checkpoints() -> list[str]:
        """Delete old scorer checkpoints; returns the files deleted."""
        from models.maintenance import compact_checkpoints as compact

        return [str(p) for p in compact(lake_dir())]

    @task
    def ingest_verdicts() -> dict:
        """Move reviewer verdicts from the inbox into the lake; returns what was taken in."""
        from dataclasses import asdict

        from models.maintenance import ingest_verdicts as ingest

        return asdict(ingest(lake_dir()))

    compact_checkpoints()
    ingest_verdicts()


model_maintenance()
