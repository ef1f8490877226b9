"""What every scanner shares: the scan context (the deployment's names, the "is this ours" tag test), the record
shape, and the helpers for a resource that vanishes mid-scan or a call an emulator lacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from wildrydes_mr.aws import ClientError, error_code, is_emulator_gap, is_not_found
from wildrydes_mr.config import KNOWN_REGIONS
from wildrydes_mr.engine import Context

T = TypeVar("T")
BY_TAG, BY_NAME = "tag", "name"

# Error codes that mean "it is gone" during a scan, beyond aws.is_not_found: a resource listed a moment ago
# may be deleted before its tags or policy are read, and then it is simply absent.
GONE_CODES = {"NoSuchOriginAccessControl", "NoSuchDistribution", "NoSuchResource", "NoSuchBucketPolicy",
              "NoSuchHealthCheck", "NoSuchHostedZone", "NoSuchEntity", "NoSuchBucket", "ResourceNotFoundException",
              "NotFoundException"}


def gone(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and (is_not_found(exc) or error_code(exc) in GONE_CODES)


def unless_gone(call: Callable[[], T], default: T) -> T:
    """The call's answer, or `default` when the resource vanished (or never had the thing asked for)."""
    try:
        return call()
    except ClientError as exc:
        if gone(exc):
            return default
        raise


def tag_dict(tags: Any) -> dict[str, str]:
    """Services answer tags as a dict or as a list of {"Key", "Value"}; both become a dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags or []}


def record(kind: str, region: str, name: str, found_by: str, **ids: Any) -> dict[str, Any]:
    """One inventory record, shaped like a state-file record, plus `found_by` (BY_TAG or BY_NAME)."""
    return {"kind": kind, "region": region, "name": name, **ids, "found_by": found_by}


class Scan:
    """One inventory run: the deployment's names and the regions asked for."""

    def __init__(self, ctx: Context, regions: list[str]):
        self.ctx = ctx
        self.regions = regions
        self.deployment = ctx.config.deployment
        self.prefix = f"{self.deployment}-"
        self.primary = ctx.config.regions.primary

    def ours(self, tags: Any) -> bool:
        """Tagged `wildrydes:deployment=<deployment>` (Config.tag, the tag every resource of the tool carries)."""
        tags = tag_dict(tags)
        return all(tags.get(key) == value for key, value in self.ctx.config.tag.items())

    def home_region(self, name: str) -> str:
        """The region a global resource was recorded under: role and health check names end in the region they
        serve; the others (the web identity role, CloudFront) are recorded under the primary region."""
        return next((r for r in KNOWN_REGIONS if name.endswith(f"-{r}")), self.primary)

    def unless_gone_or_emulator_gap(self, service: str, region: str, call: Callable[[Any], T], default: T) -> T:
        """`call(client)`, or `default` when the resource vanished or the emulator lacks the call. On an emulator
        the client makes one attempt: a bare 500 for an unimplemented call would otherwise be retried for a
        minute."""
        emulated = self.ctx.aws.is_emulated(service, region)
        client = self.ctx.aws.client(service, region, retries=not emulated)
        try:
            return call(client)
        except Exception as exc:
            if gone(exc) or is_emulator_gap(exc, emulated):
                return default
            raise
