"""The failover report renders the issue-13 result: the time scale stated, each scaled figure beside its real-time
equivalent, the real figures (not the scaled ones) against the objectives, lost writes with their timestamps and
whether they came back, conflicts; the timeline shows the fault window, the replication pause, the moments and
each lost write; write_files keeps the full result as JSON."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from failover_report_samples import PRIMARY, SECONDARY, sample_marks, sample_report
from rich.console import Console

from wildrydes_mr import report, svg

NS = {"s": svg.SVG_NAMESPACE}


def terminal_text(result) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(report.terminal_table(result))
    return console.file.getvalue()


def test_markers_are_the_contract_tuple():
    assert report.MARKERS == ("fault", "replication paused", "outage", "detection", "dns switch",
                              "first secondary response", "restore", "replication resumed", "failback")
    assert set(report.COLOURS) == set(report.MARKERS)


def test_scaled_figures_are_given_with_their_real_time_equivalent_and_compared_as_real_seconds():
    # 95 s measured at time scale 0.1 is 950 s real: within 900 s if one compared the scaled figure, but not.
    result = sample_report(scale=0.1, rto=95.0, rpo=1.0, objectives=(900, 60))
    assert report.comparison(result, "rto") == "RTO 95.0 s scaled = 950.0 s real vs objective 900 s: exceeded"
    assert report.comparison(result, "rpo") == "RPO 1.0 s scaled = 10.0 s real vs objective 60 s: within"
    markdown = report.markdown(result, "t.svg")
    assert "Time scale 0.1" in markdown and "1 s measured stands for 10 s real" in markdown
    assert "- RTO 95.0 s scaled = 950.0 s real vs objective 900 s: exceeded" in markdown
    assert "| RTO (first correct response from the secondary) | 95.0 | 950.0 | 900 (exceeded) |" in markdown
    assert "| RPO (acknowledged writes lost) | 1.0 | 10.0 | 60 (within) |" in markdown
    assert "| detection (health check unhealthy) | 3.1 | 31.0 |  |" in markdown
    assert "Replication paused 1.0 s scaled (10.0 s real) before the outage." in markdown
    text = terminal_text(result)
    flat = " ".join(text.split())  # the caption wraps
    assert "time scale 0.1" in flat and "real-time s" in flat and "1 s measured stands for 10 s real" in flat
    assert "RTO 95.0 s scaled = 950.0 s real vs objective 900 s: exceeded" in text.splitlines()
    rto_line = next(line for line in text.splitlines() if line.startswith("│ RTO "))
    assert "95.0" in rto_line and "950.0" in rto_line and "900 (exceeded)" in rto_line


def test_real_seconds_recorded_by_the_run_are_what_is_compared():
    result = sample_report(scale=0.1, rto=5.0)
    result["real_seconds"]["rto"] = 1000.0  # the run's own real-time equivalent wins over measured ÷ scale
    assert report.real_seconds(result, "rto") == 1000.0
    assert report.comparison(result, "rto").endswith("= 1000.0 s real vs objective 900 s: exceeded")
    del result["real_seconds"]
    assert report.real_seconds(result, "rto") == 50.0  # a report without it: measured ÷ scale


def test_unscaled_reports_say_so_and_show_one_figure():
    result = sample_report(scale=1.0, rto=54.0, target="aws", fault="outage", lost=0)
    assert report.comparison(result, "rto") == "RTO 54.0 s vs objective 900 s: within"
    markdown = report.markdown(result, "t.svg")
    assert "Time scale 1: every figure is in real seconds." in markdown
    assert "| measure | seconds | objective s |" in markdown and "scaled" not in markdown
    assert "| RTO (first correct response from the secondary) | 54.0 | 900 (within) |" in markdown
    assert "## Lost writes" not in markdown
    assert "real-time s" not in terminal_text(result)


def test_lost_writes_are_listed_with_timestamps_and_whether_they_came_back():
    result = sample_report(lost=3)
    result["lost_writes"][2]["reappeared"] = None  # not checked
    markdown = report.markdown(result, "t.svg")
    lines = markdown.splitlines()
    for write in result["lost_writes"]:
        line = next(line for line in lines if line.startswith(f"| {write['seq']} | {write['ticket_id']} |"))
        assert write["acked_at"] in line
        assert f"| {report.num(write['seconds'])} | {report.num(write['seconds'] / 0.1)} |" in line
    first, second, third = (next(line for line in lines if line.startswith(f"| {w['seq']} |"))
                            for w in result["lost_writes"])
    assert f"yes, at {result['lost_writes'][0]['reappeared_at']}" in first
    assert "| no |" in second and "| not checked |" in third
    text = terminal_text(result)
    assert "3 (1 back after failback)" in text and result["lost_writes"][1]["acked_at"] in text


def test_conflicts_are_reported_with_the_winner_and_cells_stay_cells():
    result = sample_report()
    result["conflicts"][0]["detail"] = "primary wrote a | b, secondary wrote c"
    markdown = report.markdown(result, "t.svg")
    assert "## Conflicting writes (last writer wins)" in markdown
    assert (f"| ticket-7 | {PRIMARY}, {SECONDARY} | {SECONDARY} | primary wrote a \\| b, secondary wrote c |"
            in markdown)
    assert "Conflicting writes" in terminal_text(result)
    assert "Conflicting" not in report.markdown({**result, "conflicts": []}, "t.svg")


def parse_timeline(result) -> ET.Element:
    writes, probes = sample_marks(result)
    return ET.fromstring(report.timeline_svg(result, writes, probes))


def line_x(root: ET.Element, name: str) -> float:
    marker = root.find(f"s:g[@class='marker'][@data-name='{name}']", NS)
    return float(marker.find("s:line", NS).get("x1"))


def test_timeline_shades_the_fault_window_and_the_replication_pause():
    result = sample_report(fault="replication")
    root = parse_timeline(result)
    fault = root.find("s:g[@class='span fault']/s:rect", NS)
    pause = root.find("s:g[@class='span replication-pause']/s:rect", NS)
    assert fault is not None and pause is not None
    # The fault window runs from the fault to the restore, the pause from its start to replication resumed.
    assert float(fault.get("x")) == pytest.approx(line_x(root, "fault"), abs=0.01)
    assert float(fault.get("x")) + float(fault.get("width")) == pytest.approx(line_x(root, "restore"), abs=0.01)
    assert float(pause.get("x")) + float(pause.get("width")) == pytest.approx(line_x(root, "replication resumed"),
                                                                              abs=0.01)
    assert "to 8.2 s scaled (82.0 s real)" in pause.find("s:title", NS).text
    no_pause = parse_timeline(sample_report(fault="outage"))
    assert no_pause.find("s:g[@class='span replication-pause']", NS) is None
    assert no_pause.find("s:g[@class='span fault']", NS) is not None


def test_timeline_marks_each_moment_that_happened_and_nothing_else():
    result = sample_report(fault="outage")
    root = parse_timeline(result)
    drawn = [g.get("data-name") for g in root.findall("s:g[@class='marker']", NS)]
    assert drawn == [m["name"] for m in result["timeline"] if m["seconds"] is not None]
    assert {"dns switch", "first secondary response"} <= set(drawn)
    assert "replication paused" not in drawn and "replication resumed" not in drawn
    dns = root.find("s:g[@class='marker'][@data-name='dns switch']/s:text", NS).text
    assert dns == "dns switch 3.9 s scaled (39.0 s real)"
    assert line_x(root, "dns switch") < line_x(root, "first secondary response") < line_x(root, "failback")


def test_timeline_marks_each_lost_write_distinctly_on_the_canary_row():
    result = sample_report(lost=3)
    root = parse_timeline(result)
    marks = root.findall("s:polygon[@class='lost-write']", NS)
    assert [m.get("data-seq") for m in marks] == [str(w["seq"]) for w in result["lost_writes"]]
    assert [m.get("data-reappeared") for m in marks] == ["true", "false", "true"]
    assert [m.get("fill") for m in marks] == ["none", report.LOST, "none"]  # back: outlined; still lost: filled
    for mark in marks:
        ys = [float(point.split(",")[1]) for point in mark.get("points").split()]
        assert report.TOP <= min(ys) and max(ys) <= report.CANARY_Y  # just above the canary bars
        assert "acknowledged at" in mark.find("s:title", NS).text
    writes = {r.get("class") for r in root.findall("s:rect", NS) if (r.get("class") or "").startswith("write")}
    assert writes == {"write lost", "write acked", "write refused"}
    legend = [t.text for t in root.findall("s:g[@class='legend']/s:g/s:text", NS)]
    assert "lost write, not back after failback" in legend and "replication pause window" in legend


def test_timeline_states_the_scale_and_labels_real_seconds_under_the_ticks():
    root = parse_timeline(sample_report(scale=0.1))
    assert root.find("s:text[@class='scale-note']", NS).text.startswith("time scale 0.1")
    axis = root.find("s:g[@class='axis x-axis']", NS)
    scaled = [float(t.text) for t in axis.findall("s:text[@class='tick-label']", NS)]
    real = [float(t.text) for t in axis.findall("s:text[@class='tick-label second']", NS)]
    assert real == pytest.approx([s / 0.1 for s in scaled])
    unscaled = parse_timeline(sample_report(scale=1.0))
    assert unscaled.find("s:g[@class='axis x-axis']/s:text[@class='tick-label second']", NS) is None


def test_write_files_keeps_the_full_result_as_json_beside_the_markdown_and_the_picture(tmp_path):
    result = sample_report()
    writes, probes = sample_marks(result)
    markdown = report.write_files(tmp_path / "reports", result, writes, probes)
    stem = markdown.stem
    assert markdown.name.startswith("failover-") and markdown.suffix == ".md"
    assert json.loads((markdown.parent / f"{stem}.json").read_text()) == result
    ET.fromstring((markdown.parent / f"{stem}.svg").read_text())
    assert f"![timeline]({stem}.svg)" in markdown.read_text()
