"""What Route 53 itself sees during test-failover: each region's health-check status and the region its DNS
answer for the failover name points at.

On AWS: GetHealthCheckStatus (healthy while more than 18% of Route 53's checkers report success, as Route 53
decides) and TestDNSAnswer for `api.<domain>`, whose addresses are matched to the regional API domains'.
On the local cloud: the DNS plane's status (local/dns.py), which reads the same records and checks.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol


class Observer(Protocol):
    def health(self) -> dict[str, str]:
        """{region: "healthy" | "unhealthy"} by the health checks."""

    def dns_region(self) -> str | None:
        """The region Route 53 answers the failover name with now (a fresh lookup)."""


class LocalObserver:
    def __init__(self, site_root: str):
        self.site_root = site_root

    def _status(self) -> dict[str, Any]:
        from wildrydes_mr.local import cloud

        return cloud.data_plane_status(self.site_root)["dns"]

    def health(self) -> dict[str, str]:
        return dict(self._status().get("health", {}))

    def dns_region(self) -> str | None:
        return self._status().get("dns_answer")


class AwsObserver:
    HEALTHY_FRACTION = 0.18  # Route 53: healthy while more than 18% of its checkers say so

    def __init__(self, aws: Any, zone_id: str, failover_name: str, checks: dict[str, str],
                 regional_domains: dict[str, str]):
        self.route53 = aws.client("route53", "us-east-1")
        self.zone_id = zone_id
        self.failover_name = failover_name
        self.checks = checks  # region -> health check id
        self.regional_domains = regional_domains  # region -> regional domain name of api.<domain> there

    def health(self) -> dict[str, str]:
        result = {}
        for region, check_id in self.checks.items():
            observations = self.route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
            ok = sum(1 for o in observations if o["StatusReport"]["Status"].startswith("Success"))
            result[region] = "healthy" if observations and ok / len(observations) > self.HEALTHY_FRACTION \
                else "unhealthy"
        return result

    def dns_region(self) -> str | None:
        answer = self.route53.test_dns_answer(HostedZoneId=self.zone_id, RecordName=self.failover_name,
                                              RecordType="A")
        addresses = set(answer.get("RecordData", []))
        for region, domain in self.regional_domains.items():
            try:
                if addresses & set(socket.gethostbyname_ex(domain)[2]):
                    return region
            except OSError:
                continue
        return None
