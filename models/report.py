"""The rescoring report: one self-contained HTML page for trust-and-safety reviewers.

:func:`render_report` reads a lake and a published run (``<lake>/exports/latest``
by default) through the DuckDB views of :mod:`distillwatch.analyst`, runs the
saved queries of ``sql/queries``, and writes one HTML file with every chart as
inline SVG (:mod:`distillwatch.charts`) and its styles inline: no script, no
font, image or stylesheet from the network, so it opens offline and can be
attached to a ticket. Sections, most telling first:

1. the run at a glance: traffic scored, flags by tier, campaigns, changes
   since the previous run;
2. campaigns: size, score, tiers of their accounts, shared infrastructure;
3. per-campaign timelines of requests and active accounts (same time axis);
4. account-creation bursts, campaign accounts against the rest;
5. hour-of-day profile, campaign traffic against accounts not flagged;
6. model pivot: share of each group's traffic on the newest model, hour by hour;
7. top reason codes of the flags;
8. shared indicators of each campaign (from the run's indicator bundles);
9. data health: rejected messages by reason.

Prompt text never reaches the page: the views do not expose it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from distillwatch import charts
from distillwatch.analyst import connect, run_query
from ingest.lake import write_bytes
from models.publish import latest_dir

#: Campaigns given a timeline and an indicator table.
MAX_CAMPAIGNS = 6
#: Reason codes in the reason chart.
MAX_REASONS = 12
#: Values of each indicator type shown per campaign.
INDICATORS_SHOWN = 4
NOT_FLAGGED = "not flagged"
TIER_COLOURS = {"high": "#c0392b", "medium": "#e69f00", "low": "#56b4e9"}

_HOUR_S = 3600


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, as query results."""

    run_id: str
    manifest: dict[str, Any]
    summary: dict[str, Any]
    campaigns: pl.DataFrame
    timelines: dict[str, pl.DataFrame]
    creation: pl.DataFrame
    hour_profile: pl.DataFrame
    model_adoption: pl.DataFrame
    model_share: pl.DataFrame
    reasons: pl.DataFrame
    bundles: dict[str, dict[str, Any]]
    quarantine: pl.DataFrame


def gather(lake: Path, run: Path, max_campaigns: int = MAX_CAMPAIGNS) -> ReportData:
    """Run the report's queries against ``lake`` and the published ``run`` folder."""
    con = connect(lake, run=run)

    def query(name: str, **params: Any) -> pl.DataFrame:
        return run_query(con, name, params).pl()

    campaigns = query("top_campaigns", limit=50)
    manifest_file = run / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    bundles = {
        path.stem: json.loads(path.read_text())
        for path in sorted((run / "indicators").glob("*.json"))
    }
    top = campaigns["campaign_id"].head(max_campaigns).to_list()
    return ReportData(
        run_id=manifest.get("run_id", run.resolve().name),
        manifest=manifest,
        summary=query("run_summary").row(0, named=True),
        campaigns=campaigns,
        timelines={c: query("campaign_timeline", campaign_id=c) for c in top},
        creation=query("account_creation_bursts", period="day", days=30),
        hour_profile=query("hour_of_day_profile"),
        model_adoption=query("model_pivot"),
        model_share=query("model_share_timeline"),
        reasons=query("reason_codes").head(MAX_REASONS),
        bundles={c: bundles[c] for c in top if c in bundles},
        quarantine=query("quarantine_reasons"),
    )


def render_report(
    lake: Path, out: Path, *, run: Path | None = None, max_campaigns: int = MAX_CAMPAIGNS
) -> Path:
    """Write the report of a published run as one self-contained HTML file.

    Parameters
    ----------
    lake
        Root of the Parquet lake.
    out
        The HTML file to write (atomically).
    run
        A published run folder (``.../exports/runs/<run_id>``); default
        ``<lake>/exports/latest``.
    max_campaigns
        Campaigns given a timeline and an indicator table (the largest first).
    """
    data = gather(lake, run if run is not None else latest_dir(lake), max_campaigns)
    return write_bytes(page(data).encode(), out)


# -- page ----------------------------------------------------------------------------------------
_CSS = """
body{margin:0;background:#f4f6f9;color:#1f2933;font:14px/1.45 system-ui,-apple-system,sans-serif}
main{max-width:1320px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 2px}
.sub{color:#5b6776;margin:0 0 12px;font-size:13px}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(600px,1fr))}
.card{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 3px #0000001a;
margin-top:16px;overflow:hidden}
.kpis{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));margin-top:16px}
.kpi{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 3px #0000001a}
.kpi b{display:block;font-size:24px}.kpi span{color:#5b6776;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;color:#5b6776;font-weight:600;border-bottom:1px solid #d9dee5;padding:6px 8px}
td{border-bottom:1px solid #eef1f5;padding:6px 8px;vertical-align:middle}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;background:#eef1f5;padding:1px 4px;border-radius:4px}
.bar{display:flex;height:10px;width:140px;border-radius:3px;overflow:hidden;background:#eef1f5}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.multiples{display:grid;gap:8px;grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
.empty{color:#8792a2;font-style:italic}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff}
"""


def page(data: ReportData) -> str:
    """The whole HTML document of a report."""
    palette = charts.colours([*data.campaigns["campaign_id"].to_list(), NOT_FLAGGED], [NOT_FLAGGED])
    sections = [
        _header(data),
        _campaign_table(data, palette),
        _timelines(data, palette),
        '<div class="grid">' + _creation(data) + _hour_profile(data) + "</div>",
        '<div class="grid">' + _model_pivot(data, palette) + _reasons(data) + "</div>",
        _indicators(data, palette),
        _quarantine(data),
    ]
    title = f"distillwatch · rescoring report {data.run_id}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>"
    )


def _card(title: str, subtitle: str, body: str) -> str:
    return (
        f'<section class="card"><h2>{escape(title)}</h2>'
        f'<p class="sub">{escape(subtitle)}</p>{body}</section>'
    )


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _header(data: ReportData) -> str:
    s, changes = data.summary, data.manifest.get("changes", {})
    previous = data.manifest.get("previous_run")
    kpis = [
        (charts.compact(s["n_requests"] or 0), "requests scored"),
        (charts.compact(s["n_accounts"] or 0), "accounts active"),
        (str(s["n_flagged_accounts"]), "accounts flagged"),
        (str(s["n_high_tier"]), "high tier"),
        (str(s["n_campaigns"]), "campaigns"),
        (str(s["n_campaign_accounts"]), "accounts in campaigns"),
    ]
    if changes:
        kpis += [
            (
                f"+{changes.get('new', 0)}",
                f"new since {previous}" if previous else "new (first run)",
            ),
            (
                f"{changes.get('escalated', 0)} / {changes.get('de-escalated', 0)}",
                "escalated / de-escalated",
            ),
            (str(changes.get("cleared", 0)), "cleared"),
        ]
    tiles = "".join(
        f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in kpis
    )
    period = f"{_when(s['first_request_at'])} → {_when(s['last_request_at'])}"
    published = data.manifest.get("published_at", "")
    return (
        f"<h1>Distillation campaigns · run {escape(data.run_id)}</h1>"
        f'<p class="sub">Events {escape(period)}'
        + (f" · published {escape(published[:19])} UTC" if published else "")
        + f'</p><div class="kpis">{tiles}</div>'
    )


def _tier_bar(total: int, high: int) -> str:
    other = max(total - high, 0)
    width = max(total, 1)
    return (
        f'<div class="bar" title="{high} high tier of {total} flagged">'
        f'<span style="width:{high / width * 100:.0f}%;background:{TIER_COLOURS["high"]}"></span>'
        f'<span style="width:{other / width * 100:.0f}%;background:{TIER_COLOURS["medium"]}">'
        f"</span></div>"
    )


def _campaign_table(data: ReportData, palette: dict[str, str]) -> str:
    if data.campaigns.is_empty():
        return _card("Campaigns", "No coordinated campaign in this run.", "")
    rows = []
    for c in data.campaigns.iter_rows(named=True):
        rows.append(
            f'<tr><td><span class="swatch" style="background:{palette[c["campaign_id"]]}"></span>'
            f"<code>{escape(c['campaign_id'])}</code></td>"
            f'<td class="n">{c["score"]:.3f}</td><td class="n">{c["n_accounts"]}</td>'
            f"<td>{_tier_bar(c['n_flagged_accounts'], c['n_high_tier_accounts'])}</td>"
            f'<td class="n">{charts.compact(c["n_requests"])}</td>'
            f"<td>{_when(c['first_seen_at'])}</td>"
            f'<td class="n">{c["active_hours"]:.1f}</td>'
            f'<td class="n">{c["n_shared_payment_fingerprints"] or 0}</td>'
            f'<td class="n">{c["n_shared_network_prefixes"] or 0}</td>'
            f'<td class="n">{c["n_shared_user_agents"] or 0}</td></tr>'
        )
    head = (
        "<tr><th>campaign</th><th>score</th><th>accounts</th><th>high tier share</th>"
        "<th>requests</th><th>first seen</th><th>active h</th><th>shared payment</th>"
        "<th>shared networks</th><th>shared agents</th></tr>"
    )
    return _card(
        "Campaigns",
        "Groups of accounts linked by shared templates, payment instruments, networks and timing,"
        " largest first.",
        f"<table>{head}{''.join(rows)}</table>",
    )


def _hours(start: datetime, end: datetime) -> list[datetime]:
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [
        first + timedelta(hours=i) for i in range(int((end - first).total_seconds() // _HOUR_S) + 1)
    ]


def _time_ticks(hours: Sequence[datetime]) -> list[tuple[float, str]]:
    """About six x-axis labels over hourly points: times of day, dates at midnight."""
    step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 48, 72, 168) if len(hours) / s <= 7)
    return [
        (h.timestamp(), f"{h:%b %d}" if h.hour == 0 else f"{h:%H:%M}")
        for h in hours
        if int(h.timestamp()) // _HOUR_S % step == 0
    ]


def _timelines(data: ReportData, palette: dict[str, str]) -> str:
    s = data.summary
    if not data.timelines or s["first_request_at"] is None:
        return ""
    hours = _hours(s["first_request_at"], s["last_request_at"])
    x = [h.timestamp() for h in hours]
    ticks = _time_ticks(hours)
    panels = []
    for campaign_id, timeline in data.timelines.items():
        by_hour = {row["hour_start_at"]: row for row in timeline.iter_rows(named=True)}
        requests = [by_hour.get(h, {}).get("n_requests", 0) for h in hours]
        active = [by_hour.get(h, {}).get("n_active_accounts", 0) for h in hours]
        svg = charts.line_chart(
            x,
            {"requests / hour": requests, "active accounts": active},
            title=f"Requests of {campaign_id}",
            width=620,
            height=190,
            x_ticks=ticks,
            palette={"requests / hour": palette[campaign_id], "active accounts": "#5b6776"},
        )
        panels.append(f"<div><b><code>{escape(campaign_id)}</code></b>{svg}</div>")
    return _card(
        "Campaign timelines",
        "Requests per hour and active accounts of each campaign, on one time axis: harvesting"
        " runs around the clock and many accounts move in step.",
        f'<div class="multiples">{"".join(panels)}</div>',
    )


def _creation(data: ReportData) -> str:
    if data.creation.is_empty():
        return _card("Account creation", "", _empty("No account creation time in the lake."))
    days = [f"{d:%b %d}" for d in data.creation["period_start_at"]]
    series = {
        "campaign accounts": data.creation["n_campaign_accounts"].to_list(),
        "other accounts": data.creation["n_other_accounts"].to_list(),
    }
    svg = charts.bar_chart(
        days,
        series,
        title="Accounts created per day",
        palette={"campaign accounts": charts.PALETTE[0], "other accounts": charts.NEUTRAL},
        label_every=max(len(days) // 8, 1),
    )
    return _card(
        "Account-creation bursts",
        "Accounts active in the lake by creation day (last 30 days): campaigns register"
        " their accounts in bursts shortly before using them.",
        svg,
    )


def _hour_profile(data: ReportData) -> str:
    profile = data.hour_profile
    groups = {"campaign": charts.PALETTE[0], NOT_FLAGGED: charts.NEUTRAL}
    series = {}
    for group in groups:
        rows = profile.filter(pl.col("account_group") == group)
        shares = dict(rows.select("hour_of_day_utc", "requests_share").iter_rows())
        series[group] = [shares.get(hour, 0.0) for hour in range(24)]
    svg = charts.line_chart(
        list(range(24)),
        series,
        title="Share of requests by hour of day (UTC)",
        x_ticks=[(hour, f"{hour:02d}h") for hour in range(0, 24, 3)],
        y_format=charts.percent,
        palette=groups,
    )
    return _card(
        "Hour-of-day profile",
        "Share of requests per UTC hour, campaign accounts against accounts not flagged:"
        " scripted harvesting is flat, people and businesses follow the day.",
        svg,
    )


def _model_pivot(data: ReportData, palette: dict[str, str]) -> str:
    adoption, share, s = data.model_adoption, data.model_share, data.summary
    if adoption.is_empty():
        return _card("Model pivot", "", _empty("No events."))
    release = (
        adoption.group_by("model")
        .agg(pl.col("model_first_seen_at").min())
        .sort("model_first_seen_at")
    )
    model, released = release.row(-1)
    hours = _hours(s["first_request_at"], s["last_request_at"])
    groups = [g for g in data.timelines if g in set(share["account_group"])] + [NOT_FLAGGED]
    series = {}
    for group in groups:
        rows = share.filter((pl.col("account_group") == group) & (pl.col("model") == model))
        by_hour = dict(rows.select("hour_start_at", "requests_share").iter_rows())
        totals = set(share.filter(pl.col("account_group") == group)["hour_start_at"])
        series[group] = [by_hour.get(h, 0.0) if h in totals else None for h in hours]
    svg = charts.line_chart(
        [h.timestamp() for h in hours],
        series,
        title=f"Share of requests on {model}",
        x_ticks=_time_ticks(hours),
        y_format=charts.percent,
        y_max=1.0,
        palette=palette,
        markers=[(released.timestamp(), f"{model} first seen")],
    )
    adopted = adoption.filter((pl.col("model") == model) & pl.col("account_group").is_in(groups))
    lines = "".join(
        f'<tr><td><span class="swatch" style="background:{palette[r["account_group"]]}"></span>'
        f'{escape(r["account_group"])}</td><td class="n">{r["adoption_hours"]:.1f} h</td>'
        f'<td class="n">{charts.percent(r["requests_share"])}</td></tr>'
        for r in adopted.sort("adoption_hours").iter_rows(named=True)
    )
    table = (
        f"<table><tr><th>group</th><th>first use after release</th>"
        f"<th>share of its requests</th></tr>{lines}</table>"
    )
    return _card(
        "Model pivot",
        f"Share of each group's requests on the newest model ({model}), hour by hour:"
        " campaigns move to a new model within hours of its release.",
        svg + table,
    )


def _reasons(data: ReportData) -> str:
    reasons = data.reasons
    if reasons.is_empty():
        return _card("Top reason codes", "", _empty("No flagged account."))
    svg = charts.hbar_chart(
        reasons["reason_code"].to_list(),
        reasons["n_accounts"].to_list(),
        title="Flagged accounts per reason code",
        width=600,
    )
    return _card(
        "Top reason codes",
        "How many flagged accounts each reason code helps explain.",
        svg,
    )


def _indicators(data: ReportData, palette: dict[str, str]) -> str:
    if not data.bundles:
        return ""
    panels = []
    for campaign_id, bundle in data.bundles.items():
        by_type: dict[str, list[str]] = {}
        for item in bundle["indicators"]:
            chip = f"<code>{escape(item['value'])}</code> {item['n_accounts']}"
            by_type.setdefault(item["type"].replace("_", " "), []).append(chip)
        rows = "".join(
            f"<tr><td>{escape(kind)}</td><td>{' · '.join(chips[:INDICATORS_SHOWN])}</td></tr>"
            for kind, chips in by_type.items()
        )
        panels.append(
            f'<div><b><span class="swatch" style="background:{palette[campaign_id]}"></span>'
            f"<code>{escape(campaign_id)}</code></b> · {bundle['n_accounts']} accounts"
            f"<table><tr><th>type</th><th>values shared (accounts)</th></tr>{rows}</table></div>"
        )
    return _card(
        "Shared indicators",
        "Infrastructure and templates shared by accounts of each campaign, most shared first"
        " (the run's indicator bundles, indicators/<campaign>.json, hold the full lists).",
        f'<div class="multiples">{"".join(panels)}</div>',
    )


def _quarantine(data: ReportData) -> str:
    q, s = data.quarantine, data.summary
    if q.is_empty():
        body = _empty(f"No rejected message; {s['n_requests']} requests accepted.")
    else:
        rows = "".join(
            f'<tr><td>{escape(r["reason_code"])}</td><td class="n">{r["n_messages"]}</td>'
            f'<td class="n">{charts.percent(r["messages_share"])}</td></tr>'
            for r in q.iter_rows(named=True)
        )
        body = f"<table><tr><th>reason</th><th>messages</th><th>share</th></tr>{rows}</table>"
    return _card("Data health", "Messages rejected at ingest (kept in lake/quarantine).", body)
