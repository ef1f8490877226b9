"""The recovery objectives and the failover time the config predicts (no AWS here).

Route 53 marks an endpoint unhealthy after `failure_threshold` failed checks `interval` seconds apart; its
checkers in several locations aggregate, which can cost one more interval; the status reaches the DNS answers
within seconds; and a client keeps the answer it has for the record's TTL. So the worst case is
    interval × failure_threshold  +  interval + propagation  +  TTL
(10 × 3 + 10 + 10 + 60 = 110 s with the defaults).
"""

from __future__ import annotations

from wildrydes_mr.config import Config
from wildrydes_mr.errors import ConfigError

PROPAGATION_SECONDS = 10


def predicted_failover(config: Config) -> dict[str, int]:
    check = config.dns.health_check
    detection = check.interval * check.failure_threshold
    slack = check.interval + PROPAGATION_SECONDS
    return {"detection_seconds": detection, "checker_slack_seconds": slack, "dns_ttl_seconds": config.dns.ttl,
            "predicted_rto_seconds": detection + slack + config.dns.ttl}


def require_predicted_rto_within_objective(config: Config) -> dict[str, int]:
    """Refuses (exit 2, before anything is made) a config whose predicted failover exceeds its RTO objective."""
    prediction = predicted_failover(config)
    if prediction["predicted_rto_seconds"] > config.objectives.rto_seconds:
        check = config.dns.health_check
        raise ConfigError(
            f"{config.source}: objectives.rto_seconds: the config predicts a worst-case failover of "
            f"{prediction['predicted_rto_seconds']} s ({check.interval} s × {check.failure_threshold} checks "
            f"+ {prediction['checker_slack_seconds']} s checker slack + {config.dns.ttl} s TTL), more than the "
            f"objective of {config.objectives.rto_seconds} s",
            hint="lower dns.health_check.interval or failure_threshold or dns.ttl, or raise the objective")
    return prediction
