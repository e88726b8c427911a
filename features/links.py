"""Cross-account links: which accounts share evidence, of which kind, and how strongly.

A distillation campaign spreads over many accounts that each look harmless; what
gives it away is what they share. :func:`account_links` turns lake-schema events
into an edge table (:data:`EDGE_SCHEMA`)::

    account_a, account_b, kind, weight, first_seen, last_seen, n_shared

with ``account_a < account_b`` and one row per pair and kind. Kinds
(:data:`KINDS`):

``template``  same head or tail template signature (``template_sig``,
              ``template_tail_sig``);
``lsh``       same MinHash LSH band key of a prompt (``prompt_lsh``): near-duplicate
              prompts;
``payment``   same ``payment_fingerprint``;
``ip``        same ``client_ip``;
``prefix``    same routing prefix (/24 for IPv4, /48 for IPv6);
``asn_ua``    same ASN and user agent together;
``sync``      active in the same :data:`SYNC_BIN` time bins far more often than
              chance (in the spirit of SynchroTrap and CopyCatch).

**Bounded size.** A value shared by ``K`` accounts would give ``K(K-1)/2``
pairs; a popular SDK user agent or a big corporate NAT must not explode. So:

* values of one account, or of more than :data:`MAX_VALUE_ACCOUNTS` accounts
  (too common to be evidence), give no edge;
* a value shared by at most :data:`MAX_CLIQUE` accounts links all its pairs;
* beyond that, the value's accounts are put in a pseudo-random order specific to
  the value (hash of value and account) and each is linked to the next
  :data:`RING_NEIGHBOURS` only: ``K * RING_NEIGHBOURS`` edges at most, and the
  accounts stay connected, so a 1,000-account campaign on one template is still
  one connected cluster, with 8,000 edges instead of 499,500.

**Weights.** A value shared by ``K`` accounts has weight ``1 / log2(K)``: 1 for
a value two accounts share, 0.13 for one 200 accounts share (the inverse
log-frequency of Adamic–Adar). A pair's weight for a kind combines its shared
values as a noisy-OR, ``1 - prod(1 - w_v)``, so it lies in (0, 1] and grows with
every further piece of shared evidence. ``first_seen`` is the earliest moment
at which both accounts had shown a shared value, ``last_seen`` the latest
event carrying one, and ``n_shared`` the number of shared values (or, for
``sync``, of shared time bins).

**Synchronised activity.** Each account's set of active :data:`SYNC_BIN` bins is
MinHashed (8 bands of 2 rows, permissive: candidates are verified exactly) and
accounts sharing a band key become candidate pairs, with the same caps as above.
A candidate pair with ``c`` shared bins, of ``n_a`` and ``n_b`` active bins
among the ``B`` bins of the range, is kept when ``c >= SYNC_MIN_BINS`` and
``c`` is at least :data:`SYNC_MIN_LIFT` times the ``E = n_a * n_b / B`` bins
two independent accounts would share by chance; its weight is the share of the
possible excess realised, ``(c - E) / (min(n_a, n_b) - E)``. Always-on
accounts share every bin by necessity (lift about 1) and are not linked.

**Where it runs.** polars groups the observations and orders each value's
accounts; the pairing and the noisy-OR combination run in the native kernel
(``features/native/src/links.rs``), a loop and a sort where polars needed a
self-join, a gather and a group-by over millions of pair rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import polars as pl

from features._native import shared_bins, shared_value_edges
from features.content import minhash_band_keys
from features.windows import network_prefix

#: Kinds of links by a shared value, and all kinds (those plus synchronised activity).
VALUE_KINDS: tuple[str, ...] = ("template", "lsh", "payment", "ip", "prefix", "asn_ua")
KINDS: tuple[str, ...] = (*VALUE_KINDS, "sync")

#: Values shared by at most this many accounts link every pair.
MAX_CLIQUE = 20
#: Beyond MAX_CLIQUE, each account links to this many others of the value.
RING_NEIGHBOURS = 8
#: Values shared by more accounts than this are ignored.
MAX_VALUE_ACCOUNTS = 5_000
#: Length of a synchronisation time bin, in seconds.
SYNC_BIN_S = 300
#: Length of a synchronisation time bin, as a polars duration.
SYNC_BIN = "5m"
#: Fewest shared bins for a sync edge.
SYNC_MIN_BINS = 3
#: Fewest times the chance expectation of shared bins for a sync edge.
SYNC_MIN_LIFT = 3.0
#: MinHash shape of the bin sets: many short bands, for recall.
SYNC_BANDS = 8
SYNC_ROWS = 2

_TS = pl.Datetime("us", "UTC")

#: Columns and types of the edge table.
#: Event columns the links are computed from.
LINK_COLUMNS: tuple[str, ...] = (
    "account_id",
    "ts",
    "template_sig",
    "template_tail_sig",
    "prompt_lsh",
    "payment_fingerprint",
    "client_ip",
    "asn",
    "user_agent",
)

EDGE_SCHEMA: dict[str, pl.DataType] = {
    "account_a": pl.String(),
    "account_b": pl.String(),
    "kind": pl.String(),
    "weight": pl.Float64(),
    "first_seen": _TS,
    "last_seen": _TS,
    "n_shared": pl.UInt32(),
}

_VALUE_SEED = 0x11_4B5


def _hashed(value: pl.Expr) -> pl.Expr:
    """Hash of ``value`` where it is known, else null (``hash`` maps null to a number)."""
    return pl.when(value.is_not_null()).then(value.hash(_VALUE_SEED))


def _values(kind: str) -> pl.Expr:
    """The evidence values of one event for ``kind``: a UInt64 list, or one UInt64."""
    if kind == "template":
        return pl.concat_list("template_sig", "template_tail_sig")
    if kind == "lsh":
        return pl.col("prompt_lsh")
    if kind == "payment":
        return _hashed(pl.col("payment_fingerprint"))
    if kind == "ip":
        return _hashed(pl.col("client_ip"))
    if kind == "prefix":
        return _hashed(network_prefix(pl.col("client_ip")))
    if kind == "asn_ua":
        # null unless both are known
        return _hashed(pl.concat_str(pl.col("asn").cast(pl.String), "user_agent", separator="|"))
    raise ValueError(f"no value-sharing links of kind {kind!r}")


def _observations(events: pl.DataFrame, codes: dict[str, int]) -> pl.DataFrame:
    """One row per (kind, value, account): when the account first and last showed the value.

    ``kind`` is the code ``codes`` gives the link kind. All kinds go through
    the pairing steps together, so each polars operation runs once per batch
    rather than once per kind: on the live scorer's half-hour batches the
    per-operation overhead outweighs the work.
    """
    ts = pl.col("ts")
    by_address: pl.DataFrame | None = None
    parts = []
    for kind, code in codes.items():
        if kind in ("ip", "prefix"):
            # Addresses and prefixes of each distinct (address, account), not of
            # every event: string work on a few percent of the rows.
            if by_address is None:
                by_address = events.group_by("client_ip", "account_id").agg(
                    ts.min().alias("first"), ts.max().alias("last")
                )
            source, first, last = by_address, pl.col("first"), pl.col("last")
        else:
            source, first, last = events, ts.alias("first"), ts.alias("last")
        part = source.select(
            pl.lit(code, pl.UInt8).alias("kind"),
            "account_id",
            first,
            last,
            _values(kind).alias("value"),
        )
        parts.append(part.explode("value") if kind in ("template", "lsh") else part)
    return (
        pl.concat(parts)
        .drop_nulls("value")
        # One key per kind and value: two kinds' values clash only as rarely as
        # two 64-bit hashes, and one key groups and sorts faster than two.
        .with_columns(pl.col("value").xor(pl.col("kind").hash(_VALUE_SEED)))
        .group_by("value", "account_id")
        .agg(pl.col("kind").first(), pl.col("first").min(), pl.col("last").max())
    )


def _edges(observations: pl.DataFrame) -> pl.DataFrame:
    """Weighted edges between the accounts sharing values (see module docstring).

    ``observations`` has one row per (``value``, account) with the value's
    ``kind`` code and the account's ``first`` / ``last`` showing of it. Values
    of one account or of more than :data:`MAX_VALUE_ACCOUNTS` are dropped and
    each value's accounts put in their pseudo-random order here; the native
    kernel pairs them (clique or ring) and combines each pair's values of a
    kind into one edge (noisy-OR weight, times, count). Returns ``kind``,
    ``account_a < account_b`` (codes), ``weight``, ``first_seen``,
    ``last_seen`` and ``n_shared``, sorted by kind and pair.
    """
    ordered = (
        observations.filter(pl.len().over("value").is_between(2, MAX_VALUE_ACCOUNTS))
        .with_columns(pl.struct("value", "account_id").hash(_VALUE_SEED).alias("order"))
        .sort("value", "order")
    )
    value, kind, account, first, last = (
        np.ascontiguousarray(ordered[name].to_physical().to_numpy())
        for name in ("value", "kind", "account_id", "first", "last")
    )
    key, weight, first, last, n_shared = shared_value_edges(
        value,
        kind,
        account,
        first,
        last,
        MAX_CLIQUE,
        RING_NEIGHBOURS,
        _CODE_BITS,
    )
    mask = (1 << _CODE_BITS) - 1
    return pl.DataFrame(
        {
            "kind": (key >> (2 * _CODE_BITS)).astype(np.uint8),
            "account_a": ((key >> _CODE_BITS) & mask).astype(np.uint32),
            "account_b": (key & mask).astype(np.uint32),
            "weight": weight,
            "first_seen": first,
            "last_seen": last,
            "n_shared": n_shared,
        }
    ).with_columns(pl.col("first_seen", "last_seen").cast(_TS))


#: Batches of at most this many events pair all their link kinds in one pass.
ONE_PASS_ROWS = 50_000
#: Bits of an account code in an edge key (:func:`_edge_key`).
_CODE_BITS = 30


def _edge_key() -> pl.Expr:
    """``kind``, ``account_a`` and ``account_b`` (codes) as one UInt64, ordered like the triple.

    Grouping and sorting on one integer is several times cheaper than on three
    columns; it holds up to ``2**30`` accounts per batch (see :func:`account_links`).
    """
    code = pl.col("account_a").cast(pl.UInt64) * (1 << _CODE_BITS) + pl.col("account_b")
    return pl.col("kind").cast(pl.UInt64) * (1 << (2 * _CODE_BITS)) + code


def _bin_start(index: pl.Expr) -> pl.Expr:
    """Start time of the sync bin with the given index."""
    return (index * (SYNC_BIN_S * 1_000_000)).cast(_TS)


def _sync_edges(events: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Edges between accounts active in the same time bins more often than chance."""
    n_bins = max(1, math.ceil((end - start).total_seconds() / SYNC_BIN_S))
    bin_index = (pl.col("ts").dt.epoch("s") // SYNC_BIN_S).cast(pl.Int64)
    bin_hash = pl.col("bin").hash(_VALUE_SEED).cast(pl.UInt32, wrap_numerical=True)
    accounts = (
        events.select("account_id", bin_index.alias("bin"))
        .unique()
        .group_by("account_id")
        .agg(
            pl.col("bin").sort().alias("bins"),
            pl.len().alias("n"),
            minhash_band_keys(bin_hash, SYNC_BANDS, SYNC_ROWS).alias("value"),
        )
        .filter(pl.col("n") >= SYNC_MIN_BINS)
    )
    bounds = _bin_start(pl.col("bins").list.first())
    candidates = _edges(
        accounts.select(
            pl.lit(0, pl.UInt8).alias("kind"),
            "account_id",
            "value",
            bounds.alias("first"),
            bounds.alias("last"),
        ).explode("value")
    ).select("account_a", "account_b")
    # Shared bins of each candidate pair, by a merge of their sorted bin lists
    # in the native kernel: polars' joins and list intersections cost more
    # than every other step of the live scorer's sync links together.
    n = accounts["n"].to_numpy()
    offsets = np.concatenate([[0], np.cumsum(n, dtype=np.int64)])
    codes = accounts["account_id"].to_numpy()
    position = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=np.uint32)
    position[codes] = np.arange(len(codes), dtype=np.uint32)
    a = position[candidates["account_a"].to_numpy()]
    b = position[candidates["account_b"].to_numpy()]
    count, first, last = shared_bins(
        offsets, np.ascontiguousarray(accounts["bins"].explode().to_numpy()), a, b
    )
    c = pl.col("c")
    expected = pl.col("n").cast(pl.Float64) * pl.col("n_b") / n_bins
    excess = (c - expected) / (pl.min_horizontal("n", "n_b") - expected)
    return (
        candidates.with_columns(
            pl.Series("c", count),
            pl.Series("n", n[a]),
            pl.Series("n_b", n[b]),
            pl.Series("first", first),
            pl.Series("last", last),
        )
        .filter((c >= SYNC_MIN_BINS) & (c >= SYNC_MIN_LIFT * expected))
        .select(
            "account_a",
            "account_b",
            excess.clip(upper_bound=1.0).alias("weight"),
            _bin_start(pl.col("first")).alias("first_seen"),
            _bin_start(pl.col("last")).alias("last_seen"),
            c.alias("n_shared"),
        )
        .filter(pl.col("weight") > 0)
    )


def account_links(
    events: pl.LazyFrame, start: datetime, end: datetime, kinds: Sequence[str] = KINDS
) -> pl.DataFrame:
    """Edge table of the given kinds over lake-schema ``events`` of the range [start, end).

    Parameters
    ----------
    events
        Lake-schema events, already restricted to the range; only the columns
        the requested kinds read are needed (``account_id`` and ``ts`` for
        ``sync`` alone).
    start, end
        The range, used only for the chance expectation of ``sync`` links
        (number of time bins).
    kinds
        Which of :data:`KINDS` to compute (all by default): the live scorer
        links each new batch by shared values but synchronised activity over
        a longer span, so it asks for them separately.

    Returns
    -------
    pl.DataFrame
        Columns :data:`EDGE_SCHEMA`, sorted by kind and pair.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"no links of kind {sorted(unknown)!r}")
    value_kinds = [kind for kind in VALUE_KINDS if kind in kinds]
    columns = LINK_COLUMNS if value_kinds else ("account_id", "ts")
    frame = events.select(columns).collect()
    # Work on dense integer codes in account-id order (cheaper to sort, pair and
    # group than strings; code order is id order, so account_a < account_b holds).
    names = frame["account_id"].unique().sort()
    if len(names) >= 1 << _CODE_BITS:
        raise ValueError(f"more than 2**{_CODE_BITS} accounts in one batch of links: split it")
    coded = frame.with_columns(pl.col("account_id").rank("dense").cast(pl.UInt32) - 1)
    # Kinds are numbered in name order, so that sorting on (kind code, pair
    # codes) orders the edges like their names and ids: sorting millions of
    # string pairs would cost more than every other step together.
    code = {kind: i for i, kind in enumerate(sorted(kinds))}
    value_codes = {kind: code[kind] for kind in sorted(value_kinds)}
    # A small batch (the live scorer's half hour) pairs all kinds in one pass:
    # per-operation overhead outweighs the work there. A large one (a day of
    # the feature job) pairs one kind at a time: smaller sorts and group-bys
    # (measured: 0.91 s against 1.02 s for a day of the small preset).
    passes = (
        [value_codes]
        if frame.height <= ONE_PASS_ROWS
        else [{kind: c} for kind, c in value_codes.items()]
    )
    parts = [_edges(_observations(coded, codes)) for codes in passes if codes]
    if "sync" in kinds:
        sync = _sync_edges(coded, start, end).with_columns(
            pl.lit(code["sync"], pl.UInt8).alias("kind")
        )
        parts.append(sync.sort(_edge_key()))
    parts = sorted((part for part in parts if part.height), key=lambda part: part["kind"][0])
    if not parts:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    edges = pl.concat(parts, how="diagonal_relaxed")
    if not edges.select(_edge_key()).to_series().is_sorted():
        edges = edges.sort(_edge_key())  # a one-pass batch with sync, whose code falls among theirs
    edges = edges.with_columns(
        pl.col("kind").replace_strict({i: kind for kind, i in code.items()}, return_dtype=pl.String)
    )
    return edges.select(
        pl.col(name).cast(dtype)
        if name not in ("account_a", "account_b")
        else pl.lit(names).gather(pl.col(name)).alias(name)
        for name, dtype in EDGE_SCHEMA.items()
    )
