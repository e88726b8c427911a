# content.py: final
"""Content signals derived from prompt text at ingest, before the text is dropped.

The lake keeps no prompt text by default, so everything the detectors need from
the text is computed once, on the ingest hot path, by :func:`with_content`:

* **Fingerprints** for duplicate and template detection across accounts:
  ``prompt_hash`` (exact duplicates after trimming and lower-casing),
  ``template_sig`` / ``template_tail_sig`` (same template, different slot
  contents) and ``prompt_lsh`` (near-duplicates: MinHash LSH band keys).
* **Elicitation scores** in [0, 1]: ``cot_score`` (chain-of-thought requests),
  ``rubric_score`` (the model used as a grader) and ``reconstruct_score``
  (rebuilding the reasoning behind a given answer), from the multilingual
  pattern sets of :mod:`features.patterns`.
* A coarse ``topic`` label.

A null ``prompt`` gives null signals (unknown, not zero), except ``prompt_lsh``,
which falls back to the gateway's ``prompt_simhash`` when only that is sent.

Everything is a vectorised polars expression (no per-row Python). Polars does
not eliminate common subexpressions in eager ``DataFrame.with_columns``, so the
work shared by several signals is done once, in a first ``with_columns``: the
lower-cased prompt and system prompt and the CJK flag become temporary staging
columns, which the expressions of :func:`_content_columns` read and
:func:`with_content` drops again. Lower-cased text is searched with
case-sensitive expressions (see :mod:`features.patterns`). Polars string
kernels run over every value of a column, also those a ``when`` masks as null,
so a branch that only some rows need (CJK bigrams) is fed empty strings
elsewhere.

Hashes are polars' ``Expr.hash`` with fixed seeds. Polars only guarantees them
stable within one polars version; the project pins a minor version, and an
upgrade must be treated as a new fingerprint space (rebuild or stop comparing
fingerprints across the upgrade).
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl
import pyarrow as pa

from features.patterns import (
    COT,
    OTHER_TOPIC,
    RECONSTRUCT,
    RUBRIC,
    TOPICS,
    PatternSet,
    union_regex,
)

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

#: Columns :func:`with_content` adds, with their lake types.
CONTENT_SCHEMA: dict[str, pa.DataType] = {
    "prompt_chars": pa.int32(),
    "prompt_hash": pa.uint64(),
    "template_sig": pa.uint64(),
    "template_tail_sig": pa.uint64(),
    "prompt_lsh": pa.list_(pa.uint64()),
    "system_prompt_hash": pa.uint64(),
    "cot_score": pa.float32(),
    "rubric_score": pa.float32(),
    "reconstruct_score": pa.float32(),
    "topic": pa.string(),
}

#: Word tokens hashed into the template signatures.
TEMPLATE_TOKENS = 8
#: Characters at each end of the prompt searched for those tokens.
TEMPLATE_CHARS = 96
#: MinHash bands and rows per band: 16 hash functions, 4 bands of 4.
LSH_BANDS = 4
LSH_ROWS = 4
#: Characters of the prompt shingled for MinHash: bounds the cost of long
#: prompts; near-duplicates almost always already agree on their beginning.
LSH_MAX_CHARS = 2048
#: Shortest word (in UTF-8 bytes) kept in the MinHash set: shorter ones ("the",
#: "of", "is", ...) are mostly function words that make unrelated prompts look
#: alike. Character bigrams of Chinese and Japanese text are 6 bytes.
LSH_MIN_TOKEN_BYTES = 4
#: Prompts whose first characters contain Han, Hiragana or Katakana are
#: shingled into overlapping character bigrams instead of space-separated words.
CJK_PROBE_CHARS = 64

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
_TOKEN = rf"(?:[{_CJK}]|[\w--[{_CJK}]]+)"
# Leading (trailing) run of up to TEMPLATE_TOKENS tokens: a plain DFA search
# without capture groups, which keeps it fast.
_HEAD_TOKENS = rf"^\W*(?:{_TOKEN}\W*){{1,{TEMPLATE_TOKENS}}}"
_TAIL_TOKENS = rf"(?:{_TOKEN}\W*){{1,{TEMPLATE_TOKENS}}}$"
_PROMPT_SEED = 0x5EED_D157
_HEAD_SEED = 0x4EAD
_TAIL_SEED = 0x7A11
_SYSTEM_SEED = 0x5517
_TOKEN_SEED = 0x70CE
_BAND_MIX = 0xBF58476D1CE4E5B9
_SIMHASH_SALT = 0xD6E8FEB86659FD93
_MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1


def _splitmix64(seed: int, count: int) -> tuple[int, ...]:
    """Deterministic pseudo-random 64-bit constants (SplitMix64 sequence)."""
    out = []
    state = seed
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        out.append(z ^ (z >> 31))
    return tuple(out)


#: Odd multipliers of the MinHash permutations ``h -> a * h mod 2**32`` of the
#: 32-bit token hashes (odd, hence bijections). 32 bits halve the memory
#: traffic of the 16 passes over the token list, the costliest step; collisions
#: among a prompt's few hundred tokens stay negligible.
_MINHASH_MULTIPLIERS = tuple((a & _MASK32) | 1 for a in _splitmix64(0xD157_111A, 16))


#: Temporary staging columns of :func:`with_content`: the lower-cased prompt, the
#: lower-cased system prompt ("" when null) and whether the prompt is CJK text.
_LOWER = "_content_prompt_lower"
_SYSTEM_LOWER = "_content_system_lower"
_IS_CJK = "_content_prompt_cjk"


def _known(column: str, value: pl.Expr) -> pl.Expr:
    """``value`` where ``column`` is not null, else null (``hash`` maps null to a number)."""
    return pl.when(pl.col(column).is_not_null()).then(value)


def _template_sig(head: bool) -> pl.Expr:
    """Hash of the first (or last) word tokens of the prompt, numbers masked.

    A token is a run of letters, digits or ``_`` (Latin, Cyrillic, Hangul,
    ...) or a single Han or kana character. The signature hashes the text from
    the first token up to and including the :data:`TEMPLATE_TOKENS`-th one
    (with the punctuation after it), searched within the first
    :data:`TEMPLATE_CHARS` characters; the tail signature does the same
    backwards from the end of the prompt. The text is lower-cased and every run
    of digits becomes ``0``, so prompts filled into the same template share the
    signature as long as the template's fixed text covers those tokens, and
    numbers in a slot ("problem 17", "id 4411") never break it. Punctuation
    and spacing are kept: they are part of a template's identity.
    """
    prompt = pl.col(_LOWER)
    if head:
        window, tokens, seed = prompt.str.slice(0, TEMPLATE_CHARS), _HEAD_TOKENS, _HEAD_SEED
    else:
        window, tokens, seed = prompt.str.slice(-TEMPLATE_CHARS), _TAIL_TOKENS, _TAIL_SEED
    found = window.str.extract_all(tokens).list.first()
    normalised = found.str.replace_all(r"\d+", "0")
    return _known("prompt", normalised.fill_null("").hash(seed))


def minhash_band_keys(hashes: pl.Expr, bands: int = LSH_BANDS, rows: int = LSH_ROWS) -> pl.Expr:
    """MinHash LSH band keys of a set of 32-bit hashes, as one aggregation.

    ``hashes`` is a UInt32 expression in an aggregation context (``pl.element()``
    in a list aggregation, or a column in ``group_by().agg()``). Band ``b``
    folds the minima of the permutations ``a_i * h mod 2**32`` for its ``rows``
    rows ``i`` into one 64-bit key, with the band index mixed in so that equal
    minima in different bands never collide. The fold is plain wrapping
    arithmetic, so an empty set (all minima null) gives null keys. At most
    ``bands * rows`` = 16 hash functions.

    Returns
    -------
    pl.Expr
        A list of ``bands`` UInt64 keys per group.
    """
    if bands * rows > len(_MINHASH_MULTIPLIERS):
        raise ValueError(f"at most {len(_MINHASH_MULTIPLIERS)} hash functions")
    keys = []
    for band in range(bands):
        key = pl.lit(band + 1, pl.UInt64)
        for row in range(rows):
            multiplier = pl.lit(_MINHASH_MULTIPLIERS[band * rows + row], pl.UInt32)
            key = key * _BAND_MIX + (hashes * multiplier).min().cast(pl.UInt64)
        keys.append(key)
    return pl.concat_list(keys)


def _text_lsh() -> pl.Expr:
    """MinHash LSH band keys of the prompt text (null where the prompt is null).

    Shingles, from the first :data:`LSH_MAX_CHARS` characters of the
    lower-cased prompt: space-separated words of at least
    :data:`LSH_MIN_TOKEN_BYTES` bytes for most scripts; for Chinese and
    Japanese prompts (detected on the first :data:`CJK_PROBE_CHARS`
    characters), overlapping bigrams of non-space characters (the bigrams at
    even offsets of the text without spaces, then those at odd offsets). With
    4 bands of 4 rows, two prompts whose shingle sets have Jaccard similarity
    ``J`` share at least one band with probability ``1 - (1 - J**4)**4``: 0.99
    at J = 0.9, 0.5 at J = 0.6, under 0.002 at J = 0.15.
    """
    prompt = pl.col(_LOWER).str.slice(0, LSH_MAX_CHARS)
    is_cjk = pl.col(_IS_CJK)
    dense = pl.when(is_cjk).then(prompt).otherwise(pl.lit("")).str.replace_all(r"\s+", "")
    bigrams = pl.concat_str([dense, dense.str.slice(1)], separator=" ").str.replace_all(
        r"(\S\S)", "$1 "
    )
    text = pl.when(is_cjk).then(bigrams).otherwise(prompt)
    token = pl.element()
    token_hash = token.hash(_TOKEN_SEED).cast(pl.UInt32, wrap_numerical=True)
    hashes = text.str.split(" ").list.eval(
        pl.when(token.str.len_bytes() >= LSH_MIN_TOKEN_BYTES).then(token_hash)
    )
    return hashes.list.agg(minhash_band_keys(pl.element())).list.drop_nulls()


def _simhash_lsh() -> pl.Expr:
    """Band keys from the gateway's 64-bit SimHash, for prompts sent without text.

    The 16 hex digits are cut into four 16-bit chunks; chunk ``j`` becomes key
    ``(j + 1) * salt + chunk``. Two SimHashes within Hamming distance 3 agree
    on at least one chunk (pigeonhole), so near-duplicate prompts from
    text-withholding gateways still share a bucket. The keys live in their own
    space: they equal a text band key only by a 2**-64 accident. Malformed
    SimHashes give null.
    """
    withheld = pl.col("prompt").is_null()
    simhash = pl.when(withheld).then(pl.col("prompt_simhash")).otherwise(pl.lit(""))
    simhash = simhash.str.strip_chars()
    chunks = [
        simhash.str.slice(4 * j, 4).str.to_integer(base=16, strict=False).cast(pl.UInt64)
        + ((j + 1) * _SIMHASH_SALT & _MASK64)
        for j in range(4)
    ]
    valid = simhash.str.len_chars() == 16
    return pl.when(valid).then(pl.concat_list(chunks).list.drop_nulls())


def _first_match(values: list[pl.Expr], sets: tuple[PatternSet, ...]) -> pl.Expr:
    """Per list element (a match): the value of the first pattern set it matches, else null."""
    match = pl.element()
    return pl.coalesce(
        pl.when(match.str.contains(s.regex)).then(value)
        for value, s in zip(values, sets, strict=True)
    )


def _score(tiers: tuple[PatternSet, ...]) -> pl.Expr:
    """Weight of the strongest tier matched by the prompt or the system prompt.

    The lower-cased text is scanned once for the union of all tiers; each
    (short) match is then given the weight of the first (strongest) tier it
    matches, and the score is the largest such weight, 0 without a match and
    null where the prompt is null.
    """
    union = union_regex(tiers)
    found = pl.concat_list(
        pl.col(_LOWER).str.extract_all(union), pl.col(_SYSTEM_LOWER).str.extract_all(union)
    )
    weight = _first_match([pl.lit(tier.weight, pl.Float32) for tier in tiers], tiers)
    best = found.list.eval(weight).list.max()
    return _known("prompt", best.fill_null(0.0).cast(pl.Float32))


def _topic() -> pl.Expr:
    """Highest-priority topic of :data:`features.patterns.TOPICS` the prompt mentions.

    One ``contains`` test per topic, taken in priority order;
    :data:`features.patterns.OTHER_TOPIC` without a match. A single union of
    all topics, or an alternative that starts with a character class (the
    arithmetic pattern ``\\d\\s*[+*^=]...``), defeats the regex engine's
    literal prefilter and costs several times as much as these tests together,
    so such alternatives get a test of their own.
    """
    lowered = pl.col(_LOWER)
    label = pl.lit(OTHER_TOPIC)
    for topic in reversed(TOPICS):
        patterns = [p for alternatives in topic.by_language.values() for p in alternatives]
        literal = [p for p in patterns if not p.startswith("\\d")]
        classed = [p for p in patterns if p.startswith("\\d")]
        mentioned = pl.any_horizontal(
            lowered.str.contains(regex) for regex in ["(?:" + "|".join(literal) + ")", *classed]
        )
        label = pl.when(mentioned).then(pl.lit(topic.label)).otherwise(label)
    return _known("prompt", label)


def _content_columns() -> list[pl.Expr]:
    """Expressions of the :data:`CONTENT_SCHEMA` columns, over the staging columns.

    They read the staging columns that :func:`with_content` adds first.

    Returns
    -------
    list of pl.Expr
        One expression per :data:`CONTENT_SCHEMA` column, in that order, with
        exactly those names and types.
    """
    prompt = pl.col("prompt")
    system = pl.col("system_prompt")
    return [
        prompt.str.len_chars().cast(pl.Int32).alias("prompt_chars"),
        _known("prompt", pl.col(_LOWER).str.strip_chars().hash(_PROMPT_SEED)).alias("prompt_hash"),
        _template_sig(head=True).alias("template_sig"),
        _template_sig(head=False).alias("template_tail_sig"),
        pl.coalesce(_text_lsh(), _simhash_lsh()).alias("prompt_lsh"),
        _known("system_prompt", system.str.strip_chars().hash(_SYSTEM_SEED)).alias(
            "system_prompt_hash"
        ),
        _score(COT).alias("cot_score"),
        _score(RUBRIC).alias("rubric_score"),
        _score(RECONSTRUCT).alias("reconstruct_score"),
        _topic().alias("topic"),
    ]


def with_content(events: Frame) -> Frame:
    """``events`` with the :data:`CONTENT_SCHEMA` columns added.

    ``events`` is any frame with String columns ``prompt``, ``system_prompt``
    and ``prompt_simhash`` (nullable). Text shared by several signals is
    lower-cased once, into staging columns that are dropped again.
    """
    prompt = pl.col("prompt")
    staging = [
        prompt.str.to_lowercase().alias(_LOWER),
        pl.col("system_prompt").fill_null("").str.to_lowercase().alias(_SYSTEM_LOWER),
        prompt.str.slice(0, CJK_PROBE_CHARS).str.contains(f"[{_CJK}]").alias(_IS_CJK),
    ]
    return (
        events.with_columns(staging)
        .with_columns(_content_columns())
        .drop(_LOWER, _SYSTEM_LOWER, _IS_CJK)
    )
