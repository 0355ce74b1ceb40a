"""Server-rendered SVG charts for the analytics dashboard (no JavaScript chart library).

Every text is escaped by ``format_html``; colours and sizes are SVG presentation
attributes, which the content security policy allows (no ``style=""``). Each mark
that stands for a number links to the passages behind it when a link is given.
"""

from django.utils.html import format_html
from django.utils.safestring import mark_safe

BAR = "#4e79a7"
WIDTH = 640


def _link(href, inner):
    if not href:
        return inner
    return format_html('<a href="{}">{}</a>', href, inner)


def bar_chart(items, *, title: str, percent: bool = False, label_width: int = 260):
    """Horizontal bars. ``items``: dicts with label, value, optional ci [low, high], link, depth."""
    items = list(items)
    if not items:
        return ""
    row, bar_area = 22, WIDTH - label_width - 70
    top = max((i.get("ci") or [0, 0])[1] if i.get("ci") else i["value"] for i in items)
    top = max(top, max(i["value"] for i in items), 1e-9)
    parts = []
    for n, item in enumerate(items):
        y = n * row
        width = bar_area * item["value"] / top
        text = f"{item['value']:.0%}" if percent else f"{item['value']:g}"
        indent = 12 * item.get("depth", 0)
        bar = format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
            label_width,
            y + 4,
            f"{width:.1f}",
            row - 8,
            BAR,
            item["label"],
            text,
        )
        whisker = ""
        if item.get("ci"):
            low, high = item["ci"]
            whisker = format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#222" stroke-width="1.5"/>',
                f"{label_width + bar_area * low / top:.1f}",
                f"{label_width + bar_area * high / top:.1f}",
                y + row / 2,
                y + row / 2,
            )
        parts.append(
            format_html(
                '<g><text x="{}" y="{}" font-size="12">{}</text>{}{}'
                '<text x="{}" y="{}" font-size="12">{}</text></g>',
                4 + indent,
                y + 15,
                item["label"][:40],
                _link(item.get("link"), bar),
                whisker,
                f"{label_width + width + 4:.1f}",
                y + 15,
                text,
            )
        )
    height = row * len(items)
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" aria-label="{}">{}</svg>',
        WIDTH,
        height,
        WIDTH,
        height,
        title,
        mark_safe("".join(parts)),  # noqa: S308 (each part built by format_html)
    )


def heatmap(
    row_labels, column_labels, values, *, title: str, links=None, cell: int = 18, label_width: int = 180
):
    """A grid of cells whose opacity grows with the value. ``links[r][c]`` optional."""
    if not row_labels or not column_labels:
        return ""
    top = max((v for r in values for v in r if v is not None), default=0) or 1
    header = 120
    parts = []
    for c, label in enumerate(column_labels):
        x = label_width + c * cell + cell / 2
        parts.append(
            format_html(
                '<text font-size="11" transform="translate({},{}) rotate(-60)">{}</text>',
                f"{x:.1f}",
                header - 4,
                str(label)[:28],
            )
        )
    for r, label in enumerate(row_labels):
        y = header + r * cell
        parts.append(
            format_html('<text x="4" y="{}" font-size="11">{}</text>', y + cell - 5, str(label)[:28])
        )
        for c, value in enumerate(values[r]):
            if value is None:
                continue
            opacity = 0.06 + 0.94 * (value / top) if value else 0.0
            rect = format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}" stroke="#ddd">'
                "<title>{} × {}: {}</title></rect>",
                label_width + c * cell,
                y,
                cell,
                cell,
                BAR,
                f"{opacity:.3f}",
                label,
                column_labels[c],
                f"{value:g}",
            )
            parts.append(_link(links[r][c] if links else None, rect))
    width = label_width + cell * len(column_labels) + 10
    height = header + cell * len(row_labels) + 4
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        title,
        mark_safe("".join(parts)),  # noqa: S308 (each part built by format_html)
    )


COLOURS = ["#222222", "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"]


def line_chart(series, *, title: str, x_label: str, y_label: str):
    """Step-free polylines. ``series``: list of (name, [y0, y1, …]) sharing the x positions 1..n."""
    series = [(name, ys) for name, ys in series if ys]
    if not series:
        return ""
    n = max(len(ys) for _, ys in series)
    top = max(max(ys) for _, ys in series) or 1
    left, bottom, width, height = 40, 30, WIDTH - 60, 220
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"/>', left, height, left + width, height
        ),
        format_html('<line x1="{}" y1="0" x2="{}" y2="{}" stroke="#888"/>', left, left, height),
        format_html('<text x="{}" y="{}" font-size="11">{}</text>', left, height + 24, x_label),
        format_html('<text x="0" y="12" font-size="11">{}</text>', y_label),
        format_html('<text x="4" y="{}" font-size="11">{}</text>', 26, f"{top:g}"),
    ]
    for k, (name, ys) in enumerate(series):
        points = " ".join(
            f"{left + (width * i / max(n - 1, 1)):.1f},{height - height * y / top:.1f}"
            for i, y in enumerate(ys)
        )
        colour = COLOURS[k % len(COLOURS)]
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></polyline>',
                points,
                colour,
                name,
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>',
                left + width - 150,
                14 + 14 * k,
                colour,
                name,
            )
        )
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" aria-label="{}">{}</svg>',
        WIDTH,
        height + bottom,
        WIDTH,
        height + bottom,
        title,
        mark_safe("".join(parts)),  # noqa: S308 (each part built by format_html)
    )
