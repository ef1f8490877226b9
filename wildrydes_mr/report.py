"""The failover report: a Markdown file with every timestamp, an SVG timeline, the full result as JSON (what
`wildrydes reports` reads back), and the terminal table.

On the local cloud the clocks run at `local.time_scale`: every figure measured there is scaled. The report states
the scale, gives the real-time equivalent (measured ÷ time_scale) beside each scaled figure, and compares the
real-time equivalents with the objectives, which are real seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from wildrydes_mr import svg

MARKERS = ("fault", "replication paused", "outage", "detection", "dns switch", "first secondary response",
           "restore", "replication resumed", "failback")
COLOURS = {"fault": "#d62728", "replication paused": "#6a3d9a", "outage": "#8c564b", "detection": "#ff7f0e",
           "dns switch": "#e377c2", "first secondary response": "#2ca02c", "restore": "#1f77b4",
           "replication resumed": "#bcbd22", "failback": "#17becf"}
WINDOWS = {"fault": ("#d62728", 0.10), "replication pause": ("#6a3d9a", 0.14)}  # colour, fill opacity
ACKED, REFUSED, LOST, UNKNOWN = "#54a24b", "#e45756", "#222222", "#bbbbbb"
# (key in the result's "real_seconds", the measured key, short name, long name); RTO and RPO have objectives.
FIGURES = (("rto", "rto_seconds", "RTO", "RTO (first correct response from the secondary)"),
           ("rpo", "rpo_seconds", "RPO", "RPO (acknowledged writes lost)"),
           ("detection", "detection_seconds", "detection", "detection (health check unhealthy)"),
           ("dns", "dns_seconds", "DNS switch", "DNS answers the secondary"),
           ("failback", "failback_seconds", "failback", "failback (after the fault was removed)"),
           ("predicted_rto", "predicted_rto_seconds", "predicted RTO", "predicted worst-case RTO"))
OBJECTIVES = {"rto": "rto_seconds", "rpo": "rpo_seconds"}


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- figures: scaled, real, compared ---------------------------------------------------------------------------

def time_scale(report: dict[str, Any]) -> float:
    return float(report.get("time_scale") or 1.0)


def is_scaled(report: dict[str, Any]) -> bool:
    return bool(report.get("scaled", time_scale(report) != 1.0))


def to_real(report: dict[str, Any], seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / time_scale(report), 3)


def real_seconds(report: dict[str, Any], key: str) -> float | None:
    """The real-time equivalent of figure `key` ("rto", "rpo", ...): as the run recorded it, else measured ÷ scale
    (a report written before the run recorded real_seconds)."""
    recorded = report.get("real_seconds") or {}
    if key in recorded:
        return recorded[key]
    measured = next(m for k, m, _, _ in FIGURES if k == key)
    return to_real(report, report.get(measured))


def scale_statement(report: dict[str, Any]) -> str:
    scale = time_scale(report)
    if not is_scaled(report):
        return "Time scale 1: every figure is in real seconds."
    return (f"Time scale {scale:g} (local.time_scale): the local cloud's clocks run scaled, 1 s measured stands "
            f"for {1 / scale:g} s real. Each figure is given as measured and as its real-time equivalent "
            f"(measured ÷ {scale:g}); objectives are real seconds and are compared with the real-time equivalents.")


def verdict(real: float | None, objective: float) -> str:
    if real is None:
        return "not measured"
    return "within" if real <= objective else "exceeded"


def comparison(report: dict[str, Any], key: str) -> str:
    """E.g. "RTO 5.4 s scaled = 54.0 s real vs objective 900 s: within"."""
    short = next(s for k, _, s, _ in FIGURES if k == key)
    measured = report.get(next(m for k, m, _, _ in FIGURES if k == key))
    real = real_seconds(report, key)
    objective = report["objectives"][OBJECTIVES[key]]
    figure = f"{num(measured)} s scaled = {num(real)} s real" if is_scaled(report) else f"{num(real)} s"
    return f"{short} {figure} vs objective {objective} s: {verdict(real, objective)}"


def num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:.1f}"


def _measure_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(short name, long name, measured, real-time, objective with verdict) per figure."""
    rows = []
    for key, measured, short, long in FIGURES:
        real = real_seconds(report, key)
        objective = ""
        if key in OBJECTIVES:
            target = report["objectives"][OBJECTIVES[key]]
            objective = f"{target} ({verdict(real, target)})"
        rows.append((short, long, num(report.get(measured)), num(real), objective))
    return rows


def _reappeared(write: dict[str, Any]) -> str:
    if write.get("reappeared") is None:
        return "not checked"
    return f"yes, at {write.get('reappeared_at') or '?'}" if write["reappeared"] else "no"


def _fault_line(report: dict[str, Any]) -> str:
    line = (f"Fault `{report['fault']}` on {report['regions'][0]} (target {report.get('target', '?')}) "
            f"at T0 = {report['t0']}.")
    pause = report.get("pause_window_seconds")
    if pause is not None:
        line += f" Replication paused {_pair(report, pause)} before the outage."
    stopped = report.get("primary_stopped_seconds")
    if stopped is not None:
        line += f" The primary's last acknowledged write: {_pair(report, stopped)} from T0."
    return line


def _pair(report: dict[str, Any], seconds: float) -> str:
    if not is_scaled(report):
        return f"{num(seconds)} s"
    return f"{num(seconds)} s scaled ({num(to_real(report, seconds))} s real)"


# --- the timeline picture --------------------------------------------------------------------------------------

WIDTH, LEFT, RIGHT = 960, 80, 30
TOP, SERVED_Y, CANARY_Y, ROW_HEIGHT, LABELS_Y, LABEL_STEP = 46, 62, 112, 18, 158, 14
HALO = {"stroke": "white", "stroke_width": 3, "paint_order": "stroke"}  # labels stay legible over lines
WINDOW_LABEL_Y = {"fault": TOP + 11, "replication pause": CANARY_Y + ROW_HEIGHT + 13}


def timeline_svg(report: dict[str, Any], writes: list[dict[str, Any]], probes: list[dict[str, Any]]) -> str:
    """A picture of the run: who served each probe, each canary write (lost ones marked), the fault window and
    the replication pause as shaded spans, and the moments that matter; seconds as measured (real below)."""
    marks = {m["name"]: m["seconds"] for m in report["timeline"] if m.get("seconds") is not None}
    lost = [w for w in report.get("lost_writes") or [] if w.get("seconds") is not None]
    times = ([p["seconds"] for p in probes] + [w["seconds"] for w in writes] + list(marks.values())
             + [w["seconds"] for w in lost]
             + [s for span in (report.get("windows") or {}).values() if span for s in span if s is not None])
    start, end = min(times + [0.0]), max(times + [1.0])
    x = svg.Scale(start, end, LEFT, WIDTH - RIGHT)
    axis_y = LABELS_Y + LABEL_STEP * max(len(marks) - 1, 0) + 20
    page = svg.Drawing(WIDTH, axis_y + 120)
    page.heading(10, 20, f"Failover timeline: fault '{report['fault']}' on {report['regions'][0]} "
                         "(seconds from T0)")
    page.add("text", _scale_caption(report), x=10, y=36, fill="#444444", class_="scale-note")
    _windows(page, report, x, start, end, axis_y)
    page.add("text", "served by", x=10, y=SERVED_Y + 13)
    page.add("text", "canary", x=10, y=CANARY_Y + 13)
    colour = {report["regions"][0]: "#4c78a8", report["regions"][1]: "#f58518"}
    gap = _typical_gap([p["seconds"] for p in probes])
    for probe in probes:
        fill = colour.get(probe["region"], UNKNOWN) if probe["ok"] else REFUSED
        page.add("rect", x=x(probe["seconds"]), y=SERVED_Y, width=max(2.0, (x(gap) - x(0)) * 0.9),
                 height=ROW_HEIGHT, fill=fill, class_="probe")
    for write in writes:
        state = "lost" if write.get("lost") else "acked" if write["acked"] else "refused"
        page.add("rect", x=x(write["seconds"]), y=CANARY_Y, width=2, height=ROW_HEIGHT,
                 fill={"lost": LOST, "acked": ACKED, "refused": REFUSED}[state], class_=f"write {state}")
    for write in lost:
        back = write.get("reappeared")
        svg.marker(page, "triangle-down", x(write["seconds"]), CANARY_Y - 7, 10, "none" if back else LOST, LOST,
                   class_="lost-write", data_seq=write.get("seq"),
                   data_reappeared={True: "true", False: "false"}.get(back, "unknown")).titled(
            f"lost write #{write.get('seq')} ({write.get('ticket_id')}) acknowledged at {write.get('acked_at')}, "
            f"{_pair(report, write['seconds'])} from T0; back after failback: {_reappeared(write)}")
    for index, name in enumerate(n for n in MARKERS if n in marks):
        px, label_y = x(marks[name]), LABELS_Y + LABEL_STEP * index
        group = page.group(class_="marker", data_name=name)
        group.add("line", x1=px, y1=TOP, x2=px, y2=axis_y, stroke=COLOURS[name], stroke_width=2,
                  stroke_dasharray="4 2")
        right_half = px > LEFT + (WIDTH - LEFT - RIGHT) * 0.65
        group.add("text", f"{name} {_pair(report, marks[name])}", x=px - 3 if right_half else px + 3, y=label_y,
                  fill=COLOURS[name], text_anchor="end" if right_half else "start", **HALO)
    scaled = is_scaled(report)
    svg.x_axis(page, x, axis_y,
               "seconds from T0" + (f", as measured (time scale {time_scale(report):g}); grey: real-time "
                                    "equivalent" if scaled else ""),
               second_label=(lambda v: f"{v / time_scale(report):g}") if scaled else None)
    bottom = svg.legend(page, LEFT, axis_y + (70 if scaled else 58), _timeline_legend(report), WIDTH - LEFT - RIGHT)
    page.set_height(bottom)
    return page.to_string()


def _scale_caption(report: dict[str, Any]) -> str:
    if not is_scaled(report):
        return "time scale 1: real seconds"
    scale = time_scale(report)
    return f"time scale {scale:g}: local clocks run scaled, 1 s measured = {1 / scale:g} s real"


def _windows(page: svg.Drawing, report: dict[str, Any], x: svg.Scale, start: float, end: float,
             axis_y: float) -> None:
    for name, span in (report.get("windows") or {}).items():
        if not span or span[0] is None or name not in WINDOWS:
            continue
        begin, finish = span[0], span[1] if span[1] is not None else end  # still open when the run ended
        colour, opacity = WINDOWS[name]
        group = page.group(class_=f"span {name.replace(' ', '-')}", data_name=name)
        group.add("rect", x=x(max(begin, start)), y=TOP, width=max(x(finish) - x(max(begin, start)), 1.0),
                  height=axis_y - TOP, fill=colour, fill_opacity=opacity).titled(
            f"{name}: {_pair(report, begin)} to {_pair(report, finish)} from T0")
        group.add("text", f"{name} window", x=x(max(begin, start)) + 3, y=WINDOW_LABEL_Y[name], fill=colour,
                  **HALO)


def _typical_gap(seconds: list[float]) -> float:
    gaps = sorted(b - a for a, b in zip(seconds, seconds[1:], strict=False) if b > a)
    return gaps[len(gaps) // 2] if gaps else 1.0


def _timeline_legend(report: dict[str, Any]) -> list[svg.LegendEntry]:
    first, second = report["regions"]
    entries = [svg.LegendEntry(f"{first} served", "#4c78a8"), svg.LegendEntry(f"{second} served", "#f58518"),
               svg.LegendEntry("error / no answer", REFUSED), svg.LegendEntry("write acknowledged", ACKED),
               svg.LegendEntry("acknowledged, lost at takeover", LOST),
               svg.LegendEntry("lost write, not back after failback", LOST, "triangle-down"),
               svg.LegendEntry("lost write, back after failback", LOST, "triangle-down", filled=False)]
    entries += [svg.LegendEntry(f"{name} window", colour, "span") for name, (colour, _) in WINDOWS.items()]
    return entries


# --- Markdown, JSON, terminal ----------------------------------------------------------------------------------

def markdown(report: dict[str, Any], svg_name: str) -> str:
    scaled = is_scaled(report)
    header = ("| measure | measured s | real-time s | objective s (real) |\n|---|---|---|---|" if scaled
              else "| measure | seconds | objective s |\n|---|---|---|")
    lines = [f"# Failover report: {'PASSED' if report['passed'] else 'FAILED'}", "", _fault_line(report), "",
             f"**{scale_statement(report)}**", "", f"- {comparison(report, 'rto')}",
             f"- {comparison(report, 'rpo')}", "", f"![timeline]({svg_name})", "", header]
    for _, long, measured, real, objective in _measure_rows(report):
        lines.append(f"| {long} | {measured} | {real} | {objective} |" if scaled
                     else f"| {long} | {real} | {objective} |")
    served = report["served_by"]
    lines += ["", f"Served by: before {served['before']}, during {served['during']}, after {served['after']}.", "",
              f"Canary writes: {report['writes']['acknowledged']} acknowledged, {report['writes']['failed']} "
              f"refused or unanswered, {len(report['lost_writes'])} acknowledged by the primary and missing from "
              "the secondary when it took over.", "", "## Timeline", "",
              "| moment | time (UTC) | seconds from T0 |" + (" real-time s |" if scaled else ""),
              "|---|---|---|" + ("---|" if scaled else "")]
    for moment in report["timeline"]:
        real = f" {num(to_real(report, moment['seconds']))} |" if scaled else ""
        lines.append(f"| {moment['name']} | {moment['at'] or '—'} | {num(moment['seconds'])} |{real}")
    if report["lost_writes"]:
        lines += ["", "## Lost writes", "", "| # | ticket | acknowledged at (UTC) | seconds from T0 |"
                  + (" real-time s |" if scaled else "") + " back after failback | description |",
                  "|---|---|---|---|" + ("---|" if scaled else "") + "---|---|"]
        for w in report["lost_writes"]:
            real = f" {num(to_real(report, w.get('seconds')))} |" if scaled else ""
            lines.append(f"| {w['seq']} | {w.get('ticket_id') or '—'} | {w['acked_at']} | {num(w.get('seconds'))} |"
                         f"{real} {_reappeared(w)} | {_cell(w['description'])} |")
    if report.get("conflicts"):
        lines += ["", "## Conflicting writes (last writer wins)", "", "| ticket | regions | winner | detail |",
                  "|---|---|---|---|"]
        lines += [f"| {c['ticket_id']} | {', '.join(c['regions'])} | {c.get('winner') or '—'} | {_cell(c['detail'])} |"
                  for c in report["conflicts"]]
    if report.get("problems"):
        lines += ["", "## Problems", ""] + [f"- {p}" for p in report["problems"]]
    return "\n".join(lines) + "\n"


def _cell(text: object) -> str:
    """Text inside a Markdown table cell: a pipe would end the cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_files(directory: Path, report: dict[str, Any], writes: list[dict[str, Any]],
                probes: list[dict[str, Any]]) -> Path:
    """Writes failover-<stamp>.svg, .md and .json (the full result, read back by `wildrydes reports`); returns
    the Markdown file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = report["t0"].replace(":", "").replace("-", "").replace(".", "")
    svg_file = directory / f"failover-{stamp}.svg"
    svg_file.write_text(timeline_svg(report, writes, probes), encoding="utf-8")
    path = directory / f"failover-{stamp}.md"
    path.write_text(markdown(report, svg_file.name), encoding="utf-8")
    (directory / f"failover-{stamp}.json").write_text(json.dumps(report, indent=2, default=str) + "\n",
                                                      encoding="utf-8")
    return path


def terminal_table(report: dict[str, Any]):
    """The measures (measured and real-time when scaled, against the objectives), then the lost writes and
    the conflicts when there are any: one rich renderable."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    scaled = is_scaled(report)
    table = Table(title=f"Failover report: {'PASSED' if report['passed'] else 'FAILED'} (fault "
                        f"'{escape(report['fault'])}' on {report['regions'][0]}, target {report.get('target', '?')}, "
                        f"time scale {time_scale(report):g})", caption=escape(scale_statement(report)))
    table.add_column("measure")
    for column in (("measured s", "real-time s") if scaled else ("seconds",)):
        table.add_column(column, justify="right")
    table.add_column("objective s (real)" if scaled else "objective s", justify="right")
    for short, _, measured, real, objective in _measure_rows(report):
        style = "red" if objective.endswith("(exceeded)") else None
        table.add_row(short, *((measured, real) if scaled else (real,)), objective, style=style)
    for name, seconds in (("replication pause window", report.get("pause_window_seconds")),
                          ("primary's last ack (from T0)", report.get("primary_stopped_seconds"))):
        if seconds is not None:
            table.add_row(name, *((num(seconds), num(to_real(report, seconds))) if scaled else (num(seconds),)), "")
    blank = ("", "") if scaled else ("",)
    served = report["served_by"]
    table.add_row("served by", f"{served['before']} → {served['during']} → {served['after']}", *blank)
    back = sum(1 for w in report["lost_writes"] if w.get("reappeared"))
    table.add_row("lost writes", f"{len(report['lost_writes'])} ({back} back after failback)", *blank)
    table.add_row("conflicts", str(len(report.get("conflicts") or [])), *blank)
    parts: list[Any] = [table]
    for key in OBJECTIVES:  # like with like, in one line each: "RTO 5.4 s scaled = 54.0 s real vs objective …"
        line = comparison(report, key)
        parts.append(Text(line, style="red" if line.endswith("exceeded") else ""))
    if report["lost_writes"]:
        lost = Table(title="Lost writes (acknowledged by the primary, missing from the secondary at takeover)")
        for column in ("#", "ticket", "acknowledged at (UTC)", "s from T0") + (("real s",) if scaled else ()) + (
                "back after failback",):
            lost.add_column(column)
        for w in report["lost_writes"]:
            real = (num(to_real(report, w.get("seconds"))),) if scaled else ()
            lost.add_row(str(w["seq"]), w.get("ticket_id") or "—", w["acked_at"], num(w.get("seconds")), *real,
                         _reappeared(w))
        parts.append(lost)
    if report.get("conflicts"):
        conflicts = Table(title="Conflicting writes (last writer wins)")
        for column in ("ticket", "regions", "winner", "detail"):
            conflicts.add_column(column)
        for c in report["conflicts"]:
            conflicts.add_row(c["ticket_id"], ", ".join(c["regions"]), c.get("winner") or "—", escape(c["detail"]))
        parts.append(conflicts)
    return Group(*parts)
