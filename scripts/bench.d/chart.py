"""Draws scripts/bench's charts as SVG, with the standard library only.

    python3 chart.py RESULTS.tsv OUT.svg            requests per second per scenario
    python3 chart.py --scaling SCALING.tsv OUT.svg  the Bearer check by tokens stored

The first has one bar per backend (and the peer) for each scenario, on a logarithmic
scale since the scenarios span two orders of magnitude. The second has, for each number
of tokens stored, the p50 and p99 latency of a valid and of an unknown token.
"""

import csv
import math
import sys
from html import escape

COLOURS = {"SQLite": "#2f6db5", "PostgreSQL": "#d9822b", "peer": "#6a9955"}


def bar_chart(out, title, groups, legend, ticks, scale, shown, left, legend_step):
    """Writes a horizontal bar chart to OUT. groups: (label, [(colour, value)]) in
    order; legend: (name, colour); ticks: (value, text) for the grid; scale: a value's
    place along the axis, 0 to 1; shown: a value's text beside its bar."""
    bar, gap, width, top = 14, 12, 440, 62
    height = top + sum(len(bars) * bar + gap for _, bars in groups) + 40

    def x(value):
        return left + width * scale(value)

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for value, text in ticks:
        gx = x(value)
        svg.append(f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        svg.append(f'<text x="{gx:.1f}" y="{height - 14}" text-anchor="middle">{text}</text>')
    y = top
    for label, bars in groups:
        svg.append(f'<text x="10" y="{y + bar * len(bars) / 2 + 4:.1f}">{escape(label)}</text>')
        for colour, value in bars:
            svg.append(
                f'<rect x="{left}" y="{y}" width="{x(value) - left:.1f}" height="{bar - 2}" fill="{colour}"/>'
            )
            svg.append(f'<text x="{x(value) + 4:.1f}" y="{y + bar - 4}">{shown(value)}</text>')
            y += bar
        y += gap
    lx = 10
    for name, colour in legend:
        svg.append(f'<rect x="{lx}" y="30" width="10" height="10" fill="{colour}"/>')
        svg.append(f'<text x="{lx + 14}" y="39">{escape(name)}</text>')
        lx += legend_step
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


def main(results, out):
    with open(results, newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["rps_2xx"] not in ("", "-")]
    # Scenarios in the order they first appear; each with its bars.
    scenarios = {}
    for r in rows:
        backend = "peer" if r["scenario"].startswith("h") else r["backend"]
        label = f'{r["scenario"]}  {r["label"]}'[:48]
        scenarios.setdefault(label, []).append((COLOURS.get(backend, "#888"), float(r["rps_2xx"])))
    peak = max(v for bars in scenarios.values() for _, v in bars)
    decades = math.ceil(math.log10(peak))
    low = 2  # 100 req/s at the left edge
    bar_chart(
        out,
        "paddock: requests per second (2xx only, median of 3 runs, log scale)",
        list(scenarios.items()),
        list(COLOURS.items()),
        [(10**d, f"{10**d:,}") for d in range(low, decades + 1)],
        lambda v: (math.log10(max(v, 10**low)) - low) / (decades - low),
        lambda v: f"{v:,.0f}",
        left=330,
        legend_step=100,
    )


SCALING_SERIES = [
    ("valid_p50_ms", "valid token, p50", "#2f6db5"),
    ("valid_p99_ms", "valid token, p99", "#9bbbe3"),
    ("unknown_p50_ms", "unknown token, p50", "#d9822b"),
    ("unknown_p99_ms", "unknown token, p99", "#f0c08f"),
]


def scaling(table, out):
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    groups = [
        (f'{int(r["tokens"]):,} tokens', [(colour, float(r[key])) for key, _, colour in SCALING_SERIES])
        for r in rows
    ]
    peak = max(v for _, bars in groups for _, v in bars)
    step = 10 ** math.floor(math.log10(peak))
    end = math.ceil(peak / step) * step
    bar_chart(
        out,
        "paddock: Bearer check latency (ms) by tokens stored, SQLite",
        groups,
        [(name, colour) for _, name, colour in SCALING_SERIES],
        [(i * step, f"{i * step:g}") for i in range(round(end / step) + 1)],
        lambda ms: ms / end,
        lambda ms: f"{ms:g}",
        left=130,
        legend_step=140,
    )


if __name__ == "__main__":
    if sys.argv[1] == "--scaling":
        scaling(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2])
