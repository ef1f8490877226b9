"""The fake backend's ticket API (browser_fake_cloud.py's FakeCloud has it): what one region's API Gateway and
functions do with `/prod/owners/{owner}/(tickets|claims)` — SigV4 (browser_fake_sigv4.py), the identity role's
IAM rule (only the caller's own owner path, from the credentials' `owner` principal tag), then the functions'
validation, the owner's list, the create conditional on the ticket id, and claims of tickets from before owners.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from browser_fake_sigv4 import Rejected, verify

if TYPE_CHECKING:
    from browser_fake_cloud import Call, Issued, Region

ACCOUNT = "123456789012"
API_ID = "fakeapi123"
STAGE = "prod"
IDENTITY_ROLE = "wildrydes-web-identity"
PRIORITIES = ("low", "medium", "high")
STATUSES = ("open", "assigned", "closed")
FIELDS = ("description", "assigned", "priority", "status")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
OWNER = re.compile(r"^(?:[0-9]{1,32}|operator)$")


def route_of(path: str, *, regional: bool) -> str:
    """The route a request path names (a Call's `route`), whatever its method."""
    if regional and path == "/cognito/":
        return "cognito"
    if path == f"/{STAGE}/health":
        return "health"
    match = re.fullmatch(rf"/{STAGE}/owners/[^/]+/(tickets|claims)", path)
    return match[1] if match else ""


class TicketApi:
    """Needs the host's tickets (newest first), issued, lock, claims_route, add_ticket and tickets_of."""

    def authorize(self, region: Region, method: str, path: str, query: str, headers, body: bytes,
                  owner: str, route: str, call: Call) -> Issued:
        """The caller, when signed for `region` and allowed by the identity role's policy for this path."""
        with self.lock:
            issued_by_key = dict(self.issued)
        key, issued = verify(method, path, query, headers, body, region=region.name, lookup=issued_by_key.get,
                             now=time.time)
        call.signed_region, call.identity_id = region.name, issued.identity_id
        # The role allows .../GET|POST/owners/${aws:PrincipalTag/owner}/tickets and .../POST/owners/${...}/claims.
        if owner != issued.owner:
            arn = f"arn:aws:execute-api:{region.name}:{ACCOUNT}:{API_ID}/{STAGE}/{method}/owners/{owner}/{route}"
            raise Rejected(403, f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{IDENTITY_ROLE}/CognitoIdentityCredentials"
                                f" is not authorized to perform: execute-api:Invoke on resource: {arn}")
        return issued

    def health(self, region: Region) -> tuple[int, dict]:
        if region.healthy:
            return 200, {"region": region.name, "status": "healthy"}
        return 503, {"region": region.name, "status": "unhealthy", "reason": region.reason or "forced unhealthy"}

    def list_tickets(self, owner: str, query: str) -> dict:
        params = parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(params) - {"limit", "next"})
        if unknown:
            raise Rejected(400, f"Unknown query parameter(s): {', '.join(unknown)}")
        limit_text = params.get("limit", ["20"])[0]
        if not re.fullmatch(r"[0-9]{1,3}", limit_text) or not 1 <= int(limit_text) <= 100:
            raise Rejected(400, "Query parameter 'limit' must be an integer from 1 to 100")
        limit = int(limit_text)
        tickets = self.tickets_of(owner)
        start = 0
        if "next" in params:
            try:
                after = json.loads(base64.urlsafe_b64decode(params["next"][0].encode()))["id"]
                start = next(i for i, t in enumerate(tickets) if t["id"] == after) + 1
            except (ValueError, KeyError, TypeError, StopIteration):
                raise Rejected(400, "Query parameter 'next' is not a valid page token") from None
        page = tickets[start:start + limit]
        more = start + limit < len(tickets)
        token = base64.urlsafe_b64encode(json.dumps({"id": page[-1]["id"]}).encode()).decode() if more else None
        return {"tickets": page, "next": token}

    def create_ticket(self, owner: str, data: object, issued: Issued) -> tuple[int, dict]:
        """201 and the new ticket; 200 and the stored one when its id is the owner's already (a retry)."""
        if not isinstance(data, dict):
            raise Rejected(400, "Request body must be a JSON object with " + ", ".join(FIELDS))
        unknown = sorted(set(data) - {"id", *FIELDS})
        if unknown:
            raise Rejected(400, "Unknown field(s): " + ", ".join(unknown))
        missing = [name for name in FIELDS if name not in data]
        if missing:
            raise Rejected(400, "Missing required field(s): " + ", ".join(missing))
        ticket_id = data.get("id", str(uuid.uuid4()))
        if not isinstance(ticket_id, str) or not UUID.match(ticket_id):
            raise Rejected(400, "Field 'id' must be a UUID in lower-case canonical form")
        clean = {}
        for name, (low, high) in (("description", (10, 2000)), ("assigned", (1, 100))):
            value = data[name]
            if not isinstance(value, str):
                raise Rejected(400, f"Field '{name}' must be a string")
            value = value.strip()
            if not low <= len(value) <= high:
                raise Rejected(400, f"Field '{name}' must be {low}-{high} characters (after trimming), "
                                    f"got {len(value)}")
            clean[name] = value
        for name, allowed in (("priority", PRIORITIES), ("status", STATUSES)):
            if data[name] not in allowed:
                raise Rejected(400, f"Field '{name}' must be one of: {', '.join(allowed)}")
            clean[name] = data[name]
        with self.lock:  # the conditional put: attribute_not_exists(id)
            stored = next((t for t in self.tickets if t["id"] == ticket_id), None)
            if stored is None:
                return 201, self.add_ticket(owner=owner, created_by=issued.identity_id, ticket_id=ticket_id, **clean)
        if stored["owner"] != owner:
            raise Rejected(409, f"ticket id {ticket_id} is already used")
        return 200, stored

    def claim_tickets(self, owner: str, data: object, issued: Issued) -> dict:
        if data not in (None, {}):
            raise Rejected(400, "The claims body must be empty or {}")
        legacy = f"legacy:{issued.identity_id}"
        with self.lock:
            mine = [t for t in self.tickets if t["owner"] == legacy]
            for ticket in mine:
                ticket["owner"] = owner
        return {"claimed": len(mine)}

    def ticket_route(self, region: Region, method: str, path: str, query: str, headers, body: bytes,
                     call: Call) -> tuple[int, dict]:
        """`/prod/owners/{owner}/(tickets|claims)`: the owner's tickets, after SigV4 and the owner check."""
        match = re.fullmatch(rf"/{STAGE}/owners/([^/]+)/(tickets|claims)", path)
        methods = ("GET", "POST") if call.route == "tickets" else ("POST",)
        if not match or (call.route == "claims" and not self.claims_route) or method not in methods:
            raise Rejected(403, "Missing Authentication Token")  # API Gateway's answer for a path it lacks
        owner = match[1]
        issued = self.authorize(region, method, path, query, headers, body, owner, call.route, call)
        if not OWNER.match(owner):
            raise Rejected(400, "Path parameter 'owner' must be a Facebook user id or 'operator'")
        if call.route == "tickets" and method == "GET":
            return 200, self.list_tickets(owner, query)
        try:
            data = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Rejected(400, "Request body is not valid JSON") from None
        call.body = data if isinstance(data, dict) else None
        if call.route == "tickets":
            return self.create_ticket(owner, data, issued)
        return 200, self.claim_tickets(owner, data, issued)
