"""The one interface every online model of ``models/`` implements: score first, then learn.

A :class:`Detector` sees one feature vector per account window (a ``dict`` of
floats, see :func:`models.signals.model_features`), answers a risk score in
[0, 1] (higher = more suspicious) *before* it learns from that vector, so a
window is never judged by a model that has already seen it. That order is what
makes an online evaluation honest, and it is the river convention.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Detector(ABC):
    """An online model over per-account window features.

    Subclasses keep their constructor arguments unchanged as public attributes
    and their learned state in private ones, and must be picklable: the online
    scorer checkpoints them with the consumer offsets they reflect.
    """

    @abstractmethod
    def score_one(self, x: dict[str, float]) -> float:
        """Risk score of one window's features, in [0, 1]; does not change the model."""

    @abstractmethod
    def learn_one(self, x: dict[str, float], y: bool | None = None) -> None:
        """Update the model with one window's features and, when known, its label.

        ``y`` is True for abuse, False for benign and None when unknown;
        unsupervised models ignore it, supervised ones ignore unlabelled windows.
        """
