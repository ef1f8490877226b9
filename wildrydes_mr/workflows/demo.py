"""`wildrydes demo`: the whole workshop on the local cloud in one command — build-api, build-ui, replicate and
test-failover, with progress per step and region — then the site URL, the failover URL and the failover report.
The application is left running for a person to open (or torn down with `cleanup=True`).
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import session
from wildrydes_mr.errors import UsageError
from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate, test_failover

STEPS = (("module 1: the API layer in the primary region", build_api),
         ("module 2: the web app, Facebook sign-in through Cognito, HTTPS hosting", build_ui),
         ("module 3: global table, the API in the second region, certificates, DNS failover", replicate))


def run(options: session.Options, tear_down: bool = False) -> dict[str, Any]:
    if options.load_config().target != "local":
        raise UsageError("the demo runs on the local cloud only", hint="drop --target aws (or use target: local)")
    with session.run(options, build_api.MODULE) as ctx:
        results = {}
        for title, module in STEPS:
            ctx.progress(title)
            results[module.MODULE] = module.run(ctx.for_module(module.MODULE))
        ctx.progress("module 4: game day — fault in the primary, measured failover and failback")
        report = test_failover.run(ctx.for_module(test_failover.MODULE))
        summary = {"site_url": results[build_ui.MODULE]["site_url"],
                   "failover_url": results[replicate.MODULE]["failover_url"],
                   "regional_urls": results[replicate.MODULE]["regional_urls"],
                   "failover_report": report}
        if tear_down:
            ctx.progress("module 5: cleanup")
            summary["cleanup"] = cleanup.run(ctx.for_module("cleanup"))
    return summary
