"""The event stream: every account's requests rendered as ``api_access_log`` v1 events.

Each account is a lazy generator of its own events, in event time; a heap merges the
generators, so memory is bounded by the number of accounts, not events. The simulated
gateway then adds what the client does not choose: the status (429 when the account is
over its rate limit, occasional 400 and 5xx), billed tokens, latency, the address
intelligence, and its logging quirks (prompts withheld as SimHash, legacy records with
only the required fields, explicit nulls, unknown extra fields). Records reach the log a
little after the request (a small random delay, rarely a long one), so the stream is
ordered by emission and only roughly by ``ts``, as a real log topic is.

Output is deterministic for a scenario and seed: all randomness comes from per-account
generators seeded from ``(seed, account)``, and ties are broken by account index.
"""

from __future__ import annotations

import csv
import gzip
import heapq
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from random import Random
from typing import BinaryIO, cast

from distillwatch.simulator.config import Scenario, scenario_for
from distillwatch.simulator.populations import Account, AccountLabel, build_accounts
from distillwatch.simulator.text import Kind, estimate_tokens, simhash64
from distillwatch.simulator.workloads import Request
from ingest.schema import REQUIRED_FIELDS

__all__ = [
    "SimulationSummary",
    "account_labels",
    "iter_events",
    "simulate_to_file",
    "write_labels",
    "write_simulation",
]

Event = dict[str, object]

MAX_PROMPT_CHARS = 8_192
"""The gateway truncates logged prompt text to this many characters (the contract's limit)."""

PROGRESS_EVERY = 10_000
"""Events between two calls of the progress callback (and between two writes)."""

LABEL_COLUMNS = ("account_id", "population", "campaign_id", "campaign_type", "campaign_start")

_ANSWER_TOKENS: dict[Kind, tuple[float, float]] = {
    "chat": (280.0, 0.6),
    "long": (750.0, 0.5),
    "reasoning": (1_300.0, 0.6),
    "code": (600.0, 0.7),
    "plan": (1_000.0, 0.5),
    "short": (40.0, 0.7),
    "label": (1.5, 0.5),
}
"""Median and log-normal sigma of the completion length the model would produce, by kind."""

MODEL_OUTPUT_LIMIT = 16_384
"""Completion cap applied when the client sets no ``max_tokens``."""

TOKENS_PER_TOOL = 120
"""Prompt tokens one declared tool adds (its JSON schema)."""

_SERVER_ERRORS = (500, 502, 503, 503, 504)
_GATEWAY_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    """What a simulation run wrote.

    Attributes
    ----------
    scenario : str
        Scenario (preset) name.
    seed : int
        Run seed.
    n_events, n_accounts, n_campaign_accounts, n_campaigns : int
        Counts; every account has at least one event.
    events_by_population, accounts_by_population : dict of str to int
        Counts per population (campaign accounts under ``campaign``).
    start, end : datetime or None
        Earliest and latest event time written.
    """

    scenario: str
    seed: int
    n_events: int
    n_accounts: int
    n_campaign_accounts: int
    n_campaigns: int
    events_by_population: dict[str, int]
    accounts_by_population: dict[str, int]
    start: datetime | None
    end: datetime | None


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Gateway:
    """The simulated API gateway: statuses, billing, latency, address intelligence, log format."""

    def __init__(self, scenario: Scenario) -> None:
        self.params = scenario.gateway
        self._start = scenario.start
        self._days: dict[int, str] = {}
        m = scenario.models
        # median time to first token (ms) and time per output token (ms)
        self._speed = {
            m.large: (600.0, 22.0),
            m.new_large: (750.0, 18.0),
            m.small: (250.0, 8.0),
            m.embedding: (40.0, 0.0),
        }

    def timestamp(self, t: float) -> str:
        """Return ``t`` seconds into the window as RFC 3339 UTC with milliseconds."""
        ms = int(t * 1000.0)
        day, ms = divmod(ms, 86_400_000)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = (self._start + timedelta(days=day)).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        seconds, ms = divmod(ms, 1000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"

    def status(self, rng: Random, allowed: bool) -> int:
        """Return the HTTP status of a request; 429 when the rate limiter refused it."""
        if not allowed:
            return 429
        roll = rng.random()
        if roll < self.params.server_error_rate:
            return rng.choice(_SERVER_ERRORS)
        if roll < self.params.server_error_rate + self.params.client_error_rate:
            return 400
        return 200

    @staticmethod
    def prompt_tokens(rng: Random, request: Request) -> int:
        """Return billed input tokens: the text's tokens plus hidden context and tool schemas."""
        tokens = estimate_tokens(request.prompt) + request.context_tokens
        if request.kind != "embed":
            tokens += 7
        if request.system_prompt:
            tokens += estimate_tokens(request.system_prompt) + 4
        if request.tool_count:
            tokens += TOKENS_PER_TOOL * request.tool_count
        return max(1, round(tokens * rng.uniform(0.95, 1.05)))

    @staticmethod
    def completion_tokens(rng: Random, request: Request) -> int:
        """Return billed output tokens: answer length capped by ``max_tokens``, times ``n``."""
        if request.kind == "embed":
            return 0
        median, sigma = _ANSWER_TOKENS[request.kind]
        length = max(1, round(median * math.exp(rng.gauss(0.0, sigma))))
        cap = MODEL_OUTPUT_LIMIT if request.max_tokens is None else request.max_tokens
        return min(length, cap) * (request.n or 1)

    def latency_ms(
        self, rng: Random, status: int, request: Request, prompt_tokens: int, completion_tokens: int
    ) -> int:
        """Return gateway latency: fast refusals, slow timeouts, else prefill plus decoding."""
        if status in (400, 429):
            return rng.randint(2, 40)
        if status == 504:
            return rng.randint(60_000, 120_000)
        if status >= 500:
            return rng.randint(20, 3_000)
        first_token, per_token = self._speed.get(request.model, (600.0, 22.0))
        decode = completion_tokens * per_token * math.exp(rng.gauss(0.0, 0.2))
        return round(first_token * math.exp(rng.gauss(0.0, 0.35)) + prompt_tokens * 0.015 + decode)

    def delay_s(self, rng: Random) -> float:
        """Return how long after the request its log record is emitted."""
        delay = rng.expovariate(1.0 / self.params.mean_log_delay_s)
        if rng.random() < self.params.late_share:
            delay += rng.uniform(0.0, self.params.max_late_delay_s)
        return delay

    def render(self, rng: Random, event: Event, prompt: str) -> Event:
        """Apply the logging quirks to a fully populated event and attach the prompt."""
        p = self.params
        roll = rng.random()
        if roll < p.bare_share:
            return {k: event[k] for k in REQUIRED_FIELDS}
        if rng.random() < p.unknown_asn_share:
            event["asn"] = event["asn_org"] = event["asn_kind"] = None
        if roll >= p.bare_share + p.null_style_share:
            event = {k: v for k, v in event.items() if v is not None}
        if rng.random() < p.simhash_share:
            event["prompt_simhash"] = simhash64(prompt)
        else:
            event["prompt"] = prompt[:MAX_PROMPT_CHARS]
        if rng.random() < p.extra_field_share:
            event["gateway_region"] = rng.choice(_GATEWAY_REGIONS)
        return event


def _account_events(account: Account, gateway: _Gateway) -> Iterator[tuple[float, float, Event]]:
    """Yield ``(ts, emitted_at, event)`` for each request of ``account``, in ``ts`` order."""
    rng = Random(account.seed)
    account_id = account.label.account_id
    created = _rfc3339(account.created_at)
    keys, agents = account.api_keys, account.user_agents
    # token bucket: two seconds' worth of burst, refilled at the per-minute limit
    refill = account.rate_limit_rpm / 60.0
    capacity = max(5.0, 2.0 * refill)
    bucket, last = capacity, 0.0
    for t, session in account.activity.times(rng):
        request = account.workload.request(rng, t, session)
        bucket = min(capacity, bucket + (t - last) * refill)
        last = t
        allowed = bucket >= 1.0
        if allowed:
            bucket -= 1.0
        status = gateway.status(rng, allowed)
        prompt_tokens = completion_tokens = 0
        if status == 200:
            prompt_tokens = gateway.prompt_tokens(rng, request)
            completion_tokens = gateway.completion_tokens(rng, request)
        address = account.network.address(rng, t)
        asn = address.asn
        event: Event = {
            "event_id": f"req_{rng.getrandbits(96):024x}",
            "ts": gateway.timestamp(t),
            "account_id": account_id,
            "org_id": account.org_id,
            "api_key_id": keys[0] if len(keys) == 1 else rng.choice(keys),
            "model": request.model,
            "endpoint": request.endpoint,
            "status": status,
            "latency_ms": gateway.latency_ms(
                rng, status, request, prompt_tokens, completion_tokens
            ),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "n": request.n,
            "logprobs": request.logprobs,
            "top_logprobs": request.top_logprobs,
            "logit_bias_size": request.logit_bias_size,
            "stream": request.stream,
            "tool_count": request.tool_count,
            "client_ip": address.ip,
            "asn": asn.number,
            "asn_org": asn.org,
            "asn_kind": asn.kind,
            "country": asn.country,
            "user_agent": agents[0] if len(agents) == 1 else rng.choice(agents),
            "payment_fingerprint": account.payment_fingerprint,
            "account_created_at": created,
            "signup_channel": account.signup_channel,
            "system_prompt": request.system_prompt,
        }
        yield t, t + gateway.delay_s(rng), gateway.render(rng, event, request.prompt)


def _merge(accounts: list[Account], gateway: _Gateway) -> Iterator[Event]:
    """Merge the accounts' event generators and emit events in emission-time order.

    Records wait in a small heap until no request that is still to come could be
    emitted before them: all later requests have ``ts`` at least the current one, and
    every record is emitted after its ``ts``.
    """
    streams: list[
        tuple[float, int, tuple[float, float, Event], Iterator[tuple[float, float, Event]]]
    ] = []
    for index, account in enumerate(accounts):
        events = _account_events(account, gateway)
        first = next(events, None)
        if first is not None:
            streams.append((first[0], index, first, events))
    heapq.heapify(streams)
    waiting: list[tuple[float, int, Event]] = []
    order = 0
    while streams:
        t, index, (_, emitted_at, event), events = streams[0]
        while waiting and waiting[0][0] <= t:
            yield heapq.heappop(waiting)[2]
        heapq.heappush(waiting, (emitted_at, order, event))
        order += 1
        following = next(events, None)
        if following is None:
            heapq.heappop(streams)
        else:
            heapq.heapreplace(streams, (following[0], index, following, events))
    while waiting:
        yield heapq.heappop(waiting)[2]


def iter_events(scenario: Scenario, seed: int) -> Iterator[dict[str, object]]:
    """Yield the scenario's contract events, roughly in time order (emission order).

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    seed : int
        Run seed; the same seed yields the same events.

    Examples
    --------
    >>> from distillwatch.simulator import iter_events, scenario_for
    >>> first = next(iter_events(scenario_for("tiny"), seed=1))
    >>> sorted(k for k in ("event_id", "ts", "account_id") if k in first)
    ['account_id', 'event_id', 'ts']
    """
    return _merge(build_accounts(scenario, seed), _Gateway(scenario))


def account_labels(scenario: Scenario, seed: int) -> list[AccountLabel]:
    """Return the ground truth of every account of a run, sorted by account id."""
    return _sorted_labels(build_accounts(scenario, seed))


def _sorted_labels(accounts: list[Account]) -> list[AccountLabel]:
    return sorted((a.label for a in accounts), key=lambda label: label.account_id)


def _write_label_rows(labels: list[AccountLabel], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(LABEL_COLUMNS)
        for label in labels:
            start = "" if label.campaign_start is None else _rfc3339(label.campaign_start)
            writer.writerow(
                (
                    label.account_id,
                    label.population,
                    label.campaign_id or "",
                    label.campaign_type or "",
                    start,
                )
            )


def write_labels(scenario: Scenario, seed: int, path: Path) -> int:
    """Write the labels CSV of a run (without generating events) and return its row count.

    Columns: ``account_id, population, campaign_id, campaign_type, campaign_start``; the
    campaign columns are empty for benign accounts, ``campaign_start`` is RFC 3339 UTC.
    Every account of the run has at least one event and exactly one row.
    """
    labels = account_labels(scenario, seed)
    _write_label_rows(labels, path)
    return len(labels)


def _open_events(stack: ExitStack, path: Path) -> BinaryIO | gzip.GzipFile:
    """Open the events file; gzip (deterministic: no name, mtime 0) when it ends in ``.gz``."""
    raw = stack.enter_context(path.open("wb"))
    if path.suffix != ".gz":
        return raw
    return stack.enter_context(
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
    )


def write_simulation(
    scenario: Scenario,
    seed: int,
    out: Path,
    labels: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Write a run's events as JSON lines (gzip if ``out`` ends in ``.gz``) and its labels CSV.

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    seed : int
        Run seed; the same scenario and seed give byte-identical files.
    out : Path
        Events file, ``.jsonl`` or ``.jsonl.gz``.
    labels : Path
        Labels CSV.
    progress : callable, optional
        Called with the number of events written so far, every
        :data:`PROGRESS_EVERY` events and once at the end.
    """
    accounts = build_accounts(scenario, seed)
    sorted_labels = _sorted_labels(accounts)
    _write_label_rows(sorted_labels, labels)
    population_of = {a.label.account_id: a.label.population for a in accounts}
    events_by_population: Counter[str] = Counter()
    first_ts = last_ts = ""
    n_events = 0
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with ExitStack() as stack:
        writer = _ChunkWriter(_open_events(stack, out), stack)
        lines: list[str] = []
        for event in _merge(accounts, _Gateway(scenario)):
            lines.append(encode(event))
            ts = cast(str, event["ts"])
            if not first_ts or ts < first_ts:
                first_ts = ts
            last_ts = max(last_ts, ts)
            events_by_population[population_of[cast(str, event["account_id"])]] += 1
            if len(lines) == PROGRESS_EVERY:
                n_events += len(lines)
                writer.write(lines)
                lines = []
                if progress is not None:
                    progress(n_events)
        n_events += len(lines)
        writer.write(lines)
    if progress is not None:
        progress(n_events)
    accounts_by_population = Counter(label.population for label in sorted_labels)
    return SimulationSummary(
        scenario=scenario.name,
        seed=seed,
        n_events=n_events,
        n_accounts=len(accounts),
        n_campaign_accounts=accounts_by_population["campaign"],
        n_campaigns=len(scenario.campaigns),
        events_by_population=dict(sorted(events_by_population.items())),
        accounts_by_population=dict(sorted(accounts_by_population.items())),
        start=_parse(first_ts),
        end=_parse(last_ts),
    )


class _ChunkWriter:
    """Writes chunks of lines on a worker thread, one chunk in flight at a time.

    zlib releases the GIL while it compresses, so compression overlaps with event
    generation; order is kept because the single worker runs chunks in submission order.
    """

    def __init__(self, sink: BinaryIO | gzip.GzipFile, stack: ExitStack) -> None:
        self._sink = sink
        self._pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        self._in_flight: Future[None] | None = None

    def write(self, lines: list[str]) -> None:
        """Queue ``lines`` for writing once the previous chunk is done."""
        if self._in_flight is not None:
            self._in_flight.result()
        self._in_flight = self._pool.submit(self._write, lines) if lines else None

    def _write(self, lines: list[str]) -> None:
        self._sink.write(("\n".join(lines) + "\n").encode("utf-8"))


def _parse(ts: str) -> datetime | None:
    return datetime.fromisoformat(ts) if ts else None


def simulate_to_file(
    preset: str,
    seed: int,
    out: Path,
    labels: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Simulate a named preset into an events file and a labels CSV.

    Parameters
    ----------
    preset : str
        ``tiny``, ``small``, ``medium`` or ``large``.
    seed : int
        Run seed; the same preset and seed give byte-identical files.
    out : Path
        Events file; gzip-compressed when it ends in ``.gz``.
    labels : Path
        Labels CSV.
    progress : callable, optional
        Called with the number of events written so far, about every 10,000 events.

    Raises
    ------
    ValueError
        If the preset is unknown.
    """
    return write_simulation(scenario_for(preset), seed, out, labels, progress=progress)
