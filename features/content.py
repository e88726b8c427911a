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

Definitions (the kernel implements them):

* ``template_sig`` hashes the text from the first word token up to and
  including the :data:`TEMPLATE_TOKENS`-th one (with the punctuation after
  it), searched within the first :data:`TEMPLATE_CHARS` characters;
  ``template_tail_sig`` does the same backwards from the end. A token is a run
  of letters, digits or ``_`` (Latin, Cyrillic, Hangul, ...) or a single Han
  or kana character. The text is lower-cased and every run of digits becomes
  ``0``, so prompts filled into the same template share the signature as long
  as the template's fixed text covers those tokens, and numbers in a slot
  ("problem 17", "id 4411") never break it. Punctuation and spacing are kept:
  they are part of a template's identity.
* ``prompt_lsh``: MinHash LSH band keys (:func:`minhash_band_keys` defines the
  fold) of shingles from the first :data:`LSH_MAX_CHARS` characters of the
  lower-cased prompt: space-separated words of at least
  :data:`LSH_MIN_TOKEN_BYTES` bytes for most scripts; for Chinese and
  Japanese prompts (detected on the first :data:`CJK_PROBE_CHARS`
  characters), overlapping bigrams of non-space characters. With 4 bands of
  4 rows, two prompts whose shingle sets have Jaccard similarity ``J`` share
  at least one band with probability ``1 - (1 - J**4)**4``: 0.99 at J = 0.9,
  0.5 at J = 0.6, under 0.002 at J = 0.15. A prompt without shingles has no
  keys (an empty list).
* A family's score (``cot_score`` ...) is the weight of the strongest tier of
  :mod:`features.patterns` whose expression occurs in the prompt or the
  system prompt; 0 without one. All tiers and topics are searched in one
  pass over the text.
* ``topic`` is the first of :data:`features.patterns.TOPICS` (priority order)
  the prompt mentions, :data:`features.patterns.OTHER_TOPIC` without one.
* ``prompt_hash`` / ``system_prompt_hash``: the trimmed text (the prompt
  lower-cased too).
* Without prompt text, ``prompt_lsh`` comes from the gateway's 64-bit
  ``prompt_simhash``: its 16 hex digits are cut into four 16-bit chunks, and
  chunk ``j`` becomes key ``(j + 1) * salt + chunk``. Two SimHashes within
  Hamming distance 3 agree on at least one chunk (pigeonhole), so
  near-duplicate prompts from text-withholding gateways still share a bucket.
  These keys live in their own space: they equal a text band key only by a
  2**-64 accident. A malformed SimHash gives null.

A null ``prompt`` gives null signals (unknown, not zero), except ``prompt_lsh``,
which falls back to the gateway's ``prompt_simhash`` when only that is sent.

The text-heavy work runs in a native kernel (``features/native``, Rust, built
with the package): one pass per prompt lower-cases it once and derives every
signal from the same bytes, without the GIL, on several threads, called once
per batch by :func:`content_signals` (no per-row Python). The kernel holds
only the loops: the patterns (:mod:`features.patterns`), sizes and seeds are
defined here and handed to it. Lower-cased text is searched with
case-sensitive expressions (see :mod:`features.patterns`), with the ``regex``
crate that polars uses, so the patterns mean what they mean in polars.

Fingerprints are XXH3-64 hashes with fixed seeds, independent of the polars
version: lakes written before and after a polars upgrade stay comparable.
(Lakes written before the kernel, with polars' own hash, are another
fingerprint space: rebuild their content columns, or do not compare across.)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from features._native import ContentKernel
from features.patterns import (
    COT,
    OTHER_TOPIC,
    RECONSTRUCT,
    RUBRIC,
    TOPICS,
    PatternSet,
)

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


#: Signal families scored by the kernel, in the order of its score outputs.
_FAMILIES = {"cot_score": COT, "rubric_score": RUBRIC, "reconstruct_score": RECONSTRUCT}
#: Topic labels by the kernel's topic index: :data:`TOPICS` in priority order, then "other".
_TOPIC_LABELS = pa.array([topic.label for topic in TOPICS] + [OTHER_TOPIC], pa.large_string())


def _topic_regexes(topic: PatternSet) -> list[str]:
    """The expressions one topic is tested with, any of which marks a mention.

    A single union of all alternatives, or an alternative that starts with a
    character class (the arithmetic pattern ``\\d\\s*[+*^=]...``), defeats the
    regex engine's literal prefilter and costs several times as much as
    separate tests, so such alternatives get a test of their own.
    """
    patterns = [p for alternatives in topic.by_language.values() for p in alternatives]
    literal = [p for p in patterns if not p.startswith("\\d")]
    classed = [p for p in patterns if p.startswith("\\d")]
    return (["(?:" + "|".join(literal) + ")"] if literal else []) + classed


@cache
def _kernel() -> ContentKernel:
    """The native kernel, compiled once per process from this module's definitions."""
    return ContentKernel(
        word=r"\w",
        cjk=f"[{_CJK}]",
        digit=r"\d",
        families=[[(tier.regex, tier.weight) for tier in tiers] for tiers in _FAMILIES.values()],
        topics=[_topic_regexes(topic) for topic in TOPICS],
        multipliers=list(_MINHASH_MULTIPLIERS[: LSH_BANDS * LSH_ROWS]),
        bands=LSH_BANDS,
        rows=LSH_ROWS,
        band_mix=_BAND_MIX,
        template_chars=TEMPLATE_CHARS,
        template_tokens=TEMPLATE_TOKENS,
        lsh_max_chars=LSH_MAX_CHARS,
        min_token_bytes=LSH_MIN_TOKEN_BYTES,
        cjk_probe_chars=CJK_PROBE_CHARS,
        simhash_salt=_SIMHASH_SALT,
        seeds=(_PROMPT_SEED, _HEAD_SEED, _TAIL_SEED, _SYSTEM_SEED, _TOKEN_SEED),
    )


def _arrow_strings(values: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A string column as the kernel reads it: UTF-8 bytes, int64 offsets, validity.

    Views of the Arrow buffers, no copy of the text (polars exports strings as
    Arrow large strings).
    """
    array = values.cast(pl.String).rechunk().to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    n = len(array)
    _, offsets, data = array.buffers()
    return (
        np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8),
        np.frombuffer(offsets, np.int64, count=n + 1, offset=array.offset * 8),
        array.is_valid().to_numpy(zero_copy_only=False),
    )


def content_signals(prompt: pl.Series, system: pl.Series, simhash: pl.Series) -> pl.DataFrame:
    """The :data:`CONTENT_SCHEMA` columns of the rows of the three text columns.

    One call of the native kernel for all rows (no per-row Python). Signals of
    a null prompt are null (``prompt_lsh`` then comes from the SimHash), as is
    ``system_prompt_hash`` of a null system prompt.

    A plain function of columns, not a polars expression around a Python
    function (``map_batches``): the kernel reads and writes Arrow buffers
    directly, with no struct column to pack and unpack, and no Python code
    runs on polars' worker threads.
    """
    texts = _arrow_strings(prompt), _arrow_strings(system), _arrow_strings(simhash)
    chars, prompt_hash, head, tail, system_hash, *scores, topic, keys, n_keys, has_keys = (
        _kernel().compute(*texts, pl.thread_pool_size())
    )
    unknown = ~texts[0][2]
    offsets = np.zeros(len(n_keys) + 1, np.int64)
    np.cumsum(n_keys, out=offsets[1:])
    arrays = {
        "prompt_chars": pa.array(chars, mask=unknown),
        "prompt_hash": pa.array(prompt_hash, mask=unknown),
        "template_sig": pa.array(head, mask=unknown),
        "template_tail_sig": pa.array(tail, mask=unknown),
        "prompt_lsh": pa.LargeListArray.from_arrays(
            pa.array(offsets), pa.array(keys), mask=pa.array(~has_keys)
        ),
        "system_prompt_hash": pa.array(system_hash, mask=~texts[1][2]),
        **{
            name: pa.array(values, mask=unknown)
            for name, values in zip(_FAMILIES, scores, strict=True)
        },
        "topic": _TOPIC_LABELS.take(pa.array(topic, mask=unknown)),
    }
    frame = pl.from_arrow(pa.table(arrays).cast(pa.schema(list(CONTENT_SCHEMA.items()))))
    assert isinstance(frame, pl.DataFrame)
    return frame


def with_content(events: pl.DataFrame) -> pl.DataFrame:
    """``events`` with the :data:`CONTENT_SCHEMA` columns added.

    ``events`` is any frame with String columns ``prompt``, ``system_prompt``
    and ``prompt_simhash`` (nullable).
    """
    signals = content_signals(events["prompt"], events["system_prompt"], events["prompt_simhash"])
    return events.hstack(signals)
