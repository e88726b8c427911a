"""The ``distillwatch`` command: one CLI, a subcommand per job.

Exit codes: 0 success, 1 unexpected failure, 2 bad usage, 3 Kafka unreachable
or the local broker failed, 4 bad input (missing file, unreadable data).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from distillwatch.logs import configure_logging
from distillwatch.settings import Settings, get_settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_KAFKA, EXIT_INPUT = 0, 1, 2, 3, 4


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress display on stderr; yields ``update(done_so_far)``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, transient=False, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


# -- kafka ---------------------------------------------------------------------------------------
def _cmd_kafka(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.local_broker import LocalBroker

    if not settings.uses_local_kafka:
        print(
            f"DISTILLWATCH_KAFKA_BOOTSTRAP is set ({settings.kafka_bootstrap}): "
            "the embedded broker is not used."
        )
        return EXIT_OK if args.action == "status" else EXIT_USAGE
    broker = LocalBroker.from_settings(settings)
    if args.action == "start":
        status = broker.start()
        print(f"kafka running at {status.bootstrap} (pid {status.pid}, log {status.log_file})")
    elif args.action == "stop":
        print("kafka stopped" if broker.stop() else "kafka was not running")
    else:
        status = broker.status()
        state = f"running (pid {status.pid})" if status.running else "not running"
        print(f"kafka {state} at {status.bootstrap}; log {status.log_file}")
        return EXIT_OK if status.running else EXIT_FAILURE
    return EXIT_OK


# -- produce / ingest ------------------------------------------------------------------------
def _cmd_produce(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.producer import produce_file

    if not args.input.exists():
        print(f"error: no such file: {args.input}", file=sys.stderr)
        return EXIT_INPUT
    with progress(f"producing to {args.topic}") as update:
        sent = produce_file(settings, args.input, args.topic, update)
    print(f"produced {sent} messages to {args.topic}")
    return EXIT_OK


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.lake_writer import run_writers

    if args.workers is not None:
        settings = replace(settings, ingest_workers=args.workers)
    workers = settings.ingest_processes
    with progress(f"ingesting {args.topic} -> {args.lake} ({workers} writers)") as update:
        counts = run_writers(
            settings,
            args.topic,
            args.lake,
            workers,
            until_idle_s=args.until_idle,
            on_progress=update,
        )
    print(
        f"consumed {counts.consumed}: accepted {counts.accepted}, quarantined {counts.rejected} "
        f"({counts.batches} batches, {counts.files} files)"
    )
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from distillwatch import simulator

    if args.preset not in simulator.PRESETS:
        print(
            f"error: unknown preset {args.preset!r}; one of {sorted(simulator.PRESETS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.out is not None:
        labels = args.labels or args.out.with_name(args.out.name.split(".")[0] + ".labels.csv")
        with progress(f"simulating {args.preset}") as update:
            summary = simulator.simulate_to_file(
                args.preset, args.seed, args.out, labels, progress=update
            )
        print(
            f"wrote {summary.n_events} events of {summary.n_accounts} accounts "
            f"({summary.n_campaign_accounts} in {summary.n_campaigns} campaigns) to {args.out}; "
            f"labels in {labels}"
        )
        return EXIT_OK
    from ingest.producer import publish, serialise_chunks

    scenario = simulator.scenario_for(args.preset)
    if args.labels is not None:
        simulator.write_labels(scenario, args.seed, args.labels)
    chunks = serialise_chunks(simulator.iter_events(scenario, args.seed))
    with progress(f"simulating {args.preset} into {args.topic}") as update:
        sent = publish(settings, args.topic, chunks, update)
    print(f"published {sent} events to {args.topic}")
    return EXIT_OK


def _cmd_features(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from features.jobs import build_range
    from ingest.lake import event_hours

    hours = event_hours(args.lake)
    if not hours and (args.start is None or args.end is None):
        print(f"error: no events under {args.lake / 'events'}", file=sys.stderr)
        return EXIT_INPUT
    start = args.start or hours[0]
    end = args.end or hours[-1] + timedelta(hours=1)
    written = build_range(args.lake, start, end)
    summary = ", ".join(f"{len(paths)} {name}" for name, paths in written.items())
    print(f"features for [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC: {summary} files")
    return EXIT_OK


def _utc_time(text: str) -> datetime:
    """An ISO date or date-time argument as an aware UTC datetime (naive means UTC)."""
    from ingest.lake import as_utc

    return as_utc(datetime.fromisoformat(text))


def _cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from models.detect import detect

    with progress(f"detecting in {args.input}") as update:
        summary = detect(args.input, args.out, settings, progress=update)
    print(
        f"read {summary.events:,} events ({summary.rejected:,} rejected) in "
        f"{summary.total_seconds:.1f} s ({summary.events_per_second:,.0f} events/s): "
        f"{summary.flagged:,} accounts flagged, {summary.campaigns} campaigns"
    )
    for name, path in summary.exports.items():
        print(f"  {name}: {path}")
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from models.evaluate import evaluate, render_json, render_table

    result = evaluate(args.labels, args.flags, min_tier=args.min_tier)
    print(render_table(result))
    if args.json is not None:
        args.json.write_text(render_json(result))
        print(f"metrics written to {args.json}")
    return EXIT_OK


def _cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from models.score_consumer import run_scorer

    with progress(f"scoring {args.topic}") as update:
        counts = run_scorer(
            settings,
            args.topic,
            args.lake,
            args.until_idle,
            on_progress=lambda c: update(c.consumed),
        )
    print(
        f"consumed {counts.consumed:,} ({counts.rejected:,} rejected): {counts.flags:,} flags, "
        f"{counts.verdicts:,} verdicts learned, {counts.checkpoints} checkpoints"
    )
    return EXIT_OK


def _cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    from distillwatch import analyst

    return analyst.command(args, args.lake)


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from models.report import render_report

    print(f"wrote {render_report(args.lake, args.out, run=args.run)}")
    return EXIT_OK


def _cmd_rescore(args: argparse.Namespace, settings: Settings) -> int:
    from models.rescore import rescore_day

    run = rescore_day(
        args.lake, args.day, args.out, lookback_days=args.lookback_days, settings=settings
    )
    print(f"published {run} (report: {run / 'report.html'})")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from distillwatch.demo import render_summary, run_demo

    result = run_demo(settings, args.out, seed=args.seed, days=args.days, scale=args.scale)
    print(render_summary(result))
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distillwatch",
        description="Detect distillation and model-extraction campaigns in LLM API access logs.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = sub.add_parser("kafka", help="manage the embedded local Kafka broker")
    kafka.add_argument("action", choices=["start", "stop", "status"])
    kafka.set_defaults(func=_cmd_kafka)

    produce = sub.add_parser("produce", help="replay a .jsonl/.jsonl.gz file into a Kafka topic")
    produce.add_argument("--input", type=Path, required=True, help="file of contract events")
    produce.add_argument("--topic", default=None, help="target topic (default: settings.topic)")
    produce.set_defaults(func=_cmd_produce)

    ingest = sub.add_parser("ingest", help="run the lake writer (Kafka -> Parquet lake)")
    ingest.add_argument("--topic", default=None, help="topic to consume (default: settings.topic)")
    ingest.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    ingest.add_argument(
        "--until-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds without new messages (default: run until signalled)",
    )
    ingest.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="writer processes sharing the partitions; 0: one per core "
        "(default: DISTILLWATCH_INGEST_WORKERS, 1)",
    )
    ingest.set_defaults(func=_cmd_ingest)

    simulate = sub.add_parser(
        "simulate", help="generate labelled synthetic traffic (to a file or a Kafka topic)"
    )
    simulate.add_argument("--preset", default="tiny", help="tiny, small, medium or large")
    simulate.add_argument("--seed", type=int, default=1)
    target = simulate.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="events file to write (.jsonl.gz)")
    target.add_argument("--topic", help="publish the events to this Kafka topic instead")
    simulate.add_argument("--labels", type=Path, help="labels CSV to write")
    simulate.set_defaults(func=_cmd_simulate)

    features = sub.add_parser(
        "features", help="build per-account features and cross-account links for a time range"
    )
    features.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    features.add_argument("--start", type=_utc_time, help="range start, ISO (default: first event)")
    features.add_argument(
        "--end", type=_utc_time, help="range end, ISO (default: after last event)"
    )
    features.set_defaults(func=_cmd_features)

    score = sub.add_parser("score", help="run the live scorer (Kafka -> flags topic and lake)")
    score.add_argument("--topic", default=None, help="topic to consume (default: settings.topic)")
    score.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    score.add_argument(
        "--until-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds without new messages",
    )
    score.set_defaults(func=_cmd_score)

    detect = sub.add_parser("detect", help="batch detection over files, no Kafka (exports)")
    detect.add_argument(
        "--input",
        type=Path,
        required=True,
        help=".jsonl, .jsonl.gz or Parquet file, or a folder of them",
    )
    detect.add_argument("--out", type=Path, required=True, help="output folder (DIR/exports/)")
    detect.set_defaults(func=_cmd_detect)

    evaluate = sub.add_parser("eval", help="precision, recall and time to detect vs. labels")
    evaluate.add_argument("--labels", type=Path, required=True, help="simulator labels CSV")
    evaluate.add_argument("--flags", type=Path, required=True, help="flagged_accounts.parquet")
    evaluate.add_argument(
        "--min-tier",
        default="low",
        choices=["low", "medium", "high"],
        help="lowest tier counted as a flag",
    )
    evaluate.add_argument("--json", type=Path, default=None, help="also write metrics as JSON")
    evaluate.set_defaults(func=_cmd_eval)

    from distillwatch import analyst

    sql = sub.add_parser("sql", help="query the lake with DuckDB (views of sql/, saved queries)")
    analyst.add_arguments(sql)
    sql.set_defaults(func=_cmd_sql)

    report = sub.add_parser("report", help="self-contained HTML report of a rescoring run")
    report.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    report.add_argument("--out", type=Path, required=True, help="HTML file to write")
    report.add_argument(
        "--run", type=Path, default=None, help="run folder (default: LAKE/exports/latest)"
    )
    report.set_defaults(func=_cmd_report)

    rescore = sub.add_parser(
        "rescore", help="batch-rescore the lake up to a day's end, publish exports and report"
    )
    rescore.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    rescore.add_argument("--day", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    rescore.add_argument(
        "--out", type=Path, default=None, help="exports root (default: LAKE/exports)"
    )
    rescore.add_argument("--lookback-days", type=int, default=28)
    rescore.set_defaults(func=_cmd_rescore)

    from distillwatch.demo import DEMO_DAYS, DEMO_SCALE

    demo = sub.add_parser("demo", help="run the whole pipeline once on simulated traffic")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder (wiped)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--days", type=float, default=DEMO_DAYS, help="simulated days")
    demo.add_argument("--scale", type=float, default=DEMO_SCALE, help="traffic vs. small preset")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    settings = get_settings()
    if getattr(args, "topic", "unset") is None:
        args.topic = settings.topic
    if getattr(args, "lake", "unset") is None:
        args.lake = settings.lake_dir
    from ingest.kafka_io import KafkaUnavailableError
    from ingest.local_broker import BrokerError

    try:
        return int(args.func(args, settings))
    except (KafkaUnavailableError, BrokerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_KAFKA
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
