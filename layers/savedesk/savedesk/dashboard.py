"""The owner's dashboard: one static HTML file with inline SVG charts, readable offline.

No JavaScript, CDN, web font or image file: the charts are SVG drawn here from the roll-up
(savedesk.insights), so the file can be mailed, archived or opened from a USB stick and looks
the same. Every chart has its numbers in a table below it (for reading exact values, and for
screen readers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from savedesk.contract_terms import format_money
from savedesk.insights import Period, Rollup

NAVY = "#16325c"
ACCENT = "#f26a3d"
SAVED = "#2a9d6f"
CANCELLED = "#e0603a"
OPENED = "#8ea4c2"
GRID = "#e3e8ef"
INK = "#1f2933"
MUTED = "#5b6b7f"
FONT = "'Segoe UI', 'Helvetica Neue', 'Liberation Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float]


# --- numbers for people ----------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f} %"


def amounts(totals: dict[str, Decimal], order: Sequence[str] = ()) -> str:
    """`$4,000.00, 1,500.00 EUR`: in `order` (the same in every row of a table), then any other."""
    codes = [c for c in order if c in totals] + [c for c in totals if c not in order]
    return ", ".join(format_money(totals[c], c) for c in codes) or "–"


def compact(value: float, currency: str | None = None) -> str:
    """Axis labels: `12`, `4.5k`, `$12k`."""
    text = f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k" if abs(value) >= 1000 else f"{value:.0f}"
    if currency is None:
        return text
    return f"${text}" if currency == "USD" else f"{text} {currency}"


def axis_top(value: float, integer: bool = False) -> float:
    """A round top for a 4-tick axis: 4 × (1, 2, 2.5 or 5 × 10^n), whole ticks for counts."""
    raw = max(value, 1.0) / 4
    if integer and raw <= 10:
        return float(math.ceil(raw) * 4)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw and (not integer or step == int(step)):
            return float(step * 4)
    return float(10 * power * 4)


# --- charts ----------------------------------------------------------------------------------

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 34, 34


def _svg_open(title: str, height: int = HEIGHT, chart_id: str = "") -> list[str]:
    return [
        f'<svg class="chart" id="{_e(chart_id)}" role="img" aria-label="{_e(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="{_e(FONT)}">',
        f"<title>{_e(title)}</title>",
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], LEFT
    for s in series:
        parts.append(f'<rect x="{x}" y="10" width="11" height="11" rx="2" fill="{s.colour}"/>')
        parts.append(f'<text x="{x + 16}" y="20" font-size="12" fill="{INK}">{_e(s.name)}</text>')
        x += 26 + 7 * len(s.name)
    return parts


def _y_axis(top_value: float, plot_h: float, label: str | None) -> list[str]:
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        text = compact(value, label) if label != "%" else f"{value:g}%"
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="{MUTED}">{_e(text)}</text>'
        )
    return parts


def _x_labels(labels: Sequence[str], slot: float, plot_h: float) -> list[str]:
    # Twelve "Jan 2026" labels do not fit under narrow slots; the month alone does, the year on January.
    parts = []
    for i, label in enumerate(labels):
        month, _, year = label.partition(" ")
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 15:.1f}" font-size="11" text-anchor="middle" '
            f'fill="{MUTED}">{_e(month)}</text>'
        )
        if i == 0 or month == "Jan":
            parts.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 28:.1f}" font-size="10" text-anchor="middle" '
                f'fill="{MUTED}">{_e(year)}</text>'
            )
    return parts


def grouped_bars(
    title: str, labels: Sequence[str], series: Sequence[Series], chart_id: str, currency: str | None = None
) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = axis_top(max([v for s in series for v in s.values] or [0]), integer=currency is None)
    slot = plot_w / max(1, len(labels))
    bar_w = slot * 0.78 / max(1, len(series))
    parts = _svg_open(title, chart_id=chart_id) + _y_axis(top_value, plot_h, currency) + _legend(series)
    for i, label in enumerate(labels):
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / top_value
            x = LEFT + slot * i + slot * 0.11 + bar_w * j
            y = TOP + plot_h - h
            shown = format_money(Decimal(str(value)), currency) if currency else f"{value:.0f}"
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                f'rx="1.5" fill="{s.colour}"><title>{_e(label)}: {_e(s.name)} {_e(shown)}</title></rect>'
            )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{MUTED}"/>')
    parts += _x_labels(labels, slot, plot_h)
    parts.append("</svg>")
    return "\n".join(parts)


def rate_line(title: str, labels: Sequence[str], rates: Sequence[float | None], chart_id: str) -> str:
    """Save rate per month, 0–100 %; a month with nothing decided is a gap, not a zero."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    parts = _svg_open(title, chart_id=chart_id) + _y_axis(100, plot_h, "%")
    parts += _legend([Series("Save rate (saved ÷ decided)", NAVY, [])])
    points: list[tuple[float, float, str]] = []
    segments: list[list[tuple[float, float]]] = [[]]
    for i, (label, rate) in enumerate(zip(labels, rates, strict=True)):
        if rate is None:
            segments.append([])
            continue
        x, y = LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * rate
        segments[-1].append((x, y))
        points.append((x, y, f"{label}: {percent(rate)}"))
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{NAVY}" stroke-width="2.5"/>')
    for x, y, text in points:
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ffffff" stroke="{NAVY}" '
            f'stroke-width="2"><title>{_e(text)}</title></circle>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{MUTED}"/>')
    parts += _x_labels(labels, slot, plot_h)
    parts.append("</svg>")
    return "\n".join(parts)


def horizontal_bars(title: str, items: Sequence[tuple[str, int]], chart_id: str) -> str:
    row, label_w, top = 30, 250, 8
    height = top + row * max(1, len(items)) + 8
    parts = _svg_open(title, height=height, chart_id=chart_id)
    top_value = max([n for _, n in items] or [1])
    span = WIDTH - label_w - RIGHT - 40
    if not items:
        parts.append(f'<text x="{LEFT}" y="{top + 16}" font-size="13" fill="{MUTED}">No reasons recorded.</text>')
    for i, (label, count) in enumerate(items):
        y = top + row * i
        w = span * count / top_value
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 17}" font-size="12.5" text-anchor="end" fill="{INK}">{_e(label)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y + 5}" width="{max(w, 2):.1f}" height="{row - 10}" rx="3" '
            f'fill="{ACCENT}"><title>{_e(label)}: {count}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + max(w, 2) + 6:.1f}" y="{y + 17}" font-size="12" fill="{MUTED}">{count}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


# --- the page --------------------------------------------------------------------------------

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #eef1f5; color: {INK}; font-family: {FONT}; font-size: 15px; line-height: 1.45; }}
header {{ background: {NAVY}; color: #fff; padding: 22px 40px 18px; border-bottom: 4px solid {ACCENT}; }}
header h1 {{ margin: 0; font-size: 24px; font-weight: 600; letter-spacing: .2px; }}
header h1 span {{ color: {ACCENT}; }}
header p {{ margin: 4px 0 0; color: #b8c6dc; font-size: 13px; }}
main {{ max-width: 1220px; margin: 0 auto; padding: 24px 24px 40px; }}
.kpis {{ display: grid; grid-template-columns: repeat(6, 1fr); gap: 14px; margin-bottom: 20px; }}
.kpi {{ background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 14px 16px; }}
.kpi .label {{ font-size: 12px; text-transform: uppercase; letter-spacing: .8px; color: {MUTED}; }}
.kpi .value {{ font-size: 24px; font-weight: 600; color: {NAVY}; margin-top: 4px; white-space: nowrap; }}
.kpi .value.small {{ font-size: 17px; white-space: normal; }}
.grid {{ display: grid; grid-template-columns: repeat(2, 1fr); gap: 18px; }}
.card {{ background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 16px 18px 12px; min-width: 0; }}
.card h2 {{ margin: 0 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: 1px; color: {MUTED}; }}
.card svg {{ display: block; width: 100%; height: auto; }}
.wide {{ grid-column: 1 / -1; }}
table {{ width: 100%; border-collapse: collapse; font-size: 14px; }}
th, td {{ padding: 7px 10px; border-bottom: 1px solid #e6eaf0; text-align: left; }}
th {{ font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: {MUTED}; font-weight: 600; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.total td {{ font-weight: 600; color: {NAVY}; border-top: 2px solid #c7d0dc; }}
.notes {{ color: {MUTED}; font-size: 13px; }}
.notes li {{ margin-bottom: 4px; }}
@media (max-width: 900px) {{
  .kpis {{ grid-template-columns: repeat(2, 1fr); }}
  .grid {{ grid-template-columns: 1fr; }}
}}
"""


def _kpi(label: str, value: str, small: bool = False) -> str:
    cls = "value small" if small else "value"
    return f'<div class="kpi"><div class="label">{_e(label)}</div><div class="{cls}">{_e(value)}</div></div>'


def _month_rows(rollup: Rollup) -> str:
    order = rollup.currencies

    def row(p: Period, css: str = "") -> str:
        cells = [
            f"<td>{_e(p.label)}</td>",
            *(f'<td class="num">{n}</td>' for n in (p.opened, p.saved, p.cancelled, p.still_open)),
            f'<td class="num">{_e(percent(p.save_rate))}</td>',
            f'<td class="num">{_e(amounts(p.mrr_saved, order))}</td>',
            f'<td class="num">{_e(amounts(p.mrr_lost, order))}</td>',
        ]
        opening = f'<tr class="{css}">' if css else "<tr>"
        return opening + "".join(cells) + "</tr>"

    body = "\n".join(row(p) for p in reversed(rollup.months))
    return body + "\n" + row(rollup.total, "total")


def _reason_rows(period: Period) -> str:
    total = sum(r.count for r in period.reasons)
    if not total:
        return '<tr><td colspan="3" class="notes">No reasons recorded.</td></tr>'
    return "\n".join(
        f'<tr><td>{_e(r.label)}</td><td class="num">{r.count}</td>'
        f'<td class="num">{_e(percent(r.count / total))}</td></tr>'
        for r in period.reasons
    )


def render_dashboard(rollup: Rollup, generated_at: datetime, agency_name: str = "Topline") -> str:
    labels = [p.label for p in rollup.months]
    total = rollup.total
    charts = [
        (
            "Cancellation requests by month",
            grouped_bars(
                "Cancellation requests, saves and cancellations by month",
                labels,
                [
                    Series("Requests", OPENED, [p.opened for p in rollup.months]),
                    Series("Saved", SAVED, [p.saved for p in rollup.months]),
                    Series("Cancelled", CANCELLED, [p.cancelled for p in rollup.months]),
                ],
                "chart-cases",
            ),
            "",
        ),
        (
            "Save rate by month",
            rate_line("Save rate by month", labels, [p.save_rate for p in rollup.months], "chart-save-rate"),
            "",
        ),
    ]
    for currency in rollup.currencies or ["USD"]:
        charts.append(
            (
                f"MRR saved vs lost ({currency})",
                grouped_bars(
                    f"MRR saved and lost by month, {currency}",
                    labels,
                    [
                        Series("MRR saved", SAVED, [float(p.mrr_saved.get(currency, 0)) for p in rollup.months]),
                        Series("MRR lost", CANCELLED, [float(p.mrr_lost.get(currency, 0)) for p in rollup.months]),
                    ],
                    f"chart-mrr-{currency.lower()}",
                    currency=currency,
                ),
                "",
            )
        )
    charts.append(
        (
            "Top reasons",
            horizontal_bars(
                "Top reasons for cancelling", [(r.label, r.count) for r in total.reasons[:8]], "chart-reasons"
            ),
            "",
        )
    )
    cards = "\n".join(f'<section class="card {css}"><h2>{_e(h)}</h2>\n{svg}\n</section>' for h, svg, css in charts)
    kpis = "".join(
        [
            _kpi("Requests", str(total.opened)),
            _kpi("Saved", str(total.saved)),
            _kpi("Cancelled", str(total.cancelled)),
            _kpi("Save rate", percent(total.save_rate)),
            _kpi("MRR saved", amounts(total.mrr_saved, rollup.currencies), small=len(total.mrr_saved) > 1),
            _kpi("MRR lost", amounts(total.mrr_lost, rollup.currencies), small=len(total.mrr_lost) > 1),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SaveDesk: cancellations, {_e(total.label)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{_e(agency_name)}<span>.</span> SaveDesk &middot; cancellations</h1>
<p>{_e(total.label)} &middot; by the month the request came in &middot; generated {generated_at:%d %b %Y %H:%M} UTC</p>
</header>
<main>
<div class="kpis">{kpis}</div>
<div class="grid">
{cards}
<section class="card"><h2>Reasons, {_e(total.label)}</h2>
<table>
<thead><tr><th>Reason</th><th class="num">Cases</th><th class="num">Share</th></tr></thead>
<tbody>
{_reason_rows(total)}
</tbody>
</table>
</section>
<section class="card wide"><h2>By month</h2>
<table>
<thead><tr><th>Month</th><th class="num">Requests</th><th class="num">Saved</th><th class="num">Cancelled</th>
<th class="num">Still open</th><th class="num">Save rate</th><th class="num">MRR saved</th>
<th class="num">MRR lost</th></tr></thead>
<tbody>
{_month_rows(rollup)}
</tbody>
</table>
</section>
<section class="card wide"><h2>How these are counted</h2>
<ul class="notes">
<li>Each case counts in the month its cancellation request came in; recent months change while cases are open.</li>
<li><b>Saved</b>: the client stayed after the save meeting. <b>Cancelled</b>: offboarding or closed (a failed
offboarding step still counts). <b>Still open</b>: no meeting outcome yet.</li>
<li><b>Save rate</b> = saved ÷ (saved + cancelled); open cases are left out, and a month with no decision has none.</li>
<li><b>MRR saved</b> is what the account manager recorded as kept (else the account's MRR);
<b>MRR lost</b> is the account's MRR. Each currency is shown on its own, never converted.</li>
<li><b>Reasons</b> come from the exit survey and the meeting, each counted once per case.</li>
</ul>
</section>
</div>
</main>
</body>
</html>
"""
