"""Draws scripts/bench's medians as an SVG bar chart: requests per second per scenario,
one bar per backend (and the peer), on a logarithmic scale since the scenarios span two
orders of magnitude. Standard library only.

    python3 chart.py RESULTS.tsv OUT.svg
"""

import csv
import math
import sys
from html import escape

COLOURS = {"SQLite": "#2f6db5", "PostgreSQL": "#d9822b", "peer": "#6a9955"}


def main(results, out):
    with open(results, newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["rps_2xx"] not in ("", "-")]
    # Scenarios in the order they first appear; each with its bars.
    scenarios = {}
    for r in rows:
        backend = "peer" if r["scenario"].startswith("h") else r["backend"]
        label = f'{r["scenario"]}  {r["label"]}'
        scenarios.setdefault(label, []).append((backend, float(r["rps_2xx"])))

    bar, gap, left, width = 14, 12, 330, 420
    top = 62
    height = top + sum(len(b) * bar + gap for b in scenarios.values()) + 40
    peak = max(v for bars in scenarios.values() for _, v in bars)
    decades = math.ceil(math.log10(peak))
    low = 2  # 100 req/s at the left edge

    def x(value):
        return left + width * (math.log10(max(value, 10**low)) - low) / (decades - low)

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">paddock: requests per second '
        '(2xx only, median of 3 runs, log scale)</text>',
    ]
    for d in range(low, decades + 1):
        gx = x(10**d)
        svg.append(f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        svg.append(f'<text x="{gx:.1f}" y="{height - 14}" text-anchor="middle">{10**d:,}</text>')
    y = top
    for label, bars in scenarios.items():
        svg.append(f'<text x="10" y="{y + bar * len(bars) / 2 + 4:.1f}">{escape(label[:48])}</text>')
        for backend, value in bars:
            colour = COLOURS.get(backend, "#888")
            svg.append(
                f'<rect x="{left}" y="{y}" width="{x(value) - left:.1f}" height="{bar - 2}" fill="{colour}"/>'
            )
            svg.append(f'<text x="{x(value) + 4:.1f}" y="{y + bar - 4}">{value:,.0f}</text>')
            y += bar
        y += gap
    lx = 10
    for backend, colour in COLOURS.items():
        svg.append(f'<rect x="{lx}" y="30" width="10" height="10" fill="{colour}"/>')
        svg.append(f'<text x="{lx + 14}" y="39">{backend}</text>')
        lx += 100
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
