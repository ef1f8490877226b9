"""End to end on the local cloud: a corpus of bad requests through the real local API gateway, none of which
may write anything.

One local cloud (`wildrydes local up` in a temporary directory) and one `wildrydes build-api` serve the whole
module; one valid ticket is created first, so that "nothing written" is checked against a non-empty table.
Then every case below is sent to the deployed API and must be answered with its 4xx (never a 5xx) and a JSON
body whose "message" is non-empty and names what is wrong; after each case, and at the end, moto's DynamoDB
(a scan of the primary region's SXRTickets) and a signed listing hold exactly the tickets this module created.

Covered:
All ticket calls address the operator's owner path, /owners/operator/tickets (the local keys' IAM user may
invoke every owner's: it is the deployment's admin).
- POST /owners/{owner}/tickets bodies (signed, so they reach the create_ticket Lambda; 400): bad JSON, invalid
  UTF-8, NaN, duplicate keys, a JSON array / string / number / null, empty and blank bodies, each field missing, wrong
  types, description too short (also after trimming) / too long, assigned empty / blank / too long, bad
  priority and status values, an unknown extra field, an `id` that is no UUID, a body over 16 KiB and a ~1 MiB
  body; an owner in the path that is no owner (neither a Facebook id nor `operator`).
- GET /owners/{owner}/tickets query strings (signed; 400): bad `limit` (0, 101, "abc", -1, empty, given twice),
  bad `next` (garbage, valid base64 of the wrong JSON, another owner's page, too long), an unknown query
  parameter.
- Signatures (the gateway's own 403, before any Lambda runs; most of them carry a valid ticket, so a gateway
  that let them through would write): unsigned GET and POST, a non-SigV4 Authorization header, wrong secret,
  unknown access key, a session token nobody issued, body tampered after signing, path and query tampered
  after signing, the wrong region, an expired and a future X-Amz-Date, the wrong service in the scope.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import PRIMARY, moto_client, wildrydes, wildrydes_json

from wildrydes_mr.local.credentials import LocalCredential
from wildrydes_mr.local.sigv4_verify import sign_request
from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

TABLE = "SXRTickets"
SECONDARY = "ap-southeast-1"
ADMIN = LocalCredential(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY)
JSON_HEADERS = {"Content-Type": "application/json"}
VALID = {"description": "Unicorn lost a horseshoe", "assigned": "ops", "priority": "high", "status": "open"}
MISSING = object()  # a field left out of the ticket


# --------------------------------------------------------------------------------------------------- plumbing


@dataclass(frozen=True)
class Deployed:
    workdir: Path
    aws_endpoint: str
    api_url: str  # http://127.0.0.1:PORT/{api_id}/{stage}/
    created: dict[str, dict[str, Any]]  # id -> ticket as answered by the 201 of this module's valid requests


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.status} {self.raw[:400]!r}"


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


def send(call: Call) -> Answer:
    request = urllib.request.Request(call.url, data=call.body, method=call.method, headers=call.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


TICKETS = "owners/operator/tickets"


def url_for(api_url: str, path: str = TICKETS, query: list[tuple[str, str]] | None = None) -> str:
    url = api_url + path
    return url + "?" + urllib.parse.urlencode(query) if query else url


def signed(method: str, url: str, body: bytes | None = None, *, credential: LocalCredential = ADMIN,
           region: str = PRIMARY, service: str = "execute-api", timestamp: dt.datetime | None = None) -> Call:
    headers = JSON_HEADERS if body is not None else {}
    signed_headers = sign_request(method, url, credential=credential, region=region, body=body or b"",
                                  headers=headers, service=service, timestamp=timestamp)
    return Call(method, url, signed_headers, body)


def ticket_bytes(**changes: Any) -> bytes:
    ticket = {**VALID, **changes}
    return json.dumps({k: v for k, v in ticket.items() if v is not MISSING}).encode()


def table_count(endpoint: str) -> int:
    return moto_client(endpoint, "dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


# ------------------------------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[str], Call]  # api_url -> the request to send
    status: int
    mentions: str  # a fragment the message must contain (case-insensitive)
    from_gateway: bool = False  # answered by the gateway itself (x-amzn-ErrorType), not by the Lambda


def post(case_id: str, body: bytes | str, mentions: str) -> Case:
    data = body.encode() if isinstance(body, str) else body
    return Case(case_id, lambda api: signed("POST", url_for(api), data), 400, mentions)


def ticket(case_id: str, mentions: str, **changes: Any) -> Case:
    return post(case_id, ticket_bytes(**changes), mentions)


def listing(case_id: str, query: list[tuple[str, str]], mentions: str) -> Case:
    return Case(case_id, lambda api: signed("GET", url_for(api, query=query)), 400, mentions)


def refused(case_id: str, build: Callable[[str], Call], mentions: str) -> Case:
    return Case(case_id, build, 403, mentions, from_gateway=True)


def token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _tampered_body(api: str) -> Call:
    call = signed("POST", url_for(api), ticket_bytes())
    return Call("POST", call.url, call.headers, ticket_bytes(description="Unicorn lost a horseshoX"))


def _tampered_path(api: str, signed_path: str) -> Call:
    call = signed("POST", url_for(api, signed_path), ticket_bytes())
    return Call("POST", url_for(api), call.headers, call.body)


def _tampered_query(api: str) -> Call:
    call = signed("GET", url_for(api, query=[("limit", "5")]))
    return Call("GET", url_for(api, query=[("limit", "6")]), call.headers, None)


def _with_foreign_token(api: str) -> Call:
    call = signed("POST", url_for(api), ticket_bytes())
    return Call("POST", call.url, {**call.headers, "X-Amz-Security-Token": "never-issued"}, call.body)


def _skewed(minutes: int) -> Callable[[str], Call]:
    def build(api: str) -> Call:
        instant = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
        return signed("POST", url_for(api), ticket_bytes(), timestamp=instant)

    return build


MIB_BODY = ticket_bytes(description="x" * (1024 * 1024))
BIG_BODY = ticket_bytes(description="x" * (16 * 1024 + 1))
NOT_UTF8_TICKET = ticket_bytes().replace(b"lost", b"\xff\xfe\xc3\x28")  # a valid ticket but for its encoding

CASES = [
    # --- POST /ticket: the body is not a JSON object -------------------------------------------------------
    post("bad-json", '{"description": "Unicorn lost a horseshoe", "assigned": ', "not valid JSON"),
    post("bad-json-trailing-comma", '{"description": "Unicorn lost a horseshoe",}', "not valid JSON"),
    # create_ticket parses "strict: UTF-8": bytes that are not UTF-8 are a 400, even in an otherwise valid ticket.
    post("invalid-utf8-ticket", NOT_UTF8_TICKET, "UTF-8"),
    post("json-nan", '{"description": NaN}', "NaN"),
    post("duplicate-key",
         '{"description": "Unicorn lost a horseshoe", "description": "Unicorn lost two horseshoes", '
         '"assigned": "ops", "priority": "low", "status": "open"}', "description"),
    post("body-json-array", json.dumps([VALID]), "JSON object"),
    post("body-json-string", json.dumps("Unicorn lost a horseshoe"), "JSON object"),
    post("body-json-number", "42", "JSON object"),
    post("body-json-null", "null", "JSON object"),
    post("body-empty", b"", "body is required"),
    post("body-blank", " \n\t ", "body is required"),
    post("body-empty-object", "{}", "Missing required field"),
    # --- POST /ticket: fields ------------------------------------------------------------------------------
    ticket("missing-description", "description", description=MISSING),
    ticket("missing-assigned", "assigned", assigned=MISSING),
    ticket("missing-priority", "priority", priority=MISSING),
    ticket("missing-status", "status", status=MISSING),
    ticket("description-number", "description", description=1234567890123),
    ticket("description-null", "description", description=None),
    ticket("priority-bool", "priority", priority=True),
    ticket("assigned-list", "assigned", assigned=["ops", "dev"]),
    ticket("status-object", "status", status={"value": "open"}),
    ticket("description-too-short", "description", description="short"),
    ticket("description-short-after-trim", "description", description="   abc          "),
    ticket("description-too-long-2001", "description", description="d" * 2001),
    ticket("assigned-empty", "assigned", assigned=""),
    ticket("assigned-blank", "assigned", assigned="    "),
    ticket("assigned-too-long-101", "assigned", assigned="a" * 101),
    ticket("priority-unknown", "priority", priority="urgent"),
    ticket("priority-wrong-case", "priority", priority="HIGH"),
    ticket("status-unknown", "status", status="done"),
    ticket("unknown-extra-field", "createdBy", createdBy="someone-else"),
    ticket("id-not-a-uuid", "id", id="ticket-1"),
    ticket("id-upper-case-uuid", "id", id="0000000A-0000-4000-8000-000000000001"),
    ticket("unknown-extra-field-owner", "owner", owner="12345"),
    Case("owner-not-an-owner", lambda api: signed("POST", url_for(api, "owners/root/tickets"), ticket_bytes()), 400,
         "owner"),
    Case("owner-with-a-colon", lambda api: signed("GET", url_for(api, "owners/legacy%3Aeu-west-1%3Ax/tickets")),
         400, "owner"),
    post("body-over-16KiB", BIG_BODY, "too large"),
    post("body-1MiB", MIB_BODY, "too large"),
    # --- GET /ticket: query string -------------------------------------------------------------------------
    listing("limit-0", [("limit", "0")], "limit"),
    listing("limit-101", [("limit", "101")], "limit"),
    listing("limit-abc", [("limit", "abc")], "limit"),
    listing("limit-negative", [("limit", "-1")], "limit"),
    listing("limit-empty", [("limit", "")], "limit"),
    listing("limit-twice", [("limit", "5"), ("limit", "6")], "limit"),
    listing("next-garbage", [("next", "!!not a token!!")], "next"),
    listing("next-base64-wrong-json", [("next", token({"foo": "bar"}))], "next"),
    listing("next-base64-not-json", [("next", base64.urlsafe_b64encode(b"hello there").decode())], "next"),
    listing("next-another-owners-page", [("next", token({"createdOn": "2024-01-01T00:00:00.000Z",
                                                        "id": "x", "owner": "123456789012345"}))], "next"),
    listing("next-too-long", [("next", "A" * 1100)], "next"),
    listing("unknown-query-parameter", [("sort", "asc")], "sort"),
    # --- signatures: the gateway refuses before any Lambda runs --------------------------------------------
    refused("unsigned-get", lambda api: Call("GET", url_for(api), {}, None), "Missing Authentication Token"),
    refused("unsigned-post", lambda api: Call("POST", url_for(api), JSON_HEADERS, ticket_bytes()),
            "Missing Authentication Token"),
    refused("bearer-authorization",
            lambda api: Call("POST", url_for(api), {**JSON_HEADERS, "Authorization": "Bearer abc"}, ticket_bytes()),
            "AWS4-HMAC-SHA256"),
    refused("wrong-secret",
            lambda api: signed("POST", url_for(api), ticket_bytes(),
                               credential=LocalCredential(LOCAL_ACCESS_KEY_ID, "not-the-secret")),
            "signature we calculated does not match"),
    refused("unknown-access-key",
            lambda api: signed("POST", url_for(api), ticket_bytes(),
                               credential=LocalCredential("AKIANOBODYISSUEDTHIS", LOCAL_SECRET_ACCESS_KEY)),
            "security token included in the request is invalid"),
    refused("session-token-never-issued", _with_foreign_token, "security token included in the request is invalid"),
    refused("tampered-body", _tampered_body, "signature we calculated does not match"),
    refused("tampered-path-other-resource", lambda api: _tampered_path(api, "health"),
            "signature we calculated does not match"),
    refused("tampered-path-trailing-slash", lambda api: _tampered_path(api, TICKETS + "/"),
            "signature we calculated does not match"),
    refused("tampered-query", _tampered_query, "signature we calculated does not match"),
    refused("wrong-region",
            lambda api: signed("POST", url_for(api), ticket_bytes(), region=SECONDARY), "region"),
    refused("expired-date-10-min-ago", _skewed(-10), "Signature expired"),
    refused("future-date-10-min-ahead", _skewed(10), "not yet current"),
    refused("wrong-service",
            lambda api: signed("POST", url_for(api), ticket_bytes(), service="lambda"), "service"),
]


# -------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[Deployed]:
    """One local cloud and one build-api for the module, with one valid ticket in the table; always stopped."""
    workdir = tmp_path_factory.mktemp("bad-requests")
    try:
        started = wildrydes_json(workdir, "local", "up")
        api_url = wildrydes_json(workdir, "build-api")["api_url"]
        api_url = api_url if api_url.endswith("/") else api_url + "/"
        answer = send(signed("POST", url_for(api_url), ticket_bytes()))
        assert answer.status == 201, str(answer)
        created = {answer.body["id"]: answer.body}
        yield Deployed(workdir, started["aws_endpoint"], api_url, created)
    finally:
        wildrydes(workdir, "local", "down", check=False)


# ----------------------------------------------------------------------------------------------------- tests


def test_corpus_is_large_and_distinct():
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_request_is_refused_and_writes_nothing(deployed, case):
    before = table_count(deployed.aws_endpoint)
    answer = send(case.build(deployed.api_url))
    after = table_count(deployed.aws_endpoint)

    assert 400 <= answer.status < 500, f"{case.id}: {answer}"
    assert answer.status == case.status, f"{case.id}: {answer}"
    body = answer.body
    assert isinstance(body, dict), f"{case.id}: not a JSON object: {answer}"
    message = body.get("message")
    assert isinstance(message, str) and message.strip(), f"{case.id}: no message: {answer}"
    assert case.mentions.lower() in message.lower(), f"{case.id}: message does not name the problem: {answer}"
    assert answer.headers.get("content-type", "").startswith("application/json"), f"{case.id}: {answer}"
    assert answer.headers.get("access-control-allow-origin") == "*", f"{case.id}: no CORS header: {answer}"
    if case.from_gateway:  # refused by the gateway itself, as API Gateway does: no Lambda saw it
        assert answer.headers.get("x-amzn-errortype"), f"{case.id}: {answer}"
    else:  # answered by the handler's validation
        assert "x-amzn-errortype" not in answer.headers, f"{case.id}: {answer}"

    assert after == before, f"{case.id} wrote to {TABLE}: {answer}"


def test_nothing_written_after_the_whole_corpus(deployed):
    """Runs after the corpus (file order): the listing and the table hold exactly this module's tickets."""
    answer = send(signed("GET", url_for(deployed.api_url, query=[("limit", "100")])))
    assert answer.status == 200, str(answer)
    assert answer.body["next"] is None, "more than one page of tickets: something was written"
    extra = [t for t in answer.body["tickets"] if t["id"] not in deployed.created]
    assert not extra, f"written by bad requests: {extra}"
    assert sorted(t["id"] for t in answer.body["tickets"]) == sorted(deployed.created)
    assert answer.body["tickets"] == list(deployed.created.values())  # unchanged, field for field

    items = moto_client(deployed.aws_endpoint, "dynamodb").scan(TableName=TABLE)["Items"]
    assert sorted(item["id"]["S"] for item in items) == sorted(deployed.created)
    assert table_count(deployed.aws_endpoint) == len(deployed.created) == 1
