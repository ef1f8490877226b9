"""POST /ticket: validate a new ticket strictly, store it once, answer 201 with it.

Owns the ticket's input contract. The body is a JSON object with exactly these fields:
  description  string, 10-2000 characters after trimming whitespace (stored trimmed)
  assigned     string, 1-100 characters after trimming whitespace (stored trimmed)
  priority     "low" | "medium" | "high"
  status       "open" | "assigned" | "closed"
Anything else (empty or oversized body, bad base64 or JSON, not an object, a missing, unknown, duplicated or
mistyped field, a value out of range) is a 400 whose message names the field, and nothing is written.
That includes JSON nested more than MAX_NESTING (32) arrays/objects deep, e.g. "[" * 5000 + "]" * 5000, which
fits in the 16 KiB limit: 400 "Request body is not valid JSON: nested too deeply (...)", checked before
parsing, so it never depends on the interpreter's recursion limit.
A call without a caller (neither a Cognito identity nor an IAM principal in the request context) is a 403.

The stored item adds id (uuid4), createdBy (the caller: the Cognito identity id of a web-app user, or the ARN
of an IAM principal such as the operator running the game day), createdOn (ISO-8601 UTC, ms, "Z") and
kind = "ticket" (partition key of the listing index; never returned to clients).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

MAX_BODY_BYTES = 16 * 1024
MAX_NESTING = 32  # a ticket needs 1; json.loads would recurse once per level
DESCRIPTION_LENGTH = (10, 2000)
ASSIGNED_LENGTH = (1, 100)
PRIORITIES = ("low", "medium", "high")
STATUSES = ("open", "assigned", "closed")
FIELDS = ("description", "assigned", "priority", "status")
TICKET_KIND = "ticket"


def _reject(message: str) -> common.HttpError:
    return common.HttpError(400, message)


def read_body(event: dict[str, Any]) -> bytes:
    """The raw request body as bytes, size-checked before anything parses it."""
    body = event.get("body")
    if body is None or body == "":
        raise _reject("Request body is required: a JSON object with " + ", ".join(FIELDS))
    if not isinstance(body, str):
        raise _reject("Request body must be text")
    if event.get("isBase64Encoded"):
        # 4 base64 characters carry 3 bytes: refuse before decoding anything that cannot fit.
        if len(body) > (MAX_BODY_BYTES + 2) // 3 * 4 + 4:
            raise _reject(f"Request body is too large (limit {MAX_BODY_BYTES} bytes)")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _reject("Request body is not valid base64") from None
    else:
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise _reject(f"Request body is too large (limit {MAX_BODY_BYTES} bytes)")
    if not raw.strip():
        raise _reject("Request body is required: a JSON object with " + ", ".join(FIELDS))
    return raw


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _reject(f"Field '{key}' appears more than once")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise _reject(f"Request body is not valid JSON: {name} is not allowed")


def nesting_depth(text: str, limit: int) -> int:
    """How deep arrays/objects nest in `text`, counting brackets outside strings (exact for valid JSON), without
    recursing; stops counting as soon as the depth passes `limit`."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (strict: UTF-8, no duplicate keys, no NaN/Infinity, at most MAX_NESTING deep)."""
    too_deep = _reject(f"Request body is not valid JSON: nested too deeply (limit {MAX_NESTING} levels)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject("Request body is not valid UTF-8") from None
    if nesting_depth(text, MAX_NESTING) > MAX_NESTING:
        raise too_deep
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as err:
        raise _reject(f"Request body is not valid JSON ({err.msg} at position {err.pos})") from None
    except RecursionError:
        # Backstop only (the depth check above should make it unreachable): the C scanner and the hooks it
        # calls at every object count against the recursion limit. Caught around json.loads alone, so a
        # RecursionError from validation or storage is still a bug and a 500.
        raise too_deep from None
    if not isinstance(data, dict):
        raise _reject("Request body must be a JSON object with " + ", ".join(FIELDS))
    return data


def _text(data: dict[str, Any], field: str, bounds: tuple[int, int]) -> str:
    value = data[field]
    if not isinstance(value, str):
        raise _reject(f"Field '{field}' must be a string")
    value = value.strip()
    low, high = bounds
    if not low <= len(value) <= high:
        raise _reject(f"Field '{field}' must be {low}-{high} characters (after trimming), got {len(value)}")
    return value


def _choice(data: dict[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = data[field]
    if not isinstance(value, str):
        raise _reject(f"Field '{field}' must be a string, one of: {', '.join(allowed)}")
    if value not in allowed:
        raise _reject(f"Field '{field}' must be one of: {', '.join(allowed)}")
    return value


def validate(data: dict[str, Any]) -> dict[str, str]:
    """The four client fields, checked and normalised; raises a 400 naming the first bad field."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise _reject("Unknown field(s): " + ", ".join(unknown))
    missing = [field for field in FIELDS if field not in data]
    if missing:
        raise _reject("Missing required field(s): " + ", ".join(missing))
    return {
        "description": _text(data, "description", DESCRIPTION_LENGTH),
        "assigned": _text(data, "assigned", ASSIGNED_LENGTH),
        "priority": _choice(data, "priority", PRIORITIES),
        "status": _choice(data, "status", STATUSES),
    }


@common.api_handler("POST")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    creator = common.caller(event)
    if creator is None:
        raise common.HttpError(403, "Signed request required")
    fields = validate(parse_body(read_body(event)))

    ticket = {"id": str(uuid.uuid4()), **fields, "createdBy": creator, "createdOn": common.now_iso()}
    common.table().put_item(
        Item={**ticket, "kind": TICKET_KIND},
        ConditionExpression="attribute_not_exists(id)",
    )
    common.logger.info("Created ticket %s", ticket["id"])
    return common.json_response(201, ticket)
