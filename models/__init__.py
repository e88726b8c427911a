"""Detection layer: online models, campaign detection, scores, reasons and exports.

**What a score means.** Every score in this package is a number in [0, 1],
higher meaning more likely abuse (distillation / model extraction):

* a :class:`Detector` (:class:`AnomalyDetector`, :class:`VerdictClassifier`)
  scores one account window, *before* learning from it;
* an account's final score (:mod:`models.scoring`) is the logistic function of
  its evidence points, combined with its campaign's score weighted by how
  strongly it belongs to the campaign; an account is flagged when it first
  reaches 0.6 (tier ``low``), ``medium`` from 0.75, ``high`` from 0.9.

Entry points: :func:`models.detect.detect` (batch, no Kafka),
:func:`models.evaluate.evaluate` (against the simulator's labels),
:func:`run_scorer` (the live Kafka scorer), all sharing :class:`OnlineScorer`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.anomaly import AnomalyDetector
    from models.base import Detector
    from models.classifier import VerdictClassifier
    from models.detect import DetectSummary
    from models.drift import ScoreDrift
    from models.evaluate import render_json, render_table
    from models.exports import write_exports
    from models.online import Flag, OnlineScorer, ScorerConfig
    from models.score_consumer import ScorerCounts, run_scorer

#: Where each name of the package lives. They are imported on first use
#: (PEP 562), not with the package: river and scipy take a second to import,
#: and ``distillwatch detect`` starts its decoding workers in that second
#: (see :mod:`models.detect`). The functions named like their modules,
#: ``detect`` and ``evaluate``, are imported from them: once a submodule is
#: imported, its name in the package is the module.
_EXPORTS: dict[str, str] = {
    "AnomalyDetector": "models.anomaly",
    "Detector": "models.base",
    "VerdictClassifier": "models.classifier",
    "DetectSummary": "models.detect",
    "ScoreDrift": "models.drift",
    "render_json": "models.evaluate",
    "render_table": "models.evaluate",
    "write_exports": "models.exports",
    "Flag": "models.online",
    "OnlineScorer": "models.online",
    "ScorerConfig": "models.online",
    "ScorerCounts": "models.score_consumer",
    "run_scorer": "models.score_consumer",
}

__all__ = [
    "AnomalyDetector",
    "DetectSummary",
    "Detector",
    "Flag",
    "OnlineScorer",
    "ScoreDrift",
    "ScorerConfig",
    "ScorerCounts",
    "VerdictClassifier",
    "render_json",
    "render_table",
    "run_scorer",
    "write_exports",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
