"""The demo on the local cloud: start it, run the workshop modules built so far, prove the API with signed calls.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import session
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.workflows import build_api, build_ui

DEMO_TICKET = {"description": "My unicorn lost a horseshoe on the way to the airport.",
               "assigned": "support-team", "priority": "high", "status": "open"}


def run(options: session.Options) -> dict[str, Any]:
    from botocore.credentials import Credentials

    from wildrydes_mr.apiclient import TicketsApi
    from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    if options.load_config().target != "local":
        raise WildrydesError("the demo runs on the local cloud only", hint="drop --target aws")
    with session.run(options, build_api.MODULE) as ctx:
        ctx.progress("module 1: building the API in the primary region")
        built = build_api.run(ctx)
        ctx.progress("module 2: the web app, its sign-in and HTTPS hosting")
        site = build_ui.run(ctx.for_module(build_ui.MODULE))
    api = TicketsApi(built["api_url"], built["region"], Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY))
    created = api.create_ticket(DEMO_TICKET)
    if created.status != 201:
        raise WildrydesError(f"signed POST /ticket answered {created.status}: {created.body}")
    listed = api.list_tickets(limit=5)
    if listed.status != 200 or not any(t["id"] == created.body["id"] for t in listed.body["tickets"]):
        raise WildrydesError(f"signed GET /ticket did not return the new ticket ({listed.status})")
    unsigned = api.request("GET", "ticket", sign=False)
    health = api.health()
    return {"site_url": site["site_url"], "api_url": built["api_url"], "region": built["region"],
            "created_ticket": created.body, "listed_tickets": len(listed.body["tickets"]),
            "unsigned_get_status": unsigned.status, "health": health.body}
