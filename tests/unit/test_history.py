"""Game-day history: the failover-*.json reports read back oldest first (bad files skipped with a note), one row
each in real-time seconds, and a trend.svg with one point per game day in each series against the objectives."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from failover_report_samples import sample_marks, sample_report

from wildrydes_mr import history, report, svg

NS = {"s": svg.SVG_NAMESPACE}
T0 = dt.datetime(2025, 5, 14, 10, 30, tzinfo=dt.UTC)


def game_day(directory: Path, days: int, **figures) -> dict:
    result = sample_report(t0=T0 + dt.timedelta(days=days), **figures)
    writes, probes = sample_marks(result)
    report.write_files(directory, result, writes, probes)
    return result


@pytest.fixture
def three_game_days(tmp_path):
    # Written out of order: the history sorts by the game day's T0, not by when the file appeared.
    directory = tmp_path / "reports"
    game_day(directory, 2, fault="region", rto=None, rpo=2.2, passed=False)
    game_day(directory, 0, fault="replication", rto=5.4, rpo=1.0)
    game_day(directory, 1, fault="outage", rto=60.0, rpo=0.0, scale=1.0, target="aws", lost=0)
    return directory


def test_three_reports_give_three_rows_oldest_first_in_real_seconds(three_game_days):
    result = history.run(three_game_days)
    rows = result["rows"]
    assert [r["fault"] for r in rows] == ["replication", "outage", "region"]
    assert [r["when"] for r in rows] == sorted(r["when"] for r in rows)
    first, second, third = rows
    assert (first["time_scale"], first["rto_seconds"], first["rpo_seconds"]) == (0.1, 54.0, 10.0)
    assert (first["detection_seconds"], first["failback_seconds"]) == (31.0, 45.0)
    assert (second["target"], second["time_scale"], second["rto_seconds"]) == ("aws", 1.0, 60.0)
    assert third["rto_seconds"] is None and third["passed"] is False and first["passed"] is True
    assert all(Path(r["file"]).suffix == ".json" and Path(r["file"]).exists() for r in rows)
    assert result["skipped"] == [] and "real-time equivalents" in result["seconds"]
    assert Path(result["trend_file"]) == (three_game_days / "trend.svg").resolve()


def series(root: ET.Element, name: str) -> ET.Element:
    return root.find(f"s:g[@class='series'][@data-series='{name}']", NS)


def test_trend_has_one_point_per_game_day_in_each_series_coloured_pass_fail(three_game_days):
    history.run(three_game_days)
    root = ET.fromstring((three_game_days / "trend.svg").read_text())
    rto, rpo = series(root, "rto"), series(root, "rpo")
    rpo_points = rpo.findall("s:circle", NS)
    assert len(rpo_points) == 3
    assert [p.get("class") for p in rpo_points] == ["point passed", "point passed", "point failed"]
    assert [p.get("fill") for p in rpo_points] == [history.PASSED, history.PASSED, history.FAILED]
    assert [float(p.get("data-value")) for p in rpo_points] == [10.0, 0.0, 22.0]
    # The game day without a failover has no RTO: it is drawn as "not measured", not as a point at 0.
    assert len(rto.findall("s:circle", NS)) == 2 and len(rto.findall("s:path[@class='missing']", NS)) == 1
    assert len(rto.findall("s:circle", NS)) + len(rto.findall("s:path[@class='missing']", NS)) == 3
    # Points stand in time order from left to right, and a bigger RPO stands higher.
    xs = [float(p.get("cx")) for p in rpo_points]
    ys = [float(p.get("cy")) for p in rpo_points]
    assert xs == sorted(xs) and ys[2] < ys[0] < ys[1]


def test_trend_is_readable_labelled_axes_objectives_legend(three_game_days):
    history.run(three_game_days)
    root = ET.fromstring((three_game_days / "trend.svg").read_text())
    assert "3 game days" in root.find("s:text[@class='title']", NS).text
    for name in ("rto", "rpo"):
        group = series(root, name)
        assert group.find("s:g[@class='axis y-axis']/s:text[@class='axis-label']", NS).text == \
            f"{name.upper()} real s"
        assert group.find("s:polyline[@class='objective']", NS) is not None
        label = group.find("s:text[@class='objective-label']", NS)
        assert label.text == "objective 900 s"
        # 900 s is far above every measurement: the scale follows the points and says where the objective is.
        assert label.find("s:tspan", NS).text == "(above this scale)"
    x_labels = [t.text for t in root.findall("s:g[@class='axis x-axis']/s:text[@class='tick-label']", NS)]
    assert x_labels == ["05-14 10:30", "05-15 10:30", "05-16 10:30"]
    legend = [t.text for t in root.findall("s:g[@class='legend']/s:g/s:text", NS)]
    assert legend == ["passed", "failed", "not measured", "objective"]


def test_an_objective_near_the_measurements_is_drawn_on_the_scale(tmp_path):
    directory = tmp_path / "reports"
    game_day(directory, 0, rto=5.0, rpo=1.0, objectives=(120, 15))  # real: RTO 50 of 120, RPO 10 of 15
    game_day(directory, 1, rto=7.0, rpo=2.0, objectives=(120, 15), passed=False)
    history.run(directory)
    root = ET.fromstring((directory / "trend.svg").read_text())
    rpo = series(root, "rpo")
    assert rpo.find("s:text[@class='objective-label']", NS).find("s:tspan", NS) is None
    objective_y = float(rpo.find("s:polyline[@class='objective']", NS).get("points").split()[0].split(",")[1])
    point_ys = [float(p.get("cy")) for p in rpo.findall("s:circle", NS)]
    assert point_ys[0] > objective_y > point_ys[1]  # 10 s under the line, 20 s over it


def test_unreadable_and_foreign_files_are_skipped_with_a_note(three_game_days):
    (three_game_days / "failover-broken.json").write_text('{"t0": ')
    (three_game_days / "failover-other.json").write_text('{"hello": "world"}')
    (three_game_days / "failover-binary.json").write_bytes(b"\xff\xfe\x00")
    (three_game_days / "notes.json").write_text("not a report and not named like one")
    result = history.run(three_game_days)
    assert len(result["rows"]) == 3
    assert sorted(result["skipped"]) == ["skipped failover-binary.json: unreadable (UnicodeDecodeError)",
                                         "skipped failover-broken.json: unreadable (JSONDecodeError)",
                                         "skipped failover-other.json: not a failover report (no t0 timestamp)"]


def test_no_reports_no_rows_and_no_trend(tmp_path):
    for directory in (tmp_path / "missing", tmp_path):
        result = history.run(directory)
        assert result["rows"] == [] and result["trend_file"] is None
    assert not (tmp_path / "trend.svg").exists()
