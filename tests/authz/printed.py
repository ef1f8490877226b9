"""`wildrydes policy` as a person runs it: the command under the CLI's own global options (cli.cli's callback and
parameters), through click's CliRunner, until cli.py registers it itself."""

from __future__ import annotations

import json
from typing import Any

import click
from click.testing import CliRunner, Result


def invoke(args: list[str]) -> Result:
    from wildrydes_mr import cli
    from wildrydes_mr.commands.policy import policy

    group = click.Group("wildrydes", commands={"policy": policy}, callback=cli.cli.callback, params=cli.cli.params)
    return CliRunner().invoke(group, args)


def printed_documents(config_path: Any, role: str, account: str) -> list[dict[str, Any]]:
    """The documents `wildrydes --config PATH --output json policy --for ROLE --account ID` prints."""
    result = invoke(["--config", str(config_path), "--output", "json", "policy", "--for", role, "--account", account])
    assert result.exit_code == 0, (result.output, result.exception)
    return [entry["document"] for entry in json.loads(result.output)["policies"]]
