"""The site's objects: `/<bucket>/<key>` read from the bucket moto holds, as CloudFront reads its S3 origin — and,
when the bucket is unavailable, from the secondary member of the CloudFront origin group it is the primary of.

- The bare prefix `/<bucket>` redirects to `/<bucket>/` (so relative asset paths resolve); `/<bucket>/` and any
  `.../` serve index.html. A bucket name that is not one (e.g. `/\\evil`, or CR/LF smuggled in by
  percent-encoding) is a 404, never a redirect.
- A bucket is unavailable when its region is out (a local outage: 503) or when the object answers 403, 404 or a
  5xx. Then, if an origin group's primary is this bucket (origins.py) and the group's failover status codes include
  that status, the object is read from the secondary member's bucket (under its OriginPath), whatever it answers
  — as CloudFront does for GET and HEAD. Without such a group the primary's answer stands (503 during an outage).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from ..moto_access import TtlCache
from ..outage import Outage, unavailable_body
from .origins import OriginGroups

__all__ = ["BUCKET_NAME", "Fetched", "SiteObjects"]

logger = logging.getLogger(__name__)

# S3 bucket names (the general purpose rules): what a site path may name.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


@dataclass
class Fetched:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _text(status: int, text: str) -> Fetched:
    return Fetched(status, [("Content-Type", "text/plain")], text.encode())


class SiteObjects:
    """Objects of the site buckets, with origin-group failover. `s3()`/`cloudfront()` are clients of moto."""

    def __init__(self, s3: Callable[[], Any], cloudfront: Callable[[], Any], outage: Outage | None = None,
                 cache_ttl: float = 2.0) -> None:
        self._s3 = s3
        self.outage = outage
        self.groups = OriginGroups(cloudfront, ttl=cache_ttl)
        self._regions = TtlCache(cache_ttl)

    def get(self, path: str) -> Fetched:
        parts = unquote(path).lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not BUCKET_NAME.match(bucket):
            return _text(404, "Not Found")
        if len(parts) == 1:  # /bucket → /bucket/ so relative asset paths resolve
            return Fetched(301, [("Location", f"/{bucket}/")])
        if key == "" or key.endswith("/"):
            key += "index.html"
        primary = self._fetch(bucket, key)
        if primary.status < 400:
            return primary
        failover = self.groups.failover_for(bucket)
        if failover is None or primary.status not in failover.status_codes:
            return primary
        secondary = failover.secondary
        logger.info("site: %s answered %d; origin group %s of %s fails over to %s", bucket, primary.status,
                    failover.group_id, failover.distribution_id, secondary.bucket)
        return self._fetch(secondary.bucket, f"{secondary.path}/{key}" if secondary.path else key)

    def _region(self, bucket: str) -> str | None:
        """The bucket's region (None: no such bucket). Buckets do not move: a short cache is enough."""

        def load() -> str | None:
            s3 = self._s3()
            try:
                # GetBucketLocation answers a null LocationConstraint for us-east-1.
                return s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                    return None
                raise

        return self._regions.get(bucket, load)

    def _fetch(self, bucket: str, key: str) -> Fetched:
        region = self._region(bucket)
        if region is None:
            return _text(404, "Not Found")
        if self.outage is not None and self.outage.is_out(region):
            return Fetched(503, [("Content-Type", "application/json")], unavailable_body(region))
        try:
            obj = self._s3().get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in NOT_FOUND_CODES:
                return _text(404, "Not Found")
            if status >= 500:
                return _text(status, "Service Unavailable" if status == 503 else "Internal Error")
            return _text(403, "Forbidden")
        headers = [("Content-Type", obj.get("ContentType", "application/octet-stream"))]
        if obj.get("CacheControl"):
            headers.append(("Cache-Control", obj["CacheControl"]))
        return Fetched(200, headers, obj["Body"].read())
