"""A simulated lake shared by the SQL, publication, report and DAG tests, built once per session.

The ``tiny`` simulation (about a day of traffic, labelled campaigns) is loaded
with :func:`distillwatch.lakefile.lake_from_file` and **with prompt text kept**
(``keep_prompt_text=True``), after planting a unique marker in one prompt and
one system prompt of every :data:`PLANT_EVERY` events: the markers are in the
lake, so finding none in an export, a view or the report shows that those keep
prompt text out, rather than that there was none to leak.

Fixtures cache their result under the session's base temporary folder, so
every test module that imports them shares one lake and one published run.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from distillwatch.lakefile import lake_from_file
from distillwatch.simulator import simulate_to_file

SEED = 3
#: Markers planted in prompts and system prompts; no export may contain them.
PROMPT_MARKER = "zqxprompt"
SYSTEM_MARKER = "zqxsystem"
PLANT_EVERY = 25


def plant_markers(source: Path, target: Path) -> int:
    """Copy a JSONL.gz file of events, appending markers to every PLANT_EVERY-th event's texts."""
    planted = 0
    with gzip.open(source, "rt") as lines, gzip.open(target, "wt") as out:
        for i, line in enumerate(lines):
            event = json.loads(line)
            if i % PLANT_EVERY == 0:
                event["prompt"] = f"{event.get('prompt') or ''} {PROMPT_MARKER}{i:06d}".strip()
                event["system_prompt"] = (
                    f"{SYSTEM_MARKER}{i:06d} {event.get('system_prompt') or ''}"
                )
                planted += 1
            out.write(json.dumps(event) + "\n")
    return planted


def lake_day(lake: Path) -> date:
    """The (first) UTC day of the lake's events."""
    first = min((lake / "events").glob("date=*")).name
    return date.fromisoformat(first.removeprefix("date="))


@pytest.fixture(scope="session")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Root of the shared simulated lake (events, ingest log; prompt text kept, markers planted)."""
    root = tmp_path_factory.getbasetemp() / "tiny-lake"
    lake = root / "lake"
    done = root / "built"
    if not done.exists():
        root.mkdir(parents=True, exist_ok=True)
        simulated = root / "simulated.jsonl.gz"
        simulate_to_file("tiny", SEED, simulated, root / "labels.csv")
        planted = root / "planted.jsonl.gz"
        plant_markers(simulated, planted)
        lake_from_file(planted, lake, keep_prompt_text=True)
        done.touch()
    return lake


@pytest.fixture(scope="session")
def tiny_run(tiny_lake: Path) -> Path:
    """The published rescoring run of the shared lake's day (``exports/runs/<day>``)."""
    from models.rescore import rescore_day

    day = lake_day(tiny_lake)
    run = tiny_lake / "exports" / "runs" / day.isoformat()
    if not (run / "manifest.json").exists():
        rescore_day(tiny_lake, day)
    return run
