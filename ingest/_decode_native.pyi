"""Types of the decoder's native screen and record unpacking (``ingest/native/src``)."""

from typing import Any

def join_plain(raws: list[bytes], max_message_bytes: int) -> bytes | None: ...
def unpack_records(
    buffer: bytes | bytearray,
    start: int,
    count: int,
    base_offset: int,
    first_timestamp: int,
    max_timestamp: int,
    timestamp_type: int,
    prefix: tuple[str, int, int],
    record_type: type[tuple[Any, ...]],
) -> tuple[list[Any], int]: ...
def parse_messages(
    raws: list[bytes], names: list[str], kinds: list[int], max_message_bytes: int
) -> list[tuple[Any, ...]] | None: ...
def parse_timestamps(
    length: int, offset: int, validity: Any, offsets: Any, data: Any
) -> tuple[int, bytes, bytes, bytes]: ...
