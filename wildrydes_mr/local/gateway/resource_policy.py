"""Whether a Lambda function's resource policy lets API Gateway invoke it for one request (the permissions the
tool adds with AddPermission: principal apigateway.amazonaws.com, conditions on aws:SourceArn and
aws:SourceAccount). Fail closed: a statement whose conditions hold anything this check cannot evaluate (another
key, another operator) grants nothing, and counts as denying when it is a Deny."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["invoke_allowed"]

_KNOWN_KEYS = {"aws:sourcearn", "aws:sourceaccount"}
_ARN_OPERATORS = {"ArnLike": True, "StringLike": True, "ArnEquals": False, "StringEquals": False}


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict[str, Any], source_arns: list[str], account: str) -> bool | None:
    """True / False when the conditions hold or not; None when they hold something this check cannot evaluate."""
    for operator, block in conditions.items():
        if operator not in _ARN_OPERATORS or not isinstance(block, dict):
            return None
        for key, expected in block.items():
            values = [str(v) for v in _as_list(expected)]
            if key.lower() not in _KNOWN_KEYS:
                return None
            if key.lower() == "aws:sourcearn":
                if _ARN_OPERATORS[operator]:
                    ok = any(_like(p, arn) for p in values for arn in source_arns)
                else:
                    ok = any(arn in values for arn in source_arns)
            else:
                ok = any(_like(p, account) if _ARN_OPERATORS[operator] else p == account for p in values)
            if not ok:
                return False
    return True


def _applies(statement: dict[str, Any], source_arns: list[str], account: str) -> bool | None:
    principal = statement.get("Principal")
    if principal != "*":
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if "apigateway.amazonaws.com" not in services:
            return False
    actions = _as_list(statement.get("Action"))
    if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
        return False
    return _conditions_hold(statement.get("Condition") or {}, source_arns, account)


def invoke_allowed(statements: tuple[dict[str, Any], ...], source_arns: list[str], account: str) -> bool:
    allowed = False
    for statement in statements:
        applies = _applies(statement, source_arns, account)
        if statement.get("Effect") == "Deny" and applies is not False:
            return False  # a Deny that applies, or that cannot be evaluated, denies
        if statement.get("Effect") == "Allow" and applies is True:
            allowed = True
    return allowed
