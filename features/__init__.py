"""Feature jobs: polars expressions over the lake, one definition of each feature.

* :mod:`features.content`: content signals computed from prompt text at ingest.
* :mod:`features.windows`: per-account window aggregates (hourly, daily, online).
* :mod:`features.links`: cross-account evidence edges.
* :mod:`features.jobs`: partition-by-partition batch jobs writing ``lake/features``.
* :mod:`features.catalog`: name, unit and meaning of every feature.

The names below are loaded on first access (PEP 562): ``ingest.schema`` imports
:mod:`features.content` while :mod:`features.jobs` imports ``ingest.schema``, so
importing everything eagerly here would be circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from features.catalog import CONTENT_FEATURES, LINK_COLUMNS, WINDOW_FEATURES, Feature
    from features.content import CONTENT_SCHEMA, minhash_band_keys, with_content
    from features.jobs import (
        build_daily,
        build_hourly,
        build_links,
        build_range,
        model_first_seen,
    )
    from features.links import EDGE_SCHEMA, KINDS, account_links
    from features.windows import (
        network_prefix,
        window_aggregations,
        window_features,
        window_inputs,
        window_key,
    )

_EXPORTS: dict[str, str] = {
    "CONTENT_FEATURES": "features.catalog",
    "LINK_COLUMNS": "features.catalog",
    "WINDOW_FEATURES": "features.catalog",
    "Feature": "features.catalog",
    "CONTENT_SCHEMA": "features.content",
    "minhash_band_keys": "features.content",
    "with_content": "features.content",
    "build_daily": "features.jobs",
    "build_hourly": "features.jobs",
    "build_links": "features.jobs",
    "build_range": "features.jobs",
    "model_first_seen": "features.jobs",
    "EDGE_SCHEMA": "features.links",
    "KINDS": "features.links",
    "account_links": "features.links",
    "network_prefix": "features.windows",
    "window_aggregations": "features.windows",
    "window_features": "features.windows",
    "window_inputs": "features.windows",
    "window_key": "features.windows",
}

__all__ = [
    "CONTENT_FEATURES",
    "CONTENT_SCHEMA",
    "EDGE_SCHEMA",
    "KINDS",
    "LINK_COLUMNS",
    "WINDOW_FEATURES",
    "Feature",
    "account_links",
    "build_daily",
    "build_hourly",
    "build_links",
    "build_range",
    "minhash_band_keys",
    "model_first_seen",
    "network_prefix",
    "window_aggregations",
    "window_features",
    "window_inputs",
    "window_key",
    "with_content",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'features' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
