"""The bulk decoder against the contract's examples and a fuzzed mix (no Kafka needed)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import jsonschema
import polars as pl
import pyarrow as pa
import pytest

import ingest.decode
from ingest._decode_native import join_plain
from ingest.decode import INDEX, decode
from tests.events import make_lines


def test_valid_examples_are_accepted_and_normalised_to_utc(good_examples: list[bytes]) -> None:
    decoded = decode(good_examples)
    assert decoded.rejected == {}
    rows = {r["event_id"]: r for r in decoded.accepted.to_dicts()}
    assert len(rows) == len(good_examples)
    # "2026-11-21T18:15:31.5+08:00" is 10:15:31.5 UTC
    assert rows["ev-000003"]["ts"] == datetime(2026, 11, 21, 10, 15, 31, 500_000, tzinfo=UTC)
    assert rows["ev-000003"]["client_ip"] == "2001:db8::7"  # IPv6 accepted
    assert rows["ev-000002"]["client_ip"] is None  # optional fields may be missing
    assert rows["01JD8X3K5T0000000000000001"]["account_created_at"] == datetime(
        2026, 11, 2, 8, tzinfo=UTC
    )


def test_every_bad_example_is_rejected_with_its_reason(
    bad_examples: list[tuple[bytes, str]],
) -> None:
    decoded = decode([raw for raw, _ in bad_examples])
    assert decoded.accepted.height == 0
    assert sorted(decoded.rejected) == list(range(len(bad_examples)))
    for index, (_, expected) in enumerate(bad_examples):
        got = decoded.rejected[index]
        # The contract's reason names the rule; ours may add detail after it.
        assert got.split(" (")[0] == expected.split(" (")[0], (index, got, expected)


def test_bad_messages_do_not_spoil_good_ones_in_the_same_batch(
    good_examples: list[bytes], bad_examples: list[tuple[bytes, str]]
) -> None:
    valid = make_lines(500)
    mixed = valid[:250] + [raw for raw, _ in bad_examples] + valid[250:] + good_examples
    decoded = decode(mixed)
    assert decoded.accepted.height == 500 + len(good_examples)
    assert len(decoded.rejected) == len(bad_examples)
    assert decoded.accepted[INDEX].is_sorted()
    assert set(decoded.rejected) == set(range(250, 250 + len(bad_examples)))


def test_oversized_and_empty_messages_are_rejected() -> None:
    big = json.loads(make_lines(1)[0])
    big["padding"] = "x" * 70_000
    decoded = decode([json.dumps(big).encode(), b"", b"   "])
    assert decoded.rejected[0].startswith("message larger than 65536 bytes")
    assert decoded.rejected[1].startswith("not valid JSON")
    assert decoded.rejected[2].startswith("not valid JSON")


def test_native_screen_joins_only_batches_the_bulk_parse_can_split_back() -> None:
    plain = [b'{"a":1}', '{"b":"\u00e9\u6f22"}'.encode()]
    assert join_plain(plain, 64) == plain[0] + b"\n" + plain[1]
    assert join_plain([], 64) == b""
    for odd in (b"x" * 65, b"", b" \t", "\u3000".encode(), b'{"a":\n1}', b"{}\r", b"\xff{}"):
        assert join_plain([*plain, odd], 64) is None, odd
    # the same odd messages through decode: isolated with a reason, the rest still accepted
    good = make_lines(3)
    decoded = decode([*good, b"\xff{}", b'{"a":\n1}', *good])
    assert decoded.accepted.height == 6
    assert set(decoded.rejected) == {3, 4}


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"event_id": 123}, "event_id has the wrong type (integer)"),
        ({"status": True}, "status has the wrong type (boolean)"),
        ({"temperature": 2.5}, "temperature out of range"),
        ({"top_logprobs": 21}, "top_logprobs out of range"),
        ({"asn_kind": "datacenter"}, "asn_kind not one of the contract's kinds"),
        ({"country": "de"}, "country is not ISO 3166-1 alpha-2"),
        ({"client_ip": "999.1.1.1"}, "client_ip is not an IPv4 or IPv6 address"),
        ({"prompt_simhash": "XYZ"}, "prompt_simhash is not 16 hex digits"),
        ({"prompt": "a" * 8193}, "prompt longer than 8192 characters"),
        ({"ts": "2026-02-30T10:00:00Z"}, "unparseable ts"),
        ({"ts": "2026-02-03 10:00:00.25"}, "ts without offset"),
        ({"account_created_at": "soon"}, "unparseable account_created_at"),
        ({"n": 0}, "n out of range (below 1)"),
    ],
)
def test_optional_and_format_rules(patch: dict[str, object], reason: str) -> None:
    event = json.loads(make_lines(1)[0]) | patch
    decoded = decode([json.dumps(event).encode()])
    assert decoded.rejected == {0: reason}


def test_json_edge_cases_follow_json_schema(contract_dir) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads((contract_dir / "api_access_log.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    base = json.loads(make_lines(1)[0])
    cases = [
        json.dumps(base | {"prompt_tokens": 1e2}).encode(),  # integer-valued number
        json.dumps(base | {"extra": {"nested": [1, 2]}}, indent=2).encode(),  # line breaks
        json.dumps(base | {"prompt": "line one\nline two"}).encode(),
    ]
    decoded = decode(cases)
    assert decoded.rejected == {}
    assert decoded.accepted["prompt_tokens"][0] == 100
    for raw in cases:
        validator.validate(json.loads(raw))


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    """A random corruption of a valid message: may or may not still be valid."""
    event = json.loads(raw)
    choice = rng.randrange(8)
    if choice == 0:
        return raw[: rng.randrange(1, len(raw))]
    if choice == 1:
        del event[rng.choice(list(event))]
    elif choice == 2:
        event[rng.choice(list(event))] = rng.choice([None, "", -1, 1.5, True, [], {}, "x" * 200])
    elif choice == 3:
        return bytes(b ^ 0xFF if rng.random() < 0.01 else b for b in raw)
    elif choice == 4:
        event["ts"] = rng.choice(["2026-11-21 10:00", "2026-13-01T00:00:00Z", "1", ""])
    elif choice == 5:
        return json.dumps([event]).encode()
    elif choice == 6:
        event["status"] = rng.choice([99, 600, "200", 200.5])
    else:
        event["surprise"] = {"k": rng.random()}
    return json.dumps(event).encode()


def test_fuzzed_mix_reconciles_with_an_independent_validator(contract_dir) -> None:  # type: ignore[no-untyped-def]
    """Every message is accepted or rejected, and the verdict agrees with JSON Schema."""
    schema = json.loads((contract_dir / "api_access_log.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    rng = random.Random(7)
    messages = [_mutate(raw, rng) for raw in make_lines(1500, seed=3)]
    decoded = decode(messages)
    accepted = set(decoded.accepted[INDEX].to_list())
    assert accepted.isdisjoint(decoded.rejected)
    assert len(accepted) + len(decoded.rejected) == len(messages)
    assert 200 < len(decoded.rejected) < 1400  # the mix really is mixed
    for index, raw in enumerate(messages):
        try:
            obj = json.loads(raw)
            schema_ok = validator.is_valid(obj)
        except ValueError:
            schema_ok = False
        assert (index in accepted) == schema_ok, (raw[:200], decoded.rejected.get(index))


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_line_chunks_keep_every_line_byte_for_byte(tmp_path, monkeypatch, suffix: str) -> None:  # type: ignore[no-untyped-def]
    import gzip

    from ingest import jsonl

    monkeypatch.setattr(jsonl, "_BLOCK_BYTES", 7)  # lines straddle blocks
    lines = [b'{"a":1}', b"not json", b'{"b":"\\u00e9"}', b"x" * 30, b"last"]
    body = b"\r\n".join(lines[:2]) + b"\n\n" + b"\n".join(lines[2:4]) + b"\r\r\n" + lines[4]
    path = tmp_path / f"events{suffix}"
    path.write_bytes(gzip.compress(body) if suffix.endswith(".gz") else body)
    chunks = list(jsonl.iter_line_chunks(path, chunk_lines=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [line for chunk in chunks for line in chunk] == lines


@pytest.mark.parametrize("block_bytes", [1, 10, 64, 1 << 20])
def test_blocks_end_at_line_breaks_and_join_to_the_file(tmp_path, block_bytes: int) -> None:  # type: ignore[no-untyped-def]
    from ingest import jsonl

    body = b"\n".join([b'{"a":1}', b"y" * 100, b"", b'{"b":2}\r', b"tail without break"])
    path = tmp_path / "events.jsonl"
    path.write_bytes(body)
    pieces = list(jsonl.iter_blocks(path, block_bytes))
    assert b"".join(pieces) == body
    assert all(piece.endswith(b"\n") for piece in pieces[:-1])
    if block_bytes == 1:  # every line break ends a piece
        assert len(pieces) == body.count(b"\n") + 1
    assert (len(pieces) == 1) == (block_bytes > len(body))
    lines = [line for piece in pieces for line in jsonl.split_lines(piece)]
    assert lines == [b'{"a":1}', b"y" * 100, b'{"b":2}', b"tail without break"]


def _arrow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make :func:`decode` skip the native parse, as if it refused every batch."""
    monkeypatch.setattr(ingest.decode, "_native_parse", lambda raws, max_bytes: None)


def test_native_parse_builds_the_table_arrows_reader_builds(good_examples: list[bytes]) -> None:
    """Same columns, types, values and nulls, on simulator events and the contract examples
    (extra fields, missing optional ones, IPv6, non-UTC offsets, non-ASCII text)."""
    raws = [*make_lines(3000, seed=5), *good_examples]
    native = ingest.decode._native_parse(raws, 64 * 1024)
    arrow = ingest.decode._bulk_parse(b"\n".join(raws), len(raws))
    assert native is not None and arrow is not None
    assert native.schema == arrow.schema
    for name in arrow.column_names:
        assert native.column(name).equals(arrow.column(name)), name
    assert native.column("org_id").null_count > 0  # optional fields really were missing


@pytest.mark.parametrize(
    "patch",
    [
        {"status": "200"},  # a string in an integer field
        {"status": 200.0},  # a fraction in one
        {"status": True},
        {"status": 2**63},  # beyond int64
        {"account_id": 123},  # a number in a string field
        {"account_id": {"id": 1}},
        {"account_id": ["a"]},
        {"logprobs": 1},  # a number in a boolean field
        {"temperature": "0.7"},
    ],
)
def test_native_parse_refuses_a_batch_with_a_wrong_type(patch: dict[str, object]) -> None:
    good, event = make_lines(2)
    bad = json.dumps(json.loads(event) | patch).encode()
    assert ingest.decode._native_parse([good, bad], 64 * 1024) is None


def test_native_parse_refuses_what_only_the_arrow_path_can_judge() -> None:
    good = make_lines(1)[0]
    event = json.loads(good)
    repeated = good[:-1] + b', "account_id": "acct-x"}'
    big = json.dumps(event | {"padding": "x" * 70_000}).encode()
    for odd in (b"", b"  ", b"[1]", b"null", good[:-5], repeated, b"\xff" + good, big, good + b"x"):
        assert ingest.decode._native_parse([good, odd], 64 * 1024) is None, odd[:40]
    assert ingest.decode._native_parse([good, b" " + good + b"\n"], 64 * 1024) is not None


def test_decode_gives_the_same_verdicts_with_or_without_the_native_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of one and three fuzzed messages: the native parse takes those it can,
    and every accepted row and every rejection reason is what the Arrow path gives."""
    rng = random.Random(11)
    messages = [_mutate(raw, rng) for raw in make_lines(1200, seed=4)]
    batches = [[m] for m in messages] + [messages[i : i + 3] for i in range(0, 1200, 3)]
    native = [decode(batch) for batch in batches]
    taken = sum(ingest.decode._native_parse(b, 64 * 1024) is not None for b in batches)
    _arrow_path(monkeypatch)
    for batch, fast in zip(batches, native, strict=True):
        slow = decode(batch)
        assert fast.rejected == slow.rejected, batch
        assert fast.accepted.equals(slow.accepted), batch
    assert 300 < taken < len(batches) - 300  # both paths really ran


def test_read_ahead_yields_in_order_raises_in_order_and_stops_when_closed() -> None:
    import threading

    from ingest.jsonl import read_ahead

    assert list(read_ahead(iter(range(100)), depth=3)) == list(range(100))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad block")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad block"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]

    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    ahead = read_ahead(endless(), depth=2)
    assert [next(ahead) for _ in range(5)] == [0, 1, 2, 3, 4]
    ahead.close()  # the consumer stops early: the thread stops and closes its source
    assert closed.wait(5)
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def _chrono_timestamps(strings: list[str | None]) -> list[int | None]:
    """An independent reading of RFC 3339 timestamps: polars' (chrono's) strict format parse."""
    rfc3339 = (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
        r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
    )
    text = pl.col("s").str.replace(r"^(.{10})t", "${1}T").str.replace(r"[Zz]$", "+00:00")
    parsed = text.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False, time_unit="us"
    )
    frame = pl.DataFrame({"s": strings}, schema={"s": pl.String})
    return frame.select(pl.when(pl.col("s").str.contains(rfc3339)).then(parsed).dt.epoch("us"))[
        "s"
    ].to_list()


_OFFSETS = ("Z", "z", "", "+00:00", "-00:00", "+05:30", "-09:30", "+23:59", "+24:00", "+12:60")
_OFFSETS += ("+0530", "+5:30", "Zz")


def _mutated_timestamps(rng: random.Random, n: int) -> list[str | None]:
    """Timestamps near and across every edge of the format: dates, times, fractions, offsets."""
    out: list[str | None] = [None]
    for _ in range(n):
        year = rng.choice([0, 1, 1900, 1969, 1970, 2000, 2024, 2026, 9999])
        month, day = rng.randint(0, 13), rng.choice([0, 1, 28, 29, 30, 31, 32])
        hour, minute, second = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
        fraction = rng.choice(["", ".", ".5", ".123456", ".1234567", ".999999999", ".0000005"])
        offset = rng.choice(_OFFSETS)
        separator = rng.choice("TTTt ")
        text = (
            f"{year:04d}-{month:02d}-{day:02d}{separator}{hour:02d}:{minute:02d}:{second:02d}"
            f"{fraction}{offset}"
        )
        if rng.random() < 0.1:  # a character dropped, doubled or replaced
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(["", text[at] * 2, "x", "\u0663", " "]) + text[at + 1 :]
        out.append(text)
    return out


def test_timestamps_are_read_as_chrono_reads_rfc_3339() -> None:
    """The native reading of ``ts`` equals chrono's strict one on 20,000 edge cases, and so
    do its nulls; only the date and time without an offset get their own status."""
    strings = _mutated_timestamps(random.Random(3339), 20_000)
    parsed, status = ingest.decode._timestamps(pa.chunked_array([pa.array(strings, pa.string())]))
    micros = parsed.cast(pa.int64()).to_pylist()
    assert micros == _chrono_timestamps(strings)
    no_offset = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$"
    expected = (
        pl.Series(strings, dtype=pl.String)
        .to_frame("s")
        .select(
            pl.when(pl.col("s").is_null())
            .then(1)
            .when(pl.col("s").str.contains(no_offset))
            .then(2)
            .otherwise(pl.Series(micros).is_null().cast(pl.Int64) * 3)
        )
        .to_series()
        .to_list()
    )
    assert status.to_pylist() == expected
    assert sum(m is not None for m in micros) > 2_000  # the corpus has valid ones too


def test_timestamps_of_sliced_and_chunked_columns() -> None:
    """Offsets into shared buffers, several chunks and all-null chunks are read right."""
    strings = ["2026-01-01T00:00:00Z", None, "2026-01-01T01:00:00+01:00", "bad"]
    column = pa.chunked_array(
        [pa.array(strings).slice(1), pa.array([None, None], pa.string()), pa.array(strings[:1])]
    )
    parsed, status = ingest.decode._timestamps(column)
    hour = 1767225600000000
    assert parsed.cast(pa.int64()).to_pylist() == [None, hour, None, None, None, hour]
    assert status.to_pylist() == [1, 0, 3, 1, 1, 0]
    large = ingest.decode._timestamps(pa.chunked_array([pa.array(strings, pa.large_string())]))
    assert large[0].cast(pa.int64()).to_pylist() == [hour, None, hour, None]
