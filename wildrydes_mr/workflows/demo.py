"""`wildrydes demo`: the whole workshop on the local cloud in one command — `deploy` (build-api, build-ui and
replicate as one plan) and a `region` game day, with progress per step — then the site URL, the failover URL and
the failover report.
The application is left running for a person to open (or torn down with `cleanup=True`).
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import faults, session
from wildrydes_mr.aws import Clock
from wildrydes_mr.errors import UsageError
from wildrydes_mr.workflows import cleanup, deploy, test_failover

DEMO_TICKET = {"description": "My unicorn lost a horseshoe on the way to the airport.",
               "assigned": "support-team", "priority": "high", "status": "open"}


def signed_round_trip(ctx, api_url: str) -> dict[str, Any]:
    """Creates a ticket with a SigV4-signed POST and reads it back with a signed GET; an unsigned GET must be
    refused."""
    from wildrydes_mr.apiclient import TicketsApi
    from wildrydes_mr.errors import WildrydesError

    api = TicketsApi(api_url, ctx.config.regions.primary, test_failover.signing_credentials(ctx))
    # A name just created answers once the (local) DNS has read the new records.
    # An HTTP endpoint answers in real time, whatever clock a test gives AWS's waits.
    ctx.aws.wait_until(lambda: api.health().status == 200, what=f"{api_url} to answer", timeout=60, interval=0.5,
                       clock=Clock())
    created = api.create_ticket(DEMO_TICKET)
    if created.status != 201:
        raise WildrydesError(f"signed POST /{api.tickets_path} answered {created.status}: {created.body}")
    listed = api.list_tickets(limit=10)
    if listed.status != 200 or created.body["id"] not in [t["id"] for t in listed.body["tickets"]]:
        raise WildrydesError(f"signed GET /{api.tickets_path} did not return the new ticket ({listed.status})")
    unsigned = api.request("GET", api.tickets_path, sign=False)
    if unsigned.status != 403:
        raise WildrydesError(f"an unsigned GET /{api.tickets_path} answered {unsigned.status}, not 403")
    return {"created_ticket": created.body, "read_back_signed": True, "unsigned_get_status": unsigned.status}


def run(options: session.Options, tear_down: bool = False) -> dict[str, Any]:
    if options.load_config().target != "local":
        raise UsageError("the demo runs on the local cloud only", hint="drop --target aws (or use target: local)")
    with session.run(options, deploy.MODULE) as ctx:
        ctx.progress("modules 1-3 as one plan: the API in both regions, the web app with Facebook sign-in "
                     "through Cognito, the global table, certificates and DNS failover")
        deployed = deploy.run(ctx)
        ctx.progress("a signed create and list through the failover name")
        signed = signed_round_trip(ctx, deployed["failover_url"])
        ctx.progress("module 4: game day — the whole primary region goes dark, measured failover, data loss "
                     "and failback")
        report = test_failover.run(ctx.for_module(test_failover.MODULE), fault=faults.REGION)
        summary = {"site_url": deployed["site_url"], "failover_url": deployed["failover_url"],
                   "regional_urls": deployed["regional_urls"], "api_urls": deployed["api_urls"], **signed,
                   "failover_report": report}
        if tear_down:
            ctx.progress("module 5: cleanup")
            summary["cleanup"] = cleanup.run(ctx.for_module("cleanup"))
    return summary
