"""The failover report: a Markdown file with every timestamp and an SVG timeline, and the terminal table."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import Any

MARKERS = ("fault", "detection", "dns switch", "first secondary response", "restore", "failback")
COLOURS = {"fault": "#d62728", "detection": "#ff7f0e", "dns switch": "#9467bd",
           "first secondary response": "#2ca02c", "restore": "#1f77b4", "failback": "#17becf"}


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timeline_svg(report: dict[str, Any], writes: list[dict[str, Any]], probes: list[dict[str, Any]]) -> str:
    """A picture of the run: who served each probe, each canary write, and the moments that matter."""
    marks = {m["name"]: m["seconds"] for m in report["timeline"] if m["seconds"] is not None}
    times = [p["seconds"] for p in probes] + [w["seconds"] for w in writes] + list(marks.values())
    start, end = min(times + [0.0]), max(times + [1.0])
    width, left, right = 960, 60, 150
    scale = (width - left - right) / max(end - start, 1e-6)

    def x(seconds: float) -> float:
        return left + (seconds - start) * scale

    regions = report["regions"]
    colour = {regions[0]: "#4c78a8", regions[1]: "#f58518"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="300" font-family="sans-serif" '
             'font-size="11">', '<rect width="100%" height="100%" fill="white"/>',
             '<text x="10" y="20" font-size="14" font-weight="bold">Failover timeline (seconds from the fault)</text>',
             '<text x="10" y="62">served by</text>', '<text x="10" y="112">canary</text>']
    for probe in probes:
        fill = colour.get(probe["region"], "#bbbbbb") if probe["ok"] else "#e45756"
        parts.append(f'<rect x="{x(probe["seconds"]):.1f}" y="50" width="{max(2.0, scale * 0.9):.1f}" '
                     f'height="18" fill="{fill}"/>')
    for write in writes:
        fill = "#54a24b" if write["acked"] else "#e45756"
        parts.append(f'<rect x="{x(write["seconds"]):.1f}" y="100" width="2" height="18" fill="{fill}"/>')
    for index, name in enumerate(MARKERS):
        if name in marks:
            px = x(marks[name])
            parts.append(f'<line x1="{px:.1f}" y1="40" x2="{px:.1f}" y2="230" stroke="{COLOURS[name]}" '
                         'stroke-width="2" stroke-dasharray="4 2"/>')
            parts.append(f'<text x="{px + 3:.1f}" y="{150 + 14 * index}" fill="{COLOURS[name]}">'
                         f'{escape(name)} {marks[name]:.1f} s</text>')
    step = max(1, int((end - start) / 10) or 1)
    tick = int(start) - int(start) % step
    while tick <= end:
        parts.append(f'<line x1="{x(tick):.1f}" y1="235" x2="{x(tick):.1f}" y2="240" stroke="black"/>'
                     f'<text x="{x(tick) - 6:.1f}" y="254">{tick}</text>')
        tick += step
    legend = [(colour[regions[0]], f"{regions[0]} served"), (colour[regions[1]], f"{regions[1]} served"),
              ("#e45756", "error / no answer"), ("#54a24b", "write acknowledged")]
    for index, (fill, label) in enumerate(legend):
        parts.append(f'<rect x="{60 + 200 * index}" y="272" width="12" height="12" fill="{fill}"/>'
                     f'<text x="{76 + 200 * index}" y="282">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def markdown(report: dict[str, Any], svg_name: str) -> str:
    objectives = report["objectives"]
    lines = [
        f"# Failover report: {'PASSED' if report['passed'] else 'FAILED'}", "",
        f"Fault `{report['fault']}` on {report['regions'][0]} at T0 = {report['t0']}; "
        f"predicted worst-case RTO {report['predicted_rto_seconds']} s.", "",
        f"![timeline]({svg_name})", "",
        "| measure | seconds | objective |", "|---|---|---|",
        f"| RTO (first correct response from the secondary) | {_num(report['rto_seconds'])} | "
        f"{objectives['rto_seconds']} |",
        f"| RPO (acknowledged writes lost) | {_num(report['rpo_seconds'])} | {objectives['rpo_seconds']} |",
        f"| detection (health check unhealthy) | {_num(report['detection_seconds'])} | |",
        f"| DNS answers the secondary | {_num(report['dns_seconds'])} | |",
        f"| failback (after the fault was removed) | {_num(report['failback_seconds'])} | |", "",
        f"Served by: before {report['served_by']['before']}, during {report['served_by']['during']}, "
        f"after {report['served_by']['after']}.", "",
        f"Canary writes: {report['writes']['acknowledged']} acknowledged, {report['writes']['failed']} refused or "
        f"unanswered, {len(report['lost_writes'])} acknowledged before T0 and lost.", "",
        "## Timeline", "", "| moment | time (UTC) | seconds from T0 |", "|---|---|---|",
    ]
    lines += [f"| {m['name']} | {m['at'] or '—'} | {_num(m['seconds'])} |" for m in report["timeline"]]
    if report["lost_writes"]:
        lines += ["", "## Lost writes", "", "| # | acknowledged at | description |", "|---|---|---|"]
        lines += [f"| {w['seq']} | {w['acked_at']} | {w['description']} |" for w in report["lost_writes"]]
    if report.get("problems"):
        lines += ["", "## Problems", ""] + [f"- {p}" for p in report["problems"]]
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def write_files(directory: Path, report: dict[str, Any], writes: list[dict[str, Any]],
                probes: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = report["t0"].replace(":", "").replace("-", "").replace(".", "")
    svg = directory / f"failover-{stamp}.svg"
    svg.write_text(timeline_svg(report, writes, probes), encoding="utf-8")
    path = directory / f"failover-{stamp}.md"
    path.write_text(markdown(report, svg.name), encoding="utf-8")
    return path


def terminal_table(report: dict[str, Any]):
    from rich.table import Table

    table = Table(title=f"Failover report: {'PASSED' if report['passed'] else 'FAILED'}")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("objective", justify="right")
    objectives = report["objectives"]
    table.add_row("RTO", _num(report["rto_seconds"]), str(objectives["rto_seconds"]))
    table.add_row("RPO", _num(report["rpo_seconds"]), str(objectives["rpo_seconds"]))
    table.add_row("detection", _num(report["detection_seconds"]), "")
    table.add_row("DNS switch", _num(report["dns_seconds"]), "")
    table.add_row("failback", _num(report["failback_seconds"]), "")
    table.add_row("predicted RTO", _num(report["predicted_rto_seconds"]), "")
    served = report["served_by"]
    table.add_row("served by", f"{served['before']} → {served['during']} → {served['after']}", "")
    table.add_row("lost writes", str(len(report["lost_writes"])), "")
    return table
