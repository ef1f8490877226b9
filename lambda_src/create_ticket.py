"""POST /owners/{owner}/tickets: validate a new ticket strictly, store it once, answer with it.

Owns the ticket's input contract and the idempotent create. The body is a JSON object with these fields:
  id           optional: a UUID (any version) in lower-case canonical form, 8-4-4-4-12 hex digits; the web app
               always sends one so that a retry (in either region) cannot make a second ticket; without it the
               handler makes one (uuid4)
  description  string, 10-2000 characters after trimming whitespace (stored trimmed)
  assigned     string, 1-100 characters after trimming whitespace (stored trimmed)
  priority     "low" | "medium" | "high"
  status       "open" | "assigned" | "closed"
Anything else (empty or oversized body, bad base64 or JSON, JSON nested too deeply, not an object, a missing,
unknown, duplicated or mistyped field, a value out of range, an owner the path cannot name) is a 400 whose
message names the field, and nothing is written (body rules: json_body). A call without a caller (neither a
Cognito identity nor an IAM principal in the request context) is a 403.

The store is a PutItem conditional on `attribute_not_exists(id)`:
  201 the ticket is new: the stored item
  200 a ticket with that id exists and has the same owner (a retry): the stored ticket, unchanged
  409 a ticket with that id exists and has another owner: {"message": "ticket id <id> is already used"}
The item: id, owner (the path's), the four fields, createdBy (the caller: the Cognito identity id of a web-app
user, or the ARN of an IAM principal such as the operator running the game day), createdOn (ISO-8601 UTC, ms).
DynamoDB actions: PutItem and GetItem on the table.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

try:
    from . import common, json_body
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]
    import json_body  # type: ignore[no-redef]

MAX_BODY_BYTES = json_body.MAX_BODY_BYTES
MAX_NESTING = json_body.MAX_NESTING
DESCRIPTION_LENGTH = (10, 2000)
ASSIGNED_LENGTH = (1, 100)
PRIORITIES = ("low", "medium", "high")
STATUSES = ("open", "assigned", "closed")
FIELDS = ("description", "assigned", "priority", "status")
OPTIONAL_FIELDS = ("id",)

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EXPECTED_BODY = "a JSON object with " + ", ".join(FIELDS) + " (and optionally id)"


def _reject(message: str) -> common.HttpError:
    return common.HttpError(400, message)


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


def _ticket_id(data: dict[str, Any]) -> str:
    """The client's id, checked (exactly the canonical lower-case form, so one ticket has one spelling), or a
    new uuid4 when the client sent none."""
    if "id" not in data:
        return str(uuid.uuid4())
    value = data["id"]
    if not isinstance(value, str) or not _CANONICAL_UUID.fullmatch(value):
        raise _reject("Field 'id' must be a UUID in lower-case canonical form (8-4-4-4-12 hex digits)")
    return value


def validate(data: dict[str, Any]) -> dict[str, str]:
    """The ticket's id and four client fields, checked and normalised; raises a 400 naming the first bad field."""
    unknown = sorted(set(data) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise _reject("Unknown field(s): " + ", ".join(unknown))
    missing = [field for field in FIELDS if field not in data]
    if missing:
        raise _reject("Missing required field(s): " + ", ".join(missing))
    return {
        "id": _ticket_id(data),
        "description": _text(data, "description", DESCRIPTION_LENGTH),
        "assigned": _text(data, "assigned", ASSIGNED_LENGTH),
        "priority": _choice(data, "priority", PRIORITIES),
        "status": _choice(data, "status", STATUSES),
    }


def read_ticket(event: dict[str, Any]) -> dict[str, str]:
    """The request body as a validated ticket (id and the four fields)."""
    raw = json_body.raw_body(event)
    if raw is None:
        raise _reject("Request body is required: " + _EXPECTED_BODY)
    return validate(json_body.parse_object(raw, _EXPECTED_BODY))


def _existing(table: Any, ticket_id: str, owner: str) -> dict[str, Any]:
    """The answer when the conditional put found a ticket with this id: 200 with it for its owner (a retry),
    409 for anyone else."""
    # The condition was evaluated against this region's copy of the item; a strongly consistent read of the
    # same table sees at least that version (a GetItem is eventually consistent unless asked otherwise).
    stored = table.get_item(Key={"id": ticket_id}, ConsistentRead=True).get("Item")
    if stored is None:
        # The API never deletes tickets, so the item that failed the condition cannot have gone.
        raise RuntimeError(f"ticket {ticket_id} failed attribute_not_exists(id) but GetItem found nothing")
    if stored.get("owner") != owner:
        raise common.HttpError(409, f"ticket id {ticket_id} is already used")
    common.logger.info("Ticket %s already exists for this owner: answered as a retry", ticket_id)
    return common.json_response(200, common.public_ticket(stored))


@common.api_handler("POST")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    creator = common.caller(event)
    if creator is None:
        raise common.HttpError(403, "Signed request required")
    owner = common.path_owner(event)
    fields = read_ticket(event)

    ticket = {**fields, "owner": owner, "createdBy": creator, "createdOn": common.now_iso()}
    table = common.table()
    try:
        table.put_item(Item=ticket, ConditionExpression="attribute_not_exists(id)")
    except ClientError as err:
        if common.error_code(err) != "ConditionalCheckFailedException":
            raise
        return _existing(table, ticket["id"], owner)
    common.logger.info("Created ticket %s", ticket["id"])
    return common.json_response(201, ticket)
