"""Inline SVG charts for the statistics pages: drawn on the server, readable without JavaScript or CSS.

Each chart is an <svg role="img"> with a <title> naming what it shows; the numbers are also in a table beside
it, so a screen reader (and a printout) gets every value. Labels are escaped like every user string.
"""

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
