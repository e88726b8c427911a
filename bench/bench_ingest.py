"""Lake writer throughput against the raw kafka-python client and a naive writer.

Produces ~1M simulator events (prompt text included) into a fresh topic, then
measures, in the same run and on the same topic:

(a) raw kafka-python consumption with no processing (its own record reader),
(a2) the same with the records unpacked natively (``ingest.records``, as the
     writer reads them),
(b) ``distillwatch ingest`` (bulk decode, validation, content fingerprints, Parquet)
    with one writer process per core, and (b1) with a single process,
(c) a naive writer: ``json.loads`` per record + ``pa.Table.from_pylist`` + Parquet.

Targets: (b)/(a) >= 0.8 and (b)/(c) >= 5.

The machine is shared and its speed drifts by 10-20 % within minutes, so every
measurement runs once per round (``--rounds``, 3 by default), the rounds one
after another, and each ratio is the median of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from events import ensure_events

from distillwatch.settings import get_settings
from features.content import with_content
from ingest import kafka_io
from ingest.decode import decode
from ingest.jsonl import iter_line_chunks
from ingest.local_broker import kafka_available
from ingest.producer import publish
from ingest.schema import INPUT_SCHEMA


def raw_consume(settings, topic: str, n: int, native_records: bool = False) -> float:  # type: ignore[no-untyped-def]
    """Seconds to consume ``n`` records, no processing (by default with kafka-python's reader)."""
    consumer = kafka_io.consumer(settings, None, native_records=native_records)
    consumer.subscribe([topic])
    seen, started = 0, None
    while seen < n:
        for records in consumer.poll(timeout_ms=1000).values():
            started = started or time.perf_counter()
            seen += len(records)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return elapsed


#: The writer's run, in a process of its own: its spawned workers then set their
#: thread pools before importing polars, which they could not do under this
#: script (a spawned process re-imports its parent's main script first).
_WRITER_RUN = """
import json, resource, sys
from pathlib import Path
from distillwatch.settings import Settings
from ingest.lake_writer import run_writers
topic, lake, workers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
counts = run_writers(Settings.from_env(), topic, lake, workers, until_idle_s=3)
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
cpu = sum(u.ru_utime + u.ru_stime for u in usage)
print(json.dumps({"consumed": counts.consumed, "busy_s": counts.busy_s, "cpu_s": cpu,
                  "accepted": counts.accepted, "rejected": counts.rejected}))
"""


def lake_writer(topic: str, lake: Path, workers: int, round_: int) -> dict[str, float]:
    """``distillwatch ingest`` with ``workers`` processes and a fresh group (one per round).

    Returns its counts, its busy seconds (first record to last write) and the
    CPU seconds of the writer and its workers (the broker excluded).
    """
    env = dict(os.environ, DISTILLWATCH_INGEST_GROUP=f"bench-{topic}-{workers}-{round_}")
    run = subprocess.run(
        [sys.executable, "-c", _WRITER_RUN, topic, str(lake), str(workers)],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def naive_writer(settings, topic: str, n: int, out: Path) -> float:  # type: ignore[no-untyped-def]
    """The baseline: one json.loads per record, rows as Python dicts, from_pylist."""
    consumer = kafka_io.consumer(settings, None, native_records=False)
    consumer.subscribe([topic])
    names = [f.name for f in INPUT_SCHEMA]
    rows: list[dict[str, object]] = []
    seen, part, started = 0, 0, None
    while seen < n:
        for records in consumer.poll(timeout_ms=1000).values():
            started = started or time.perf_counter()
            for record in records:
                seen += 1
                try:
                    event = json.loads(record.value)
                except ValueError:
                    continue
                if isinstance(event, dict) and all(event.get(k) is not None for k in names[:8]):
                    rows.append({k: event.get(k) for k in names})
            if len(rows) >= 50_000 or seen >= n:
                table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
                pq.write_table(table, out / f"part-{part}.parquet")
                rows, part = [], part + 1
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return elapsed


def decode_only(lines: list[bytes]) -> tuple[float, float, float]:
    """Seconds to turn ``lines`` into typed Arrow rows: bulk decode, with content signals, naive.

    Isolates the decoding stage from Kafka and Parquet, where the bulk decoder's
    gain over ``json.loads`` per record shows undiluted by the content signals
    that the lake writer derives too (and the naive writer does not).
    """
    started = time.perf_counter()
    decoded = decode(lines)
    bulk_s = time.perf_counter() - started
    started = time.perf_counter()
    with_content(decoded.accepted)
    content_s = time.perf_counter() - started
    names = [f.name for f in INPUT_SCHEMA]
    started = time.perf_counter()
    rows = []
    for line in lines:
        event = json.loads(line)
        rows.append({k: event.get(k) for k in names})
    pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    naive_s = time.perf_counter() - started
    return bulk_s, content_s, naive_s


WORKERS = os.cpu_count() or 1
RAW = "(a) raw kafka-python consume"
NATIVE = "(a2) raw, records unpacked natively"
SINGLE = "(b1) lake writer, 1 process"
WRITER = f"(b) lake writer, {WORKERS} processes"
NAIVE = "(c) naive json.loads writer"


def measure_round(settings, topic: str, n: int, work: Path, round_: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One round of every consumer over the same topic: rates (events/s) and writer CPU."""
    cpu = time.process_time()
    raw_s = raw_consume(settings, topic, n)
    raw_cpu = time.process_time() - cpu
    native_s = raw_consume(settings, topic, n, native_records=True)
    single = lake_writer(topic, work / f"lake1-{round_}", 1, round_)
    counts = lake_writer(topic, work / f"lake-{round_}", WORKERS, round_)
    naive = work / f"naive-{round_}"
    naive.mkdir()
    naive_s = naive_writer(settings, topic, n, naive)
    return {
        RAW: n / raw_s,
        NATIVE: n / native_s,
        SINGLE: single["consumed"] / single["busy_s"],
        WRITER: counts["consumed"] / counts["busy_s"],
        NAIVE: n / naive_s,
        "raw_cpu_us": raw_cpu * 1e6 / n,
        "writer_cpu_us": counts["cpu_s"] * 1e6 / counts["consumed"],
        "accepted": counts["accepted"],
        "rejected": counts["rejected"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of every measurement, interleaved; ratios are the median of the rounds'",
    )
    args = parser.parse_args()

    events = ensure_events(args.preset, args.seed)
    settings = get_settings()
    topic = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    with kafka_available(settings):
        started = time.perf_counter()
        n = publish(settings, topic, iter_line_chunks(events))
        produce_s = time.perf_counter() - started
        mb = sum(len(line) for chunk in iter_line_chunks(events) for line in chunk) / 1e6
        rounds = []
        for round_ in range(args.rounds):
            rounds.append(measure_round(settings, topic, n, work, round_))
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
    shutil.rmtree(work, ignore_errors=True)
    sample = [
        line
        for _, chunk in zip(range(10), iter_line_chunks(events), strict=False)
        for line in chunk
    ]
    bulk_s, content_s, naive_decode_s = decode_only(sample)

    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"\ningest benchmark: {n:,} events, {mb:,.0f} MB of JSON ({mb * 1e6 / n:.0f} B/event)")
    print(f"  {'produce (kafka-python producer)':38s} {n / produce_s:>10,.0f} events/s")
    # The machine is shared and noisy: every consumer runs once per round, the
    # rounds interleaved, and each ratio is taken within a round (its terms
    # measured minutes apart, not a whole benchmark apart), then the median.
    header = "".join(f"{f'round {i + 1}':>11s}" for i in range(len(rounds)))
    print(f"  {'events/s':38s}{header}{'median':>11s}")
    for name in (RAW, NATIVE, SINGLE, WRITER, NAIVE):
        print(_row(name, [r[name] for r in rounds], "{:>11,.0f}"))
    print(_row("writer / raw client  (target >= 0.80)", _ratios(rounds, WRITER, RAW), "{:>11.2f}"))
    print(_row("writer / naive writer  (target >= 5)", _ratios(rounds, WRITER, NAIVE), "{:>11.2f}"))
    # CPU per event, all threads and writer processes (the broker excluded): what
    # the ratio above can reach on a machine with this many cores.
    print(_row("CPU us/event, raw client", [r["raw_cpu_us"] for r in rounds], "{:>11.1f}"))
    print(_row("CPU us/event, lake writer", [r["writer_cpu_us"] for r in rounds], "{:>11.1f}"))
    last = rounds[-1]
    print(
        f"  accepted {last['accepted']:,} rejected {last['rejected']:,} (last round); "
        f"peak RSS {rss_gb:.2f} GB; {os.cpu_count()} cores"
    )
    m = len(sample)
    print(f"\ndecoding alone, {m:,} events in memory (no Kafka, no Parquet):")
    print(f"  (d) bulk decode + validation          {m / bulk_s:>10,.0f} events/s")
    print(f"  (e) content signals on decoded rows   {m / content_s:>10,.0f} events/s")
    print(f"  (f) json.loads + from_pylist          {m / naive_decode_s:>10,.0f} events/s")
    print(f"  bulk / naive decode      {naive_decode_s / bulk_s:.2f}")


def _ratios(rounds: list[dict[str, float]], over: str, under: str) -> list[float]:
    return [r[over] / r[under] for r in rounds]


def _row(name: str, values: list[float], cell: str) -> str:
    """A table row: ``name``, one cell per round, then their median."""
    cells = "".join(cell.format(v) for v in [*values, statistics.median(values)])
    return f"  {name:38s}{cells}"


if __name__ == "__main__":
    main()
