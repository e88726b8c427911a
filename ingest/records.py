"""Native unpacking of fetched Kafka records for kafka-python's consumer.

kafka-python parses every record of a fetched batch in Python: a dozen varint
decodes, a ``DefaultRecord`` and a ``ConsumerRecord`` per message. That is
most of what a plain consumer spends per message, and it holds the GIL, so it
caps a lake writer process near the raw client's own rate. Here the
fetcher's per-partition record reader is replaced by one that hands each
batch's record section to native code (``ingest/native/src/records.rs``)
and gets the same ``ConsumerRecord`` tuples back, field for field.

Everything around the records stays kafka-python's: fetching, batch CRC
checks, decompression, positions, ``max_poll_records`` (the records are still
yielded one by one), rebalancing and commits. The fast path covers what a
plain consumer reads — message format v2, no deserializers, read-uncommitted
isolation, control batches skipped as kafka-python skips them. Anything else
(a legacy message-format batch, a ``read_committed`` consumer, configured
deserializers) goes through kafka-python's own reader unchanged.

The reader is kafka-python's private ``Fetcher.PartitionRecords`` class,
pinned with kafka-python to 3.0.x in pyproject.toml; the tests compare both
readers record for record, so an upgrade that changes it fails loudly.
``DISTILLWATCH_KAFKA_NATIVE_RECORDS=false`` turns the fast path off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord, Fetcher
from kafka.errors import CorruptRecordError
from kafka.protocol.consumer import IsolationLevel

from ingest._decode_native import unpack_records


class _Resume:
    """Batches from ``batch`` on: the rest of a fetch, handed to kafka-python's reader."""

    def __init__(self, batch: Any, records: Any) -> None:
        self._first: Any = batch
        self._records = records

    def next_batch(self) -> Any:
        batch, self._first = self._first, None
        return self._records.next_batch() if batch is None else batch


class NativePartitionRecords(Fetcher.PartitionRecords):  # type: ignore[misc]
    """kafka-python's per-partition record reader, with v2 batches unpacked natively."""

    def _unpack_records(
        self, tp: Any, records: Any, key_deserializer: Any, value_deserializer: Any
    ) -> Iterator[ConsumerRecord]:
        plain = (
            key_deserializer is None
            and value_deserializer is None
            and self.isolation_level == IsolationLevel.READ_UNCOMMITTED
        )
        if not plain:
            yield from super()._unpack_records(tp, records, key_deserializer, value_deserializer)
            return
        batch = records.next_batch()
        while batch is not None:
            if batch.magic != 2:
                yield from super()._unpack_records(tp, _Resume(batch, records), None, None)
                return
            if self.check_crcs and not batch.validate_crc():
                raise CorruptRecordError(
                    f"Record batch for partition {tp} at offset {batch.base_offset} "
                    "failed crc check"
                )
            self.leader_epoch = batch.leader_epoch
            if not batch.is_control_batch:
                yield from self._unpack_batch(tp, batch)
            # Format v2 keeps a batch's last offset even when compaction removed
            # its last records: resume after it, as kafka-python does.
            self.next_fetch_offset = batch.next_offset
            batch = records.next_batch()
        self.drain()

    def _unpack_batch(self, tp: Any, batch: Any) -> Iterator[ConsumerRecord]:
        """The records of one v2 data batch, the position following each as it is taken."""
        batch._maybe_uncompress()
        try:
            unpacked, size = unpack_records(
                batch._buffer,
                batch._pos,
                batch.records_count,
                batch.base_offset,
                batch.first_timestamp,
                batch.max_timestamp,
                batch.timestamp_type,
                (tp.topic, tp.partition, self.leader_epoch),
                ConsumerRecord,
            )
        except ValueError as exc:
            raise CorruptRecordError(
                f"Found invalid record structure in the batch of partition {tp} "
                f"at offset {batch.base_offset}: {exc}"
            ) from None
        self.records_read += len(unpacked)
        self.bytes_read += size
        for record in unpacked:
            self.next_fetch_offset = record.offset + 1
            yield record


def use_native_records(consumer: KafkaConsumer) -> None:
    """Have ``consumer`` unpack fetched records natively (see module docstring)."""
    consumer._fetcher.PartitionRecords = NativePartitionRecords
