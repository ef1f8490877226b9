"""The `wildrydes` command line: parse options, call a workflow, render its result. Nothing else.

Heavy imports (boto3, moto, rich) happen inside commands, so `wildrydes --help` stays fast. Every
WildrydesError becomes a one-line message and an exit code here, in `main`; --debug shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wildrydes_mr import __version__

OUTPUTS = click.Choice(["text", "json"])
TARGETS = click.Choice(["local", "aws"])


def _options(ctx: click.Context):
    return ctx.find_root().obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML config file.  [default: config/wildrydes.yaml]")
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
              help="State file.  [default: .wildrydes/<deployment>.json]")
@click.option("--target", type=TARGETS, help="Override the config's target: the local cloud or real AWS.")
@click.option("--output", type=OUTPUTS, default="text", show_default=True,
              help="json prints one JSON object on stdout; progress always goes to stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="wildrydes")
@click.pass_context
def cli(ctx: click.Context, config_path, state_path, target, output, debug) -> None:
    """Provision the Wild Rydes multi-region serverless ticketing app, prove it fails over, and remove it.

    Runs against real AWS (standard credential chain, AWS_PROFILE, AWS_ENDPOINT_URL) or against a local
    cloud that it starts itself (target local, the default config).
    """
    from wildrydes_mr.session import Options

    ctx.obj = Options(config_path, state_path, target, output, debug)


def _dry_run_option(function):
    return click.option("--dry-run", is_flag=True,
                        help="Print the plan (create / update / nothing per resource) and change nothing.")(function)


@cli.command("build-api")
@_dry_run_option
@click.pass_context
def build_api(ctx: click.Context, dry_run: bool) -> None:
    """Module 1: tickets table, Lambda functions and the REST API in the primary region."""
    _run_module(ctx, "build_api", dry_run)


def _run_module(ctx: click.Context, module: str, dry_run: bool) -> None:
    """Runs one workshop module's workflow and renders its result with the actions taken (or planned)."""
    import importlib

    from wildrydes_mr import session, ui

    workflow = importlib.import_module(f"wildrydes_mr.workflows.{module}")
    options = _options(ctx)
    with session.run(options, workflow.MODULE, dry_run) as run:
        result = workflow.run(run)
        result["dry_run"] = dry_run
        result["actions"] = [a.to_json() for a in run.actions]
    ui.render(_summarise(result, options.output), options.output)


@cli.command("build-ui")
@_dry_run_option
@click.pass_context
def build_ui(ctx: click.Context, dry_run: bool) -> None:
    """Module 2: the web app on S3 behind HTTPS (CloudFront), Cognito identity pool with Facebook sign-in."""
    _run_module(ctx, "build_ui", dry_run)


@cli.command()
@_dry_run_option
@click.pass_context
def replicate(ctx: click.Context, dry_run: bool) -> None:
    """Module 3: global table, the API in the second region, certificates, custom domains, Route 53 failover."""
    _run_module(ctx, "replicate", dry_run)


@cli.command()
@_dry_run_option
@click.option("--skip-preflight", is_flag=True, help="On target aws, do not run `preflight` first.")
@click.option("--resolver", metavar="HOST[:PORT]",
              help="The DNS resolver preflight asks for the domain's NS records.  [default: the system's]")
@click.option("--sequential", is_flag=True, help="Run the plan's steps one after another (for comparison).")
@click.pass_context
def deploy(ctx: click.Context, dry_run: bool, skip_preflight: bool, resolver: str | None, sequential: bool) -> None:
    """Modules 1-3 as one dependency graph: build-api, build-ui and replicate, both regions at once, every step
    started as soon as what it needs exists, so the long waits (certificates, CloudFront, the replica) overlap.
    Records what the module commands record; a second run changes nothing. --dry-run prints the plan."""
    from wildrydes_mr import session, ui
    from wildrydes_mr.workflows import deploy as workflow

    options = _options(ctx)
    with session.run(options, workflow.MODULE, dry_run) as run:
        from wildrydes_mr.preflight.hosted_zone import parse_resolver

        result = workflow.run(run, parallel=not sequential, preflight=not skip_preflight,
                              resolver=parse_resolver(resolver) if resolver else None)
        result["dry_run"] = dry_run
        result["actions"] = [a.to_json() for a in run.actions]
    ui.render(_summarise(result, options.output), options.output)


@cli.command("test-failover")
@click.option("--fault", type=click.Choice(["outage", "health", "replication", "region"]), default="outage",
              show_default=True,
              help="outage: every primary function throttled to 0; health: only /health forced unhealthy; "
                   "replication: replication paused through AWS FIS, then the outage a pause window later; "
                   "region: the whole primary goes dark (local: `local outage`; AWS: outage + FIS pause).")
@click.option("--pause-window", type=click.FloatRange(min=0, max=3600), default=10.0, show_default=True,
              help="With --fault replication: seconds between the replication pause and the outage "
                   "(scaled by local.time_scale on the local cloud).")
@click.option("--restore", is_flag=True, help="Only remove a fault that a killed run left behind, then exit.")
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the Markdown report and its timeline go.  [default: beside the state file, reports/]")
@click.pass_context
def test_failover(ctx: click.Context, fault: str, pause_window: float, restore: bool,
                  report_dir: Path | None) -> None:
    """Module 4: inject a regional fault, measure RTO and RPO, remove the fault, measure failback, report.

    Exits non-zero when RTO or RPO exceeds its objective or the system did not fail over or back.
    """
    import signal

    from wildrydes_mr import report, session, ui
    from wildrydes_mr.workflows import test_failover as workflow

    def interrupted(*_):
        raise KeyboardInterrupt  # the workflow's finally removes the fault
    signal.signal(signal.SIGTERM, interrupted)
    options = _options(ctx)
    with session.run(options, workflow.MODULE) as run:
        if restore:
            ui.render(workflow.restore(run), options.output)
            return
        result = workflow.run(run, fault, report_dir, pause_window=pause_window)
    if options.output == "json":
        ui.render(result, "json")
    else:
        from rich.console import Console

        console = Console()
        console.print(report.terminal_table(result))
        console.print(f"report: {result['report_file']}")
        for problem in result["problems"]:
            console.print(f"[red]problem:[/red] {problem}")
    if not result["passed"]:
        sys.exit(1)


def _summarise(result: dict, output: str) -> dict:
    """Text output shows the counts of actions; JSON keeps the full list."""
    if output == "json":
        return result
    counts: dict[str, int] = {}
    for action in result.get("actions", []):
        counts[action["action"]] = counts.get(action["action"], 0) + 1
    summary = {k: v for k, v in result.items() if k != "actions"}
    summary["actions"] = ", ".join(f"{n} {verb}" for verb, n in sorted(counts.items())) or "none"
    return summary


@cli.command()
@_dry_run_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed when not interactive).")
@click.option("--sweep", is_flag=True,
              help="Also delete resources of this deployment that the state file does not know (found by tag or "
                   "by the names only this deployment uses).")
@click.pass_context
def cleanup(ctx: click.Context, dry_run: bool, yes: bool, sweep: bool) -> None:
    """Module 5: delete every resource this deployment made, newest first, then verify nothing is left.

    Exits non-zero when anything of this deployment remains (json: `remaining`)."""
    from wildrydes_mr import session, ui
    from wildrydes_mr.errors import Aborted, UsageError
    from wildrydes_mr.workflows import cleanup as workflow

    options = _options(ctx)
    with session.run(options, "cleanup", dry_run) as run:
        records, strays = workflow.planned(run, sweep)
        if (records or strays) and not dry_run and not yes:
            if not sys.stdin.isatty():
                raise UsageError(f"cleanup would delete {len(records) + len(strays)} resources; pass --yes to "
                                 "confirm when not running interactively")
            for record in records:
                click.echo(f"  delete {record['kind']} {record['name']} ({record['region']})", err=True)
            for record in strays:
                click.echo(f"  delete {record['kind']} {record['name']} ({record['region']}) "
                           f"[not in the state file; found by {record['found_by']}]", err=True)
            if not click.confirm(f"Delete these {len(records) + len(strays)} resources?", err=True):
                raise Aborted("cleanup cancelled; nothing was deleted")
        result = workflow.run(run, sweep, strays)
    result["dry_run"] = dry_run
    ui.render(result if options.output == "json" else
              {"deleted": len(result["deleted"]), "swept": len(result["swept"]),
               "remaining": len(result["remaining"]), "dry_run": dry_run}, options.output)
    for failure in result["failures"]:
        ui.render_error(failure["message"], failure["hint"])
    for left in result["remaining"]:
        ui.render_error(f"still present: {left['kind']} {left['name']} in {left['region']}", None)
    if result["remaining"]:
        sys.exit(1)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Each recorded resource per region and whether it still exists and matches (drift); health checks; the
    region api.<domain> answers with. Read-only; exits 1 when anything drifted."""
    from wildrydes_mr import session, ui
    from wildrydes_mr.workflows import status as workflow

    options = _options(ctx)
    with session.run(options, "status", dry_run=True, lock=False, quiet=True) as run:
        result = workflow.run(run)
    if options.output == "json":
        ui.render(result, "json")
    else:
        _render_status(result)
    if result["drift"]:
        sys.exit(1)


def _render_status(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    styles = {"present": "green", "drifted": "yellow", "missing": "red"}
    table = Table(title=f"wildrydes status: {result['deployment']} on {result['target']}")
    for column in ("region", "kind", "name", "status"):
        table.add_column(column)
    for r in sorted(result["resources"], key=lambda r: (r["region"], r["kind"], r["name"])):
        style = styles[r["status"]]
        detail = f" ({r['detail']})" if r["detail"] else ""
        table.add_row(r["region"], r["kind"], r["name"], f"[{style}]{r['status']}{detail}[/{style}]")
    console = Console()
    console.print(table)
    for key in ("site_url", "failover_url", "health", "dns_answer", "fault"):
        if result.get(key):
            console.print(f"[bold]{key}[/bold]: {result[key]}")


@cli.command()
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where test-failover wrote its reports.  [default: beside the state file, reports/]")
@click.pass_context
def reports(ctx: click.Context, report_dir: Path | None) -> None:
    """Every game day so far (failover-*.json): fault, target, RTO, RPO, detection, failback in real-time seconds,
    passed; writes trend.svg (RTO and RPO across game days against the objectives). Reads files only."""
    from wildrydes_mr import history, ui

    options = _options(ctx)
    directory = report_dir or options.state_dir(options.load_config()) / "reports"
    result = history.run(directory)
    for note in result["skipped"]:
        ui.Reporter(options.output).warn(note)
    if options.output == "json":
        ui.render(result, "json")
    elif not result["rows"]:
        click.echo(f"no game-day reports in {directory} (failover-*.json): run `wildrydes test-failover` first")
    else:
        from rich.console import Console

        console = Console()
        console.print(history.terminal_table(result))
        console.print(f"trend: {result['trend_file']}")


@cli.command()
@click.option("--cleanup", "tear_down", is_flag=True, help="Tear everything down at the end instead of leaving "
                                                           "the application running.")
@click.pass_context
def demo(ctx: click.Context, tear_down: bool) -> None:
    """The whole workshop on the local cloud: build-api, build-ui, replicate, test-failover, then the site URL,
    the failover URL and the failover report. Leaves the application running (see `local status`)."""
    from wildrydes_mr import report, ui
    from wildrydes_mr.workflows import demo as workflow

    options = _options(ctx)
    result = workflow.run(options, tear_down)
    if options.output == "json":
        ui.render(result, "json")
    else:
        from rich.console import Console

        console = Console()
        ticket = result["created_ticket"]
        console.print(f"signed POST /owners/operator/tickets created {ticket['id']} ({ticket['description']!r}), "
                      f"read back with a signed GET; an unsigned GET got {result['unsigned_get_status']}")
        for region, url in result["api_urls"].items():
            console.print(f"[bold]API in {region}[/bold]: {url}")
        console.print(report.terminal_table(result["failover_report"]))
        console.print(f"failover report: {result['failover_report']['report_file']}")
        if tear_down:
            console.print(f"cleaned up: {len(result['cleanup']['deleted'])} resources deleted, "
                          f"{len(result['cleanup']['remaining'])} remaining")
        else:
            console.print(f"[bold]site[/bold] (open it in a browser on this machine): {result['site_url']}")
            console.print(f"[bold]API through the failover name[/bold]: {result['failover_url']}")
            console.print("the local cloud keeps running: `wildrydes local status`, `wildrydes status`; stop it with "
                          "`wildrydes local down`")
    if not result["failover_report"]["passed"]:
        sys.exit(1)


def _register_commands() -> None:
    from wildrydes_mr.commands.local import local
    from wildrydes_mr.commands.policy import policy
    from wildrydes_mr.commands.preflight import preflight

    for command in (local, preflight, policy):
        cli.add_command(command)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    from wildrydes_mr.errors import WildrydesError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="wildrydes", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except WildrydesError as exc:
        if debug:
            raise
        from wildrydes_mr.ui import render_error

        render_error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted; run the same command again to continue.", err=True)
        sys.exit(130)
