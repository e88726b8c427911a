"""Contract tests run over every model class of ``models/`` (in the style of river's checks)."""

from __future__ import annotations

import inspect
import pickle
import random

import pytest

from models import AnomalyDetector, Detector, ScoreDrift, VerdictClassifier

DETECTORS: list[type[Detector]] = [AnomalyDetector, VerdictClassifier]


def _stream(n: int, seed: int = 0) -> list[tuple[dict[str, float], bool]]:
    """Windows of two kinds: ordinary ones and rarer extraction-like ones (labelled True)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bad = rng.random() < 0.2
        x = {
            "requests": rng.uniform(20, 60) if bad else rng.uniform(1, 10),
            "cot_share": rng.uniform(0.4, 0.9) if bad else rng.uniform(0.0, 0.1),
            "hosting_share": rng.uniform(0.8, 1.0) if bad else rng.uniform(0.0, 0.3),
        }
        out.append((x, bad))
    return out


@pytest.fixture(params=DETECTORS, ids=lambda cls: cls.__name__)
def detector(request: pytest.FixtureRequest) -> Detector:
    return request.param()


def test_is_a_detector(detector: Detector) -> None:
    assert isinstance(detector, Detector)


def test_constructor_arguments_are_stored_unchanged(detector: Detector) -> None:
    cls = type(detector)
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        assert getattr(detector, name) == parameter.default
    public = {k for k in vars(detector) if not k.startswith("_")}
    assert public == set(inspect.signature(cls.__init__).parameters) - {"self"}


def test_scores_are_in_unit_interval_before_and_after_learning(detector: Detector) -> None:
    stream = _stream(600)
    assert 0.0 <= detector.score_one(stream[0][0]) <= 1.0
    for x, y in stream:
        score = detector.score_one(x)
        assert 0.0 <= score <= 1.0
        assert detector.learn_one(x, y) is None


def test_score_one_does_not_learn(detector: Detector) -> None:
    for x, y in _stream(400):
        detector.learn_one(x, y)
    probe = _stream(1, seed=99)[0][0]
    before = pickle.dumps(detector)
    first = detector.score_one(probe)
    assert detector.score_one(probe) == first
    assert pickle.dumps(detector) == before


def test_learn_one_accepts_unlabelled_windows(detector: Detector) -> None:
    for x, _ in _stream(50):
        detector.score_one(x)
        assert detector.learn_one(x) is None
        assert detector.learn_one(x, None) is None


def test_pickle_round_trip_keeps_behaviour(detector: Detector) -> None:
    stream = _stream(500)
    for x, y in stream[:400]:
        detector.score_one(x)
        detector.learn_one(x, y)
    clone = pickle.loads(pickle.dumps(detector))
    for x, y in stream[400:]:
        assert clone.score_one(x) == detector.score_one(x)
        clone.learn_one(x, y)
        detector.learn_one(x, y)


def test_same_data_same_scores(detector: Detector) -> None:
    twin = type(detector)()
    for x, y in _stream(400, seed=3):
        assert detector.score_one(x) == twin.score_one(x)
        detector.learn_one(x, y)
        twin.learn_one(x, y)


def test_learning_separates_the_two_kinds(detector: Detector) -> None:
    """After a stream, extraction-like windows score above ordinary ones on average."""
    for x, y in _stream(1500, seed=5):
        detector.score_one(x)
        detector.learn_one(x, y)
    probe = _stream(400, seed=6)
    bad = [detector.score_one(x) for x, y in probe if y]
    good = [detector.score_one(x) for x, y in probe if not y]
    assert sum(bad) / len(bad) > sum(good) / len(good)


def test_classifier_abstains_until_it_has_verdicts_of_both_kinds() -> None:
    model = VerdictClassifier(min_verdicts=3)
    x = {"cot_share": 0.9}
    assert model.score_one(x) == 0.5 and not model.ready
    for _ in range(3):
        model.learn_one(x, True)
    assert not model.ready
    for _ in range(3):
        model.learn_one({"cot_share": 0.0}, False)
    assert model.ready


def test_drift_monitor_fires_on_a_shift_and_not_before() -> None:
    monitor = ScoreDrift()
    rng = random.Random(1)
    calm = [monitor.update(0.1 + 0.02 * rng.random()) for _ in range(3000)]
    assert not any(calm)
    shifted = [monitor.update(0.7 + 0.02 * rng.random()) for _ in range(3000)]
    assert any(shifted)
    assert monitor.n_drifts >= 1
    assert 0.0 <= monitor.mean <= 1.0
    restored = pickle.loads(pickle.dumps(monitor))
    assert restored.n_drifts == monitor.n_drifts
