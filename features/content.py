# content.py: final
"""Content signals derived from prompt text at ingest, before the text is dropped.

The lake keeps no prompt text by default, so everything the detectors need from
the text is computed once, on the ingest hot path, by the expressions of
:func:`content_columns`:

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
not eliminate common subexpressions in eager ``DataFrame.with_columns``, so
each output column is built from the raw input columns by its own, single chain
of operations: no expensive intermediate (such as the token list) is
referenced twice.

Hashes are polars' ``Expr.hash`` with fixed seeds. Polars only guarantees them
stable within one polars version; the project pins a minor version, and an
upgrade must be treated as a new fingerprint space (rebuild or stop comparing
fingerprints across the upgrade).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from features.patterns import COT, OTHER_TOPIC, RECONSTRUCT, RUBRIC, TOPICS, PatternTier

#: Columns :func:`content_columns` adds, with their lake types.
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
#: Shortest Latin token (in UTF-8 bytes) kept in the MinHash set: shorter ones
#: ("the", "of", "is", ...) are mostly function words that make unrelated
#: prompts look alike.
LSH_MIN_TOKEN_BYTES = 4
#: Prompts whose first characters contain Han, Hiragana or Katakana are
#: shingled into overlapping character bigrams instead of space-separated words.
CJK_PROBE_CHARS = 64

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
_HASH_SEED = 0x5EED_D157
_HEAD_SEED = 0x4EAD
_TAIL_SEED = 0x7A11
_SYSTEM_SEED = 0x5517
_BAND_MIX = 0xBF58476D1CE4E5B9
_SIMHASH_SALT = 0xD6E8FEB86659FD93
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


#: Odd multipliers of the MinHash permutations ``h -> a * h mod 2**64`` (each a
#: bijection of the 64-bit token hashes).
_MINHASH_MULTIPLIERS = tuple(a | 1 for a in _splitmix64(0xD157_111A, LSH_BANDS * LSH_ROWS))


def _known(column: str, value: pl.Expr) -> pl.Expr:
    """``value`` where ``column`` is not null, else null (``hash`` maps null to a number)."""
    return pl.when(pl.col(column).is_not_null()).then(value)


def _template_sig(head: bool) -> pl.Expr:
    """Hash of the first (or last) word tokens of the prompt, numbers masked.

    Tokens are runs of letters and digits, or single Han/kana characters, found
    in the first (last) :data:`TEMPLATE_CHARS` characters after lower-casing
    and replacing every run of digits by ``0``. Prompts filled into the same
    template share the signature as long as the template's fixed text covers
    the first (last) :data:`TEMPLATE_TOKENS` tokens or that many characters;
    numbers in a slot ("problem 17", "id 4411") never break it.
    """
    prompt = pl.col("prompt")
    window = prompt.str.slice(0, TEMPLATE_CHARS) if head else prompt.str.slice(-TEMPLATE_CHARS)
    tokens = (
        window.str.to_lowercase()
        .str.replace_all(r"\d+", "0")
        .str.extract_all(rf"[{_CJK}]|[\p{{L}}\p{{N}}_]+")
    )
    picked = tokens.list.head(TEMPLATE_TOKENS) if head else tokens.list.tail(TEMPLATE_TOKENS)
    seed = _HEAD_SEED if head else _TAIL_SEED
    return _known("prompt", picked.list.join(" ").hash(seed))


def _minhash_bands() -> pl.Expr:
    """MinHash band keys of one list of token hashes, as a list aggregation.

    Band ``b`` folds the minima of the permutations ``a_i * h`` for the
    :data:`LSH_ROWS` rows ``i`` of the band into one key, with the band index
    mixed in so that equal minima in different bands never collide. The fold is
    plain wrapping arithmetic, so a list without tokens (all minima null) gives
    null keys, which are dropped afterwards.
    """
    token = pl.element()
    keys = []
    for band in range(LSH_BANDS):
        key = pl.lit(band + 1, pl.UInt64)
        for row in range(LSH_ROWS):
            multiplier = _MINHASH_MULTIPLIERS[band * LSH_ROWS + row]
            key = key * _BAND_MIX + (token * multiplier).min()
        keys.append(key)
    out = keys[0]
    for key in keys[1:]:
        out = out.append(key)
    return out


def _text_lsh() -> pl.Expr:
    """MinHash LSH band keys of the prompt text (null where the prompt is null).

    Shingles: lower-cased space-separated words of at least
    :data:`LSH_MIN_TOKEN_BYTES` bytes for most scripts; for Chinese and
    Japanese prompts (detected on the first :data:`CJK_PROBE_CHARS`
    characters), overlapping bigrams of non-space characters. With 4 bands of 4
    rows, two prompts whose shingle sets have Jaccard similarity ``J`` share at
    least one band with probability ``1 - (1 - J**4)**4``: 0.99 at J = 0.9,
    0.5 at J = 0.6, under 0.002 at J = 0.15.
    """
    prompt = pl.col("prompt")
    is_cjk = prompt.str.slice(0, CJK_PROBE_CHARS).str.contains(f"[{_CJK}]")
    words = pl.when(~is_cjk).then(prompt).str.to_lowercase().str.split(" ")
    dense = pl.when(is_cjk).then(prompt).str.replace_all(r"\s+", "")
    bigrams = pl.concat_list(
        dense.str.extract_all(".."), dense.str.slice(1).str.extract_all("..")
    )
    token = pl.element()
    hashes = pl.coalesce(words, bigrams).list.eval(
        token.filter(token.str.len_bytes() >= LSH_MIN_TOKEN_BYTES).hash(_HASH_SEED)
    )
    return hashes.list.agg(_minhash_bands()).list.drop_nulls()


def _simhash_lsh() -> pl.Expr:
    """Band keys from the gateway's 64-bit SimHash, for prompts sent without text.

    The 16 hex digits are cut into four 16-bit chunks; chunk ``j`` becomes key
    ``(j + 1) * salt + chunk``. Two SimHashes within Hamming distance 3 agree
    on at least one chunk (pigeonhole), so near-duplicate prompts from
    text-withholding gateways still share a bucket. The keys live in their own
    space: they never equal a text band key except by a 2**-64 accident.
    """
    simhash = pl.col("prompt_simhash").str.strip_chars()
    chunks = [
        simhash.str.slice(4 * j, 4).str.to_integer(base=16, strict=False).cast(pl.UInt64)
        + ((j + 1) * _SIMHASH_SALT & _MASK64)
        for j in range(4)
    ]
    valid = simhash.str.len_chars() == 16
    return pl.when(valid).then(pl.concat_list(chunks).list.drop_nulls())


def _score(tiers: tuple[PatternTier, ...]) -> pl.Expr:
    """Noisy-OR of the weights of the tiers matched by the prompt or system prompt.

    ``1 - prod(1 - w_t)`` over matched tiers ``t``: one strong match gives
    its weight, several matches add up towards (never beyond) 1. Null where
    the prompt is null.
    """
    keep = pl.lit(1.0, pl.Float32)
    for tier in tiers:
        matched = pl.col("prompt").str.contains(tier.regex) | pl.col(
            "system_prompt"
        ).str.contains(tier.regex).fill_null(False)
        keep = keep * (1.0 - tier.weight * matched.cast(pl.Float32))
    return _known("prompt", (1.0 - keep).cast(pl.Float32))


def _topic() -> pl.Expr:
    """First topic of :data:`features.patterns.TOPICS` whose keywords the prompt contains."""
    prompt = pl.col("prompt")
    first, *rest = TOPICS
    chain = pl.when(prompt.str.contains(first.regex)).then(pl.lit(first.label))
    for topic in rest:
        chain = chain.when(prompt.str.contains(topic.regex)).then(pl.lit(topic.label))
    return _known("prompt", chain.otherwise(pl.lit(OTHER_TOPIC)))


def content_columns() -> list[pl.Expr]:
    """Expressions adding the :data:`CONTENT_SCHEMA` columns to a frame of events.

    Use as ``events.with_columns(content_columns())`` on any frame with String
    columns ``prompt``, ``system_prompt`` and ``prompt_simhash`` (nullable).

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
        _known("prompt", prompt.str.strip_chars().str.to_lowercase().hash(_HASH_SEED)).alias(
            "prompt_hash"
        ),
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
