"""Inline SVG charts for the statistics pages: drawn on the server, readable without JavaScript or CSS.

Each chart is an <svg role="img"> with a <title> naming what it shows; the numbers are also in a table beside
it, so a screen reader (and a printout) gets every value. Labels are escaped like every user string.
"""

import math
from collections.abc import Sequence

from service.core.html_page import e

BAR = "#2f7d4a"
WIDTH = 320


def column_chart(title: str, points: Sequence[tuple[str, int]], *, height: int = 140) -> str:
    """Vertical bars over time (periods in order), the highest value marked on the axis."""
    if not points:
        return ""
    top = max(v for _, v in points) or 1
    top_pad = 16  # room for the highest value's label above the tallest bar
    plot_h = height - 24 - top_pad
    step = WIDTH / len(points)
    bar_w = max(step * 0.8, 1.0)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = i * step + (step - bar_w) / 2
        bars.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR}">'
            f"<title>{e(label)}: {value}</title></rect>"
        )
    first, last = points[0][0], points[-1][0]
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{e(title)}</title>'
        f'<line x1="0" y1="{top_pad + plot_h}" x2="{WIDTH}" y2="{top_pad + plot_h}" stroke="#888"/>'
        f'<text x="2" y="12" font-size="11" fill="#333">{top}</text>'
        f"{''.join(bars)}"
        f'<text x="0" y="{height - 4}" font-size="11" fill="#333">{e(first)}</text>'
        f'<text x="{WIDTH}" y="{height - 4}" font-size="11" fill="#333" text-anchor="end">{e(last)}</text>'
        "</svg>"
    )


def bar_chart(title: str, items: Sequence[tuple[str, int]], *, limit: int = 12) -> str:
    """Horizontal bars, largest first, the label above each bar and its value at the end."""
    items = sorted(items, key=lambda item: (-item[1], item[0]))[:limit]
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    row = 30
    height = row * len(items) + 4
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * row
        w = (WIDTH - 60) * value / top
        parts.append(
            f'<text x="0" y="{y + 11}" font-size="11" fill="#1b1b1b">{e(label[:48])}</text>'
            f'<rect x="0" y="{y + 15}" width="{w:.1f}" height="11" fill="{BAR}"/>'
            f'<text x="{w + 4:.1f}" y="{y + 25}" font-size="11" fill="#1b1b1b">{value}</text>'
        )
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{e(title)}</title>{"".join(parts)}</svg>'
    )


def table(caption: str, header: Sequence[str], rows: Sequence[Sequence[str | int]]) -> str:
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def commune_map(
    title: str,
    centres: Sequence[tuple[float, float]],
    marks: Sequence[tuple[float, float, int, str]],
    *,
    height: int = 380,
) -> str:
    """The province drawn as its commune centres (faint dots, lat/lon), with a circle per marked commune sized by
    its count (area proportional), largest drawn first so small ones stay on top; a 10 km scale bar."""
    if not centres:
        return ""
    lats = [lat for lat, _ in centres]
    lons = [lon for _, lon in centres]
    mid_lat = (min(lats) + max(lats)) / 2
    shrink = math.cos(math.radians(mid_lat))  # a degree of longitude is shorter than one of latitude here
    pad = 16.0  # room for the largest circle at the edge
    span_x = (max(lons) - min(lons)) * shrink or 1.0
    span_y = (max(lats) - min(lats)) or 1.0
    scale = min((WIDTH - 2 * pad) / span_x, (height - 2 * pad) / span_y)  # pixels per degree of latitude
    left = (WIDTH - span_x * scale) / 2

    def at(lat: float, lon: float) -> tuple[float, float]:
        return left + (lon - min(lons)) * shrink * scale, pad + (max(lats) - lat) * scale

    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#b9c2bb"/>' for x, y in (at(lat, lon) for lat, lon in centres)
    )
    top = max((count for *_, count, _ in marks), default=1) or 1
    circles = []
    for lat, lon, count, label in sorted(marks, key=lambda m: -m[2]):
        x, y = at(lat, lon)
        r = 2.5 + 10.0 * math.sqrt(count / top)
        circles.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{BAR}" fill-opacity=".55" stroke="#17452a">'
            f"<title>{e(label)}: {count}</title></circle>"
        )
    km10 = 10 / 111.2 * scale  # 10 km in pixels (a degree of latitude is about 111.2 km)
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{e(title)}</title>{dots}{"".join(circles)}'
        f'<line x1="4" y1="{height - 6}" x2="{4 + km10:.1f}" y2="{height - 6}" stroke="#333" stroke-width="2"/>'
        f'<text x="4" y="{height - 10}" font-size="11" fill="#333">10 km</text>'
        f'<text x="{WIDTH - 4}" y="14" font-size="12" fill="#333" text-anchor="end">N ↑</text>'
        "</svg>"
    )
