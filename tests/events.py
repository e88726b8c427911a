"""Small generators of contract events for tests that need many valid messages."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

_WORDS = [
    "explain",
    "the",
    "reasoning",
    "behind",
    "this",
    "proof",
    "step",
    "by",
    "step",
    "write",
    "a",
    "python",
    "function",
    "that",
    "sorts",
    "a",
    "list",
    "summarise",
    "the",
    "following",
    "article",
    "translate",
    "into",
    "french",
    "grade",
    "this",
    "answer",
]

START = datetime(2026, 11, 21, tzinfo=UTC)


def make_event(i: int, rng: random.Random, *, span_hours: float = 6.0) -> dict[str, object]:
    """A valid, fully populated ``api_access_log`` v1 event with id ``ev-<i>``."""
    ts = START + timedelta(seconds=rng.uniform(0, span_hours * 3600))
    return {
        "event_id": f"ev-{i:08d}",
        "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "account_id": f"acct_{rng.randrange(300):04d}",
        "model": rng.choice(["frontier-large-2026-09", "frontier-small-2026-06"]),
        "endpoint": "/v1/chat/completions",
        "status": rng.choice([200, 200, 200, 429]),
        "prompt_tokens": rng.randrange(5, 900),
        "completion_tokens": rng.randrange(0, 2000),
        "latency_ms": rng.randrange(50, 9000),
        "temperature": rng.choice([0, 0.7, 1.0]),
        "max_tokens": rng.choice([256, 1024, 4096]),
        "client_ip": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
        "asn": 64500,
        "asn_kind": "hosting",
        "country": "DE",
        "user_agent": "OpenAI/Python 1.54.3",
        "prompt": " ".join(rng.choices(_WORDS, k=rng.randrange(5, 60))),
    }


def make_lines(n: int, seed: int = 0, start: int = 0) -> list[bytes]:
    """``n`` valid events as JSON lines, ids ``start .. start+n-1``."""
    rng = random.Random(seed)
    return [json.dumps(make_event(i, rng)).encode() for i in range(start, start + n)]
