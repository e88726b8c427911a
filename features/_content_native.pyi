"""Types of the native content kernel (``features/native/src/lib.rs``)."""

import numpy as np

_Column = tuple[np.ndarray, np.ndarray, np.ndarray]

class ContentKernel:
    def __init__(
        self,
        word: str,
        cjk: str,
        digit: str,
        families: list[list[tuple[str, float]]],
        topics: list[list[str]],
        multipliers: list[int],
        bands: int,
        rows: int,
        band_mix: int,
        template_chars: int,
        template_tokens: int,
        lsh_max_chars: int,
        min_token_bytes: int,
        cjk_probe_chars: int,
        simhash_salt: int,
        seeds: tuple[int, int, int, int, int],
    ) -> None: ...
    def compute(
        self, prompt: _Column, system: _Column, simhash: _Column, threads: int
    ) -> list[np.ndarray]: ...
