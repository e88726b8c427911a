"""``make bench``: every benchmark, one after another, on the simulator's ``small`` preset.

Each benchmark prints events/s and its ratio against a baseline measured in the
same run (raw client, naive writer, DuckDB, parse-only), so numbers from a noisy
shared machine stay comparable. The events file is generated once and cached in
``bench-out/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(HERE))
    from events import ensure_events

    events = ensure_events("small", 1)
    runs = [
        ["bench_simulator.py", "--preset", "small"],
        ["bench_ingest.py", "--preset", "small"],
        ["bench_features.py", "--events", str(events)],
        ["bench_detect.py", "--preset", "small"],
    ]
    failed = 0
    for script, *args in runs:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += (
            subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
