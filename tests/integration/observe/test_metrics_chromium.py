"""The HTML metrics page in headless Chromium (Debian's ``chromium``).

Covers: the page renders offline (fresh profile, no network features) with its
three charts drawn: the screenshot holds the bars' colour, and the bar heights
and the metrics table in the rendered DOM equal the JSON report's numbers.
Skipped when chromium is not installed (scripts/setup installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from gitops_history import Step, build

from gitops_guard import cli
from gitops_guard.observe import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
T0 = 1_764_547_200
DAY = 86400
BAR = (0x09, 0x69, 0xDA)  # .bar { fill: #0969da }


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=800,1400",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB(A), non-interlaced PNG (what Chromium writes) into rows."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


def test_page_renders_charts_with_the_json_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [Step(T0 + i * DAY // 2, "production", f"1.{i}") for i in range(12)]
    steps.insert(3, Step(T0 + DAY + 600, "production", reverts=2))
    build(tmp_path / "gitops", steps)
    page = tmp_path / "metrics.html"
    report = tmp_path / "metrics.json"
    until = "2025-12-15T00:00:00Z"
    argv = ["metrics", "--dir", str(tmp_path / "gitops"), "--since", "14d", "--until", until]
    assert cli.main([*argv, "--format", "html", "--out", str(page), "--report", str(report)]) == 0
    data = json.loads(report.read_text())

    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path / "profile-1", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    width, height, rows = _pixels(shot.read_bytes())
    assert (width, height) == (800, 1400)
    bar = bytes(BAR)
    painted = sum(row.count(bar) for row in rows[::3])  # every third row is plenty
    assert painted > 100, "no chart bars in the screenshot"

    dom = _chromium(tmp_path / "profile-2", "--dump-dom", page.as_uri()).stdout
    for key, (_, shown) in zip(
        ["deploys", "rollbacks", "deployment_frequency"], render.rows(data), strict=False
    ):
        assert re.search(rf'id="metric-{key}">{re.escape(shown)}<', dom), key
    weekly = re.findall(r'<svg id="chart-deploys".*?</svg>', dom, re.S)[0]
    values = [float(v) for v in re.findall(r'data-value="([0-9.]+)"', weekly)]
    assert values == [w["deploys"] for w in data["series"]["deploys_per_week"]]
    assert sum(values) == data["deploys"] == 13
    recovery = re.findall(r'<svg id="chart-recovery-time".*?</svg>', dom, re.S)[0]
    minutes = [float(v) for v in re.findall(r'data-value="([0-9.]+)"', recovery)]
    assert minutes == [p["seconds"] / 60 for p in data["series"]["recovery_time"]]
