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


SCALING_SERIES = [
    ("valid_p50_ms", "valid token, p50", "#2f6db5"),
    ("valid_p99_ms", "valid token, p99", "#9bbbe3"),
    ("unknown_p50_ms", "unknown token, p50", "#d9822b"),
    ("unknown_p99_ms", "unknown token, p99", "#f0c08f"),
]


def scaling(table, out):
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    bar, gap, left, width, top = 14, 14, 130, 440, 62
    height = top + len(rows) * (len(SCALING_SERIES) * bar + gap) + 40
    peak = max(float(r[key]) for r in rows for key, _, _ in SCALING_SERIES)
    step = 10 ** math.floor(math.log10(peak))
    end = math.ceil(peak / step) * step

    def x(ms):
        return left + width * ms / end

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<text x="10" y="20" font-size="14" font-weight="bold">paddock: Bearer check latency (ms) '
        'by tokens stored, SQLite</text>',
    ]
    tick = 0.0
    while tick <= end + step / 2:
        gx = x(tick)
        svg.append(f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        svg.append(f'<text x="{gx:.1f}" y="{height - 14}" text-anchor="middle">{tick:g}</text>')
        tick += step
    y = top
    for r in rows:
        n = len(SCALING_SERIES) * bar
        svg.append(f'<text x="10" y="{y + n / 2 + 4:.1f}">{int(r["tokens"]):,} tokens</text>')
        for key, _, colour in SCALING_SERIES:
            ms = float(r[key])
            svg.append(f'<rect x="{left}" y="{y}" width="{x(ms) - left:.1f}" height="{bar - 2}" fill="{colour}"/>')
            svg.append(f'<text x="{x(ms) + 4:.1f}" y="{y + bar - 4}">{ms:g}</text>')
            y += bar
        y += gap
    lx = 10
    for _, name, colour in SCALING_SERIES:
        svg.append(f'<rect x="{lx}" y="30" width="10" height="10" fill="{colour}"/>')
        svg.append(f'<text x="{lx + 14}" y="39">{escape(name)}</text>')
        lx += 140
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--scaling":
        scaling(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2])
