"""The dashboard in headless Chromium: the charts lay out with real sizes, and the page is not blank.

Chromium is Debian's package (see chromium.py); without it the test skips. The
screenshot lands in tests/artifacts/dashboard/ (git-ignored); `SAVEDESK_UPDATE_DOCS=1` also copies
it to docs/dashboard.png for the README.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from savedesk.dashboard import render_dashboard
from savedesk.insights import monthly
from savedesk.models import Case, CaseStatus
from tests.browser import chromium
from tests.unit.test_insights import make_case

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"
WIDTH, HEIGHT = 1280, 1900
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

pytestmark = chromium.MARKS

# Measures every chart after layout and writes the sizes into the DOM, where --dump-dom shows them.
# Added to a copy of the page only: the dashboard itself has no JavaScript.
MEASURE = """
<script>
const sizes = [...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll("rect.bar, circle.point, polyline.line")]
    .map((m) => m.getBoundingClientRect())
    .filter((b) => b.width > 0 && b.height > 0).length;
  return { id: svg.id, width: box.width, height: box.height, marks };
});
const out = document.createElement("pre");
out.id = "measured";
out.textContent = JSON.stringify(sizes);
document.body.appendChild(out);
</script>
"""


def sample_cases() -> list[Case]:
    """A year of cancellations for the demo agency: seasonal, mostly USD, a few EUR clients."""
    rng = random.Random(7)  # noqa: S311 - sample data, not security
    codes = ["results", "price", "budget_cut", "service", "in_house", "switched_agency", "business_change", "other"]
    weights = [30, 22, 16, 10, 9, 6, 4, 3]
    cases: list[Case] = []
    n = 0
    for month_back in range(12):
        opened_month = NOW - timedelta(days=30 * month_back)
        for _ in range(rng.randint(3, 9)):
            n += 1
            opened = opened_month - timedelta(days=rng.randint(0, 27), hours=rng.randint(0, 23))
            if opened > NOW:
                opened = NOW - timedelta(days=1)
            mrr = Decimal(rng.choice([1500, 2500, 3200, 4000, 5500, 8000]))
            currency = "EUR" if rng.random() < 0.15 else "USD"
            reasons = sorted(set(rng.choices(codes, weights, k=rng.randint(1, 2))))
            roll = rng.random()
            if (NOW - opened).days < 8 and roll < 0.6:
                cases.append(make_case(n, opened=opened, mrr=str(mrr), currency=currency, codes=reasons))
            elif roll < 0.45:
                kept = (mrr * Decimal("0.85")).quantize(Decimal("1"))
                cases.append(
                    make_case(n, status=CaseStatus.SAVED, meeting="saved", opened=opened,
                              decided=opened + timedelta(days=6), mrr=str(mrr), mrr_saved=str(kept),
                              currency=currency, codes=reasons)
                )  # fmt: skip
            else:
                cases.append(
                    make_case(n, status=CaseStatus.CLOSED, meeting="cancel", opened=opened,
                              decided=opened + timedelta(days=6), mrr=str(mrr), currency=currency, codes=reasons)
                )  # fmt: skip
    return cases


@pytest.fixture(scope="module")
def dashboard_file() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    path = ARTIFACTS / "dashboard.html"
    path.write_text(render_dashboard(monthly(sample_cases(), NOW, months=12), NOW), encoding="utf-8")
    return path


def test_the_page_is_self_contained(dashboard_file: Path) -> None:
    html = dashboard_file.read_text()
    # Nothing to fetch: no scripts, stylesheets, fonts or images from anywhere.
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_charts_lay_out_with_real_sizes(dashboard_file: Path, tmp_path: Path) -> None:
    measured_copy = tmp_path / "measured.html"
    measured_copy.write_text(dashboard_file.read_text().replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    result = chromium.run(
        "--virtual-time-budget=5000",
        "--dump-dom",
        measured_copy.as_uri(),
        window=(WIDTH, HEIGHT),
        profile=tmp_path / "p",
    )
    match = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.S)
    assert match, "the measuring script did not run"
    sizes = {chart["id"]: chart for chart in json.loads(match.group(1).replace("&quot;", '"'))}
    assert set(sizes) == {"chart-cases", "chart-save-rate", "chart-mrr-usd", "chart-mrr-eur", "chart-reasons"}
    for chart_id, size in sizes.items():
        assert size["width"] > 300 and size["height"] > 100, f"{chart_id} is {size}"
        assert size["marks"] > 0, f"{chart_id} has no visible bars or points"
    assert sizes["chart-cases"]["marks"] >= 24  # 12 months × (requests + saved or cancelled)
    assert sizes["chart-reasons"]["marks"] == 8


def test_screenshot_is_not_blank(dashboard_file: Path, tmp_path: Path) -> None:
    png = ARTIFACTS / "dashboard.png"
    chromium.screenshot(dashboard_file, png, window=(WIDTH, HEIGHT), profile=tmp_path / "p")
    width, height, bpp, rows = chromium.decode_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    chromium.assert_not_blank(rows, bpp, background=rows[-1][:3], min_colours=100, min_busy_rows=HEIGHT // 2)

    # The navy header (#16325c) is drawn at the top, the brand orange (#f26a3d) somewhere.
    assert chromium.has_colour(rows[20], bpp, b"\x16\x32\x5c")
    assert any(chromium.has_colour(row, bpp, b"\xf2\x6a\x3d") for row in rows[: HEIGHT // 2])
    if os.environ.get("SAVEDESK_UPDATE_DOCS"):
        shutil.copyfile(png, ROOT / "docs" / "dashboard.png")
