"""`wildrydes local ...`: start, inspect, break (an outage) and stop the local cloud of this state directory."""

from __future__ import annotations

import click


@click.group()
def local() -> None:
    """The local cloud: moto server and local API gateways on 127.0.0.1, in the background."""


def _running_local_cloud(ctx: click.Context):
    from wildrydes_mr.errors import LocalCloudError
    from wildrydes_mr.local import cloud

    options = ctx.find_root().obj
    running = cloud.find(options.state_dir(options.load_config()))
    if running is None:
        raise LocalCloudError("the local cloud is not running", hint="start it with `wildrydes local up`")
    return running


@local.command("up")
@click.pass_context
def local_up(ctx: click.Context) -> None:
    """Start the local cloud (if it is not running) and wait until it answers."""
    from wildrydes_mr import ui
    from wildrydes_mr.session import start_local_cloud

    options = ctx.find_root().obj
    running = start_local_cloud(options, options.load_config(), ui.Reporter(options.output).progress)
    ui.render(running.to_json(), options.output)


@local.command("status")
@click.pass_context
def local_status(ctx: click.Context) -> None:
    """Show whether the local cloud runs, and its endpoints."""
    from wildrydes_mr import ui
    from wildrydes_mr.local import cloud

    options = ctx.find_root().obj
    config = options.load_config()
    running = cloud.find(options.state_dir(config))
    if running is None:
        ui.render({"running": False}, options.output)
        return
    ui.render({**running.to_json(), "outage": cloud.outage_regions(running),
               **cloud.deployment_urls(running, options.state_file(config), config)}, options.output)


@local.command("outage")
@click.argument("region", required=False)
@click.option("--end", is_flag=True, help="End the outage: the region serves again.")
@click.pass_context
def local_outage(ctx: click.Context, region: str | None, end: bool) -> None:
    """Take REGION's data plane down in the local cloud (its API gateway, Cognito, site bucket, replication);
    the control plane stays up. One region at a time; --end restores it."""
    from wildrydes_mr import ui
    from wildrydes_mr.errors import UsageError
    from wildrydes_mr.local import cloud

    if end == bool(region):
        raise UsageError("name the REGION to take down, or give --end (not both)",
                         hint="`wildrydes local outage eu-west-1`, then `wildrydes local outage --end`")
    running = _running_local_cloud(ctx)
    if region and region not in running.regions:
        raise UsageError(f"the local cloud serves {', '.join(running.regions)}, not {region}")
    ui.render({"outage": cloud.set_outage(running, None if end else region)}, ctx.find_root().obj.output)


@local.command("down")
@click.pass_context
def local_down(ctx: click.Context) -> None:
    """Stop the local cloud that was started for this state directory (and nothing else)."""
    from wildrydes_mr import ui
    from wildrydes_mr.local import cloud

    options = ctx.find_root().obj
    stopped = cloud.down(options.state_dir(options.load_config()))
    ui.render({"stopped": stopped, "running": False}, options.output)
