"""GET /owners/{owner}/tickets?limit=N&next=TOKEN: one page of the owner's tickets, newest first, by Query.

Owns listing and its page token. Never scans: it queries the global secondary index named by env INDEX_NAME
(default "owner-createdOn"; HASH owner, RANGE createdOn) for the path's owner with ScanIndexForward=False, so
one owner's listing never holds another's tickets.
  limit  integer 1-100, default 20
  next   opaque token from the previous page: urlsafe base64 (unpadded) of the compact JSON of the
         LastEvaluatedKey {"createdOn", "id", "owner"}; validated strictly. The client controls it: a token
         that is not base64, not UTF-8, not JSON, JSON nested too deeply for the parser, not exactly such
         a key, or a key of another owner's listing is a 400, never a 500
Response 200 {"tickets": [...], "next": token or null}. A bad owner, limit or next, or any other query
parameter, is a 400 naming it. A page may hold fewer than `limit` tickets and still have a `next`.
DynamoDB actions: Query on the index.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from boto3.dynamodb.conditions import Key

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_TOKEN_CHARS = 1024
PAGE_KEY_FIELDS = frozenset({"id", "owner", "createdOn"})
QUERY_PARAMETERS = frozenset({"limit", "next"})

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


def decode_token(token: str | None, owner: str) -> dict[str, str] | None:
    """The ExclusiveStartKey a `next` token stands for in `owner`'s listing; anything not made by `encode_token`
    for that listing is a 400."""
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
    if key["owner"] != owner:
        # DynamoDB would refuse a start key outside the queried partition (a ValidationException, i.e. a 500).
        raise bad
    return key


@common.api_handler("GET")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    owner = common.path_owner(event)
    params = common.query_parameters(event)
    unknown = sorted(set(params) - QUERY_PARAMETERS)
    if unknown:
        raise _reject("Unknown query parameter(s): " + ", ".join(unknown) + "; allowed: limit, next")
    limit = parse_limit(params.get("limit"))
    start = decode_token(params.get("next"), owner)

    request: dict[str, Any] = {
        "IndexName": common.index_name(),
        # boto3 turns this into "#n0 = :v0": owner is a DynamoDB reserved word, never written bare.
        "KeyConditionExpression": Key("owner").eq(owner),
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
            "tickets": [common.public_ticket(item) for item in page.get("Items", [])],
            "next": encode_token(last_key) if last_key else None,
        },
    )
