"""Per-account window features: each family on a tiny frame whose answer is known."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from features.catalog import WINDOW_FEATURES
from features.windows import network_prefix, window_aggregations, window_features, window_key
from tests.lakes import lake_table

T0 = datetime(2026, 11, 21, 10, tzinfo=UTC)


def features(
    rows: list[dict[str, Any]], every: str = "1h", **kwargs: Any
) -> dict[str, dict[str, Any]]:
    """Window features by account of ``rows`` (one window expected per account)."""
    events = pl.from_arrow(lake_table(rows))
    assert isinstance(events, pl.DataFrame)
    out = window_features(events, ["account_id", window_key(every)], **kwargs)
    assert out["account_id"].is_unique().all()
    return {row["account_id"]: row for row in out.iter_rows(named=True)}


def at(minutes: float, **row: Any) -> dict[str, Any]:
    """A row of account ``a`` (unless given) ``minutes`` after T0."""
    return {"account_id": "a", "ts": T0 + timedelta(minutes=minutes), **row}


def test_names_follow_the_catalog() -> None:
    names = [expr.meta.output_name() for expr in window_aggregations()]
    assert names == [feature.name for feature in WINDOW_FEATURES]
    prefixes = {name.split("_")[0] for name in names}
    assert prefixes == {"vol", "tok", "samp", "lp", "time", "tmpl", "cont", "err", "model"} | {
        "net",
        "acct",
    }


def test_volume_and_tokens() -> None:
    f = features(
        [
            at(0, prompt_tokens=10, completion_tokens=5, max_tokens=50, stream=True),
            at(1, prompt_tokens=20, completion_tokens=5, max_tokens=50, endpoint="/v1/batch"),
            at(2, prompt_tokens=30, completion_tokens=50, max_tokens=50, tool_count=2),
            at(3, account_id="b", prompt_tokens=0, completion_tokens=7),
        ]
    )
    a = f["a"]
    assert a["vol_requests"] == 3
    assert a["vol_batch_share"] == pytest.approx(1 / 3)
    assert a["vol_stream_share"] == 1.0
    assert a["vol_tool_share"] == 1.0
    assert (a["tok_prompt_sum"], a["tok_completion_sum"]) == (60, 60)
    assert a["tok_completion_mean"] == 20
    assert a["tok_out_in_ratio"] == 1.0
    assert a["tok_cap_hit_share"] == pytest.approx(1 / 3)
    assert f["b"]["tok_out_in_ratio"] is None
    assert f["b"]["tok_cap_hit_share"] is None


def test_sampling_fingerprint_and_constancy() -> None:
    same = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 512}
    f = features(
        [at(0, **same), at(1, **same), at(2, **same), at(3, temperature=0.7, max_tokens=256, n=3)]
    )["a"]
    assert f["samp_fingerprint_distinct"] == 2
    assert f["samp_fingerprint_top_share"] == 0.75
    assert f["samp_max_tokens_distinct"] == 2
    assert f["samp_max_tokens_mean"] == 448
    assert f["samp_temperature_zero_share"] == 0.75
    assert f["samp_temperature_mean"] == pytest.approx(0.175)
    assert f["samp_n_mean"] == 3


def test_logprobs_and_logit_bias() -> None:
    f = features(
        [
            at(0, logprobs=True, top_logprobs=5),
            at(1, logprobs=False, logit_bias_size=3),
            at(2, logit_bias_size=0),
            at(3),
        ]
    )["a"]
    assert f["lp_logprobs_share"] == 0.25
    assert f["lp_top_logprobs_mean"] == 1.25
    assert f["lp_top_logprobs_max"] == 5
    assert f["lp_logit_bias_share"] == 0.25


def test_metronomic_timing() -> None:
    f = features([at(m) for m in range(0, 50, 5)])["a"]
    assert f["time_active_minutes"] == 10
    assert f["time_iat_mean_s"] == 300
    assert f["time_iat_cv"] == 0
    assert f["time_burstiness"] == -1
    assert f["time_first"] == T0
    assert f["time_last"] == T0 + timedelta(minutes=45)
    assert f["time_hour_entropy"] == 0


def test_bursty_timing() -> None:
    f = features([at(0), at(0.01), at(0.02), at(40), at(40.01)])["a"]
    assert f["time_iat_cv"] > 1
    assert f["time_burstiness"] > 0.2


def test_hour_of_day_entropy_separates_flat_from_diurnal() -> None:
    midnight = T0.replace(hour=0)
    flat = [{"account_id": "bot", "ts": midnight + timedelta(hours=h)} for h in range(24)]
    diurnal = [
        {"account_id": "human", "ts": midnight + timedelta(hours=h)} for h in (9, 9, 10, 10, 11, 11)
    ]
    f = features(flat + diurnal, every="1d")
    assert f["bot"]["time_hour_entropy"] == pytest.approx(1.0)
    assert f["human"]["time_hour_entropy"] == pytest.approx(math.log(3) / math.log(24))


def test_single_request_has_no_inter_arrival() -> None:
    f = features([at(0)])["a"]
    assert f["time_iat_mean_s"] is None
    assert f["time_iat_cv"] is None
    assert f["time_burstiness"] is None


def test_templates_and_prompt_uniqueness() -> None:
    f = features(
        [
            at(0, template_sig=1, template_tail_sig=7, prompt_hash=1, system_prompt_hash=5),
            at(1, template_sig=1, template_tail_sig=8, prompt_hash=2, system_prompt_hash=5),
            at(2, template_sig=1, template_tail_sig=9, prompt_hash=3),
            at(3, template_sig=2, template_tail_sig=9, prompt_hash=3),
        ]
    )["a"]
    assert f["tmpl_distinct"] == 2
    assert f["tmpl_top_share"] == 0.75
    assert f["tmpl_tail_distinct"] == 3
    assert f["tmpl_prompt_unique_share"] == 0.75
    assert f["tmpl_system_distinct"] == 1


def test_content_shares_ignore_unknown_prompts() -> None:
    scores = ("cot_score", "rubric_score", "reconstruct_score")
    f = features(
        [
            at(0, prompt_chars=10, topic="math", **dict(zip(scores, (0.9, 0.6, 0.0), strict=True))),
            at(1, prompt_chars=20, topic="code", **dict(zip(scores, (0.0, 0.0, 0.9), strict=True))),
            at(2),
        ]
    )["a"]
    assert f["cont_text_share"] == pytest.approx(2 / 3)
    assert f["cont_prompt_chars_mean"] == 15
    assert f["cont_cot_share"] == 0.5
    assert f["cont_cot_mean"] == pytest.approx(0.45)
    assert f["cont_rubric_share"] == 0.5
    assert f["cont_reconstruct_share"] == 0.5
    assert f["cont_topic_distinct"] == 2
    assert f["cont_topic_entropy"] == pytest.approx(math.log(2) / math.log(9))
    assert f["cont_topic_other_share"] == 0


def test_content_from_real_prompts() -> None:
    f = features([at(0, prompt="Think step by step: solve 2x = 4."), at(1, prompt="Hello!")])["a"]
    assert f["cont_cot_share"] == 0.5
    assert f["cont_topic_distinct"] == 2


def test_error_rates() -> None:
    f = features([at(0, status=200), at(1, status=429), at(2, status=500), at(3, status=404)])
    assert (f["a"]["err_rate"], f["a"]["err_429_rate"], f["a"]["err_5xx_rate"]) == (
        0.75,
        0.25,
        0.25,
    )


def test_model_mix_and_adoption_speed() -> None:
    first_seen = pl.DataFrame(
        {"model": ["new", "old"], "first_seen": [T0 - timedelta(hours=2), T0 - timedelta(days=30)]},
        schema={"model": pl.String, "first_seen": pl.Datetime("us", "UTC")},
    )
    rows = [at(0, model="new"), at(30, model="new"), at(1, model="old"), at(2, model="unknown")]
    f = features(rows, model_first_seen=first_seen)["a"]
    assert f["model_distinct"] == 3
    assert f["model_new_share"] == 0.5
    assert f["model_adoption_hours"] == pytest.approx(2.0)
    without = features(rows)["a"]
    assert without["model_new_share"] is None
    assert without["model_adoption_hours"] is None


def test_network_diversity_and_hosting_share() -> None:
    f = features(
        [
            at(0, client_ip="1.2.3.4", asn=1, country="DE", asn_kind="hosting", user_agent="x"),
            at(1, client_ip="1.2.3.5", asn=1, country="DE", asn_kind="proxy", user_agent="x"),
            at(2, client_ip="2001:db8:1::1", asn=2, country="US", asn_kind="residential"),
            at(3, client_ip="2001:0DB8:0001:0:0:0:0:2", asn=2, user_agent="y"),
        ]
    )["a"]
    assert f["net_ip_distinct"] == 4
    assert f["net_prefix_distinct"] == 2
    assert (f["net_asn_distinct"], f["net_country_distinct"], f["net_ua_distinct"]) == (2, 2, 2)
    assert f["net_hosting_share"] == pytest.approx(2 / 3)
    assert f["net_proxy_share"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("ip", "prefix"),
    [
        ("10.1.2.3", "10.1.2.0/24"),
        ("::ffff:10.1.2.3", "10.1.2.0/24"),
        ("2001:db8::1", "2001:db8:0::/48"),
        ("2001:DB8:0000:1::", "2001:db8:0::/48"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::1", "0:0:0::/48"),
        ("localhost", None),
        (None, None),
    ],
)
def test_network_prefix(ip: str | None, prefix: str | None) -> None:
    frame = pl.DataFrame({"ip": [ip]}, schema={"ip": pl.String})
    assert frame.select(network_prefix(pl.col("ip")))["ip"][0] == prefix


def test_account_fields() -> None:
    created = T0 - timedelta(days=10, minutes=30)
    f = features(
        [
            at(0, account_created_at=created, signup_channel="self_serve", api_key_id="k1"),
            at(30, account_created_at=created, signup_channel="self_serve", api_key_id="k2"),
            at(31, payment_fingerprint="p1"),
        ]
    )["a"]
    assert f["acct_age_days"] == pytest.approx(10 + 61 / 1440)
    assert f["acct_signup_channel"] == "self_serve"
    assert f["acct_api_keys"] == 2
    assert f["acct_payment_distinct"] == 1


def test_independent_of_row_order_and_batching() -> None:
    rows = [at(m * 1.7 % 50, temperature=m / 10, status=200 + m) for m in range(20)]
    forward = features(rows)["a"]
    backward = features(rows[::-1])["a"]
    assert forward == backward


def test_hourly_windows_split_an_account() -> None:
    events = pl.from_arrow(lake_table([at(0), at(50), at(70)]))
    assert isinstance(events, pl.DataFrame)
    out = window_features(events, ["account_id", window_key("1h")])
    assert sorted(out["vol_requests"].to_list()) == [1, 2]
