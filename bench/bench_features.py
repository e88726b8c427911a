"""Benchmark of the feature layer, with DuckDB as the reference for plain aggregates.

Measures, on about a million events:

(a) ``with_content`` on the prompts, batch by batch as the lake writer runs it;
(b) the full feature build (``features.jobs.build_range``: hourly and daily
    per-account features and the links of every day), and the full build with
    (a) included;
(c) the plain per-account hourly aggregates (counts, sums, means, distinct
    counts) as DuckDB SQL over the same Parquet files, against the same
    aggregates in polars (the definitions of ``window_aggregations``);

and the process's peak RSS. Usage::

    python bench/bench_features.py                    # synthetic lake, 1M events
    python bench/bench_features.py --events sim.jsonl.gz   # simulator output
    python bench/bench_features.py --events LAKE_DIR  # an existing lake (no text: no (a))

The synthetic lake is generated in time order with realistic cardinalities
(about 20k accounts, 1 KB prompts from a few hundred templates, a few
coordinated campaigns sharing templates, cards and proxies).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from features.content import with_content
from features.jobs import build_range, scan_events
from features.windows import window_aggregations, window_key
from ingest.decode import decode
from ingest.jsonl import input_files, iter_line_chunks
from ingest.lake import EVENTS, hour_partition, write_parquet
from ingest.schema import EVENT_ENCODING, INPUT_SCHEMA
from ingest.transform import hour_groups, to_lake

START = datetime(2026, 11, 16, tzinfo=UTC)
DAYS = 3.5
BATCH_ROWS = 50_000

#: Aggregates both engines compute; the polars side uses these names from
#: ``window_aggregations`` (same definitions), DuckDB the SQL below.
PLAIN = (
    "vol_requests",
    "tok_prompt_sum",
    "tok_completion_sum",
    "tok_completion_mean",
    "samp_max_tokens_mean",
    "samp_temperature_mean",
    "err_rate",
    "err_429_rate",
    "time_first",
    "time_last",
    "model_distinct",
    "net_ip_distinct",
    "net_asn_distinct",
    "net_country_distinct",
    "net_ua_distinct",
    "acct_api_keys",
)
DUCKDB_PLAIN = """
SELECT account_id, date_trunc('hour', ts) AS window_start,
       count(*) AS vol_requests,
       sum(prompt_tokens) AS tok_prompt_sum,
       sum(completion_tokens) AS tok_completion_sum,
       avg(completion_tokens) AS tok_completion_mean,
       avg(max_tokens) AS samp_max_tokens_mean,
       avg(temperature) AS samp_temperature_mean,
       avg((status >= 400)::DOUBLE) AS err_rate,
       avg((status = 429)::DOUBLE) AS err_429_rate,
       min(ts) AS time_first,
       max(ts) AS time_last,
       count(DISTINCT model) AS model_distinct,
       count(DISTINCT client_ip) AS net_ip_distinct,
       count(DISTINCT asn) AS net_asn_distinct,
       count(DISTINCT country) AS net_country_distinct,
       count(DISTINCT user_agent) AS net_ua_distinct,
       count(DISTINCT api_key_id) AS acct_api_keys
FROM read_parquet($files)
GROUP BY ALL
"""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Synthetic:
    """Vectorised generator of contract-schema events with prompt text, in time order.

    About 20k accounts with log-normal activity and diurnal rhythms in their
    own time zones; 10 campaigns of 100 accounts with flat 24/7 timing, three
    shared templates each, shared cards and proxy IPs, constant sampling
    parameters, and quick adoption of a model released on day 2. Prompts are
    one of 300 templates (about 120 words after an instruction) plus a
    20-word slot: about 1 KB.
    """

    N_ACCOUNTS = 20_000
    N_CAMPAIGNS = 10
    PER_CAMPAIGN = 100
    N_TEMPLATES = 300
    OPENERS = (
        "Think step by step and show your reasoning.",
        "Score the following response on a scale of 1 to 10 against the rubric.",
        "Reconstruct the reasoning that led to this answer.",
        "Translate the following text into German.",
        "Write a Python function for the task below.",
        "Solve the equation and give the final answer.",
        "Summarize the article below.",
        "Explain your reasoning before answering.",
    )
    DIURNAL = (0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0,
               1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.8, 0.7, 0.5, 0.4)  # fmt: skip

    def __init__(self, n_events: int, seed: int) -> None:
        self.n = n_events
        self.rng = rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        self.vocab = pl.Series(
            ["".join(rng.choice(letters, k)) for k in rng.integers(2, 10, 20_000)]
        )
        self.templates = pl.Series(
            [
                self.OPENERS[t % len(self.OPENERS)]
                + " "
                + " ".join(self.vocab.gather(rng.integers(0, len(self.vocab), 120)).to_list())
                for t in range(self.N_TEMPLATES)
            ]
        )
        self.accounts = self._accounts()
        self.hour_cdf = np.cumsum(self.DIURNAL) / sum(self.DIURNAL)

    def _accounts(self) -> pl.DataFrame:
        rng, n = self.rng, self.N_ACCOUNTS
        members = self.N_CAMPAIGNS * self.PER_CAMPAIGN
        campaign = np.where(np.arange(n) < members, np.arange(n) // self.PER_CAMPAIGN, -1)
        member = campaign >= 0
        weight = rng.lognormal(0.0, 1.5, n)
        weight[member] = 3 * np.median(weight)
        proxy = rng.integers(0, 200, n)
        octets = rng.integers(1, 255, (n, 4)).astype(str)
        created = START.timestamp() * 1e6 - rng.uniform(0, 400, n) * 86_400e6
        created[member] = START.timestamp() * 1e6 - 3 * 86_400e6
        frame = pl.DataFrame(
            {
                "index": np.arange(n),
                "campaign": campaign,
                "weight": weight / weight.sum(),
                "tz": rng.integers(-8, 10, n),
                "template_base": rng.integers(0, self.N_TEMPLATES, n),
                "card": rng.integers(0, 10, n),
                "proxy": proxy,
                "ip": pl.Series(octets[:, 0])
                + "."
                + octets[:, 1]
                + "."
                + octets[:, 2]
                + "."
                + octets[:, 3],
                "ua_version": rng.zipf(1.5, n) % 40,
                "asn_benign": rng.integers(1000, 1400, n),
                "created": created.astype(np.int64),
            }
        )
        is_member = pl.col("campaign") >= 0
        idx = pl.col("index").cast(pl.String)
        return frame.select(
            "campaign",
            "weight",
            "tz",
            "template_base",
            pl.format("acct{}", idx.str.zfill(5)).alias("account_id"),
            pl.when(is_member)
            .then(pl.format("camp-{}-{}", "campaign", "card"))
            .otherwise(pl.format("pay-{}", idx))
            .alias("payment_fingerprint"),
            pl.when(is_member)
            .then(pl.format("45.134.{}.{}", pl.col("proxy") % 50, "proxy"))
            .otherwise("ip")
            .alias("client_ip"),
            pl.when(is_member)
            .then(60_000 + pl.col("proxy") % 20)
            .otherwise("asn_benign")
            .alias("asn"),
            pl.when(is_member)
            .then(pl.lit("hosting"))
            .otherwise(pl.lit("residential"))
            .alias("asn_kind"),
            pl.when(is_member).then(pl.lit("SG")).otherwise(pl.lit("US")).alias("country"),
            pl.when(is_member)
            .then(pl.lit("python-httpx/0.27"))
            .otherwise(pl.format("openai-python/1.{}", "ua_version"))
            .alias("user_agent"),
            pl.col("created").cast(pl.Datetime("us", "UTC")).alias("account_created_at"),
            pl.when(is_member)
            .then(pl.lit("startup_program"))
            .otherwise(pl.lit("self_serve"))
            .alias("signup_channel"),
        )

    def _times(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted event times (µs since epoch) and the row of each event's account."""
        rng, n = self.rng, self.n
        account = rng.choice(self.N_ACCOUNTS, n, p=self.accounts["weight"].to_numpy())
        flat = self.accounts["campaign"].to_numpy()[account] >= 0
        local = np.searchsorted(self.hour_cdf, rng.uniform(0, 1, n))
        hour = np.where(
            flat, rng.integers(0, 24, n), (local - self.accounts["tz"].to_numpy()[account]) % 24
        )
        day = rng.integers(0, int(np.ceil(DAYS)), n)
        seconds = np.minimum(
            day * 86_400 + hour * 3_600 + rng.uniform(0, 3_600, n), DAYS * 86_400 - 1
        )
        ts = int(START.timestamp() * 1e6) + (seconds * 1e6).astype(np.int64)
        order = np.argsort(ts, kind="stable")
        return ts[order], account[order]

    def batches(self, batch_rows: int) -> Iterator[pl.DataFrame]:
        """Frames of contract columns (as ``ingest.decode`` returns them), in time order."""
        ts, account = self._times()
        for first in range(0, self.n, batch_rows):
            last = first + batch_rows
            yield self._batch(ts[first:last], account[first:last], first)

    def _batch(self, ts: np.ndarray, account: np.ndarray, offset: int) -> pl.DataFrame:
        rng, n = self.rng, len(ts)
        acct = self.accounts[account]
        member = acct["campaign"].to_numpy() >= 0
        template = np.where(
            member,
            acct["campaign"].to_numpy() * 3 + rng.integers(0, 3, n),
            (acct["template_base"].to_numpy() + rng.zipf(2.0, n)) % self.N_TEMPLATES,
        )
        words = [self.vocab.gather(rng.integers(0, len(self.vocab), n)) for _ in range(20)]
        number = pl.Series(rng.integers(0, 10**6, n)).cast(pl.String)
        when = pl.Series(ts).cast(pl.Datetime("us", "UTC"))
        adopted = rng.uniform(0, 1, n) < np.where(member, 0.8, 0.1)
        new_model = (ts >= (START + timedelta(days=2)).timestamp() * 1e6) & adopted
        models = np.array(["frontier-large-2026-09", "frontier-small-2026-06", "frontier-mini"])
        status = np.where(rng.uniform(0, 1, n) < np.where(member, 0.08, 0.02), 429, 200)
        status[rng.uniform(0, 1, n) < 0.005] = 503
        system = self.templates.gather(rng.integers(0, 20, n)).str.slice(0, 60)
        text = pl.DataFrame(
            {
                "t": self.templates.gather(template),
                "n": number,
                **{f"w{i}": w for i, w in enumerate(words)},
            }
        ).select(
            pl.concat_str(["t", pl.lit("Input"), "n", *[f"w{i}" for i in range(20)]], separator=" ")
        )
        frame = pl.DataFrame(
            {
                "event_id": pl.Series(np.arange(offset, offset + n)).cast(pl.String),
                "ts": when,
                "model": np.where(
                    new_model, "frontier-next-2026-11", models[rng.integers(0, 3, n)]
                ),
                "endpoint": np.where(
                    rng.uniform(0, 1, n) < 0.05, "/v1/batch", "/v1/chat/completions"
                ),
                "status": status,
                "prompt_tokens": rng.integers(150, 400, n),
                "completion_tokens": np.where(
                    member, rng.integers(2000, 4096, n), rng.integers(20, 800, n)
                ),
                "temperature": np.where(member, 0.0, rng.choice([0.2, 0.7, 1.0], n)),
                "max_tokens": np.where(member, 4096, rng.choice([256, 512, 1024, 2048], n)),
                "logprobs": member & (rng.uniform(0, 1, n) < 0.3),
                "top_logprobs": np.where(member, 20, 0),
                "api_key_id": pl.Series(account % 7).cast(pl.String),
                "prompt": text.to_series(),
                "system_prompt": system.zip_with(
                    pl.Series(rng.uniform(0, 1, n) < 0.3), pl.Series([None] * n, dtype=pl.String)
                ),
                "prompt_simhash": pl.Series([None] * n, dtype=pl.String),
            }
        ).hstack(acct.drop("campaign", "weight", "tz", "template_base"))
        return complete_contract(frame)


def complete_contract(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the contract columns ``frame`` lacks, as typed nulls (as decoded JSON would)."""
    missing = pl.from_arrow(
        pa.schema(
            [field for field in INPUT_SCHEMA if field.name not in frame.columns]
        ).empty_table()
    )
    assert isinstance(missing, pl.DataFrame)
    return frame.with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in missing.schema.items()
    )


def jsonl_batches(path: Path) -> Iterator[pl.DataFrame]:
    """Decoded contract rows of a JSONL(.gz) file or folder (rejected lines dropped)."""
    for file in input_files(path):
        for chunk in iter_line_chunks(file, BATCH_ROWS):
            yield decode(chunk).accepted


def write_lake(batches: Iterator[pl.DataFrame], lake: Path) -> tuple[int, Clock]:
    """Time ``with_content`` on each batch, then write it to the lake as ingest does.

    Returns the number of events and the time spent in ``with_content``.
    """
    n_events, content = 0, Clock()
    ingested_at = datetime.now(UTC)
    for index, batch in enumerate(batches):
        content.run(partial(with_content, batch))
        table = to_lake(
            batch,
            source_topic="bench",
            source_partition=0,
            source_offsets=pl.Series(np.arange(n_events, n_events + batch.height)),
            ingested_at=ingested_at,
            keep_prompt_text=False,
        )
        for day, hour, rows in hour_groups(table):
            folder = hour_partition(lake / EVENTS, day, hour)
            write_parquet(rows, folder / f"bench-{index:05d}.parquet", encoding=EVENT_ENCODING)
        n_events += batch.height
    return n_events, content


def lake_range(lake: Path) -> tuple[datetime, datetime]:
    """First and last hour (exclusive end) holding events."""
    hours = sorted(
        {
            (p.parent.parent.name[5:], int(p.parent.name[5:]))
            for p in (lake / EVENTS).glob("date=*/hour=*/*.parquet")
        }
    )
    first = datetime.fromisoformat(hours[0][0]).replace(hour=hours[0][1], tzinfo=UTC)
    last = datetime.fromisoformat(hours[-1][0]).replace(hour=hours[-1][1], tzinfo=UTC)
    return first, last + timedelta(hours=1)


@dataclass
class Clock:
    """Accumulated wall and CPU seconds (CPU: all threads of this process)."""

    wall: float = 0.0
    cpu: float = 0.0

    def run(self, job: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        job()
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu


def best_of(runs: int, job: Callable[[], object]) -> Clock:
    """The run of ``job`` with the least wall time among ``runs`` (the machine is shared)."""
    clocks = []
    for _ in range(runs):
        clock = Clock()
        clock.run(job)
        clocks.append(clock)
    return min(clocks, key=lambda clock: clock.wall)


def duckdb_plain(files: list[str]) -> pa.Table:
    """The plain per-account hourly aggregates, in DuckDB SQL over the event files."""
    listing = ", ".join("'" + name.replace("'", "''") + "'" for name in files)
    relation = duckdb.sql(DUCKDB_PLAIN.replace("$files", f"[{listing}]"))
    assert relation is not None
    return relation.to_arrow_table()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, help="JSONL(.gz) file or folder, or a lake folder")
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, help="folder for the lake (default: a temp folder)")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-features-"))
    lake, content = work, None
    started = time.perf_counter()
    if args.events is not None and (args.events / EVENTS).is_dir():
        lake = args.events
        source = f"lake {lake}"
    else:
        if args.events is not None:
            batches, source = jsonl_batches(args.events), f"file {args.events}"
        else:
            batches, source = Synthetic(args.rows, args.seed).batches(BATCH_ROWS), "synthetic"
        _, content = write_lake(batches, lake)
    files = [str(p) for p in sorted((lake / EVENTS).glob("date=*/hour=*/*.parquet"))]
    n_events = pl.scan_parquet(files).select(pl.len()).collect().item()
    print(
        f"events: {n_events:,} ({source}), lake ready in {time.perf_counter() - started:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    start, end = lake_range(lake)

    build = Clock()
    written: dict[str, list[Path]] = {}
    build.run(lambda: written.update(build_range(lake, start, end)))
    rss_build = peak_rss_mb()

    plain = [e for e in window_aggregations() if e.meta.output_name() in PLAIN]
    polars_plain = best_of(
        3,
        lambda: (
            scan_events([Path(f) for f in files])
            .group_by("account_id", window_key("1h"))
            .agg(plain)
            .collect()
        ),
    )
    duck = best_of(3, lambda: duckdb_plain(files))

    def rate(clock: Clock) -> str:
        return (
            f"{n_events / clock.wall:>11,.0f} events/s  (wall {clock.wall:6.2f} s, "
            f"cpu {clock.cpu:6.2f} s)"
        )

    print("files written:", {name: len(paths) for name, paths in written.items()})
    if content is not None:
        print(f"(a) with_content                {rate(content)}")
    print(f"(b) feature jobs (build_range)  {rate(build)}")
    if content is not None:
        full = Clock(build.wall + content.wall, build.cpu + content.cpu)
        print(f"(b) full build incl. content    {rate(full)}")
    print(f"(b-plain) polars plain hourly   {rate(polars_plain)}")
    print(f"(c) DuckDB plain hourly         {rate(duck)}")
    print(f"ratio (b-plain)/(c) wall        {polars_plain.wall / duck.wall:.2f}")
    print(f"peak RSS                        {peak_rss_mb():.0f} MiB (after jobs {rss_build:.0f})")
    print(f"load average at end             {os.getloadavg()[0]:.1f}")
    if args.work is None and args.events is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
