"""Reading the file form of the stream: ``.jsonl`` or ``.jsonl.gz``, one message per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from isal import igzip_threaded


def _open(path: Path) -> IO[bytes]:
    """The file's bytes; gzip is inflated by ISA-L in a background thread.

    Decompression was the batch reader's bottleneck (zlib: ~330 MB/s of JSON,
    holding the GIL); ISA-L is about three times faster and releases the GIL,
    so it overlaps with splitting lines and feeding the decoding workers.
    """
    if path.suffix == ".gz":
        return igzip_threaded.open(path, "rb", threads=1)  # type: ignore[no-any-return]
    return path.open("rb")


#: Bytes read from the file at a time.
_BLOCK_BYTES = 8 << 20


def iter_blocks(path: Path, block_bytes: int = _BLOCK_BYTES) -> Iterator[bytes]:
    r"""Yield the file's bytes in pieces of about ``block_bytes``, each cut after a ``\n``.

    A piece ends at the last line break of the first ``block_bytes`` or more
    read; only the last piece may end without one. Joined, the pieces are the
    file. Cutting here and splitting elsewhere (:func:`split_lines`) lets a
    worker process split its own piece: one large bytes object crosses the
    process boundary much more cheaply than a list of thousands of lines.
    """
    parts: list[bytes] = []
    size = 0
    with _open(path) as handle:
        while block := handle.read(min(block_bytes, _BLOCK_BYTES)):
            parts.append(block)
            size += len(block)
            if size < block_bytes:
                continue
            data = b"".join(parts)
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line break yet: a very long line
                parts = [data]
                continue
            yield data[:cut]
            parts = [data[cut:]] if cut < len(data) else []
            size = len(data) - cut
    if size:
        yield b"".join(parts)


def split_lines(piece: bytes) -> list[bytes]:
    r"""The non-empty lines of ``piece`` as raw bytes, line breaks (``\n``, ``\r\n``) removed."""
    lines = piece.split(b"\n")
    if b"\r" in piece:
        lines = [line.rstrip(b"\r") for line in lines]
    return list(filter(None, lines))


def iter_line_chunks(path: Path, chunk_lines: int = 20_000) -> Iterator[list[bytes]]:
    r"""Yield the non-empty lines as raw bytes (line break removed), ``chunk_lines`` at a time.

    Lines are not decoded or parsed: replaying a file must send its bytes
    unchanged, bad lines included, so that the consumer judges them. The file
    is read in large blocks split at ``\n`` (a few times faster than reading it
    line by line); a trailing ``\r`` (CRLF files) is removed too.
    """
    chunk: list[bytes] = []
    for piece in iter_blocks(path):
        chunk += split_lines(piece)
        while len(chunk) >= chunk_lines:
            yield chunk[:chunk_lines]
            chunk = chunk[chunk_lines:]
    while chunk:
        yield chunk[:chunk_lines]
        chunk = chunk[chunk_lines:]


def input_files(path: Path) -> list[Path]:
    """The event files a path names: itself, or the JSONL/Parquet files inside a folder, sorted."""
    if path.is_dir():
        patterns = ("*.jsonl", "*.jsonl.gz", "*.parquet")
        return sorted(p for pattern in patterns for p in path.rglob(pattern))
    if not path.exists():
        raise FileNotFoundError(f"no such input: {path}")
    return [path]
