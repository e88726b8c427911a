"""The benchmarks' input: simulator output, generated once and cached in ``bench-out/``."""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench-out"


def ensure_events(preset: str, seed: int) -> Path:
    """The simulator's events for ``preset`` and ``seed`` (labels CSV beside them)."""
    from distillwatch.simulator import simulate_to_file

    out = BENCH_DIR / f"{preset}-{seed}.jsonl.gz"
    if not out.exists():
        BENCH_DIR.mkdir(exist_ok=True)
        simulate_to_file(preset, seed, out, out.with_suffix("").with_suffix(".labels.csv"))
    return out
