#!/usr/bin/env python3
"""Draws conflux-bench sweeps as two SVG charts, with the standard library only.

    python3 bench/plot.py RUNS.jsonl OUTDIR [--mode tcp] [--payload 256] [--label TEXT]
                          [--prefix NAME-] [--x clients|payload|nodes]

RUNS.jsonl holds one conflux-bench JSON object per line (--json-append, or
bench/sweep.sh). Writes OUTDIR/throughput.svg (actions/s against --x, by
default the clients) and OUTDIR/latency.svg (p50 and p99 against it; --prefix
goes before both names), one series per value of the other parameters that
vary (cluster size, clients, payload, mode), the x axis in log scale. Runs repeated with the same parameters are reduced to
their median. The SVG is written by hand (no matplotlib) on a white background,
so that it reads the same in GitHub's light and dark themes.
"""

import argparse
import json
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 90, 170, 50, 60  # plot margins: the legend sits on the right
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def load_runs(path, mode, payload, label):
    """The runs of PATH that match the filters, skipping lines that are not runs."""
    runs = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                run = json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"plot.py: {path}:{number}: not JSON ({error})")
            if mode and run.get("mode") != mode:
                continue
            if payload and run.get("payload_bytes") != payload:
                continue
            if label and run.get("label") != label:
                continue
            runs.append(run)
    return runs


# --x: the run's field, and the axis title.
X_AXES = {"clients": ("concurrency", "concurrent clients"),
          "payload": ("payload_bytes", "payload bytes per action"),
          "nodes": ("nodes", "cluster size (nodes)")}
# What names a series, in this order, when it is not the x axis.
SERIES_FIELDS = (("mode", "{}"), ("nodes", "{} node{s}"), ("concurrency", "{} client{s}"),
                 ("payload_bytes", "{} B"))


def label(form, value):
    return form.format(value, s="" if value == 1 else "s")


def series_name(run, fields):
    return ", ".join(label(form, run[field]) for field, form in fields)


def series_of(runs, x_field):
    """{series name: [(x, throughput, p50 us, p99 us)]}, medians of repeats. A
    series is named by the parameters that vary across the runs (the cluster
    size at least, when it is not the x axis)."""
    others = [(f, form) for f, form in SERIES_FIELDS if f != x_field]
    named = [(f, form) for f, form in others if len({run[f] for run in runs}) > 1]
    if not named:
        named = [(f, form) for f, form in others if f == "nodes"] or others[:1]
    points = {}
    for run in runs:
        key = tuple(run[f] for f, _ in named)
        name = series_name(run, named)
        points.setdefault((key, name), {}).setdefault(run[x_field], []).append(run)
    series = {}
    for (_, name), by_x in sorted(points.items()):
        series[name] = [
            (x,
             statistics.median(r["throughput"] for r in repeats),
             statistics.median(r["latency_us"]["p50"] for r in repeats),
             statistics.median(r["latency_us"]["p99"] for r in repeats))
            for x, repeats in sorted(by_x.items())
        ]
    return series


class Chart:
    """One chart: a log-scale x axis, a linear or log y axis, lines and a legend."""

    def __init__(self, title, x_label, y_label, x_values, y_range, y_log, y_format):
        self.parts = []
        self.x_min, self.x_max = min(x_values), max(x_values)
        if self.x_min == self.x_max:
            self.x_min, self.x_max = self.x_min / 2, self.x_max * 2
        self.y_min, self.y_max = y_range
        self.y_log = y_log
        self.y_format = y_format
        self.legend = []
        self.text(WIDTH / 2, 28, title, size=17, anchor="middle", weight="bold")
        self.text(LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT - 16, x_label, anchor="middle")
        self.text(22, TOP + (HEIGHT - TOP - BOTTOM) / 2, y_label, anchor="middle",
                  rotate=-90)
        self.axes(sorted(set(x_values)))

    def x(self, value):
        span = math.log(self.x_max) - math.log(self.x_min)
        return LEFT + (math.log(value) - math.log(self.x_min)) / span * (WIDTH - LEFT - RIGHT)

    def y(self, value):
        if self.y_log:
            low, high, value = (math.log10(v) for v in (self.y_min, self.y_max, max(value, 1e-9)))
        else:
            low, high = self.y_min, self.y_max
        return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM)

    def text(self, x, y, content, size=13, anchor="start", weight="normal", rotate=None):
        transform = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}"{transform}>{escape(str(content))}</text>')

    def line(self, x1, y1, x2, y2, color="#000", width=1, dash=None):
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                          f'stroke="{color}" stroke-width="{width}"{dashes}/>')

    def axes(self, x_ticks):
        bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
        for tick in x_ticks:
            self.line(self.x(tick), TOP, self.x(tick), bottom, "#e4e4e4")
            self.text(self.x(tick), bottom + 20, tick, anchor="middle")
        for tick in y_ticks(self.y_min, self.y_max, self.y_log):
            self.line(LEFT, self.y(tick), right, self.y(tick), "#e4e4e4")
            self.text(LEFT - 8, self.y(tick) + 4, self.y_format(tick), anchor="end")
        self.line(LEFT, bottom, right, bottom)
        self.line(LEFT, TOP, LEFT, bottom)

    def series(self, name, points, color, dash=None):
        """A polyline with a dot at each measured point, and its legend entry."""
        coordinates = " ".join(f"{self.x(x):.1f},{self.y(y):.1f}" for x, y in points)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{color}" '
                          f'stroke-width="2.2"{dashes}/>')
        for x, y in points:
            self.parts.append(f'<circle cx="{self.x(x):.1f}" cy="{self.y(y):.1f}" r="3.5" '
                              f'fill="{color}"/>')
        self.legend.append((name, color, dash))

    def svg(self):
        x, y = WIDTH - RIGHT + 18, TOP + 10
        for index, (name, color, dash) in enumerate(self.legend):
            row = y + index * 22
            self.line(x, row, x + 26, row, color, 2.2, dash)
            self.text(x + 34, row + 4, name)
        body = "\n".join(self.parts)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
                f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif">\n'
                f'<rect width="100%" height="100%" fill="#fff"/>\n{body}\n</svg>\n')


def y_ticks(low, high, log):
    """Round tick values: 1-2-5 per decade on a log axis, about six steps on a linear one."""
    if log:
        ticks = []
        for decade in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            for step in (1, 2, 5):
                value = step * 10 ** decade
                if low <= value <= high:
                    ticks.append(value)
        return ticks
    step = nice_step((high - low) / 6)
    return [i * step for i in range(int(low // step), int(high // step) + 1)]


def nice_step(raw):
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def rate_text(value):
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    return f"{value / 1e3:g}k" if value >= 1e3 else f"{value:g}"


def time_text(us):
    if us >= 1e6:
        return f"{us / 1e6:g} s"
    return f"{us / 1e3:g} ms" if us >= 1e3 else f"{us:g} µs"


def describe(runs, x_field):
    """The parameters of the runs, for the titles: the x axis's is left out,
    and the cluster size and the clients are named when every run shares
    them."""
    first = runs[0]
    modes = sorted({r["mode"] for r in runs})
    parts = ["/".join(modes)]
    for field, form in (("nodes", "{} node{s}"), ("concurrency", "{} client{s}")):
        values = {r[field] for r in runs}
        if field != x_field and len(values) == 1:
            parts.append(label(form, values.pop()))
    if x_field != "payload_bytes":
        payloads = sorted({r["payload_bytes"] for r in runs})
        parts.append(f"payload {'/'.join(map(str, payloads))} B")
    storage = sorted({str(r.get("storage")) for r in runs})
    parts.append(f"storage {'/'.join(storage)}, reducer {first.get('reducer')}")
    return ", ".join(parts)


def throughput_chart(series, subtitle, x_title):
    x_values = [p[0] for points in series.values() for p in points]
    highest = max(p[1] for points in series.values() for p in points)
    step = nice_step(highest / 5)
    top = math.ceil(highest * 1.05 / step) * step
    chart = Chart(f"Throughput ({subtitle})", f"{x_title} (log scale)", "actions/s",
                  x_values, (0, top), False, rate_text)
    for index, (name, points) in enumerate(series.items()):
        chart.series(name, [(p[0], p[1]) for p in points], COLORS[index % len(COLORS)])
    return chart.svg()


def latency_chart(series, subtitle, x_title):
    x_values = [p[0] for points in series.values() for p in points]
    values = [v for points in series.values() for p in points for v in (p[2], p[3]) if v > 0]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    chart = Chart(f"Latency ({subtitle})", f"{x_title} (log scale)",
                  "latency (log scale)", x_values, (low, high), True, time_text)
    for index, (name, points) in enumerate(series.items()):
        color = COLORS[index % len(COLORS)]
        chart.series(f"{name} p50", [(p[0], p[2]) for p in points], color)
        chart.series(f"{name} p99", [(p[0], p[3]) for p in points], color, dash="6 4")
    return chart.svg()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", help="JSON lines written by conflux-bench --json-append")
    parser.add_argument("outdir", help="where throughput.svg and latency.svg go")
    parser.add_argument("--mode", help="only runs of this mode (inprocess, tcp, websocket, embedded)")
    parser.add_argument("--payload", type=int, help="only runs with this payload size")
    parser.add_argument("--label", help="only runs with this label")
    parser.add_argument("--prefix", default="", help="put before the file names")
    parser.add_argument("--x", choices=sorted(X_AXES), default="clients",
                        help="what the x axis shows (default: clients)")
    args = parser.parse_args()

    runs = load_runs(args.runs, args.mode, args.payload, args.label)
    if not runs:
        sys.exit(f"plot.py: no matching run in {args.runs}")
    x_field, x_title = X_AXES[args.x]
    series = series_of(runs, x_field)
    subtitle = describe(runs, x_field)
    os.makedirs(args.outdir, exist_ok=True)
    for name, svg in (("throughput.svg", throughput_chart(series, subtitle, x_title)),
                      ("latency.svg", latency_chart(series, subtitle, x_title))):
        path = os.path.join(args.outdir, args.prefix + name)
        with open(path, "w", encoding="utf-8") as out:
            out.write(svg)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
