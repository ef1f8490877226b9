"""`wildrydes preflight`: the checklist of wildrydes_mr.preflight, as a table or one JSON object; exit 1 when an
item fails. Read-only: it takes no lock, writes no state and, on target local, starts no local cloud."""

from __future__ import annotations

import sys
from typing import Any

import click

STYLES = {"pass": "green", "fail": "red", "cannot-check": "yellow"}


def read_only_context(options: Any, config: Any) -> Any:
    """An engine Context that can only read: an in-memory state (never saved) and, on target local, a target
    that names no local cloud (preflight's local checks need none)."""
    from wildrydes_mr import state as state_module
    from wildrydes_mr.aws import Aws
    from wildrydes_mr.engine import Context
    from wildrydes_mr.targets import LocalTarget, Target
    from wildrydes_mr.ui import Reporter

    target = Target() if config.target == "aws" else LocalTarget()
    state = state_module.State(path=options.state_file(config), deployment=config.deployment, target=config.target)
    return Context(aws=Aws(target.endpoint), config=config, state=state, target=target, module="preflight",
                   dry_run=True, reporter=Reporter(options.output))


def render_text(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="wildrydes preflight")
    for column in ("status", "check", "detail"):
        table.add_column(column)
    for item in result["items"]:
        style = STYLES[item["status"]]
        detail = escape(item["detail"]) + (f"\n[bold]fix:[/bold] {escape(item['fix'])}" if item["fix"] else "")
        table.add_row(f"[{style}]{item['status']}[/{style}]", escape(item["name"]), detail)
    console = Console()
    console.print(table)
    for item in result["items"]:
        lines = item.get("data", {}).get("lines")
        if item["group"] == "cost" and lines:
            costs = Table(title=f"standing monthly cost — ESTIMATE, list prices as of {item['data']['prices_as_of']}")
            for column in ("region", "what", "quantity", "rate", "USD/month"):
                costs.add_column(column)
            for line in lines:
                costs.add_row(line["region"], escape(line["what"]), f"{line['quantity']:g}", escape(line["rate"]),
                              f"{line['usd']:.2f}")
            costs.add_row("", "[bold]total[/bold]", "", "", f"[bold]{item['data']['total_usd']:.2f}[/bold]")
            console.print(costs)
            console.print("sources: " + ", ".join(sorted({line["source"] for line in lines})))
    console.print("[green]passed[/green]" if result["passed"] else "[red]failed[/red]: fix the items above")


@click.command("preflight")
@click.option("--resolver", metavar="HOST[:PORT]",
              help="The DNS resolver asked for the domain's NS records.  [default: the system's resolvers]")
@click.pass_context
def preflight(ctx: click.Context, resolver: str | None) -> None:
    """Check, changing nothing, what a deploy on AWS would run into: credentials and account, both regions
    enabled, the hosted zone and the domain's delegation to it, permissions for every call the tool makes,
    quotas, the Facebook app id, the predicted RTO; and estimate the standing monthly cost.

    Each item is pass, fail or cannot-check (shown, not a failure). Exits 1 when an item fails."""
    from wildrydes_mr import preflight as checks
    from wildrydes_mr import ui
    from wildrydes_mr.preflight.hosted_zone import parse_resolver

    options = ctx.find_root().obj
    config = options.load_config()
    address = parse_resolver(resolver) if resolver else None
    result = checks.run(read_only_context(options, config), address)
    if options.output == "json":
        ui.render(result, "json")
    else:
        render_text(result)
    if not result["passed"]:
        sys.exit(1)
