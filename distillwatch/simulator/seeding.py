"""Stable sub-seeds, so every account's randomness depends only on the run seed and its identity."""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed", "derive_token"]


def derive_seed(*parts: object) -> int:
    """Return a 64-bit seed derived from ``parts``, stable across processes and platforms.

    Python's ``hash`` is salted per process for strings, so seeds are derived from a
    BLAKE2b digest of the parts' ``repr`` instead.
    """
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def derive_token(n_hex: int, *parts: object) -> str:
    """Return ``n_hex`` lowercase hex digits derived from ``parts`` (for opaque identifiers)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=(n_hex + 1) // 2).hexdigest()[:n_hex]
