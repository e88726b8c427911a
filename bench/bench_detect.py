"""``distillwatch detect`` throughput and memory, against reading and parsing the same input alone.

Generates (once, cached in ``bench-out/``) a simulator preset, then measures in
separate child processes, so that each peak RSS is its own:

(a) reference: read and parse the input into lake rows (decode + content
    signals, exactly what ``detect`` does first) and nothing else;
(b) ``detect`` end to end: read, parse, score online window by window,
    detect campaigns, write the exports;
(c) ``detect`` on the same events already parsed (the lake rows of (a),
    written to a Parquet file): scoring, campaigns and exports alone. When (b)
    takes about as long as (c), decoding is hidden behind scoring, and only
    cheaper scoring makes ``detect`` faster.

Targets on ``small``: (b) ≥ 60,000 events/s, peak RSS ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from events import ensure_events

_CHILD = """
import json, resource, sys, time
from pathlib import Path

started = time.perf_counter()
if sys.argv[1] == "read":
    from models.detect import read_events
    events, summary = read_events(Path(sys.argv[2]))
    n = summary.lines
else:
    from models.detect import detect
    n = detect(Path(sys.argv[2]), Path(sys.argv[3])).lines
elapsed = time.perf_counter() - started
# this process and its reaped decode workers, read once
main, workers = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
cpu = sum(usage.ru_utime + usage.ru_stime for usage in (main, workers))
rss_mb, workers_mb = main.ru_maxrss / 1024, workers.ru_maxrss / 1024
if sys.argv[1] == "read":
    # the input of (c), written after the clock and the memory peak were read
    events.write_parquet(sys.argv[3])
print(json.dumps({
    "events": n, "seconds": elapsed, "cpu_seconds": cpu,
    "peak_rss_mb": rss_mb, "worker_rss_mb": workers_mb,
}))
"""


def _child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    source = ensure_events(args.preset, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as scratch:
        parsed = os.path.join(scratch, "parsed.parquet")
        reference = _child("read", str(source), parsed)
        started = time.perf_counter()
        run = _child("detect", str(source), os.path.join(scratch, "out"))
        wall = time.perf_counter() - started
        scoring = _child("detect", parsed, os.path.join(scratch, "out-parsed"))
    n = run["events"]
    print(f"input: {source} ({n:,} events)")
    for label, result in (
        ("read+parse only (reference)", reference),
        ("detect end to end", run),
        ("detect on parsed Parquet", scoring),
    ):
        print(
            f"{label + ':':<29}{result['seconds']:.1f} s, {n / result['seconds']:,.0f} events/s, "
            f"CPU {result['cpu_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:,.0f} MB"
        )
    print(
        f"detect's speed / read+parse's: {reference['seconds'] / run['seconds']:.2f}x; "
        f"end-to-end time / parsed-input time: {run['seconds'] / scoring['seconds']:.2f}x "
        f"(child wall {wall:.1f} s)"
    )
    # Decoding runs in worker processes; their peak counts on top of the main one.
    peak_mb = run["peak_rss_mb"] + run["worker_rss_mb"] * _decode_workers()
    print(
        f"decode workers: up to {run['worker_rss_mb']:,.0f} MB each; "
        f"main + all workers at most {peak_mb:,.0f} MB"
    )
    print(
        f"targets: >= 60,000 events/s: {'met' if n / run['seconds'] >= 60_000 else 'NOT met'}; "
        f"peak RSS <= 4 GB: {'met' if peak_mb <= 4096 else 'NOT met'}"
    )


def _decode_workers() -> int:
    from distillwatch.settings import get_settings

    return get_settings().decode_workers or os.cpu_count() or 1


if __name__ == "__main__":
    main()
