"""Headless Chromium for the browser tests: its command line, the skip without it, and the PNG checks.

Chromium is Debian's package (`apt-get install -y chromium fonts-liberation`: Liberation Sans stands in
for Arial, so the screenshots show the metrics Outlook and Gmail users see); without it the tests skip.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

# A browser test module's `pytestmark`.
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs /usr/bin/chromium: apt-get update && apt-get install -y chromium fonts-liberation",
    ),
]


def run(*args: str, window: tuple[int, int], profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `args` in a `window` (width, height), with its own profile; it must succeed."""
    width, height = window
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
        f"--window-size={width},{height}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def screenshot(page: Path, png: Path, *, window: tuple[int, int], profile: Path) -> None:
    """A PNG of the local `page` as Chromium lays it out in `window`."""
    run(f"--screenshot={png}", page.as_uri(), window=window, profile=profile)


# --------------------------------------------------------------------------- reading the PNG


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


def has_colour(row: bytes, bpp: int, rgb: bytes) -> bool:
    """Whether a decoded row holds a pixel of exactly `rgb`."""
    return any(row[i : i + 3] == rgb for i in range(0, len(row), bpp))


def assert_not_blank(rows: list[bytes], bpp: int, *, background: bytes, min_colours: int, min_busy_rows: int) -> None:
    """A real render: more than `min_colours` colours (every 4th row, every 2nd pixel), and more than
    `min_busy_rows` rows with something other than `background` on them."""
    colours = {row[i : i + 3] for row in rows[::4] for i in range(0, len(row), bpp * 2)}
    assert len(colours) > min_colours, f"only {len(colours)} colours: the page looks blank"
    busy = sum(1 for row in rows if any(row[i : i + 3] != background for i in range(0, len(row), bpp)))
    assert busy > min_busy_rows, f"only {busy} rows differ from the background"
