"""`wildrydes demo`: the whole workshop on the local cloud in one command — build-api, build-ui, replicate and
test-failover, with progress per step and region — then the site URL, the failover URL and the failover report.
The application is left running for a person to open (or torn down with `cleanup=True`).
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import session
from wildrydes_mr.aws import Clock
from wildrydes_mr.errors import UsageError
from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate, test_failover

STEPS = (("module 1: the API layer in the primary region", build_api),
         ("module 2: the web app, Facebook sign-in through Cognito, HTTPS hosting", build_ui),
         ("module 3: global table, the API in the second region, certificates, DNS failover", replicate))


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
    with session.run(options, build_api.MODULE) as ctx:
        results = {}
        for title, module in STEPS:
            ctx.progress(title)
            results[module.MODULE] = module.run(ctx.for_module(module.MODULE))
        ctx.progress("a signed create and list through the failover name")
        signed = signed_round_trip(ctx, results[replicate.MODULE]["failover_url"])
        ctx.progress("module 4: game day — fault in the primary, measured failover and failback")
        report = test_failover.run(ctx.for_module(test_failover.MODULE))
        summary = {"site_url": results[build_ui.MODULE]["site_url"],
                   "failover_url": results[replicate.MODULE]["failover_url"],
                   "regional_urls": results[replicate.MODULE]["regional_urls"],
                   "api_urls": results[replicate.MODULE]["api_urls"], **signed,
                   "failover_report": report}
        if tear_down:
            ctx.progress("module 5: cleanup")
            summary["cleanup"] = cleanup.run(ctx.for_module("cleanup"))
    return summary
