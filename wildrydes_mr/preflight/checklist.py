"""One preflight item (a check's outcome: pass / fail / cannot-check, a one-line detail, the fix on a fail) and
how an AWS error on a read becomes one. No AWS calls here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from wildrydes_mr.aws import error_code, error_message, is_emulator_gap

PASS, FAIL, CANNOT_CHECK = "pass", "fail", "cannot-check"

# The codes AWS services answer a caller whose identity policies do not allow the call.
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                           "UnauthorizedException", "AuthorizationError"})
# The codes STS and the other services answer for credentials that are not (or no longer) valid.
BAD_CREDENTIALS = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
                             "ExpiredTokenException", "UnrecognizedClientException", "InvalidAccessKeyId"})
# What a read can raise that `from_error` turns into an item (moto's in-process gaps included).
READ_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, NotImplementedError, KeyError)


@dataclass
class Item:
    """One line of the checklist."""

    group: str
    name: str
    status: str
    detail: str
    fix: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"group": self.group, "name": self.name, "status": self.status,
                               "detail": self.detail, "fix": self.fix}
        if self.data:
            out["data"] = self.data
        return out


def passed(group: str, name: str, detail: str, /, **data: Any) -> Item:
    return Item(group, name, PASS, detail, None, dict(data))


def failed(group: str, name: str, detail: str, fix: str, /, **data: Any) -> Item:
    return Item(group, name, FAIL, detail, fix, dict(data))


def cannot_check(group: str, name: str, detail: str, fix: str | None = None, /, **data: Any) -> Item:
    return Item(group, name, CANNOT_CHECK, detail, fix, dict(data))


def from_error(group: str, name: str, exc: Exception, call: str, action: str, emulated: bool) -> Item:
    """The item for a read (`call`, e.g. "service-quotas GetServiceQuota") that AWS refused or could not answer:
    never a fail — what was to be checked is unknown — but what stopped it, and, when the caller's policies
    refused it, the IAM `action` to allow."""
    if is_emulator_gap(exc, emulated):
        return cannot_check(group, name, f"the endpoint does not implement {call}")
    code = error_code(exc)
    if code in ACCESS_DENIED:
        return cannot_check(group, name, f"{call} was refused ({code})", f"allow {action} to the caller")
    if isinstance(exc, botocore.exceptions.ClientError):
        return cannot_check(group, name, f"{call} failed: {error_message(exc)}")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return cannot_check(group, name, f"{call} could not be made: {exc}")
    raise exc
