"""The native record reader (``ingest.records``) against kafka-python's own.

Record batches are built with kafka-python's builders, so every case is read
by both readers from the same bytes; the last test does the same through a
real broker.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd
from kafka.consumer.fetcher import ConsumerRecord, Fetcher
from kafka.errors import CorruptRecordError
from kafka.protocol.consumer import IsolationLevel
from kafka.record.default_records import DefaultRecordBatch
from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder
from kafka.record.util import calc_crc32c
from kafka.structs import TopicPartition

from distillwatch.settings import Settings
from ingest import kafka_io
from ingest._decode_native import unpack_records
from ingest.records import NativePartitionRecords

TP = TopicPartition("events", 3)
CODECS = {"none": (0, True), "gzip": (1, has_gzip()), "snappy": (2, has_snappy())}
CODECS |= {"lz4": (3, has_lz4()), "zstd": (4, has_zstd())}

#: Records exercising every field shape: null and empty keys and values, non-ASCII
#: text, headers with null values and non-ASCII keys, one large value.
RECORDS: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]]]] = [
    (b"acct-1", b'{"event_id": "a"}', []),
    (None, b'{"event_id": "b"}', [("trace", b"x1"), ("n\u00e9", None)]),
    (b"", b"", []),
    (b"acct-2", None, [("only", b"")]),
    ("k\u00e9y".encode(), "v\u00e4lue \u2603".encode(), []),
    (b"acct-3", b"x" * 70_000, [("a", b"1"), ("b", b"22"), ("c", b"333")]),
]


def _batch(codec: int, first: int, records: list[Any] = RECORDS, magic: int = 2) -> bytes:
    builder = MemoryRecordsBuilder(magic, codec, 1 << 20, offset=first)
    for i, (key, value, headers) in enumerate(records):
        assert builder.append(
            1_700_000_000_000 + 7 * i, key, value, headers if magic == 2 else None
        )
    builder.close()
    return bytes(builder.records()._buffer)


def _patched(batch: bytes, attributes: int = 0, at: int | None = None, byte: int = 0) -> bytes:
    """``batch`` (v2) with ``attributes`` bits set and/or byte ``at`` replaced, CRC recomputed."""
    buffer = bytearray(batch)
    offset = DefaultRecordBatch.ATTRIBUTES_OFFSET
    (current,) = struct.unpack_from(">h", buffer, offset)
    struct.pack_into(">h", buffer, offset, current | attributes)
    if at is not None:
        buffer[at] = byte
    struct.pack_into(">I", buffer, DefaultRecordBatch.CRC_OFFSET, calc_crc32c(buffer[offset:]))
    return bytes(buffer)


def _read(
    reader: type, data: bytes, fetch_offset: int = 0, chunk: int | None = None, **kwargs: Any
) -> tuple[list[Any], list[int], tuple[int, int, int]]:
    """All records ``reader`` takes from ``data``, in takes of ``chunk``; positions; counters."""
    part = reader(fetch_offset, TP, MemoryRecords(data), **kwargs)
    records: list[Any] = []
    positions: list[int] = []
    while part:
        taken = part.take(chunk)
        records.extend(taken)
        positions.append(part.next_fetch_offset)
        if not taken:
            break
    return records, positions, (part.next_fetch_offset, part.records_read, part.bytes_read)


def _same(data: bytes, **kwargs: Any) -> list[Any]:
    """Read ``data`` with both readers; assert they agree exactly; return the records."""
    stock = _read(Fetcher.PartitionRecords, data, **kwargs)
    native = _read(NativePartitionRecords, data, **kwargs)
    assert native == stock
    return native[0]


@pytest.mark.parametrize("codec", list(CODECS))
def test_every_field_matches_kafka_python(codec: str) -> None:
    code, available = CODECS[codec]
    if not available:
        pytest.skip(f"kafka-python has no {codec} library here")
    data = _batch(code, 0) + _batch(code, 6) + _batch(code, 12, RECORDS[:2])
    records = _same(data)
    assert [r.offset for r in records] == list(range(14))
    assert records[1].headers == [("trace", b"x1"), ("n\u00e9", None)]
    assert records[3].value is None and records[3].serialized_value_size == -1
    # Takes that stop inside a batch leave the same positions behind.
    _same(data, chunk=4)
    _same(data, chunk=1)


def test_a_fetch_from_inside_a_batch_skips_the_records_before_it() -> None:
    data = _batch(3, 100) + _batch(3, 106)
    records = _same(data, fetch_offset=103, chunk=5)
    assert records[0].offset == 103


def test_offsets_removed_by_compaction_and_append_time() -> None:
    builder = MemoryRecordsBuilder(2, 0, 1 << 20, offset=40)
    builder.append(1, b"a", b"1", [])
    builder.skip(5)
    builder.append(2, b"b", b"2", [])
    builder.close()
    records = _same(bytes(builder.records()._buffer) + _batch(0, 50))
    assert [r.offset for r in records[:2]] == [40, 46]
    log_append = _patched(_batch(0, 0), attributes=DefaultRecordBatch.TIMESTAMP_TYPE_MASK)
    records = _same(log_append)
    assert {r.timestamp_type for r in records} == {1}
    assert len({r.timestamp for r in records}) == 1  # the batch's max timestamp


def test_control_batches_are_skipped_and_passed() -> None:
    marker = _patched(_batch(0, 6, RECORDS[:1]), attributes=DefaultRecordBatch.CONTROL_MASK)
    data = _batch(0, 0) + marker + _batch(0, 7, RECORDS[:2])
    records = _same(data, chunk=3)
    assert [r.offset for r in records] == [0, 1, 2, 3, 4, 5, 7, 8]


def test_legacy_batches_and_other_configurations_use_kafka_pythons_reader() -> None:
    legacy = _batch(0, 20, RECORDS, magic=1)
    assert _same(_batch(3, 14) + legacy)[6].offset == 20
    assert _same(legacy, chunk=2)[0].offset == 20

    def upper(value: bytes | None) -> bytes | None:
        return None if value is None else value.upper()

    class Upper:
        def deserialize(self, _topic: str, _headers: Any, value: bytes | None) -> Any:
            return upper(value)

    assert _same(_batch(0, 0), value_deserializer=Upper())[0].value == b'{"EVENT_ID": "A"}'
    _same(_batch(0, 0), isolation_level=IsolationLevel.READ_COMMITTED)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        # The first record's length varint (at byte 61): one byte more than it holds.
        (lambda b: _patched(b, at=61, byte=b[61] + 2), "declares"),
        # Its key length (byte 65): 63 bytes, beyond the end of the batch.
        (lambda b: _patched(b, at=65, byte=0x7E), "runs past the end"),
    ],
)
def test_malformed_records_raise_corrupt_record_error(
    corrupt: Callable[[bytes], bytes], message: str
) -> None:
    data = corrupt(_batch(0, 0, RECORDS[:1]))
    for reader in (Fetcher.PartitionRecords, NativePartitionRecords):
        with pytest.raises(CorruptRecordError):
            _read(reader, data)
    with pytest.raises(CorruptRecordError, match=message):
        _read(NativePartitionRecords, data)


def test_a_failed_crc_is_refused() -> None:
    data = bytearray(_batch(0, 0))
    data[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError, match="crc"):
        _read(NativePartitionRecords, bytes(data))


@pytest.mark.kafka
def test_consumers_read_a_real_topic_natively_and_identically(
    kafka_settings: Settings, topic: str
) -> None:
    kafka_io.ensure_topics(kafka_settings, topic)
    producer = KafkaProducer(
        compression_type="lz4", linger_ms=5, **kafka_settings.kafka_client_kwargs()
    )
    try:
        for i in range(3000):
            key, value, headers = RECORDS[i % len(RECORDS)]
            # The producer refuses null header values (the builder above does not).
            headers = [(name, v or b"") for name, v in headers]
            producer.send(topic, key=key, value=value, headers=headers, partition=i % 2)
        producer.flush()
    finally:
        producer.close()

    def consume(native: bool) -> list[Any]:
        consumer = kafka_io.consumer(
            kafka_settings, None, native_records=native, max_poll_records=499
        )
        assert (consumer._fetcher.PartitionRecords is NativePartitionRecords) is native
        consumer.subscribe([topic])
        records: list[Any] = []
        while len(records) < 3000:
            for batch in consumer.poll(timeout_ms=2000).values():
                records.extend(batch)
        consumer.close()
        return sorted(records, key=lambda r: (r.partition, r.offset))

    native = consume(True)
    assert native == consume(False)
    assert len({(r.partition, r.offset) for r in native}) == 3000
    consumer = kafka_io.consumer(replace(kafka_settings, kafka_native_records=False), None)
    assert consumer._fetcher.PartitionRecords is Fetcher.PartitionRecords
    consumer.close()


def test_the_native_reader_builds_only_tuple_shaped_records() -> None:
    batch = DefaultRecordBatch(_batch(0, 0))
    args = (batch._buffer, batch._pos, batch.records_count, 0, 0, 0, 0, ("t", 0, 0))
    records, _ = unpack_records(*args, ConsumerRecord)
    assert type(records[0]) is ConsumerRecord and records[0].value == RECORDS[0][1]
    for wrong in (dict, type("WithADict", (tuple,), {})):
        with pytest.raises(TypeError, match="namedtuple"):
            unpack_records(*args, wrong)
