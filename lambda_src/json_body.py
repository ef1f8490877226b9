"""Reading a request body as a strict JSON object, for every handler that takes one (create, claim).

Owns the body limits and the parser's strictness:
- at most MAX_BODY_BYTES (16 KiB) after base64 decoding; an encoded body that cannot fit is refused before it
  is decoded;
- UTF-8, no duplicate keys, no NaN/Infinity;
- arrays/objects nested at most MAX_NESTING (32) deep, e.g. "[" * 5000 + "]" * 5000 (which fits in 16 KiB) is a
  400 "Request body is not valid JSON: nested too deeply (...)", checked before parsing, so it never depends on
  the interpreter's recursion limit.
Every refusal is a 400 `common.HttpError` whose message names what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

MAX_BODY_BYTES = 16 * 1024
MAX_NESTING = 32  # a ticket needs 1; json.loads would recurse once per level


def _reject(message: str) -> common.HttpError:
    return common.HttpError(400, message)


def raw_body(event: dict[str, Any]) -> bytes | None:
    """The raw request body as bytes, size-checked before anything parses it; None when there is none (absent,
    empty or only whitespace)."""
    body = event.get("body")
    if body is None or body == "":
        return None
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
    return raw if raw.strip() else None


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


def parse_object(raw: bytes, expected: str) -> dict[str, Any]:
    """`raw` as a JSON object (strict: UTF-8, no duplicate keys, no NaN/Infinity, at most MAX_NESTING deep).
    `expected` completes the message for a body that is JSON but not an object: "... must be <expected>"."""
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
        raise _reject(f"Request body must be {expected}")
    return data
