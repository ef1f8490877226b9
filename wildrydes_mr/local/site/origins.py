"""Which CloudFront origin group a site bucket belongs to, read from the distributions moto holds.

CloudFront fails over within an origin group: a request goes to the group's primary (first) member, and when
that answers one of the group's FailoverCriteria status codes, to the secondary member
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html;
OriginGroupFailoverCriteria: "The status codes that, when returned from the primary origin, will trigger
CloudFront to failover to the second origin"). The local site server serves `{site_root}/{bucket}/`, so it looks
for an enabled distribution with a group whose first member's origin is that bucket's S3 REST origin
(`<bucket>.s3.<region>.amazonaws.com`, `<bucket>.s3-<region>.amazonaws.com` or `<bucket>.s3.amazonaws.com`).

The lookup is keyed on OriginGroups alone, not on a cache behavior's TargetOriginId: moto refuses an origin group
as a DefaultCacheBehavior's target (NoSuchOrigin), where CloudFront accepts it, so on moto the tool targets the
primary origin while the group is kept verbatim in the stored config. Distributions are re-read from moto at
most every `ttl` seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..moto_access import TtlCache

__all__ = ["Failover", "OriginGroups", "s3_origin"]

# An S3 REST endpoint as a CloudFront origin domain (not a website endpoint: OAC needs the REST one).
S3_ORIGIN = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3(?:[.-](?P<region>[a-z]{2}(?:-[a-z]+)+-\d))?"
                       r"\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class S3Origin:
    bucket: str
    path: str  # the origin's OriginPath without its slashes ("" for none): a prefix of every key


@dataclass(frozen=True)
class Failover:
    """A group whose primary member is the bucket: the codes that fail over, and where to."""

    distribution_id: str
    group_id: str
    status_codes: frozenset[int]
    secondary: S3Origin


def s3_origin(origin: dict[str, Any]) -> S3Origin | None:
    match = S3_ORIGIN.match(str(origin.get("DomainName") or "").lower())
    if match is None:
        return None
    return S3Origin(match.group("bucket"), str(origin.get("OriginPath") or "").strip("/"))


def _items(container: Any) -> list[Any]:
    return list((container or {}).get("Items") or []) if isinstance(container, dict) else []


class OriginGroups:
    """bucket -> the Failover of the first enabled distribution (by id) whose group's primary it is."""

    def __init__(self, cloudfront: Callable[[], Any], ttl: float = 2.0) -> None:
        self._cloudfront = cloudfront
        self._cache = TtlCache(ttl)

    def failover_for(self, bucket: str) -> Failover | None:
        return self._cache.get("groups", self._load).get(bucket)

    def _load(self) -> dict[str, Failover]:
        summaries: list[dict[str, Any]] = []
        for page in self._cloudfront().get_paginator("list_distributions").paginate():
            summaries.extend(_items(page.get("DistributionList")))
        groups: dict[str, Failover] = {}
        for summary in sorted(summaries, key=lambda s: str(s.get("Id"))):
            if not summary.get("Enabled"):
                continue
            origins = {o.get("Id"): o for o in _items(summary.get("Origins"))}
            for group in _items(summary.get("OriginGroups")):
                members = [m.get("OriginId") for m in _items(group.get("Members"))]
                if len(members) != 2 or members[0] not in origins or members[1] not in origins:
                    continue  # CloudFront requires exactly two members, each an origin of the distribution
                primary, secondary = s3_origin(origins[members[0]]), s3_origin(origins[members[1]])
                if primary is None or secondary is None or primary.path or primary.bucket in groups:
                    continue
                codes = frozenset(int(code) for code in _items((group.get("FailoverCriteria") or {}).get(
                    "StatusCodes")))
                groups[primary.bucket] = Failover(str(summary.get("Id")), str(group.get("Id")), codes, secondary)
        return groups
