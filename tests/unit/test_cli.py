"""The CLI's contract: fast help, one-line errors with exit codes, no AWS call on bad input, --yes for cleanup."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from wildrydes_mr import cli

AWS_MODULES = ("boto3", "botocore", "moto")


def run_cli(args, monkeypatch, tmp_path, forbid_aws=True):
    """Runs `wildrydes ARGS` in-process; with forbid_aws any attempt to start an AWS session or the local cloud
    fails the test."""
    monkeypatch.chdir(tmp_path)
    if forbid_aws:
        import boto3.session

        from wildrydes_mr.local import cloud

        def forbidden(*a, **k):
            raise AssertionError("an AWS session or the local cloud was started")
        monkeypatch.setattr(boto3.session, "Session", forbidden)
        monkeypatch.setattr(cloud, "up", forbidden)
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
        raise SystemExit(0)
    return exited.value.code


def test_help_and_version_import_no_aws_sdk():
    code = textwrap.dedent("""
        import sys
        from wildrydes_mr import cli
        for args in (["--help"], ["--version"], ["build-api", "--help"]):
            try:
                cli.main(args)
            except SystemExit:
                pass
        print(sorted(m for m in sys.modules if m.split('.')[0] in ("boto3", "botocore", "moto")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "Module 1" in out and "--dry-run" in out


@pytest.mark.parametrize("text", ["dns: {ttl: 0}\n", "regions: {primary: eu-west-1, secondary: eu-west-1}\n",
                                  "bogus: 1\n", "target: [\n"])
@pytest.mark.parametrize("command", [["build-api"], ["build-api", "--dry-run"], ["cleanup", "--yes"],
                                     ["local", "up"]])
def test_bad_config_exits_2_with_one_line_and_no_aws_call(text, command, monkeypatch, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(text)
    code = run_cli(["--config", "bad.yaml", *command], monkeypatch, tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: bad.yaml:")
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert not (tmp_path / ".wildrydes").exists()


def test_corrupt_state_is_reported_and_nothing_is_deleted(monkeypatch, tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("target: aws\n")
    state_file = tmp_path / "broken.json"
    state_file.write_text('{"schema_version": 1, "resources": ')
    code = run_cli(["--config", "c.yaml", "--state", "broken.json", "cleanup", "--yes"], monkeypatch, tmp_path)
    assert code == 3
    assert "unreadable" in capsys.readouterr().err
    assert state_file.read_text() == '{"schema_version": 1, "resources": '


def test_cleanup_without_yes_when_not_interactive_is_refused(monkeypatch, tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("target: aws\n")
    (tmp_path / "s.json").write_text(json.dumps({
        "schema_version": 1, "deployment": "wildrydes", "target": "aws", "sequence": 1, "extras": {},
        "resources": {"eu-west-1/log-group/g": {"kind": "log-group", "region": "eu-west-1", "name": "g",
                                                "module": "build-api", "order": 1}}}))
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    from moto import mock_aws
    with mock_aws():
        code = run_cli(["--config", "c.yaml", "--state", "s.json", "cleanup"], monkeypatch, tmp_path,
                       forbid_aws=False)
    assert code == 2
    assert "--yes" in capsys.readouterr().err
    assert "eu-west-1/log-group/g" in (tmp_path / "s.json").read_text()


def test_dry_run_json_lists_creates_and_changes_nothing(monkeypatch, tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("target: aws\n")
    from moto import mock_aws
    with mock_aws():
        code = run_cli(["--config", "c.yaml", "--output", "json", "build-api", "--dry-run"], monkeypatch, tmp_path,
                       forbid_aws=False)
        import boto3
        assert boto3.client("lambda", "eu-west-1").list_functions()["Functions"] == []
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dry_run"] is True
    assert len(result["actions"]) == 19 and {a["action"] for a in result["actions"]} == {"create"}
    assert not (tmp_path / ".wildrydes" / "wildrydes.json").exists()
