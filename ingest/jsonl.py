"""Reading the file form of the stream: ``.jsonl`` or ``.jsonl.gz``, one message per line."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import IO, TypeVar

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


def iter_blocks(path: Path, block_bytes: int = _BLOCK_BYTES) -> Iterator[bytearray]:
    r"""Yield the file's bytes in pieces of about ``block_bytes``, each cut after a ``\n``.

    A piece ends at the last line break of the first ``block_bytes`` or more
    read; only the last piece may end without one. Joined, the pieces are the
    file. Cutting here and splitting elsewhere (:func:`split_lines`) lets a
    worker process split its own piece: one large buffer crosses the process
    boundary much more cheaply than a list of thousands of lines. The file is
    read straight into each piece's buffer, which is then cut in place: the
    bytes are copied once here, not three times (read, join, slice).
    """
    carry = b""  # the line begun at the end of the previous piece
    with _open(path) as handle:
        while True:
            # after a piece without a line break (a very long line), read on
            size = len(carry) + block_bytes
            piece = bytearray(size)
            piece[: len(carry)] = carry
            filled = _fill(handle, piece, len(carry))
            if filled < size:  # end of file
                del piece[filled:]
                if piece:
                    yield piece
                return
            cut = piece.rfind(b"\n") + 1
            carry = bytes(piece[cut:])
            if cut:
                del piece[cut:]
                yield piece


def _fill(handle: IO[bytes], buffer: bytearray, start: int) -> int:
    """Read into ``buffer`` from ``start`` until it is full or the file ends; the bytes held."""
    filled = start
    with memoryview(buffer) as view:
        while filled < len(buffer) and (n := handle.readinto(view[filled:])):  # type: ignore[attr-defined]
            filled += n
    return filled


T = TypeVar("T")


class _Failed:
    """What :func:`read_ahead`'s thread hands over when ``items`` raised."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """``items``, produced by a background thread up to ``depth`` items ahead of the consumer.

    For the pieces of a file (:func:`iter_blocks`): inflating and copying the
    next piece then overlaps with what the consumer does between two pieces
    (polars, numpy and ISA-L release the GIL). An error of ``items`` is raised
    here, in order; closing this generator early stops the thread and closes
    ``items``.
    """
    handed: Queue[object] = Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                handed.put(item)
                if stop.is_set():
                    return
            handed.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            handed.put(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():  # unblock a pending put
            with contextlib.suppress(Empty):
                handed.get(timeout=0.05)


def split_lines(piece: bytes | bytearray) -> list[bytes]:
    r"""The non-empty lines of ``piece`` as raw bytes, line breaks (``\n``, ``\r\n``) removed."""
    lines = bytes(piece).split(b"\n")
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
