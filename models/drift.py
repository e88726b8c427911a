"""Drift detection on the distribution of risk scores.

When the scores the scorer hands out shift (a new model release, a gateway
change, a new kind of traffic), thresholds tuned on the old distribution stop
meaning the same thing. :class:`ScoreDrift` watches the stream of per-window
scores with ADWIN (a change in the mean, with a bound on false alarms) and
Page-Hinkley (a sustained upward shift, the early sign of a campaign wave or of
a broken feature) and records when either fires, for operators and the flags'
audit trail. It does not change scores itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from river import drift


class ScoreDrift:
    """Change detectors over a stream of scores in [0, 1].

    Parameters
    ----------
    delta
        ADWIN confidence: smaller means fewer, surer alarms.
    ph_threshold
        Page-Hinkley alarm threshold on the cumulative upward deviation.

    Examples
    --------
    >>> monitor = ScoreDrift()
    >>> fired = [monitor.update(0.05) for _ in range(2000)]
    >>> fired += [monitor.update(0.6) for _ in range(2000)]
    >>> any(fired[:2000]), any(fired[2000:]), monitor.n_drifts > 0
    (False, True, True)
    """

    def __init__(self, delta: float = 0.002, ph_threshold: float = 5.0) -> None:
        self.delta = delta
        self.ph_threshold = ph_threshold
        self._adwin = drift.ADWIN(delta=delta)
        self._page_hinkley = drift.PageHinkley(threshold=ph_threshold, mode="up")
        self._n_drifts = 0
        self._n_seen = 0

    @property
    def n_drifts(self) -> int:
        """Alarms raised so far."""
        return self._n_drifts

    @property
    def mean(self) -> float:
        """ADWIN's current estimate of the mean score."""
        return float(self._adwin.estimation)

    def update_many(self, scores: Iterable[float]) -> None:
        """Add scores in order (alarms are counted in :attr:`n_drifts`)."""
        for score in scores:
            self.update(float(score))

    def update(self, score: float) -> bool:
        """Add one score; True when a drift is detected at this score."""
        self._n_seen += 1
        self._adwin.update(score)
        self._page_hinkley.update(score)
        fired = bool(self._adwin.drift_detected or self._page_hinkley.drift_detected)
        self._n_drifts += fired
        return fired
