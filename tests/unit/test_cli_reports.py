"""`wildrydes reports`: reads the game-day reports beside the state file (or --report-dir), prints a table and
the trend picture's path, or the rows as JSON; says so in one line when there are none. Files only: no AWS
session, no local cloud."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from failover_report_samples import sample_marks, sample_report

from wildrydes_mr import cli, report


@pytest.fixture
def no_cloud(monkeypatch):
    import boto3.session

    from wildrydes_mr.local import cloud

    def forbidden(*a, **k):
        raise AssertionError("an AWS session or the local cloud was started")
    monkeypatch.setattr(boto3.session, "Session", forbidden)
    monkeypatch.setattr(cloud, "up", forbidden)
    monkeypatch.setattr(cloud, "find", forbidden)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def write_game_days(directory: Path, count: int = 3) -> list[dict]:
    results = []
    for day in range(count):
        result = sample_report(t0=dt.datetime(2025, 5, 14 + day, 10, 30, tzinfo=dt.UTC), rto=5.0 + day,
                               passed=day != 1)
        report.write_files(directory, result, *sample_marks(result))
        results.append(result)
    return results


def invoke(args: list[str]):
    return CliRunner().invoke(cli.cli, args, env={"COLUMNS": "200"}, catch_exceptions=False)


@pytest.mark.parametrize(("options", "state_dir"), [([], ".wildrydes"), (["--state", "state/x.json"], "state")])
def test_reports_beside_the_state_file_by_default(options, state_dir, no_cloud, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config file here: the built-in defaults, state .wildrydes/wildrydes.json
    write_game_days(tmp_path / state_dir / "reports")
    outcome = invoke([*options, "reports"])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.splitlines()
    rows = [line for line in lines if line.startswith("│ 2025-05-")]
    assert len(rows) == 3
    assert "50.0" in rows[0] and "60.0" in rows[1] and "70.0" in rows[2]  # real-time RTO (measured ÷ 0.1)
    cells = [[cell.strip() for cell in row.strip("│").split("│")] for row in rows]
    assert [c[2] for c in cells] == ["local (0.1)"] * 3 and [c[-1] for c in cells] == ["yes", "no", "yes"]
    trend = (tmp_path / state_dir / "reports" / "trend.svg").resolve()
    assert lines[-1] == f"trend: {trend}" and trend.exists()
    assert "real-time equivalents" in outcome.output


def test_reports_json_prints_the_rows(no_cloud, tmp_path):
    write_game_days(tmp_path / "r")
    outcome = invoke(["--output", "json", "reports", "--report-dir", str(tmp_path / "r")])
    assert outcome.exit_code == 0
    printed = json.loads(outcome.stdout)
    assert [r["rto_seconds"] for r in printed["rows"]] == [50.0, 60.0, 70.0]
    assert [r["passed"] for r in printed["rows"]] == [True, False, True]
    assert printed["trend_file"] == str((tmp_path / "r" / "trend.svg").resolve())


def test_no_reports_is_one_clear_line(no_cloud, tmp_path):
    outcome = invoke(["reports", "--report-dir", str(tmp_path / "empty")])
    assert outcome.exit_code == 0
    assert outcome.output.strip().splitlines() == [
        f"no game-day reports in {tmp_path / 'empty'} (failover-*.json): run `wildrydes test-failover` first"]


def test_an_unreadable_report_is_noted_on_stderr_and_the_rest_listed(no_cloud, tmp_path):
    write_game_days(tmp_path / "r", count=2)
    (tmp_path / "r" / "failover-20250101T000000000Z.json").write_text("{ half a file")
    outcome = invoke(["--output", "json", "reports", "--report-dir", str(tmp_path / "r")])
    assert outcome.exit_code == 0
    assert len(json.loads(outcome.stdout)["rows"]) == 2
    assert "skipped failover-20250101T000000000Z.json: unreadable" in outcome.stderr
