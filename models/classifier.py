"""Supervised online classifier that learns from trust-and-safety verdicts.

Reviewers decide about flagged accounts (``verdicts``: ``account_id, label,
decided_at``). Each verdict is turned into a training example from the
account's latest window features, so the model learns which feature
combinations reviewers confirm and which they clear, and improves as verdicts
arrive. Until it has seen :attr:`VerdictClassifier.min_verdicts` verdicts of
*each* class it knows nothing useful and scores 0.5 (no opinion); callers use
:attr:`VerdictClassifier.ready` to leave it out of the final score until then.
"""

from __future__ import annotations

from river import linear_model, optim, preprocessing

from models.base import Detector


class VerdictClassifier(Detector):
    """Probability that a window belongs to an abusive account, learned from verdicts.

    Parameters
    ----------
    learning_rate
        Step size of the SGD optimiser of the logistic regression.
    l2
        L2 regularisation (keeps the model stable with few verdicts).
    min_verdicts
        Verdicts of each class needed before :attr:`ready` is True.

    Examples
    --------
    >>> model = VerdictClassifier(min_verdicts=2)
    >>> abusive, benign = {"cot_share": 0.9, "fresh": 1.0}, {"cot_share": 0.0, "fresh": 0.0}
    >>> model.ready, model.score_one(abusive)  # no verdicts yet: no opinion
    (False, 0.5)
    >>> for _ in range(50):
    ...     _ = model.score_one(abusive)  # score first ...
    ...     model.learn_one(abusive, True)  # ... then learn from the verdict
    ...     model.learn_one(benign, False)
    >>> model.ready, model.score_one(abusive) > 0.8 > 0.2 > model.score_one(benign)
    (True, True)
    """

    def __init__(
        self, learning_rate: float = 0.05, l2: float = 1e-4, min_verdicts: int = 5
    ) -> None:
        self.learning_rate = learning_rate
        self.l2 = l2
        self.min_verdicts = min_verdicts
        self._scaler = preprocessing.StandardScaler()
        self._model = linear_model.LogisticRegression(optimizer=optim.SGD(learning_rate), l2=l2)
        self._seen = {True: 0, False: 0}

    @property
    def ready(self) -> bool:
        """True once enough verdicts of both classes have been learned."""
        return min(self._seen.values()) >= self.min_verdicts

    def score_one(self, x: dict[str, float]) -> float:
        if not any(self._seen.values()):
            return 0.5
        proba = self._model.predict_proba_one(self._scaler.transform_one(x))
        return float(proba.get(True, 0.0))

    def learn_one(self, x: dict[str, float], y: bool | None = None) -> None:
        if y is None:
            return
        self._scaler.learn_one(x)
        self._model.learn_one(self._scaler.transform_one(x), bool(y))
        self._seen[bool(y)] += 1
