"""Detection layer: online models, campaign detection, scores, reasons and exports.

**What a score means.** Every score in this package is a number in [0, 1],
higher meaning more likely abuse (distillation / model extraction):

* a :class:`Detector` (:class:`AnomalyDetector`, :class:`VerdictClassifier`)
  scores one account window, *before* learning from it;
* an account's final score (:mod:`models.scoring`) is the logistic function of
  its evidence points, combined with its campaign's score weighted by how
  strongly it belongs to the campaign; an account is flagged when it first
  reaches 0.6 (tier ``low``), ``medium`` from 0.75, ``high`` from 0.9.

Entry points: :func:`detect` (batch, no Kafka), :func:`evaluate` (against the
simulator's labels), :func:`run_scorer` (the live Kafka scorer), all sharing
:class:`OnlineScorer`.
"""

from models.anomaly import AnomalyDetector
from models.base import Detector
from models.classifier import VerdictClassifier
from models.detect import DetectSummary, detect
from models.drift import ScoreDrift
from models.evaluate import evaluate, render_json, render_table
from models.exports import write_exports
from models.online import Flag, OnlineScorer, ScorerConfig
from models.score_consumer import ScorerCounts, run_scorer

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
    "detect",
    "evaluate",
    "render_json",
    "render_table",
    "run_scorer",
    "write_exports",
]
