"""Reading the file form of the stream: ``.jsonl`` or ``.jsonl.gz``, one message per line."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def iter_line_chunks(path: Path, chunk_lines: int = 20_000) -> Iterator[list[bytes]]:
    """Yield the file's non-empty lines as raw bytes (newline removed), ``chunk_lines`` at a time.

    Lines are not decoded or parsed: replaying a file must send its bytes
    unchanged, bad lines included, so that the consumer judges them.
    """
    chunk: list[bytes] = []
    with _open(path) as handle:
        for line in handle:
            stripped = line.rstrip(b"\r\n")
            if stripped:
                chunk.append(stripped)
                if len(chunk) >= chunk_lines:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def input_files(path: Path) -> list[Path]:
    """The event files a path names: itself, or the JSONL/Parquet files inside a folder, sorted."""
    if path.is_dir():
        patterns = ("*.jsonl", "*.jsonl.gz", "*.parquet")
        return sorted(p for pattern in patterns for p in path.rglob(pattern))
    if not path.exists():
        raise FileNotFoundError(f"no such input: {path}")
    return [path]
