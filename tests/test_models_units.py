"""Unit checks of the detection layer's building blocks, with hand-made inputs."""

from __future__ import annotations

import doctest
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models import anomaly, classifier, drift, explain
from models.evaluate import average_precision, evaluate
from models.exports import write_exports
from models.scoring import FLAG_THRESHOLD, HIGH_THRESHOLD, MEDIUM_THRESHOLD, tier
from models.state import BYTES_PER_ACCOUNT, NO_TIME, AccountState

T0 = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize("module", [anomaly, classifier, drift, explain])
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0


def test_tiers_follow_the_documented_thresholds() -> None:
    assert tier(HIGH_THRESHOLD) == "high"
    assert tier(MEDIUM_THRESHOLD) == "medium"
    assert tier(FLAG_THRESHOLD) == "low"
    assert FLAG_THRESHOLD < MEDIUM_THRESHOLD < HIGH_THRESHOLD


def _window(accounts: list[str], requests: int, hour: int) -> pl.DataFrame:
    n = len(accounts)
    return pl.DataFrame(
        {
            "account_id": accounts,
            "vol_requests": [requests] * n,
            "time_first": [T0.replace(hour=hour)] * n,
            "time_last": [T0.replace(hour=hour, minute=20)] * n,
            "acct_age_days": [2.0] * n,
            "model_adoption_hours": [None] * n,
            **{name: [1] * n for name in ("det_content_known", "det_cot", "det_extraction")},
            **{
                name: [0] * n
                for name in (
                    "det_rubric",
                    "det_reconstruct",
                    "det_extraction_long",
                    "det_harvest",
                    "det_hosting",
                )
            },
            "det_hour_mask": [1 << hour] * n,
        },
        schema_overrides={"model_adoption_hours": pl.Float64},
    )


def test_state_folds_windows_into_running_counts() -> None:
    state = AccountState(capacity=2)
    state.fold(_window(["a", "b", "c"], 5, hour=1))  # grows past its capacity
    rows = state.fold(_window(["b"], 3, hour=7))
    assert state.ids == ["a", "b", "c"]
    assert list(state["n_requests"]) == [5, 8, 5]
    assert state["hour_mask"][rows[0]] == (1 << 1) | (1 << 7)
    assert state["first_us"][1] < state["last_us"][1]
    assert state["created_us"][0] != NO_TIME


def test_state_eviction_keeps_flagged_accounts() -> None:
    state = AccountState()
    state.fold(_window(["old", "flagged", "new"], 1, hour=1))
    state["last_us"][2] = state["last_us"][2] + 10**12
    state["flagged_us"][1] = state["last_us"][1]
    new_row = state.evict(int(state["last_us"][2]))
    assert state.ids == ["flagged", "new"]
    assert list(new_row) == [-1, 0, 1]
    assert state.evict(0) is None


def test_memory_per_account_is_bounded() -> None:
    """Stated bound: the columns plus the id and its index entry, under 400 bytes an account."""
    n = 20_000
    ids = [f"acct_{i:012x}" for i in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    state = AccountState(capacity=n)
    state.rows(ids)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert BYTES_PER_ACCOUNT <= 160
    assert used / n < 400
    # a second window of the same accounts allocates nothing per account
    assert len(state) == n


def test_average_precision_known_answers() -> None:
    assert average_precision(np.array([0.9, 0.8, 0.1]), np.array([True, True, False])) == 1.0
    assert average_precision(np.array([0.9, 0.8]), np.array([False, True])) == pytest.approx(0.5)
    assert average_precision(np.array([0.5, 0.5]), np.array([True, False])) == pytest.approx(0.5)
    assert average_precision(np.array([0.1]), np.array([False])) is None


def test_evaluate_known_answers(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "account_id,population,campaign_id,campaign_type,campaign_start\n"
        "c1,campaign,cmp-a,hydra,2026-11-02T10:00:00.000Z\n"
        "c2,campaign,cmp-a,hydra,2026-11-02T10:00:00.000Z\n"
        "c3,campaign,cmp-b,whale,2026-11-02T12:00:00.000Z\n"
        "b1,individual,,,\n"
        "b2,individual,,,\n"
        "b3,corporate,,,\n"
    )
    ts = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    flagged = pl.DataFrame(
        {
            "account_id": ["c1", "c2", "b3"],
            "score": [0.95, 0.8, 0.7],
            "tier": ["high", "medium", "low"],
            "campaign_id": ["cmp_x", "cmp_x", None],
            "first_flagged_at": [ts, ts.replace(hour=11), ts],
            "reasons": ["shared_template:2_accounts"] * 3,
            "own_score": [0.5] * 3,
            "campaign_score": [0.9, 0.9, 0.0],
            "n_requests": [10, 10, 10],
            "first_seen": [ts.replace(minute=0)] * 3,
            "last_seen": [ts] * 3,
        },
        schema_overrides={"campaign_id": pl.String},
    )
    campaigns = pl.DataFrame(
        {
            "campaign_id": ["cmp_x"],
            "n_accounts": [2],
            "n_requests": [20],
            "first_seen": [ts],
            "last_seen": [ts],
            "score": [0.9],
            "indicators": ["{}"],
        }
    )
    paths = write_exports(flagged, campaigns, tmp_path / "exports")
    result = evaluate(labels, paths["flagged_accounts.parquet"])
    accounts = result["accounts"]
    assert (accounts["true_positives"], accounts["false_positives"]) == (2, 1)
    assert accounts["precision"] == pytest.approx(2 / 3)
    assert accounts["recall"] == pytest.approx(2 / 3)
    by_campaign = {row["campaign_id"]: row for row in result["campaigns"]}
    assert by_campaign["cmp-a"]["recall"] == 1.0
    assert by_campaign["cmp-a"]["minutes_to_detect"] == pytest.approx(30.0)
    assert by_campaign["cmp-b"]["recall"] == 0.0
    fpr = {row["population"]: row["fpr"] for row in result["populations"]}
    assert fpr == {"corporate": 1.0, "individual": 0.0}
    assert result["time_to_detect_minutes"]["account_median"] == pytest.approx(60.0)
    high_only = evaluate(labels, paths["flagged_accounts.csv"], min_tier="high")
    assert high_only["accounts"]["flagged"] == 1


def test_batched_anomaly_scoring_equals_score_then_learn_row_by_row() -> None:
    rng = np.random.default_rng(3)
    names = ("requests", "cot_share", "flat")
    rows = rng.lognormal(size=(600, 3))
    rows[:, 2] = 1.0  # a constant feature: empty span, scaled to 0
    rows[100:110, 0] = 0.0  # ties with the running minimum
    one_by_one, batched = anomaly.AnomalyDetector(seed=5), anomaly.AnomalyDetector(seed=5)
    expected = []
    for row in rows:
        x = dict(zip(names, row.tolist(), strict=True))
        expected.append(one_by_one.score_one(x))
        one_by_one.learn_one(x)
    got = np.concatenate(
        [batched.score_learn_many(names, rows[:250]), batched.score_learn_many(names, rows[250:])]
    )
    assert got.tolist() == expected
    assert len(set(expected)) > 10  # the trees learned something to rank by
    probe = {"requests": 50.0, "cot_share": 0.0, "flat": 1.0}
    assert batched.score_one(probe) == one_by_one.score_one(probe)
