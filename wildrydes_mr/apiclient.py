"""A small client for the tickets API: SigV4-signed calls (botocore's signer, service execute-api).

Used by the demo, test-failover's canary and prober, and the tests. It signs with whatever credentials it is
given: on the local cloud, the local credentials; on AWS, the caller's own (an IAM principal allowed to
invoke the API) or a Cognito identity's temporary ones.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


# The owner the operator's own calls (the demo, the game day's canary, status) write and read as: not a Facebook
# user id (those are digits), so no web-app user can ever reach these tickets.
OPERATOR_OWNER = "operator"


class TicketsApi:
    def __init__(self, base_url: str, region: str, credentials: Credentials | None, timeout: float = 10.0,
                 owner: str = OPERATOR_OWNER):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.region = region
        self.credentials = credentials
        self.timeout = timeout
        self.owner = owner

    @property
    def tickets_path(self) -> str:
        return f"owners/{urllib.parse.quote(self.owner, safe='')}/tickets"

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
                sign: bool = True, raw_body: bytes | None = None) -> ApiResponse:
        url = urllib.parse.urljoin(self.base_url, path.lstrip("/"))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if sign and self.credentials is not None:
            aws_request = AWSRequest(method=method, url=url, data=data, headers=headers)
            SigV4Auth(self.credentials, "execute-api", self.region).add_auth(aws_request)
            headers = dict(aws_request.headers.items())
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _response(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as error:
            return _response(error.code, error.read(), error.headers)

    def create_ticket(self, ticket: dict[str, Any]) -> ApiResponse:
        """POST /owners/{owner}/tickets; name the ticket's `id` (a UUID) to make retries safe."""
        return self.request("POST", self.tickets_path, body=ticket)

    def list_tickets(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse:
        query = {k: v for k, v in (("limit", limit), ("next", next_token)) if v is not None}
        return self.request("GET", self.tickets_path, query=query or None)

    def health(self) -> ApiResponse:
        return self.request("GET", "health", sign=False)


def _response(status: int, raw: bytes, headers: Any) -> ApiResponse:
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return ApiResponse(status, body, {k.lower(): v for k, v in headers.items()})
