"""Arrow schemas of the input contract (``api_access_log`` v1) and of the lake.

The input schema mirrors ``shared/contract/api_access_log.schema.json`` field by
field and is used to parse JSON strictly (a number where a string is expected is
a type error, not a coercion). The lake schema is pinned explicitly so that no
batch ever infers its own types: every Parquet file of ``lake/events`` has
exactly :data:`LAKE_SCHEMA`.
"""

from __future__ import annotations

import pyarrow as pa

from features.content import CONTENT_SCHEMA
from ingest.lake import Encoding

SCHEMA_VERSION = 1

REQUIRED_FIELDS: tuple[str, ...] = (
    "event_id",
    "ts",
    "account_id",
    "model",
    "endpoint",
    "status",
    "prompt_tokens",
    "completion_tokens",
)

ASN_KINDS: tuple[str, ...] = ("hosting", "residential", "mobile", "business", "education", "proxy")

#: Text fields whose content is sensitive: kept in the lake only when the
#: ``keep_prompt_text`` setting is on.
TEXT_FIELDS: tuple[str, ...] = ("system_prompt", "prompt")

#: JSON types of the contract, used to parse messages strictly. Timestamps stay
#: strings here: their RFC 3339 form is validated after parsing.
INPUT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.string()),
        ("account_id", pa.string()),
        ("model", pa.string()),
        ("endpoint", pa.string()),
        ("status", pa.int64()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("org_id", pa.string()),
        ("api_key_id", pa.string()),
        ("latency_ms", pa.int64()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("max_tokens", pa.int64()),
        ("n", pa.int64()),
        ("logprobs", pa.bool_()),
        ("top_logprobs", pa.int64()),
        ("logit_bias_size", pa.int64()),
        ("stream", pa.bool_()),
        ("tool_count", pa.int64()),
        ("client_ip", pa.string()),
        ("asn", pa.int64()),
        ("asn_org", pa.string()),
        ("asn_kind", pa.string()),
        ("country", pa.string()),
        ("user_agent", pa.string()),
        ("payment_fingerprint", pa.string()),
        ("account_created_at", pa.string()),
        ("signup_channel", pa.string()),
        ("system_prompt", pa.string()),
        ("prompt", pa.string()),
        ("prompt_simhash", pa.string()),
    ]
)

UTC_TS = pa.timestamp("us", tz="UTC")

#: Where each lake row came from: Kafka coordinates (or the replayed file) and
#: when it was written. Together with ``event_id`` they make replays auditable.
PROVENANCE_SCHEMA = pa.schema(
    [
        ("source_topic", pa.string()),
        ("source_partition", pa.int32()),
        ("source_offset", pa.int64()),
        ("ingested_at", UTC_TS),
    ]
)

_CONTRACT_COLUMNS = [
    pa.field(f.name, UTC_TS if f.name in ("ts", "account_created_at") else f.type)
    for f in INPUT_SCHEMA
    if f.name not in TEXT_FIELDS
]

#: Every file under ``lake/events`` has exactly these columns (``date`` and
#: ``hour`` are Hive partition keys in the path, not stored in the files).
LAKE_SCHEMA = pa.schema(
    _CONTRACT_COLUMNS
    + [pa.field(name, dtype) for name, dtype in CONTENT_SCHEMA.items()]
    + list(PROVENANCE_SCHEMA)
)

#: Parquet encoding of lake event files.
#:
#: Min/max statistics only on the columns whose values cluster within a file
#: (event and ingest time, source offsets), where they let DuckDB and polars
#: skip row groups. Over columns whose every file spans nearly all values
#: (account ids, models, hashes) they prune nothing and cost the writer about
#: 15 % of its Parquet time.
#:
#: Dictionaries on every column but those whose values are nearly all distinct
#: within a file (ids, times, counts, hashes, fingerprints, offsets, the prompt
#: text when kept): there a dictionary holds every value once more and Arrow
#: gives up on it only after building it. On the ``small`` preset's files
#: (~2,500 rows) this writes 11 % fewer bytes with 13 % less Parquet CPU than
#: dictionaries everywhere.
EVENT_ENCODING = Encoding(
    statistics=["ts", "source_partition", "source_offset", "ingested_at"],
    plain=[
        "event_id",
        "ts",
        "prompt",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "prompt_simhash",
        "prompt_chars",
        "prompt_hash",
        "template_sig",
        "template_tail_sig",
        "prompt_lsh",
        "source_offset",
    ],
)

#: The lake schema when the ``keep_prompt_text`` setting is on.
LAKE_SCHEMA_WITH_TEXT = pa.schema(
    list(LAKE_SCHEMA) + [pa.field(name, pa.string()) for name in TEXT_FIELDS]
)

#: Rejected messages, kept whole for inspection and replay.
QUARANTINE_SCHEMA = pa.schema(
    [
        ("raw", pa.binary()),
        ("reason", pa.string()),
        ("source_topic", pa.string()),
        ("source_partition", pa.int32()),
        ("source_offset", pa.int64()),
        ("quarantined_at", UTC_TS),
    ]
)


def lake_schema(keep_prompt_text: bool) -> pa.Schema:
    """The schema lake files are written with under the given privacy setting."""
    return LAKE_SCHEMA_WITH_TEXT if keep_prompt_text else LAKE_SCHEMA
