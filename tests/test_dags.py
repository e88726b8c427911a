"""Airflow DAGs: import without errors, structure, and `dag.test()` runs on a small lake.

Airflow reads its configuration when it is first imported, so every Airflow
step runs in a subprocess whose environment points at a throwaway
``AIRFLOW_HOME`` (SQLite metadata database, migrated once per module), with
``AIRFLOW__CORE__LOAD_EXAMPLES=False``; the test process never imports Airflow.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from distillwatch.orchestration import day_interval, day_of, hour_interval, partition_key
from distillwatch.settings import REPO_ROOT
from ingest.quality import CHECKS
from tests.tiny_lake import lake_day, tiny_lake

__all__ = ["tiny_lake"]  # session fixture used below

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.skipif(importlib.util.find_spec("airflow") is None, reason="needs apache-airflow"),
]

DAGS = REPO_ROOT / "dags"
FEATURES, RESCORING = "distillwatch_features_hourly", "distillwatch_rescoring_daily"
QUALITY, MAINTENANCE = "distillwatch_data_quality", "distillwatch_model_maintenance"
HEAVY = ("polars", "pyarrow", "duckdb", "river", "numpy", "features", "models", "ingest")


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a throwaway Airflow installation with a migrated SQLite database."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    _cli(env, "db", "migrate")
    return env


def _cli(env: Mapping[str, str], *args: str) -> str:
    """Run the ``airflow`` command of this environment; return its output."""
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), *args],
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout


def _airflow(script: str, env: Mapping[str, str]) -> Any:
    """Run ``script`` in a fresh interpreter; return the JSON it prints after ``RESULT``."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    pytest.fail(f"no result (exit {done.returncode}):\n{done.stderr[-4000:]}")


_DESCRIBE = f"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS)!r})
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
dags = {{}}
for dag_id, dag in bag.dags.items():
    condition = getattr(dag.timetable, "asset_condition", None)
    dags[dag_id] = {{
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md or "",
        "catchup": dag.catchup,
        "timetable": type(dag.timetable).__name__,
        "timetable_repr": repr(dag.timetable),
        "schedule_asset": getattr(condition, "name", None),
        "tasks": {{
            t.task_id: {{
                "upstream": sorted(t.upstream_task_ids),
                "retries": t.retries,
                "outlets": [a.name for a in t.outlets],
            }}
            for t in dag.tasks
        }},
    }}
errors = {{str(k): v for k, v in bag.import_errors.items()}}
print("RESULT " + json.dumps({{"errors": errors, "heavy": heavy, "dags": dags}}))
"""


@pytest.fixture(scope="module")
def dagbag(airflow_env: dict[str, str]) -> dict[str, Any]:
    return _airflow(_DESCRIBE, airflow_env)


def test_dag_folder_imports_without_errors(dagbag: dict[str, Any]) -> None:
    assert dagbag["errors"] == {}
    assert set(dagbag["dags"]) == {FEATURES, RESCORING, QUALITY, MAINTENANCE}


def test_parsing_imports_no_heavy_library(dagbag: dict[str, Any]) -> None:
    assert dagbag["heavy"] == []


def test_every_dag_is_documented_tagged_and_retried(dagbag: dict[str, Any]) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert "distillwatch" in dag["tags"], dag_id
        assert dag["doc_md"].strip().startswith("###"), dag_id
        assert dag["catchup"] is False, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, f"{dag_id}.{task_id}"


def test_hourly_dags_run_one_partition_per_past_hour(dagbag: dict[str, Any]) -> None:
    for dag_id in (FEATURES, QUALITY):
        dag = dagbag["dags"][dag_id]
        assert dag["timetable"] == "CronPartitionTimetable"
        assert "'0 * * * *'" in dag["timetable_repr"] and "run_offset=-1" in dag["timetable_repr"]


def test_rescoring_waits_for_a_full_day_of_hourly_features(dagbag: dict[str, Any]) -> None:
    features, rescoring = dagbag["dags"][FEATURES], dagbag["dags"][RESCORING]
    (outlet,) = features["tasks"]["build_hourly_features"]["outlets"]
    assert rescoring["timetable"] == "PartitionedAssetTimetable"
    assert rescoring["schedule_asset"] == outlet
    assert "StartOfDayMapper" in rescoring["timetable_repr"]
    assert "DayWindow" in rescoring["timetable_repr"]
    assert set(rescoring["tasks"]) == {"build_daily_features", "build_links", "rescore"}
    assert all(task["outlets"] for task in rescoring["tasks"].values())


def test_data_quality_runs_each_check_as_its_own_task(dagbag: dict[str, Any]) -> None:
    tasks = dagbag["dags"][QUALITY]["tasks"]
    assert set(tasks) == {f"check_{name}" for name in CHECKS}
    assert all(task["upstream"] == [] for task in tasks.values())


def test_maintenance_compacts_checkpoints_and_ingests_verdicts(dagbag: dict[str, Any]) -> None:
    assert set(dagbag["dags"][MAINTENANCE]["tasks"]) == {"compact_checkpoints", "ingest_verdicts"}


def test_backfill_creates_one_run_per_hour_partition(airflow_env: dict[str, str]) -> None:
    _cli(airflow_env, "dags", "reserialize")
    dry_run = _cli(
        airflow_env,
        *("backfill", "create", "--dag-id", FEATURES, "--dry-run"),
        *("--from-date", "2026-11-02T00:00:00", "--to-date", "2026-11-02T02:00:00"),
    )
    keys = sorted(set(re.findall(r"2026-11-02T0\d:00:00", dry_run)))
    assert keys == ["2026-11-02T00:00:00", "2026-11-02T01:00:00", "2026-11-02T02:00:00"]


# -- dag.test() on a small lake --------------------------------------------------------------
_TEST_RUN = """
import json
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder={dags!r}).dags[{dag_id!r}]
run = dag.test(run_conf={{"partition_key": {key!r}}})
states = {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
print("RESULT " + json.dumps({{"state": str(run.state), "tasks": states}}))
"""


@pytest.fixture
def lake(tiny_lake: Path, tmp_path: Path) -> Path:
    """A fresh lake with the shared lake's events (the DAGs write into it)."""
    shutil.copytree(tiny_lake / "events", tmp_path / "lake" / "events")
    return tmp_path / "lake"


def _test_dag(dag_id: str, key: str, env: Mapping[str, str]) -> dict[str, Any]:
    script = _TEST_RUN.format(dags=str(DAGS), dag_id=dag_id, key=key)
    return _airflow(script, env)


def test_features_dag_builds_the_hour_of_its_partition(
    airflow_env: dict[str, str], lake: Path
) -> None:
    day = lake_day(lake)
    key = f"{day}T05:00:00"
    result = _test_dag(FEATURES, key, {**airflow_env, "DISTILLWATCH_LAKE_DIR": str(lake)})
    assert result == {"state": "success", "tasks": {"build_hourly_features": "success"}}
    written = lake / "features" / "account_hourly" / f"date={day}" / "hour=05" / "part-0.parquet"
    events = pl.read_parquet(lake / "events" / f"date={day}" / "hour=05", hive_partitioning=False)
    assert pl.read_parquet(written).height == events["account_id"].n_unique() > 0


def test_rescoring_dag_publishes_the_day(airflow_env: dict[str, str], lake: Path) -> None:
    day = lake_day(lake)
    env = {
        **airflow_env,
        "DISTILLWATCH_LAKE_DIR": str(lake.parent / "not-the-lake"),
        # The Airflow Variable distillwatch_lake_dir wins over the settings.
        "AIRFLOW_VAR_DISTILLWATCH_LAKE_DIR": str(lake),
    }
    result = _test_dag(RESCORING, day.isoformat(), env)
    assert result["state"] == "success", result
    assert set(result["tasks"].values()) == {"success"}
    features = lake / "features"
    assert (features / "account_daily" / f"date={day}" / "part-0.parquet").exists()
    assert (features / "links" / f"date={day}" / "part-0.parquet").exists()
    run = lake / "exports" / "runs" / day.isoformat()
    for name in (
        "flagged_accounts.parquet",
        "flagged_accounts.csv",
        "campaigns.parquet",
        "campaigns.csv",
        "diff.parquet",
        "diff.csv",
        "manifest.json",
        "report.html",
    ):
        assert (run / name).is_file(), name
    assert (lake / "exports" / "latest").resolve() == run.resolve()
    assert pl.read_parquet(run / "flagged_accounts.parquet").height > 0
    assert not (lake.parent / "not-the-lake").exists()


# -- partition keys ----------------------------------------------------------------------------
class _Run:
    def __init__(self, key: str | None, conf: dict[str, str] | None = None) -> None:
        self.partition_key, self.conf = key, conf


def test_partition_keys_come_from_the_run_or_its_conf() -> None:
    assert partition_key(_Run("2026-11-02T05:00:00")) == "2026-11-02T05:00:00"
    assert partition_key(_Run(None, {"partition_key": "2026-11-02"})) == "2026-11-02"
    with pytest.raises(ValueError, match="no partition key"):
        partition_key(_Run(None, {}))


def test_partition_keys_name_hours_and_days() -> None:
    start, end = hour_interval("2026-11-02T05:00:00")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-02T05:00:00+00:00",
        "2026-11-02T06:00:00+00:00",
    )
    assert day_of("2026-11-02") == day_of("2026-11-02T23:00:00") == date(2026, 11, 2)
    first, last = day_interval("2026-11-02")
    assert (last - first).days == 1 and first.hour == 0
