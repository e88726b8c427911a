"""``make demo``: the main job end to end on the embedded default.

Simulate a labelled ``small``-like scenario into Kafka, land it in the lake,
score it live, build features, rescore and detect campaigns, publish the
trust-and-safety exports and the HTML report, and compare the flags with the
simulator's labels. Every step is the same library call the CLI, the online
consumers and the Airflow DAGs make; nothing here is demo-only logic.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from distillwatch.settings import Settings

#: The demo's scenario: the simulator's ``small`` reference mix, over fewer days
#: and at a fraction of its traffic, so the whole job takes a few minutes on 2 cores.
DEMO_DAYS = 2.0
DEMO_SCALE = 0.3


@dataclass
class DemoResult:
    """What the demo did, for its closing summary."""

    out: Path
    steps: list[tuple[str, float]] = field(default_factory=list)
    simulated: int = 0
    ingested: int = 0
    quarantined: int = 0
    scored_flags: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)


@contextmanager
def _step(result: DemoResult, name: str, say: Callable[[str], None]) -> Iterator[None]:
    say(f"[demo] {name} ...")
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    result.steps.append((name, elapsed))
    say(f"[demo] {name}: done in {elapsed:.1f} s")


def run_demo(
    settings: Settings,
    out: Path,
    *,
    seed: int = 7,
    days: float = DEMO_DAYS,
    scale: float = DEMO_SCALE,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole pipeline once into ``out`` (wiped first) and return its summary."""
    import polars as pl

    from distillwatch.simulator import PRESETS, write_simulation
    from features.jobs import build_range
    from ingest.lake import event_hours
    from ingest.lake_writer import run_writers
    from ingest.local_broker import kafka_available
    from ingest.producer import produce_file
    from models.evaluate import evaluate
    from models.report import render_report
    from models.rescore import rescore_day
    from models.score_consumer import run_scorer

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    lake = out / "lake"
    events, labels = out / "events.jsonl.gz", out / "labels.csv"
    result = DemoResult(out=out)
    run_id = uuid.uuid4().hex[:8]
    topic = f"demo-{run_id}"
    run_settings = _for_demo(settings, lake, topic, run_id)

    with _step(result, "simulate", say):
        scenario = PRESETS["small"].scaled(name="demo", days=days, factor=scale)
        result.simulated = write_simulation(scenario, seed, events, labels).n_events
    with kafka_available(run_settings) as bootstrap:
        say(f"[demo] Kafka at {bootstrap}, topic {topic}")
        with _step(result, "produce into Kafka", say):
            produce_file(run_settings, events, topic)
        with _step(result, "ingest Kafka -> lake", say):
            workers = run_settings.ingest_processes
            counts = run_writers(run_settings, topic, lake, workers, until_idle_s=3)
            result.ingested, result.quarantined = counts.accepted, counts.rejected
        with _step(result, "online scoring (river)", say):
            result.scored_flags = run_scorer(run_settings, topic, lake, until_idle_s=3).flags
    hours = event_hours(lake)
    with _step(result, "feature build", say):
        build_range(lake, hours[0], hours[-1] + timedelta(hours=1))
    with _step(result, "rescoring, campaigns, exports", say):
        run = rescore_day(lake, hours[-1].date(), settings=run_settings)
    with _step(result, "report", say):
        report = render_report(lake, out / "report.html", run=run)

    flagged_path = run / "flagged_accounts.parquet"
    flagged = pl.read_parquet(flagged_path)
    result.tiers = dict(flagged.group_by("tier").len().iter_rows())
    campaigns = pl.read_parquet(run / "campaigns.parquet")
    result.campaigns = (
        campaigns.sort("n_accounts", descending=True)
        .select("campaign_id", "n_accounts", "n_requests")
        .to_dicts()
    )
    result.evaluation = evaluate(labels, flagged_path)
    result.outputs = {
        "lake": lake,
        "exports": run,
        "report": report,
        "events": events,
        "labels": labels,
    }
    return result


def _for_demo(settings: Settings, lake: Path, topic: str, run_id: str) -> Settings:
    """The user's settings (Kafka, security) with the demo's own lake, topics and groups."""
    from dataclasses import replace

    return replace(
        settings,
        lake_dir=lake,
        topic=topic,
        dead_letter_topic=f"{topic}.dlq",
        flags_topic=f"{topic}.flags",
        ingest_group=f"demo-lake-writer-{run_id}",
        score_group=f"demo-scorer-{run_id}",
        log_interval_s=30.0,
        ingest_workers=0,  # one lake writer process per core
    )


def render_summary(result: DemoResult) -> str:
    """The demo's closing summary as plain text."""
    ev = result.evaluation
    lines = ["", "distillwatch demo summary", "=" * 26]
    lines.append(f"events simulated   {result.simulated:>10,}")
    lines.append(f"events ingested    {result.ingested:>10,}")
    lines.append(f"events quarantined {result.quarantined:>10,}")
    lines.append(f"live flags emitted {result.scored_flags:>10,}")
    tiers = ", ".join(f"{t}: {result.tiers.get(t, 0)}" for t in ("high", "medium", "low"))
    lines.append(f"accounts flagged   {sum(result.tiers.values()):>10,}  ({tiers})")
    lines.append(f"campaigns found    {len(result.campaigns):>10,}")
    for row in result.campaigns[:10]:
        lines.append(
            f"  {row['campaign_id']:<24} {row['n_accounts']:>6} accounts "
            f"{row['n_requests']:>9,} requests"
        )
    accounts = ev.get("accounts", {})
    for key in ("precision", "recall", "f1"):
        if accounts.get(key) is not None:
            lines.append(f"{key:<18} {accounts[key]:>10.3f}   (against the simulator's labels)")
    lines.append("")
    lines.append("step timings: " + ", ".join(f"{n} {s:.0f}s" for n, s in result.steps))
    lines.append("outputs:")
    lines += [f"  {name:<8} {path}" for name, path in result.outputs.items()]
    return "\n".join(lines)
