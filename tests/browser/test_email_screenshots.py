"""Screenshot every email in headless Chromium and check the pictures are real renders.

Chromium is Debian's package (`apt-get install -y chromium fonts-liberation`: Liberation Sans stands in
for Arial, so the screenshots show the metrics Outlook and Gmail users see); without it the test skips.
Screenshots land in tests/artifacts/emails/ (git-ignored) for people to look at.
"""

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from savedesk.emails import TEMPLATES, render_email
from savedesk.emails.samples import samples

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "emails"
WIDTH, HEIGHT = 700, 1400

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs /usr/bin/chromium: apt-get update && apt-get install -y chromium fonts-liberation",
    ),
]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Return (width, height, bytes per pixel, rows) for an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(idat)
    assert len(raw) == height * (stride + 1), "pixel data has the wrong length"

    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((x + p) & 0xFF for x, p in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upper_left = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, previous[i], upper_left)) & 0xFF
        else:
            assert kind == 0, f"unknown filter type {kind}"
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def screenshot(html_file: Path, png: Path, profile: Path) -> None:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={png}",
        html_file.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"


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

    screenshot(html_file, png, tmp_path / "chromium-profile")

    assert png.exists(), "chromium wrote no screenshot"
    width, height, bpp, rows = decode_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)

    # Not blank: many colours, and a good share of rows with something other than background on them.
    pixels = {row[i : i + 3] for row in rows[::4] for i in range(0, len(row), bpp * 2)}
    assert len(pixels) > 50, f"only {len(pixels)} colours: the page looks blank"
    background = rows[0][:3]
    busy_rows = sum(1 for row in rows if any(row[i : i + 3] != background for i in range(0, len(row), bpp)))
    assert busy_rows > HEIGHT // 4, f"only {busy_rows} rows differ from the background"

    # The brand header is drawn: its navy (#16325c) appears near the top of the email.
    navy = bytes((0x16, 0x32, 0x5C))
    assert any(row[i : i + 3] == navy for row in rows[20:120] for i in range(0, len(row), bpp)), "no brand header"
