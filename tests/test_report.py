"""The HTML report: self-contained, every section present, renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

from distillwatch import charts
from models.report import MAX_CAMPAIGNS, render_report
from tests.tiny_lake import tiny_lake, tiny_run

__all__ = ["tiny_lake", "tiny_run"]  # session fixtures used below

SECTIONS = (
    "Campaigns",
    "Campaign timelines",
    "Account-creation bursts",
    "Hour-of-day profile",
    "Model pivot",
    "Top reason codes",
    "Shared indicators",
    "Data health",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def report(tiny_lake: Path, tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_report(tiny_lake, tmp_path_factory.mktemp("report") / "report.html", run=tiny_run)


def test_report_has_every_section_and_chart(report: Path, tiny_run: Path) -> None:
    html = report.read_text()
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in html, title
    # one chart each for bursts, hour profile, model pivot and reasons, and a
    # timeline per campaign shown (how many the tiny run finds is detection's business)
    campaigns = pl.read_parquet(tiny_run / "campaigns.parquet").height
    assert campaigns >= 1
    assert 4 + 1 <= html.count("<svg") <= 4 + min(campaigns, MAX_CAMPAIGNS)
    campaign = next((tiny_run / "indicators").glob("*.json")).stem
    assert campaign in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        ElementTree.fromstring(svg)  # well-formed


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", html)


def test_the_published_run_carries_its_report(tiny_run: Path) -> None:
    assert "<h2>Campaigns</h2>" in (tiny_run / "report.html").read_text()


def test_report_of_an_empty_lake_still_renders(tmp_path: Path) -> None:
    html = render_report(tmp_path / "lake", tmp_path / "report.html").read_text()
    assert "No coordinated campaign" in html
    assert "No flagged account" in html


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (filtered) scanlines of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    width, height = struct.unpack(">II", dict(chunks)[b"IHDR"][:8])
    return width, height, zlib.decompress(b"".join(c for k, c in chunks if k == b"IDAT"))


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if browser is None:
        pytest.skip("no Chromium on PATH: install it (apt-get install -y chromium) to screenshot")
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={screenshot}",
            "--window-size=1400,2000",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, height, pixels = _png_pixels(screenshot)
    assert (width, height) == (1400, 2000)
    # A blank page compresses to a handful of byte values; charts and text give many.
    assert len(set(pixels)) > 100
    shutil.copy(screenshot, report.with_suffix(".png"))


# -- chart helpers -----------------------------------------------------------------------------
def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert charts.nice_ticks(0, 93) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(0, 0.37) == [0, 0.1, 0.2, 0.3, 0.4]
    assert charts.nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_number_labels_are_compact() -> None:
    assert [charts.compact(v) for v in (0, 7, 0.25, 1234, 56_000, 2_500_000)] == [
        "0",
        "7",
        "0.25",
        "1.2k",
        "56k",
        "2.5M",
    ]


def test_charts_are_well_formed_svg_with_escaped_text() -> None:
    svgs = [
        charts.bar_chart(["a<b", "c"], {"x & y": [1, None], "z": [2, 3]}, title="t"),
        charts.line_chart([0, 1, 2], {"s": [1, None, 3]}, x_ticks=[(0, "0h")], markers=[(1, "m")]),
        charts.hbar_chart(["r1", "r2"], [5, 2]),
    ]
    for svg in svgs:
        root = ElementTree.fromstring(svg)
        assert root.tag == "svg"
    assert "a&lt;b" in svgs[0] and "x &amp; y" in svgs[0]
