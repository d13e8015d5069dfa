"""Screenshot every email in headless Chromium and check the pictures are real renders.

Chromium is Debian's package (see chromium.py: its fonts show the metrics Outlook and Gmail users see);
without it the test skips. Screenshots land in tests/artifacts/emails/ (git-ignored) for people to look at.
"""

import shutil
from pathlib import Path

import pytest

from savedesk.emails import TEMPLATES, render_email
from savedesk.emails.samples import samples
from tests.browser import chromium

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "emails"
WIDTH, HEIGHT = 700, 1400

pytestmark = chromium.MARKS


@pytest.fixture(scope="module")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_email_renders_in_chromium(template: str, artifacts: Path, tmp_path: Path) -> None:
    email = render_email(template, samples()[template])
    html_file = artifacts / f"{template}.html"
    html_file.write_text(email.html, encoding="utf-8")
    png = artifacts / f"{template}.png"

    chromium.screenshot(html_file, png, window=(WIDTH, HEIGHT), profile=tmp_path / "chromium-profile")

    assert png.exists(), "chromium wrote no screenshot"
    width, height, bpp, rows = chromium.decode_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)

    # Not blank: many colours, and a good share of rows with something other than background on them.
    chromium.assert_not_blank(rows, bpp, background=rows[0][:3], min_colours=50, min_busy_rows=HEIGHT // 4)

    # The brand header is drawn: its navy (#16325c) appears near the top of the email.
    navy = bytes((0x16, 0x32, 0x5C))
    assert any(chromium.has_colour(row, bpp, navy) for row in rows[20:120]), "no brand header"
