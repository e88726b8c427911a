"""What the Airflow DAGs of ``dags/`` share: asset names, the lake root, partition intervals.

DAG files import this module at parse time, so it imports nothing heavy (no
polars, no pyarrow, no Airflow at top level) and reads no configuration until
a task calls it.

**Partitions.** The hourly DAGs use Airflow's partitioned schedules: each run
has a ``partition_key`` naming one lake hour, ``YYYY-MM-DDTHH:MM:SS`` (the
start of the hour, UTC), and the daily rescoring DAG's runs have the day,
``YYYY-MM-DD``. Runs created without one (``dag.test()``, or ``airflow dags
trigger`` which has no partition option) may pass it as
``--conf '{"partition_key": "..."}'``.

**Lake root.** The Airflow Variable ``distillwatch_lake_dir`` when it is set,
else ``DISTILLWATCH_LAKE_DIR`` (the settings object), read when the task runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from distillwatch.settings import get_settings

#: Airflow Variable that overrides the lake root for every task.
LAKE_VARIABLE = "distillwatch_lake_dir"
#: Asset names: hourly features (one partition per hour), daily features, links, exports.
ACCOUNT_HOURLY_ASSET = "distillwatch_account_hourly"
ACCOUNT_DAILY_ASSET = "distillwatch_account_daily"
LINKS_ASSET = "distillwatch_account_links"
EXPORTS_ASSET = "distillwatch_exports"

_HOUR_KEY = "%Y-%m-%dT%H:%M:%S"


def lake_dir() -> Path:
    """Lake root for the running task (see module doc)."""
    from airflow.sdk import Variable

    override = Variable.get(LAKE_VARIABLE, default=None)
    return Path(override) if override else get_settings().lake_dir


def partition_key(dag_run: Any) -> str:
    """The run's partition key, or the ``partition_key`` of its conf.

    Raises
    ------
    ValueError
        If the run has neither.
    """
    key = getattr(dag_run, "partition_key", None) or (dag_run.conf or {}).get("partition_key")
    if not key:
        raise ValueError(
            "this DAG run has no partition key: let the schedule create it, or trigger with"
            ' --conf \'{"partition_key": "2026-11-02T05:00:00"}\' (a day for the daily DAG)'
        )
    return str(key)


def hour_interval(key: str) -> tuple[datetime, datetime]:
    """[start, end) of the UTC hour a partition key names."""
    start = datetime.strptime(key, _HOUR_KEY).replace(tzinfo=UTC)
    return start, start + timedelta(hours=1)


def day_of(key: str) -> date:
    """The UTC day a partition key names (a day, or any hour of it)."""
    return date.fromisoformat(key[:10])


def day_interval(key: str) -> tuple[datetime, datetime]:
    """[start, end) of the UTC day a partition key names."""
    start = datetime.combine(day_of(key), time(), tzinfo=UTC)
    return start, start + timedelta(days=1)
