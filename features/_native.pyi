"""Types of the native kernels of ``features`` (``features/native/src/``)."""

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

def shared_value_edges(
    value: np.ndarray,
    kind: np.ndarray,
    account: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    max_clique: int,
    ring: int,
    code_bits: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...
def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...
def neighbour_medians(a: np.ndarray, b: np.ndarray, values: np.ndarray) -> np.ndarray: ...
def closes_triangle(n: int, a: np.ndarray, b: np.ndarray, query: np.ndarray) -> np.ndarray: ...
def shared_bins(
    offsets: np.ndarray, bins: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
