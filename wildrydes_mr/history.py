"""Game-day history for `wildrydes reports`: every failover-*.json that test-failover wrote in a reports
directory, read back (oldest first; an unreadable file is skipped with a note), one row each in real-time
seconds with the time scale stated, and trend.svg: RTO and RPO per game day against the objectives, drawn with
the same SVG writer as the failover timeline. Reads and writes files only: no cloud, no credentials.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wildrydes_mr import report, svg

TREND_FILE = "trend.svg"
SECONDS_NOTE = "seconds are real-time equivalents (measured ÷ time scale); objectives are real seconds"
PASSED, FAILED, MISSING, LINE, OBJECTIVE = "#2ca02c", "#d62728", "#7f7f7f", "#9e9e9e", "#555555"
# (series, row key, objective row key, panel title)
SERIES = (("rto", "rto_seconds", "rto_objective_seconds", "RTO: first correct answer from the secondary"),
          ("rpo", "rpo_seconds", "rpo_objective_seconds", "RPO: acknowledged writes lost at takeover"))


@dataclass
class History:
    directory: Path
    reports: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)  # oldest first
    skipped: list[str] = field(default_factory=list)  # one note per file that could not be read


def load(directory: Path) -> History:
    """Every failover-*.json in `directory` (none when it does not exist), oldest game day first."""
    history = History(directory)
    for path in sorted(directory.glob("failover-*.json")) if directory.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            history.skipped.append(f"skipped {path.name}: unreadable ({exc.__class__.__name__})")
            continue
        problem = _shape_problem(data)
        if problem:
            history.skipped.append(f"skipped {path.name}: {problem}")
            continue
        history.reports.append((path, data))
    history.reports.sort(key=lambda item: (_when(item[1]["t0"]), item[0].name))
    return history


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a failover report (not a JSON object)"
    if not isinstance(data.get("t0"), str) or _when(data["t0"]) is None:
        return "not a failover report (no t0 timestamp)"
    objectives = data.get("objectives")
    if not isinstance(objectives, dict) or not all(isinstance(objectives.get(k), int | float)
                                                   for k in ("rto_seconds", "rpo_seconds")):
        return "not a failover report (no objectives)"
    try:
        report.time_scale(data)
    except (TypeError, ValueError):
        return "not a failover report (bad time_scale)"
    return None


def _when(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def row(path: Path, result: dict[str, Any]) -> dict[str, Any]:
    """One game day: when, fault, target, the time scale, RTO/RPO/detection/failback in real seconds, passed."""
    return {"when": result["t0"], "fault": result.get("fault"), "target": result.get("target"),
            "time_scale": report.time_scale(result),
            **{f"{key}_seconds": report.real_seconds(result, key) for key in ("rto", "rpo", "detection", "failback")},
            "rto_objective_seconds": result["objectives"]["rto_seconds"],
            "rpo_objective_seconds": result["objectives"]["rpo_seconds"],
            "passed": bool(result.get("passed")), "file": str(path)}


def run(directory: Path) -> dict[str, Any]:
    """Rows of every readable report in `directory` and, when there is one at least, trend.svg beside them."""
    history = load(directory)
    rows = [row(path, result) for path, result in history.reports]
    trend = None
    if rows:
        trend = directory / TREND_FILE
        trend.write_text(trend_svg(rows), encoding="utf-8")
    return {"report_dir": str(directory), "seconds": SECONDS_NOTE, "rows": rows, "skipped": history.skipped,
            "trend_file": str(trend.resolve()) if trend else None}


# --- trend.svg --------------------------------------------------------------------------------------------------

WIDTH, LEFT, RIGHT = 960, 90, 150
PANEL_TOP, PANEL_HEIGHT, PANEL_GAP = 62, 170, 58


def trend_svg(rows: list[dict[str, Any]]) -> str:
    """Two panels (RTO above, RPO below), one point per game day in time order, green passed / red failed, the
    objective as a dashed line (stated above the panel when far off the scale), a legend."""
    count = len(rows)
    x = svg.Scale(-0.5, count - 0.5, LEFT, WIDTH - RIGHT)
    page = svg.Drawing(WIDTH, 600)
    page.heading(10, 22, f"Game days: RTO and RPO against the objectives ({count} game "
                         f"day{'s' if count != 1 else ''}, oldest left)")
    scales = sorted({r["time_scale"] for r in rows})
    scale_text = ", ".join(f"{s:g}" for s in scales)
    page.add("text", f"{SECONDS_NOTE}; time scale{'s' if len(scales) > 1 else ''} of these runs: {scale_text}",
             x=10, y=40, fill="#444444", class_="scale-note")
    for index, (series, key, objective_key, title) in enumerate(SERIES):
        top = PANEL_TOP + index * (PANEL_HEIGHT + PANEL_GAP)
        _panel(page, rows, x, top, series, key, objective_key, title)
    axis_y = PANEL_TOP + len(SERIES) * PANEL_HEIGHT + (len(SERIES) - 1) * PANEL_GAP
    every = max(1, math.ceil(count * 90 / (WIDTH - LEFT - RIGHT)))  # about 90 px per label

    def label(value: float) -> str:
        index = int(round(value))
        return _short_when(rows[index]["when"]) if index % every == 0 or index == count - 1 else ""

    def second(value: float) -> str:
        index = int(round(value))
        shown = index % every == 0 or index == count - 1
        return f"{rows[index]['fault']} ({rows[index]['target']})" if shown else ""
    svg.x_axis(page, x, axis_y, "game day (start, UTC; fault and target below)", ticks=list(range(count)),
               tick_label=label, second_label=second)
    entries = [svg.LegendEntry("passed", PASSED, "circle"), svg.LegendEntry("failed", FAILED, "circle"),
               svg.LegendEntry("not measured", MISSING, "cross"), svg.LegendEntry("objective", OBJECTIVE, "dashed")]
    page.set_height(svg.legend(page, LEFT, axis_y + 70, entries, WIDTH - LEFT - RIGHT))
    return page.to_string()


def _panel(page: svg.Drawing, rows: list[dict[str, Any]], x: svg.Scale, top: float, series: str, key: str,
           objective_key: str, title: str) -> None:
    bottom = top + PANEL_HEIGHT
    values = [r[key] for r in rows if r[key] is not None]
    objectives = [r[objective_key] for r in rows]
    peak = max(values, default=0.0)
    # An objective far above every measurement would squash the points onto the axis: then the scale follows
    # the measurements and the objective is stated at the top of the panel.
    off_scale = max(objectives) > 4 * max(peak, 1e-9)
    high = max(peak * 1.25, 1.0) if off_scale else max(peak, max(objectives)) * 1.1
    y = svg.Scale(0.0, high, bottom, top)
    group = page.group(class_="series", data_series=series)
    group.add("text", title, x=LEFT, y=top - 8, font_weight="bold", class_="panel-title")
    svg.y_axis(group, y, LEFT, f"{series.upper()} real s", grid_to=WIDTH - RIGHT)
    group.add("line", x1=LEFT, y1=bottom, x2=WIDTH - RIGHT, y2=bottom, stroke="black")
    steps = []
    for index, objective in enumerate(objectives):
        level = y(min(objective, high))
        steps += [f"{svg.number(x(index - 0.5))},{svg.number(level)}", f"{svg.number(x(index + 0.5))},"
                  f"{svg.number(level)}"]
    group.add("polyline", points=" ".join(steps), fill="none", stroke=OBJECTIVE, stroke_width=1.5,
              stroke_dasharray="6 3", class_="objective")
    latest = objectives[-1]
    label = group.add("text", f"objective {latest:g} s", x=WIDTH - RIGHT + 6, y=y(min(latest, high)) + 4,
                      fill=OBJECTIVE, class_="objective-label")
    if latest > high:
        label.add("tspan", "(above this scale)", x=WIDTH - RIGHT + 6, dy=14)
    _measurements(group, rows, x, y, key, series, top)


def _measurements(group: svg.Element, rows: list[dict[str, Any]], x: svg.Scale, y: svg.Scale, key: str,
                  series: str, top: float) -> None:
    runs: list[list[str]] = [[]]  # a missing measurement breaks the line
    for index, r in enumerate(rows):
        if r[key] is None:
            runs.append([])
        else:
            runs[-1].append(f"{svg.number(x(index))},{svg.number(y(r[key]))}")
    for points in runs:
        if len(points) > 1:
            group.add("polyline", points=" ".join(points), fill="none", stroke=LINE, stroke_width=1.5,
                      class_="trend-line")
    for index, r in enumerate(rows):
        verdict = "passed" if r["passed"] else "failed"
        scale = "" if r["time_scale"] == 1 else f", time scale {r['time_scale']:g}"
        tooltip = (f"{r['when']} fault {r['fault']} on {r['target']}{scale}: {series.upper()} "
                   f"{report.num(r[key])} s real vs objective {r[f'{series}_objective_seconds']:g} s; {verdict}")
        if r[key] is None:
            svg.marker(group, "cross", x(index), top + 8, 9, MISSING, class_="missing",
                       data_when=r["when"]).titled(tooltip)
            continue
        svg.marker(group, "circle", x(index), y(r[key]), 9, PASSED if r["passed"] else FAILED, "white",
                   class_=f"point {verdict}", data_when=r["when"], data_value=r[key]).titled(tooltip)
        if len(rows) <= 16:
            group.add("text", f"{report.num(r[key])} s", x=x(index), y=y(r[key]) - 9, text_anchor="middle",
                      font_size=10, class_="value-label")


def _short_when(text: str) -> str:
    moment = _when(text)
    return moment.astimezone(dt.UTC).strftime("%m-%d %H:%M") if moment else text


def terminal_table(result: dict[str, Any]):
    """The rows as a rich table: real-time seconds, the target with its time scale, the objectives (in the
    caption when every game day had the same)."""
    from rich.table import Table

    rows = result["rows"]
    objectives = {(r["rto_objective_seconds"], r["rpo_objective_seconds"]) for r in rows}
    same = len(objectives) == 1
    caption = result["seconds"]
    if same:
        rto, rpo = next(iter(objectives))
        caption = f"objectives: RTO {rto:g} s, RPO {rpo:g} s; {caption}"
    table = Table(title=f"Game days in {result['report_dir']}", caption=caption)
    for column in ("when (UTC)", "fault", "target (time scale)", "RTO s", "RPO s", "detection s", "failback s") \
            + (() if same else ("objectives RTO/RPO s",)) + ("passed",):
        table.add_column(column, justify="right" if column.endswith(" s") else "left")
    for r in rows:
        when = _when(r["when"])
        table.add_row(when.strftime("%Y-%m-%d %H:%M:%S") if when else r["when"], str(r["fault"]),
                      f"{r['target']} ({r['time_scale']:g})",
                      *(report.num(r[f"{k}_seconds"]) for k in ("rto", "rpo", "detection", "failback")),
                      *(() if same else (f"{r['rto_objective_seconds']:g} / {r['rpo_objective_seconds']:g}",)),
                      "[green]yes[/green]" if r["passed"] else "[red]no[/red]")
    return table
