"""`wildrydes preflight`: what would make a first real run fail halfway, found before anything is made.

A checklist of items, each pass / fail / cannot-check with a one-line detail and, on a fail, the fix:
credentials and account (identity), both regions enabled (regions), the hosted zone and the domain's
delegation to it (hosted_zone), the caller's permissions for every call the tool makes (simulation), the
quotas a deploy uses (quotas), the Facebook app id and the predicted RTO (settings), and the standing monthly
cost as an estimate (cost). Every AWS call here is a read: preflight changes nothing anywhere.

`run(ctx)` is the checklist as a dict ({"items": [...], "passed": bool}), for `wildrydes preflight` and for
`deploy` on target aws; `require_passed` turns a failed one into an error. cannot-check is shown, never a
failure.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.engine import Context, in_parallel
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.preflight import cost, hosted_zone, identity, quotas, regions, settings, simulation
from wildrydes_mr.preflight.checklist import FAIL, Item, cannot_check


def checklist(ctx: Context, resolver: tuple[str, int] | None = None) -> list[Item]:
    """Every item, in the order shown. `resolver`: the DNS resolver to ask (address, port); None: the system's."""
    config = ctx.config
    if ctx.target.is_local:
        return [cannot_check("target", "AWS checks", "target local: the local cloud needs no account, zone, "
                             "permissions or quotas; run `wildrydes --target aws preflight` before a real deploy"),
                settings.check_predicted_rto(config)]
    primary = config.regions.primary
    credentials, caller = identity.check_credentials(ctx.aws, primary)
    items = [credentials]
    if caller is None:
        items.append(cannot_check("identity", "AWS checks", "skipped: they need working credentials"))
    else:
        items += [regions.check_region(ctx.aws, region) for region in config.regions.both]
        zone_item, zone = hosted_zone.find_zone(ctx)
        items += [zone_item, hosted_zone.check_delegation(zone, resolver),
                  simulation.check_permissions(ctx.aws, primary, caller, config)]
        by_region = in_parallel({region: (lambda r=region: quotas.check_region_quotas(ctx, r))
                                 for region in config.regions.both})
        items += [item for region in config.regions.both for item in by_region[region]]
    items += [settings.check_facebook_app_id(config), settings.check_predicted_rto(config), cost.estimate_item(ctx)]
    return items


def run(ctx: Context, resolver: tuple[str, int] | None = None) -> dict[str, Any]:
    """The checklist as {"items": [item.to_json(), ...], "passed": no item failed}."""
    items = checklist(ctx, resolver)
    return {"items": [item.to_json() for item in items], "passed": not any(item.failed for item in items)}


class PreflightFailed(WildrydesError):
    """A preflight item failed (exit 1): what a deploy would have run into."""


def require_passed(result: dict[str, Any]) -> None:
    """Raises PreflightFailed naming every failed item and its fix (for `deploy`)."""
    failures = [item for item in result["items"] if item["status"] == FAIL]
    if failures:
        raise PreflightFailed("preflight failed: " + "; ".join(f"{i['name']}: {i['detail']}" for i in failures),
                              hint="; ".join(i["fix"] for i in failures if i["fix"])
                              + " (or skip the checks with --skip-preflight)")
