"""Bulk decoding and validation of ``api_access_log`` v1 messages.

A polled batch of raw messages is parsed *once*, straight into Arrow columns of
:data:`ingest.schema.INPUT_SCHEMA`, by a native parser (``ingest/native/src/
events.rs``, without the GIL) that is strict about JSON types (``"200"`` is not
an integer, ``123`` is not a string, ``1.0`` is not an integer). The range,
format and length rules of the contract are then checked as vectorised polars
expressions. Only when the native parse refuses the batch (malformed JSON, a
type error, a repeated field or an oversized message somewhere in it) does the
batch take the Arrow path: joined with newlines, parsed by Arrow's JSON reader
(as strict) and bisected on failure, so that good messages are still parsed in
bulk and each bad one is isolated and given an exact reason by
:func:`_decode_one` — the only place that calls ``json.loads``, off the hot path.

Every input message ends up in exactly one of ``accepted`` or ``rejected``, in
its original position order, so counts reconcile by construction.
"""

from __future__ import annotations

import io
import ipaddress
import json
import math
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from ingest._decode_native import join_plain, parse_messages, parse_timestamps
from ingest.schema import ASN_KINDS, INPUT_SCHEMA, REQUIRED_FIELDS, UTC_TS

#: Index of each message in the batch handed to :func:`decode`.
INDEX = "_msg_index"

_PARSE_OPTIONS = pj.ParseOptions(
    explicit_schema=INPUT_SCHEMA, unexpected_field_behavior="ignore", newlines_in_values=False
)
_READ_OPTIONS = pj.ReadOptions(use_threads=True, block_size=4 << 20)

#: The native parser's numbering of the contract's JSON types.
_NATIVE_KINDS = {pa.string(): 0, pa.int64(): 1, pa.float64(): 2, pa.bool_(): 3}
_NATIVE_NAMES = [f.name for f in INPUT_SCHEMA]
_NATIVE_FIELD_KINDS = [_NATIVE_KINDS[f.type] for f in INPUT_SCHEMA]

#: Below this many messages a failed bulk parse is resolved record by record.
_BISECT_FLOOR = 16

#: Status of a timestamp string (``ingest/native/src/timestamps.rs``).
_TS_NO_OFFSET, _TS_INVALID = 2, 3
_IPV4 = r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"

_STRING_LIMITS = {"event_id": 64, "account_id": 128, "model": 128, "endpoint": 256}
_MINIMUMS = {
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "latency_ms": 0,
    "max_tokens": 0,
    "n": 1,
    "logit_bias_size": 0,
    "tool_count": 0,
    "asn": 0,
}
_RANGES = {"status": (100, 599), "temperature": (0, 2), "top_p": (0, 1), "top_logprobs": (0, 20)}
MAX_PROMPT_CHARS = 8192


@dataclass(frozen=True)
class Decoded:
    """Result of :func:`decode`.

    ``accepted`` has the contract columns (timestamps parsed to UTC) and
    :data:`INDEX`; ``rejected`` maps message index to reason.
    """

    accepted: pl.DataFrame
    rejected: dict[int, str]


# -- record-level fallback ------------------------------------------------------------------
_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


def _json_type_error(name: str, value: Any, kind: pa.DataType) -> tuple[str | None, Any]:
    """Check one JSON value against the contract's type; return (error, converted value)."""
    wrong = f"{name} has the wrong type ({_JSON_TYPE_NAMES.get(type(value), 'unknown')})"
    if pa.types.is_string(kind):
        return (None, value) if isinstance(value, str) else (wrong, None)
    if pa.types.is_boolean(kind):
        return (None, value) if isinstance(value, bool) else (wrong, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return wrong, None
    if pa.types.is_integer(kind):
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return f"{name} is not an integer", None
        return None, int(value)
    return None, float(value)


def _decode_one(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Decode one message exactly like the contract says; return (row, None) or (None, reason)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not valid UTF-8"
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON ({exc.args[0] if exc.args else exc})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    row: dict[str, Any] = {}
    for field in INPUT_SCHEMA:
        name = field.name
        if name not in obj:
            if name in REQUIRED_FIELDS:
                return None, f"missing required field {name}"
            continue
        value = obj[name]
        if value is None:
            if name in REQUIRED_FIELDS:
                return None, f"required field {name} is null"
            continue
        error, converted = _json_type_error(name, value, field.type)
        if error:
            return None, error
        row[name] = converted
    return row, None


# -- bulk path ------------------------------------------------------------------------------
def _native_parse(raws: list[bytes], max_message_bytes: int) -> pa.Table | None:
    """All of ``raws`` parsed natively into a table of INPUT_SCHEMA; None if any is refused."""
    columns = parse_messages(raws, _NATIVE_NAMES, _NATIVE_FIELD_KINDS, max_message_bytes)
    if columns is None:
        return None
    arrays = [
        pa.Array.from_buffers(
            field.type, len(raws), [pa.py_buffer(b) for b in buffers], null_count=nulls
        )
        for field, (nulls, *buffers) in zip(INPUT_SCHEMA, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=INPUT_SCHEMA)


def _bulk_parse(joined: bytes, n: int) -> pa.Table | None:
    """Parse ``n`` newline-joined messages in one call; None if any is malformed or mistyped."""
    try:
        table = pj.read_json(
            io.BytesIO(joined), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == n else None


def _parse(
    raws: list[bytes],
    indices: list[int],
    out: list[pa.Table],
    rejected: dict[int, str],
    joined: bytes | None = None,
) -> None:
    """Bulk-parse ``raws`` (or ``joined``, their joined form); bisect to isolate bad ones."""
    table = _bulk_parse(b"\n".join(raws) if joined is None else joined, len(raws))
    if table is not None:
        out.append(table.append_column(INDEX, pa.array(indices, pa.int64())))
        return
    if len(raws) > _BISECT_FLOOR:
        mid = len(raws) // 2
        _parse(raws[:mid], indices[:mid], out, rejected)
        _parse(raws[mid:], indices[mid:], out, rejected)
        return
    rows, kept = [], []
    for raw, index in zip(raws, indices, strict=True):
        row, reason = _decode_one(raw)
        if reason is not None:
            rejected[index] = reason
        else:
            rows.append(row)
            kept.append(index)
    if rows:
        table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
        out.append(table.append_column(INDEX, pa.array(kept, pa.int64())))


def _timestamps(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """RFC 3339 strings (mandatory offset) -> UTC timestamps, and each row's status.

    One native pass per chunk over its Arrow buffers. A row whose string is not
    a timestamp is null; its status (uint8: 0 valid, 1 null, 2 date and time
    without an offset, 3 anything else) gives the reason.
    """
    times, statuses = [], []
    # the native pass reads 32-bit offsets
    strings = column if column.type == pa.string() else column.cast(pa.string())
    for chunk in strings.chunks:
        validity, offsets, data = chunk.buffers()
        nulls, valid, micros, status = parse_timestamps(
            len(chunk), chunk.offset, validity, offsets, data
        )
        times.append(
            pa.Array.from_buffers(
                UTC_TS, len(chunk), [pa.py_buffer(valid), pa.py_buffer(micros)], null_count=nulls
            )
        )
        statuses.append(pa.Array.from_buffers(pa.uint8(), len(chunk), [None, pa.py_buffer(status)]))
    return pa.chunked_array(times, UTC_TS), pa.chunked_array(statuses, pa.uint8())


def _rule(condition: pl.Expr, reason: str) -> tuple[pl.Expr, str]:
    return condition.fill_null(False), reason


def _violations(invalid_ips: list[str]) -> list[tuple[pl.Expr, str]]:
    """Contract rules beyond JSON types, as (violated?, reason) pairs, in reporting order."""
    rules = [
        _rule(pl.col(name).is_null(), f"required field {name} is null") for name in REQUIRED_FIELDS
    ]
    for name, limit in _STRING_LIMITS.items():
        length = pl.col(name).str.len_chars()
        rules.append(_rule(length < 1, f"{name} empty"))
        rules.append(_rule(length > limit, f"{name} longer than {limit} characters"))
    rules.append(_rule(pl.col("_ts_status") == _TS_NO_OFFSET, "ts without offset"))
    rules.append(_rule(pl.col("_ts_status") == _TS_INVALID, "unparseable ts"))
    rules.append(
        _rule(
            pl.col("_created_status") >= _TS_NO_OFFSET,
            "unparseable account_created_at",
        )
    )
    for name, (low, high) in _RANGES.items():
        rules.append(_rule(~pl.col(name).is_between(low, high), f"{name} out of range"))
    for name, low in _MINIMUMS.items():
        rules.append(_rule(pl.col(name) < low, f"{name} out of range (below {low})"))
    rules += [
        _rule(~pl.col("asn_kind").is_in(ASN_KINDS), "asn_kind not one of the contract's kinds"),
        _rule(~pl.col("country").str.contains(r"^[A-Z]{2}$"), "country is not ISO 3166-1 alpha-2"),
        _rule(
            ~pl.col("prompt_simhash").str.contains(r"^[0-9a-f]{16}$"),
            "prompt_simhash is not 16 hex digits",
        ),
        _rule(
            pl.col("prompt").str.len_chars() > MAX_PROMPT_CHARS,
            f"prompt longer than {MAX_PROMPT_CHARS} characters",
        ),
        _rule(pl.col("client_ip").is_in(invalid_ips), "client_ip is not an IPv4 or IPv6 address"),
    ]
    return rules


def _invalid_ips(ips: pl.Series) -> list[str]:
    """Distinct client_ip values that are neither IPv4 nor IPv6 (checked once per value)."""
    distinct = ips.drop_nulls().unique()
    candidates = distinct.filter(~distinct.str.contains(_IPV4))
    bad = []
    for value in candidates.to_list():
        try:
            ipaddress.ip_address(value)
        except ValueError:
            bad.append(value)
    return bad


def _validate(table: pa.Table, rejected: dict[int, str]) -> pl.DataFrame:
    """Apply the contract's rules to parsed rows; move violators to ``rejected``."""
    for name, status in (("ts", "_ts_status"), ("account_created_at", "_created_status")):
        parsed, statuses = _timestamps(table.column(name))
        table = table.append_column(f"{name}_parsed", parsed).append_column(status, statuses)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    reason = pl.lit(None, pl.String)
    for violated, text in reversed(_violations(_invalid_ips(frame["client_ip"]))):
        reason = pl.when(violated).then(pl.lit(text)).otherwise(reason)
    frame = frame.with_columns(reason.alias("_reason"))
    bad = frame.filter(pl.col("_reason").is_not_null())
    rejected.update(zip(bad[INDEX].to_list(), bad["_reason"].to_list(), strict=True))
    if bad.height:  # most batches have none: no copy of every column then
        frame = frame.filter(pl.col("_reason").is_null())
    return (
        frame.drop("ts", "account_created_at", "_reason")
        .rename({"ts_parsed": "ts", "account_created_at_parsed": "account_created_at"})
        .select([f.name for f in INPUT_SCHEMA] + [INDEX])
    )


def _empty_accepted() -> pl.DataFrame:
    schema = pa.schema(
        [
            pa.field(f.name, UTC_TS if f.name in ("ts", "account_created_at") else f.type)
            for f in INPUT_SCHEMA
        ]
        + [pa.field(INDEX, pa.int64())]
    )
    frame = pl.from_arrow(schema.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def decode(raws: list[bytes], max_message_bytes: int = 64 * 1024) -> Decoded:
    """Decode and validate a batch of raw messages against the contract.

    Parameters
    ----------
    raws
        Message values in stream order (``None`` values must be passed as ``b""``).
    max_message_bytes
        Larger messages are rejected whole without being parsed.
    """
    rejected: dict[int, str] = {}
    tables: list[pa.Table] = []
    table = _native_parse(raws, max_message_bytes) if raws else None
    if table is not None:
        tables.append(table.append_column(INDEX, pa.array(range(len(raws)), pa.int64())))
    elif raws:
        _arrow_parse(raws, max_message_bytes, tables, rejected)
    # Rows whose required field parsed as null may be "missing" or "null": ask the
    # record-level decoder for the exact reason.
    accepted = [_validate(t, rejected) for t in tables]
    for index, reason in list(rejected.items()):
        if reason.startswith("required field") and reason.endswith("is null"):
            rejected[index] = _decode_one(raws[index])[1] or reason
    # Already in message order: _parse emits its tables in index order (left half
    # first), and neither the screen nor the validation reorders rows.
    frame = pl.concat(accepted) if accepted else _empty_accepted()
    return Decoded(frame, rejected)


def _arrow_parse(
    raws: list[bytes], max_message_bytes: int, tables: list[pa.Table], rejected: dict[int, str]
) -> None:
    """The Arrow path of a batch the native parse refused: screen, parse, bisect."""
    # A batch that is all plain skips _screen's per-message Python loop (GIL time
    # the lake writer's polling thread needs): one native pass checks and joins it.
    joined = join_plain(raws, max_message_bytes)
    if joined is not None:
        parseable, indices = raws, list(range(len(raws)))
    else:
        parseable, indices = _screen(raws, max_message_bytes, rejected)
    if parseable:
        _parse(parseable, indices, tables, rejected, joined)


def _screen(
    raws: list[bytes], max_message_bytes: int, rejected: dict[int, str]
) -> tuple[list[bytes], list[int]]:
    """The messages that can go to the bulk parse, and their indexes; reject the others.

    Oversized and empty messages are rejected here; messages with line breaks
    (which would split the joined batch) or invalid UTF-8 get their exact
    reason, or a re-serialised line, from the record-level decoder. All rare.
    """
    parseable: list[bytes] = []
    indices: list[int] = []
    for index, raw in enumerate(raws):
        if len(raw) > max_message_bytes:
            rejected[index] = f"message larger than {max_message_bytes} bytes ({len(raw)})"
        elif not raw.strip():
            rejected[index] = "not valid JSON (empty message)"
        elif b"\n" in raw or b"\r" in raw or not (raw.isascii() or _is_utf8(raw)):
            row, reason = _decode_one(raw)
            if reason is not None:
                rejected[index] = reason
            else:
                parseable.append(json.dumps(row).encode())
                indices.append(index)
        else:
            parseable.append(raw)
            indices.append(index)
    return parseable, indices


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
