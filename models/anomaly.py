"""Unsupervised anomaly model over per-account window features (river HalfSpaceTrees).

Half-space trees need features in [0, 1]; an online min-max scaler maps each
feature to that range as it learns its bounds (values beyond the bounds seen so
far are clipped, so a new extreme counts as the most extreme cell, not an
error). The scaler is a two-dictionary one rather than river's, because it
runs twice per account window on the scorer's hot path;
:meth:`AnomalyDetector.score_learn_many` scales a whole window's rows at once
with running minima and maxima, which gives exactly the per-row result.

The score is river's HST anomaly score, already in [0, 1]: 1 when the
window falls where the reference windows put no mass at all. River normalises
by the largest possible mass, so ordinary windows typically score around 0.8–0.9:
the score ranks windows, and the scorer compares it with the running mean
score rather than with a fixed level (see :mod:`models.scoring`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from river import anomaly

from models.base import Detector


class AnomalyDetector(Detector):
    """How unusual an account window is, compared with recent windows of all accounts.

    Parameters
    ----------
    n_trees
        Number of half-space trees.
    height
        Depth of each tree.
    window_size
        Windows per reference period: the model compares new windows with the
        mass profile of the previous ``window_size`` ones.
    seed
        Random seed of the trees (fixed, so that runs are reproducible).

    Examples
    --------
    >>> import random
    >>> rng, model = random.Random(0), AnomalyDetector(seed=1)
    >>> for _ in range(300):
    ...     x = {"requests": 10.0 + 5 * rng.random(), "cot_share": 0.05 * rng.random()}
    ...     _ = model.score_one(x)  # score first ...
    ...     model.learn_one(x)  # ... then learn
    >>> usual = model.score_one({"requests": 12.0, "cot_share": 0.03})
    >>> odd = model.score_one({"requests": 400.0, "cot_share": 0.9})
    >>> 0.0 <= usual < odd <= 1.0
    True
    """

    def __init__(
        self, n_trees: int = 10, height: int = 6, window_size: int = 250, seed: int = 7
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self._low: dict[str, float] = {}
        self._high: dict[str, float] = {}
        self._trees = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=window_size, seed=seed
        )

    def _scaled(self, x: dict[str, float]) -> dict[str, float]:
        low, high = self._low, self._high
        out = {}
        for name, value in x.items():
            lo = low.get(name, value)
            span = high.get(name, value) - lo
            out[name] = 0.0 if span <= 0 else min(1.0, max(0.0, (value - lo) / span))
        return out

    def score_one(self, x: dict[str, float]) -> float:
        return float(min(1.0, max(0.0, self._trees.score_one(self._scaled(x)))))

    def learn_one(self, x: dict[str, float], y: bool | None = None) -> None:
        low, high = self._low, self._high
        for name, value in x.items():
            if value < low.get(name, value + 1.0):
                low[name] = value
            if value > high.get(name, value - 1.0):
                high[name] = value
        self._trees.learn_one(self._scaled(x))

    def score_learn_many(self, names: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """Score each row of ``rows`` (features ``names``), then learn it, in order.

        The same scores and model as :meth:`score_one` then :meth:`learn_one`
        row after row; only the scaling is vectorised: the bounds a row is
        scored with are the running minimum and maximum of the rows before it
        (and of earlier windows), those it is learned with include it.
        """
        low = np.array([self._low.get(name, np.nan) for name in names])
        high = np.array([self._high.get(name, np.nan) for name in names])
        running_low = np.fmin.accumulate(np.vstack([low, rows]), axis=0)
        running_high = np.fmax.accumulate(np.vstack([high, rows]), axis=0)
        before = _scale(rows, running_low[:-1], running_high[:-1]).tolist()
        after = _scale(rows, running_low[1:], running_high[1:]).tolist()
        scores = np.empty(len(rows))
        for i, (seen, learned) in enumerate(zip(before, after, strict=True)):
            scores[i] = self._trees.score_one(dict(zip(names, seen, strict=True)))
            self._trees.learn_one(dict(zip(names, learned, strict=True)))
        if len(rows):
            self._low.update(zip(names, running_low[-1].tolist(), strict=True))
            self._high.update(zip(names, running_high[-1].tolist(), strict=True))
        return np.clip(scores, 0.0, 1.0)


def _scale(rows: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``rows`` min-max scaled to [0, 1] by per-row bounds; 0 where the span is empty or unknown."""
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.clip((rows - low) / span, 0.0, 1.0)
    return np.where(span > 0, scaled, 0.0)
