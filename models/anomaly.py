"""Unsupervised anomaly model over per-account window features (river HalfSpaceTrees).

Half-space trees need features in [0, 1]; an online min-max scaler maps each
feature to that range as it learns its bounds (values beyond the bounds seen so
far are clipped, so a new extreme counts as the most extreme cell, not an
error). The scaler is a two-dictionary one rather than river's, because it
runs twice per account window on the scorer's hot path;
:meth:`AnomalyDetector.score_learn_many` scales a whole window's rows at once
with running minima and maxima, which gives exactly the per-row result.

:meth:`AnomalyDetector.score_learn_many` also walks the trees for a whole
window at once: between two pivots of river's mass windows (every
``window_size`` learned rows) the reference masses a score reads do not
change, so the rows of such a stretch are scored and learned as arrays over
river's own trees (:class:`_HeapTrees`), and the masses written back to its
nodes; scores, masses and counters equal river's ``score_one`` /
``learn_one`` row after row (tested). It reads river's tree internals, so the
river pin in ``pyproject.toml`` stays narrow.

The score is river's HST anomaly score, already in [0, 1]: 1 when the
window falls where the reference windows put no mass at all. River normalises
by the largest possible mass, so ordinary windows typically score around 0.8–0.9:
the score ranks windows, and the scorer compares it with the running mean
score rather than with a fixed level (see :mod:`models.scoring`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        before = _scale(rows, running_low[:-1], running_high[:-1])
        after = _scale(rows, running_low[1:], running_high[1:])
        scores = np.empty(len(rows))
        start = 0
        if len(rows) and not self._trees.trees:  # river builds its trees on the first row
            first = dict(zip(names, before[0].tolist(), strict=True))
            scores[0] = self._trees.score_one(first)
            self._trees.learn_one(dict(zip(names, after[0].tolist(), strict=True)))
            start = 1
        if start < len(rows):
            scores[start:] = _HeapTrees(self._trees, names).score_learn(
                before[start:], after[start:]
            )
        if len(rows):
            self._low.update(zip(names, running_low[-1].tolist(), strict=True))
            self._high.update(zip(names, running_high[-1].tolist(), strict=True))
        return np.clip(scores, 0.0, 1.0)


class _HeapTrees:
    """River's half-space trees as arrays in heap order (node ``i``: children ``2i+1``, ``2i+2``).

    Built from, and written back to, a :class:`river.anomaly.HalfSpaceTrees`
    whose trees exist; ``names`` orders the feature columns.
    """

    def __init__(self, model: anomaly.HalfSpaceTrees, names: Sequence[str]) -> None:
        self.model = model
        self.height = model.height
        column = {name: i for i, name in enumerate(names)}
        self.nodes = [self._heap(tree) for tree in model.trees]
        internal = 2**self.height - 1
        self.feature = np.array(
            [[column[n.feature] for n in nodes[:internal]] for nodes in self.nodes]
        )
        self.threshold = np.array([[n.threshold for n in nodes[:internal]] for nodes in self.nodes])
        self.l_mass = np.array([[n.l_mass for n in nodes] for nodes in self.nodes], dtype=np.int64)
        self.r_mass = np.array([[n.r_mass for n in nodes] for nodes in self.nodes], dtype=np.int64)

    @staticmethod
    def _heap(root: object) -> list[Any]:
        level, nodes = [root], []
        while level:
            nodes += level
            level = [child for node in level for child in getattr(node, "children", ())]
        return nodes

    def _paths(self, x: np.ndarray) -> np.ndarray:
        """Node index at every depth of every tree for each row: (rows, trees, height + 1)."""
        n_trees = len(self.nodes)
        node = np.zeros((len(x), n_trees), dtype=np.int64)
        paths = [node]
        rows, trees = np.arange(len(x))[:, None], np.arange(n_trees)[None, :]
        for _ in range(self.height):
            value = x[rows, self.feature[trees, node]]
            # river goes left when ``value < threshold`` (so NaN goes right, as here)
            node = 2 * node + 1 + ~(value < self.threshold[trees, node])
            paths.append(node)
        return np.stack(paths, axis=2)

    def score_learn(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Score ``before`` rows and learn ``after`` rows, in order, as river would one by one."""
        model = self.model
        n_trees, n_nodes = self.l_mass.shape
        limit = 0.1 * model.window_size
        weights = 2 ** np.arange(self.height + 1, dtype=np.int64)
        offsets = (np.arange(n_trees) * n_nodes)[None, :, None]
        scores = np.empty(len(before))
        i = 0
        while i < len(before):
            stop = min(len(before), i + model.window_size - model.counter)
            if model._first_window:
                scores[i:stop] = 0.0
            else:
                r = self.r_mass[np.arange(n_trees)[None, :, None], self._paths(before[i:stop])]
                # a walk adds each node's mass until one is below the size limit (that one included)
                reached = np.cumprod(r >= limit, axis=2)
                counted = np.concatenate(
                    [np.ones_like(reached[..., :1]), reached[..., :-1]], axis=2
                )
                total = (r * weights * counted).sum(axis=(1, 2))
                scores[i:stop] = 1 - total / model._max_score
            visits = (self._paths(after[i:stop]) + offsets).ravel()
            self.l_mass += np.bincount(visits, minlength=n_trees * n_nodes).reshape(
                n_trees, n_nodes
            )
            model.counter += stop - i
            if model.counter == model.window_size:
                self.r_mass, self.l_mass = self.l_mass, np.zeros_like(self.l_mass)
                model._first_window = False
                model.counter = 0
            i = stop
        self._write_back()
        return scores

    def _write_back(self) -> None:
        for nodes, l_mass, r_mass in zip(
            self.nodes, self.l_mass.tolist(), self.r_mass.tolist(), strict=True
        ):
            for node, left, right in zip(nodes, l_mass, r_mass, strict=True):
                node.l_mass, node.r_mass = left, right


def _scale(rows: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``rows`` min-max scaled to [0, 1] by per-row bounds; 0 where the span is empty or unknown."""
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.clip((rows - low) / span, 0.0, 1.0)
    return np.where(span > 0, scaled, 0.0)
