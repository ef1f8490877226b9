"""`wildrydes policy`: prints the least-privilege IAM policy documents that a deployer (or, with `--for operator`,
the game day's operator) needs for this config (wildrydes_mr/policy.py), as JSON documents with a header line
each, or with `--output json` as one JSON object. Read-only: it needs no state, no lock and no local cloud; its
only AWS call is STS GetCallerIdentity, for the account id, unless `--account` names it."""

from __future__ import annotations

import json
import re
from typing import Any

import click

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def _options(ctx: click.Context) -> Any:
    """The CLI's global options (cli.py puts them on the root context), or the defaults outside the CLI."""
    options = ctx.find_root().obj
    if options is None:
        from wildrydes_mr.session import Options

        options = Options(None, None, None, "text", False)
    return options


def caller_account(aws: Any, region: str) -> str:
    """The account of the caller's credentials (STS GetCallerIdentity), or a UsageError saying what to pass."""
    from wildrydes_mr.aws import BotoCoreError, ClientError, error_message
    from wildrydes_mr.errors import UsageError, WildrydesError

    hint = "pass --account ID (12 digits), or configure AWS credentials (AWS_PROFILE, ...) so STS can tell"
    try:
        return aws.account_id(region)
    except WildrydesError:
        raise UsageError("no AWS account id: no --account and no AWS credentials to ask STS with", hint=hint) from None
    except (ClientError, BotoCoreError) as exc:
        raise UsageError(f"no AWS account id: STS GetCallerIdentity failed ({error_message(exc)})",
                         hint=hint) from None


def result(config: Any, role: str, account: str, partition: str) -> dict[str, Any]:
    """What the command prints: the documents with their names and sizes, and the actions granted on `*`."""
    from wildrydes_mr import policy

    documents = policy.documents(config, account, partition, role)
    return {"for": role, "deployment": config.deployment, "account": account, "partition": partition,
            "regions": list(config.regions.both), "limit": policy.MAX_POLICY_CHARACTERS,
            "policies": [{"name": f"{config.deployment}-{role}-{number}", "characters": policy.policy_size(document),
                          "document": document} for number, document in enumerate(documents, start=1)],
            "unscoped": policy.unscoped(config, role)}


def render_text(printed: dict[str, Any]) -> None:
    """The documents one after another, each after a `#` header line; then the note on the `*` actions."""
    policies = printed["policies"]
    for number, entry in enumerate(policies, start=1):
        click.echo(f"# {entry['name']}: policy {number} of {len(policies)} for the {printed['for']} of "
                   f"{printed['deployment']} in account {printed['account']} ({entry['characters']} of "
                   f"{printed['limit']} characters)")
        click.echo(json.dumps(entry["document"], indent=2))
    click.echo('# Granted on "*" only, because AWS has no resource-level permission for them:')
    for item in printed["unscoped"]:
        click.echo(f"#   {item['action']}: {item['why']}")


@click.command("policy")
@click.option("--for", "role", type=click.Choice(["deployer", "operator"]), default="deployer", show_default=True,
              help="deployer: build-api, build-ui, replicate, deploy, status, cleanup, preflight; operator: "
                   "test-failover (faults, FIS, Route 53's view, the canary's API calls).")
@click.option("--account", metavar="ID", help="The 12-digit AWS account id the ARNs name.  [default: the "
                                              "caller's, from STS GetCallerIdentity]")
@click.pass_context
def policy(ctx: click.Context, role: str, account: str | None) -> None:
    """Print the least-privilege IAM policy this config needs: one or more managed-policy documents (IAM allows
    6,144 characters each), resources scoped to the names and regions of this config."""
    from wildrydes_mr import ui
    from wildrydes_mr.aws import Aws
    from wildrydes_mr.errors import UsageError

    options = _options(ctx)
    config = options.load_config()
    primary = config.regions.primary
    if account is not None and not ACCOUNT_ID.match(account):
        raise UsageError(f"--account {account!r}: expected a 12-digit AWS account id")
    aws = Aws()  # the standard credential chain: the account and partition of real AWS, whatever the target
    account = account or caller_account(aws, primary)
    printed = result(config, role, account, aws.partition(primary))
    if options.output == "json":
        ui.render(printed, "json")
    else:
        render_text(printed)
