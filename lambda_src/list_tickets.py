"""GET /ticket?limit=N&next=TOKEN: one page of tickets, newest first, by Query on the listing index.

Owns listing and its page token. Never scans: it queries the global secondary index named by env INDEX_NAME
(default "byCreatedOn"; HASH kind = "ticket", RANGE createdOn) with ScanIndexForward=False.
  limit  integer 1-100, default 20
  next   opaque token from the previous page: urlsafe base64 (unpadded) of the compact JSON of the
         LastEvaluatedKey {"createdOn", "id", "kind"}; validated strictly. The client controls it: a token
         that is not base64, not UTF-8, not JSON, JSON nested too deeply for the parser, or not exactly such
         a key is a 400, never a 500
Response 200 {"tickets": [...], "next": token or null}. A bad limit or next, or any other query parameter, is
a 400 naming it. A page may hold fewer than `limit` tickets and still have a `next`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import Any

from boto3.dynamodb.conditions import Key

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

DEFAULT_INDEX = "byCreatedOn"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_TOKEN_CHARS = 1024
TICKET_KIND = "ticket"
PAGE_KEY_FIELDS = frozenset({"id", "kind", "createdOn"})
QUERY_PARAMETERS = frozenset({"limit", "next"})
HIDDEN_FIELDS = frozenset({"kind"})

_DIGITS = re.compile(r"[0-9]{1,4}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _reject(message: str) -> common.HttpError:
    return common.HttpError(400, message)


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        raise _reject(f"Query parameter 'limit' must be an integer from 1 to {MAX_LIMIT}")
    value = int(raw)
    if not 1 <= value <= MAX_LIMIT:
        raise _reject(f"Query parameter 'limit' must be an integer from 1 to {MAX_LIMIT}")
    return value


def encode_token(last_key: dict[str, Any]) -> str:
    """The opaque `next` token for a LastEvaluatedKey (values as plain strings)."""
    plain = {name: str(value) for name, value in last_key.items()}
    compact = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(compact).decode("ascii").rstrip("=")


def decode_token(token: str | None) -> dict[str, str] | None:
    """The ExclusiveStartKey a `next` token stands for; anything not made by `encode_token` is a 400."""
    if token is None:
        return None
    bad = _reject("Query parameter 'next' is not a valid page token")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
        raise bad
    unpadded = token.rstrip("=")
    if len(unpadded) % 4 == 1:
        raise bad
    try:
        text = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        raise bad from None
    try:
        key = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError; RecursionError: e.g. "[" * 384 + "]" * 384
        raise bad from None
    if not isinstance(key, dict) or set(key) != PAGE_KEY_FIELDS:
        raise bad
    if not all(isinstance(value, str) and value for value in key.values()):
        raise bad
    if key["kind"] != TICKET_KIND:
        raise bad
    return key


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in HIDDEN_FIELDS}


@common.api_handler("GET")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    params = common.query_parameters(event)
    unknown = sorted(set(params) - QUERY_PARAMETERS)
    if unknown:
        raise _reject("Unknown query parameter(s): " + ", ".join(unknown) + "; allowed: limit, next")
    limit = parse_limit(params.get("limit"))
    start = decode_token(params.get("next"))

    request: dict[str, Any] = {
        "IndexName": os.environ.get("INDEX_NAME") or DEFAULT_INDEX,
        "KeyConditionExpression": Key("kind").eq(TICKET_KIND),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start is not None:
        request["ExclusiveStartKey"] = start
    page = common.table().query(**request)

    last_key = page.get("LastEvaluatedKey")
    return common.json_response(
        200,
        {
            "tickets": [_public(item) for item in page.get("Items", [])],
            "next": encode_token(last_key) if last_key else None,
        },
    )
