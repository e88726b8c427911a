"""Replay a file of contract events into Kafka (``distillwatch produce``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from distillwatch.settings import Settings
from ingest import kafka_io
from ingest.jsonl import iter_line_chunks


def account_keys(lines: list[bytes]) -> list[bytes | None]:
    """Message keys (``account_id`` as UTF-8) of a chunk of raw lines, extracted in bulk.

    Lines that are not JSON objects with a string ``account_id`` get no key; they
    are sent anyway so that the consumer quarantines them.
    """
    texts = pl.Series([line.decode("utf-8", "replace") for line in lines], dtype=pl.String)
    ids = texts.str.json_path_match("$.account_id")
    return [None if value is None else value.encode() for value in ids.to_list()]


def serialise_chunks(
    events: Iterable[dict[str, object]], chunk_size: int = 10_000
) -> Iterator[list[bytes]]:
    """Compact JSON lines of ``events``, ``chunk_size`` at a time, for :func:`publish`."""
    chunk: list[bytes] = []
    for event in events:
        chunk.append(json.dumps(event, separators=(",", ":")).encode())
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def publish(
    settings: Settings,
    topic: str,
    chunks: Iterable[list[bytes]],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Send every raw message of ``chunks`` to ``topic`` keyed by account; return the count.

    Blocks until the broker acknowledged every message (``acks=all``), so a
    returned count is a count of durable messages.
    """
    kafka_io.ensure_topics(settings, topic)
    producer = kafka_io.producer(settings)
    sent = 0
    failures: list[BaseException] = []
    try:
        for chunk in chunks:
            for key, value in zip(account_keys(chunk), chunk, strict=True):
                future = producer.send(topic, key=key, value=value)
                future.add_errback(failures.append)
            sent += len(chunk)
            if failures:
                raise failures[0]
            if on_progress is not None:
                on_progress(sent)
        producer.flush()
        if failures:
            raise failures[0]
    finally:
        producer.close(timeout=30)
    return sent


def produce_file(
    settings: Settings, path: Path, topic: str, on_progress: Callable[[int], None] | None = None
) -> int:
    """Replay a ``.jsonl``/``.jsonl.gz`` file into ``topic``; return the number of messages."""
    return publish(settings, topic, iter_line_chunks(path), on_progress)
