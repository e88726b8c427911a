"""Unit checks of the detection layer's building blocks, with hand-made inputs."""

from __future__ import annotations

import doctest
import itertools
import pickle
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models import anomaly, classifier, drift, explain, score_consumer, scoring
from models.campaigns import _BIT, Groups, _supported, neighbour_medians
from models.evaluate import average_precision, evaluate
from models.exports import write_exports
from models.scoring import FLAG_THRESHOLD, HIGH_THRESHOLD, MEDIUM_THRESHOLD, tier
from models.signals import TEMPLATE_SKETCH_COLUMNS, detection_aggregations
from models.state import (
    ANOMALY_SMOOTHING,
    BYTES_PER_ACCOUNT,
    NO_TIME,
    RECENT_HALF_LIFE_HOURS,
    AccountState,
)

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


def _window(
    accounts: list[str], requests: int, hour: int, *, content: int = 1, extraction: int = 1
) -> pl.DataFrame:
    """One window of ``requests`` per account: ``extraction`` of ``content`` ask for CoT."""
    n = len(accounts)
    return pl.DataFrame(
        {
            "account_id": accounts,
            "vol_requests": [requests] * n,
            "time_first": [T0.replace(hour=hour)] * n,
            "time_last": [T0.replace(hour=hour, minute=20)] * n,
            "acct_age_days": [2.0] * n,
            "model_adoption_hours": [None] * n,
            "det_content_known": [content] * n,
            **{name: [extraction] * n for name in ("det_cot", "det_extraction")},
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
            "det_extraction_tmpl": [0] * n,
            **{name: [0] * n for name in TEMPLATE_SKETCH_COLUMNS},
        },
        schema_overrides={
            "model_adoption_hours": pl.Float64,
            **{name: pl.UInt64 for name in TEMPLATE_SKETCH_COLUMNS},
        },
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


def test_smoothed_anomaly_starts_at_the_prior_and_weighs_windows_by_requests() -> None:
    """A new account starts at the running mean; a busy window moves it further than a quiet one."""
    state = AccountState()
    busy = state.fold(_window(["busy"], 100, hour=1), np.array([0.9]), prior=0.5)[0]
    quiet = state.fold(_window(["quiet"], 2, hour=1), np.array([0.9]), prior=0.5)[0]
    assert state["anomaly"][busy] == pytest.approx(0.5 + ANOMALY_SMOOTHING * 100 / 110 * 0.4)
    assert state["anomaly"][quiet] == pytest.approx(0.5 + ANOMALY_SMOOTHING * 2 / 12 * 0.4)
    # a known account keeps its own smoothed score: the prior is for new ones only
    state.fold(_window(["quiet"], 2, hour=2), np.array([0.9]), prior=0.0)
    assert state["anomaly"][quiet] > 0.5


def test_recent_shares_show_an_established_account_turning_to_extraction() -> None:
    """A reseller relaying a campaign since this morning is judged on its recent traffic.

    Its lifetime share is diluted by a clean past; its counts with a half-life
    of 6 hours are not. A customer's handful of recent questions moves its
    shares by little: recent shares are shrunk towards lifetime ones.
    """
    assert RECENT_HALF_LIFE_HOURS == 6.0
    state = AccountState()
    state.fold(_window(["reseller"], 2_000, hour=0, content=2_000, extraction=40))
    state.fold(_window(["customer"], 20, hour=0, content=20, extraction=0))
    rows = state.fold(_window(["reseller"], 1_000, hour=12, content=1_000, extraction=400))
    state.fold(_window(["customer"], 5, hour=12, content=5, extraction=5))
    assert state["recent_content"][rows[0]] == pytest.approx(2_000 / 4 + 1_000)
    assert state["recent_extraction"][rows[0]] == pytest.approx(40 / 4 + 400)

    rates = scoring.account_rates(state, np.arange(2))
    prior = scoring.PRIOR_REQUESTS
    lifetime = np.array([(440 + prior * 0.05) / (3_000 + prior), (5 + prior * 0.05) / (25 + prior)])
    k = scoring.RECENT_PRIOR_REQUESTS
    recent_reseller = (410 + k * lifetime[0]) / (1_500 + k)
    assert rates.extraction[0] == pytest.approx(recent_reseller, rel=1e-5)
    assert rates.extraction[0] > lifetime[0] + 0.08
    # every share of the account comes from the same basis, so its reasons add up
    assert rates.cot[0] == pytest.approx((410 + k * 440 / 3_004) / (1_500 + k), rel=1e-5)
    assert rates.extraction[1] == pytest.approx(lifetime[1], abs=0.01)


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
    assert BYTES_PER_ACCOUNT <= 208
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
        "c4,campaign,cmp-c,logprob_harvest,2026-11-02T08:00:00.000Z\n"
        "b1,individual,,,\n"
        "b2,individual,,,\n"
        "b3,corporate,,,\n"
    )
    ts = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    flagged = pl.DataFrame(
        {
            "account_id": ["c1", "c2", "b3", "c4"],
            "score": [0.95, 0.8, 0.7, 0.9],
            "tier": ["high", "medium", "low", "high"],
            "campaign_id": ["cmp_x", "cmp_x", None, None],
            "first_flagged_at": [ts, ts.replace(hour=11), ts, ts],
            "reasons": ["shared_template:2_accounts"] * 4,
            "own_score": [0.5] * 4,
            "campaign_score": [0.9, 0.9, 0.0, 0.0],
            "n_requests": [10] * 4,
            # c4's campaign starts at 08:00, but its first request comes at 10:20
            "first_seen": [ts.replace(minute=0)] * 3 + [ts.replace(minute=20)],
            "last_seen": [ts] * 4,
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
    assert (accounts["true_positives"], accounts["false_positives"]) == (3, 1)
    assert accounts["precision"] == pytest.approx(3 / 4)
    assert accounts["recall"] == pytest.approx(3 / 4)
    by_campaign = {row["campaign_id"]: row for row in result["campaigns"]}
    assert by_campaign["cmp-a"]["recall"] == 1.0
    assert by_campaign["cmp-a"]["minutes_to_detect"] == pytest.approx(30.0)
    # active from its start: the latency after its first request is its time to detect
    assert by_campaign["cmp-a"]["minutes_after_first_request"] == pytest.approx(30.0)
    assert by_campaign["cmp-c"]["minutes_to_detect"] == pytest.approx(150.0)
    assert by_campaign["cmp-c"]["minutes_after_first_request"] == pytest.approx(10.0)
    assert by_campaign["cmp-b"]["minutes_after_first_request"] is None
    assert by_campaign["cmp-b"]["recall"] == 0.0
    fpr = {row["population"]: row["fpr"] for row in result["populations"]}
    assert fpr == {"corporate": 1.0, "individual": 0.0}
    ttd = result["time_to_detect_minutes"]
    assert ttd["campaign_median"] == pytest.approx(90.0)
    assert ttd["campaign_median_after_first_request"] == pytest.approx(20.0)
    assert ttd["account_median"] == pytest.approx(30.0)
    high_only = evaluate(labels, paths["flagged_accounts.csv"], min_tier="high")
    assert high_only["accounts"]["flagged"] == 2
    # an export without first_seen: no latency after the first request, not a guess
    bare = tmp_path / "bare.csv"
    flagged.drop("first_seen").write_csv(bare)
    bare_ttd = evaluate(labels, bare)["time_to_detect_minutes"]
    assert bare_ttd["campaign_median"] == pytest.approx(90.0)
    assert bare_ttd["campaign_median_after_first_request"] is None


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
    # batches that start, straddle and end river's 250-row mass windows
    cuts = [0, 1, 137, 250, 251, 520, 600]
    got = np.concatenate(
        [batched.score_learn_many(names, rows[a:b]) for a, b in itertools.pairwise(cuts)]
    )
    assert got.tolist() == expected
    river_state = [(t.counter, t._first_window) for t in (one_by_one._trees, batched._trees)]
    assert river_state[0] == river_state[1]
    masses = [
        [(n.l_mass, n.r_mass) for tree in t._trees.trees for n in tree.iter_dfs()]
        for t in (one_by_one, batched)
    ]
    assert masses[0] == masses[1]
    assert len(set(expected)) > 10  # the trees learned something to rank by
    probe = {"requests": 50.0, "cot_share": 0.0, "flat": 1.0}
    assert batched.score_one(probe) == one_by_one.score_one(probe)


def _sketch_events(templates: dict[str, list[int | None]]) -> pl.DataFrame:
    """One chain-of-thought request per template signature, per account."""
    rows = [(a, t) for a, sigs in templates.items() for t in sigs]
    return pl.DataFrame(
        {
            "account_id": [a for a, _ in rows],
            "ts": [T0] * len(rows),
            "cot_score": [0.9] * len(rows),
            "rubric_score": [0.0] * len(rows),
            "reconstruct_score": [0.0] * len(rows),
            "max_tokens": [16_000] * len(rows),
            "logit_bias_size": [0] * len(rows),
            "asn_kind": ["isp"] * len(rows),
            "template_sig": [t for _, t in rows],
        },
        schema_overrides={"template_sig": pl.UInt64},
    )


def test_template_sketch_sets_one_bit_per_distinct_template() -> None:
    events = _sketch_events({"a": [63, 63 + 256, 64, None], "b": [255]})
    out = events.group_by("account_id").agg(detection_aggregations()).sort("account_id")
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert a["det_extraction_tmpl"] == 3  # the null template is not counted
    assert (a["det_tmpl_bits_0"], a["det_tmpl_bits_1"]) == (1 << 63, 1)  # 63 and 319 collide
    assert b["det_tmpl_bits_3"] == 1 << 63 and b["det_tmpl_bits_0"] == 0


def test_template_reuse_tells_a_few_templates_from_new_questions() -> None:
    """12 requests on 3 templates: 9 repeats; 12 distinct templates: none."""
    templates = {"pipeline": [7, 8, 9] * 4, "person": [1000 + 17 * i for i in range(12)]}
    windows = (
        _sketch_events(templates)
        .group_by("account_id")
        .agg(detection_aggregations())
        .sort("account_id")
    )
    state = AccountState()
    rows = state.rows(windows["account_id"].to_list())
    state["n_extraction_tmpl"][rows] = windows["det_extraction_tmpl"].to_numpy()
    for w, column in enumerate(TEMPLATE_SKETCH_COLUMNS):
        state[f"tmpl_bits_{w}"][rows] |= windows[column].to_numpy()
    person, pipeline = scoring.template_reuse(state, rows)
    assert pipeline == pytest.approx(9 / (12 + scoring.PRIOR_REQUESTS), abs=0.01)
    assert person == pytest.approx(0.0, abs=0.02)


def _rates(**values: float) -> scoring.AccountRates:
    base = {name: 0.0 for name in scoring.AccountRates.__dataclass_fields__}
    base |= {"age_days": np.nan}
    return scoring.AccountRates(**{k: np.array([values.get(k, v)]) for k, v in base.items()})


def test_fresh_account_corroborates_long_outputs_only_with_template_reuse() -> None:
    """A new customer asking new step-by-step questions with a 16k cap is not flagged."""
    person = _rates(extraction=0.5, long_extraction=0.5, age_days=1.0, template_reuse=0.0)
    pipeline = _rates(extraction=0.5, long_extraction=0.5, age_days=1.0, template_reuse=0.4)
    nothing, nan = np.zeros(1), np.full(1, np.nan)
    quiet = scoring.own_evidence(person, nothing, nan)
    loud = scoring.own_evidence(pipeline, nothing, nan)
    assert quiet.points["long_output_extraction"][0] == 0.0
    assert quiet.score[0] < FLAG_THRESHOLD
    assert loud.points["long_output_extraction"][0] == pytest.approx(5.0)
    assert loud.score[0] > HIGH_THRESHOLD


def test_campaign_traffic_diluted_by_a_reseller_is_flagged_on_its_volume() -> None:
    """A reseller relaying a campaign among its customers: 11 % long-output extraction.

    Thousands of such requests, around the clock, from hosting networks: the
    share is low only because the customers' own traffic dilutes it (seed 5's
    mixed-reseller accounts, missed while the share's ramp ran to 0.15). The
    same shares from a customer with twenty such requests, seen for less than a
    day, stay far below the threshold.
    """
    relay = dict(extraction=0.13, long_extraction=0.11, hosting=0.98, template_reuse=0.9)
    reseller = _rates(**relay, long_extraction_count=2_000, span_hours=40.0, hour_coverage=1.0)
    curious = _rates(**relay, long_extraction_count=20)
    nan = np.full(1, np.nan)
    mixed = scoring.own_evidence(reseller, np.full(1, 0.55), nan)
    quiet = scoring.own_evidence(curious, np.zeros(1), nan)
    assert mixed.points["long_output_extraction"][0] == pytest.approx(5.0)
    assert mixed.score[0] >= FLAG_THRESHOLD
    assert quiet.points["long_output_extraction"][0] < 5.0
    assert quiet.score[0] < FLAG_THRESHOLD


def test_shared_template_reuse_counts_a_template_once_per_group() -> None:
    """Three members on one template vs three members on twelve templates of their own."""
    sketch = np.zeros((len(scoring.SKETCH_WORDS), 6), dtype=np.uint64)
    sketch[0, :3] = np.uint64(1 << 5)  # group 0: every member re-uses template 5
    for member in range(3):  # group 1: four templates each, none shared
        sketch[1, 3 + member] = np.uint64(0b1111 << (4 * member))
    known = np.full(6, 4)
    group = np.array([0, 0, 0, 1, 1, 1])
    reuse = scoring.shared_template_reuse(group, 2, sketch, known)
    distinct = -256.0 * np.log1p(-1.0 / 256.0)  # linear counting of one set bit
    assert reuse[0] == pytest.approx((12.0 - distinct) / 16.0)
    assert reuse[1] == 0.0


def test_campaign_of_diverse_prompts_is_gated_off() -> None:
    """Same coordination and extraction share; only the group's shared template reuse differs."""
    stats = {
        "n_accounts": np.array([40.0, 40.0]),
        "extraction": np.array([0.4, 0.4]),
        "long_extraction": np.zeros(2),
        "harvest": np.zeros(2),
        "hosting": np.ones(2),
        "flat": np.ones(2),
        "burst": np.array([40.0, 40.0]),
        "pivot": np.zeros(2),
        "pivot_hours": np.full(2, np.inf),
        "shared_reuse": np.array([0.25, 0.8]),
        "tie_share": {f: np.ones(2) for f in ("payment", "content", "network", "sync")},
    }
    score = scoring.campaign_evidence(scoring.GroupStats(**stats)).score
    assert score[0] == 0.0
    assert score[1] > HIGH_THRESHOLD


def test_neighbour_median_and_address_only_ties() -> None:
    """Row 0 has neighbours 1, 2, 3 with values 0, 0, 0.9: median 0 (the mean would be 0.3)."""
    a, b = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2])
    network, content = int(_BIT["network"]), int(_BIT["content"] | _BIT["network"])
    groups = Groups(np.zeros(4, np.int64), a, b, np.array([network, network, content, content]))
    values = np.array([0.5, 0.0, 0.0, 0.9])
    medians = neighbour_medians(groups, [values, np.array([np.nan, 1.0, 1.0, 1.0])])
    assert list(medians[0]) == [0.0, 0.25, 0.25, 0.5]
    assert list(medians[1]) == [1.0, 0.5, 0.5, 0.0]  # NaN counts as 0
    ties = groups.tied_to(np.ones(4, dtype=bool))
    assert list(ties) == [2.0, 1.5, 1.5, 1.0]  # address-only ties count half


def test_a_sync_only_tie_must_close_a_triangle() -> None:
    """0-1-2 is a triangle; 2-3 is sync-only and open; 3-4 is open but not sync-only."""
    sync, payment = int(_BIT["sync"]), int(_BIT["payment"])
    a, b = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 2, 3, 4])
    families = np.array([sync, sync, payment, sync, sync | payment], dtype=np.uint8)
    assert list(_supported(a, b, families)) == [True, True, True, False, True]


def test_a_saturated_template_sketch_is_no_evidence_of_reuse() -> None:
    """Thousands of distinct templates fill the sketch: that is variety, not reuse."""
    from models.scoring import shared_template_reuse

    full = np.full((4, 1), np.iinfo(np.uint64).max, dtype=np.uint64)
    one_bit = np.array([[1], [0], [0], [0]], dtype=np.uint64)
    group, known = np.array([0]), np.array([5_000])
    assert shared_template_reuse(group, 1, full, known)[0] == 0.0
    assert shared_template_reuse(group, 1, one_bit, known)[0] > 0.99


def test_package_names_are_imported_on_first_use() -> None:
    """``models`` and ``models.detect`` import without river; every exported name resolves."""
    import importlib
    import subprocess
    import sys

    import models

    code = (
        "import sys, models, models.detect\n"
        "assert 'river' not in sys.modules, 'river imported with the package'\n"
        "print(models.OnlineScorer.__module__, 'river' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["models.online", "True"]
    assert sorted(models.__all__) == sorted(models._EXPORTS)
    for name in models.__all__:
        module = importlib.import_module(models._EXPORTS[name])
        assert getattr(models, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = models.no_such_name  # type: ignore[attr-defined]


def test_a_checkpoint_of_another_version_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """An upgrade that changes the scorer's layout must not resume from an older pickle."""
    folder = score_consumer.checkpoint_dir(tmp_path, "events")
    folder.mkdir(parents=True)
    version = score_consumer.CHECKPOINT_VERSION
    old = score_consumer._Checkpoint(
        version - 1, 1, {0: 5}, {}, score_consumer.ScorerCounts(), None
    )
    (folder / "ckpt-00000001.ckpt").write_bytes(pickle.dumps(old))
    expected = rf"of version {version - 1}; this scorer reads version {version}\. Move"
    with pytest.raises(ValueError, match=expected):
        score_consumer.load_checkpoint(tmp_path, "events")
    (folder / "ckpt-00000002.ckpt").write_bytes(pickle.dumps({"offsets": {0: 5}}))
    with pytest.raises(ValueError, match=r"is not a scorer checkpoint$"):
        score_consumer.load_checkpoint(tmp_path, "events")
