"""Checks of the config alone (no AWS call): the Facebook app id's shape and the predicted failover time against
the RTO objective."""

from __future__ import annotations

from wildrydes_mr.config import FACEBOOK_APP_ID, Config
from wildrydes_mr.objectives import predicted_failover
from wildrydes_mr.preflight.checklist import Item, failed, passed

GROUP = "config"


def check_facebook_app_id(config: Config) -> Item:
    """On AWS the web app signs in with Facebook Login only, so an app id is needed; its shape is config.py's
    (digits), which the config reader already enforces on any value given."""
    name = "Facebook app id"
    app_id = config.site.facebook_app_id
    fix = "set site.facebook_app_id to your app's App ID (developers.facebook.com: My Apps → Settings → Basic)"
    if not app_id:
        return failed(GROUP, name, "site.facebook_app_id is empty: nobody could sign in to the web app", fix)
    if not FACEBOOK_APP_ID.match(app_id):
        return failed(GROUP, name, f"site.facebook_app_id {app_id!r} is not a Facebook app id (digits)", fix)
    return passed(GROUP, name, f"{app_id} (digits)")


def check_predicted_rto(config: Config) -> Item:
    name = "predicted RTO within objective"
    prediction = predicted_failover(config)
    predicted, objective = prediction["predicted_rto_seconds"], config.objectives.rto_seconds
    check = config.dns.health_check
    detail = (f"{predicted} s predicted ({check.interval} s × {check.failure_threshold} checks + "
              f"{prediction['checker_slack_seconds']} s checker slack + {config.dns.ttl} s TTL) against "
              f"{objective} s")
    if predicted > objective:
        return failed(GROUP, name, detail, "lower dns.health_check.interval or failure_threshold or dns.ttl, or "
                      "raise objectives.rto_seconds", **prediction)
    return passed(GROUP, name, detail, **prediction)
