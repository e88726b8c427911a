"""Simulator throughput and memory for one preset: events per second and peak RSS.

Writes the preset's events (``.jsonl.gz``) and labels to a temporary folder (or to
``--out-dir``), then prints the event count, wall and CPU time, events per second, the
process's peak resident set size (``ru_maxrss``) and the output size. Peak RSS is the
check that generation streams: it must stay far below the output's uncompressed size.

    python bench/bench_simulator.py --preset small
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from distillwatch.simulator import PRESETS, SimulationSummary, simulate_to_file


def run(preset: str, seed: int, folder: Path) -> tuple[SimulationSummary, float, float, int]:
    """Simulate ``preset`` into ``folder``; return the summary, wall s, CPU s and output bytes."""
    out, labels = folder / f"{preset}-{seed}.jsonl.gz", folder / f"{preset}-{seed}.labels.csv"
    wall, cpu = time.perf_counter(), time.process_time()
    summary = simulate_to_file(preset, seed, out, labels)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return summary, wall, cpu, out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, help="keep the output here (default: discard)")
    args = parser.parse_args(argv)
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        summary, wall, cpu, size = run(args.preset, args.seed, args.out_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-simulator-") as folder:
            summary, wall, cpu, size = run(args.preset, args.seed, Path(folder))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(f"preset            {args.preset} (seed {args.seed})")
    print(f"events            {summary.n_events:,}")
    print(
        f"accounts          {summary.n_accounts:,} ({summary.n_campaign_accounts:,} in "
        f"{summary.n_campaigns} campaigns)"
    )
    print(f"window            {summary.start} .. {summary.end}")
    print(f"wall / cpu        {wall:.1f} s / {cpu:.1f} s (cpu includes the compression thread)")
    print(f"throughput        {summary.n_events / wall:,.0f} events/s")
    print(f"peak RSS          {peak_mib:,.0f} MiB")
    print(f"output            {size / 2**20:,.1f} MiB gzip ({size / summary.n_events:.0f} B/event)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
