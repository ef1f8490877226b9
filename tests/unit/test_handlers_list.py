"""GET /owners/{owner}/tickets (lambda_src.list_tickets): the owner's tickets only, newest first, paginated by an
opaque token, by Query on the owner index (never Scan); a bad owner, limit, next or unknown parameter is a 400
naming it."""

from __future__ import annotations

import base64
import json
import random
import types

import pytest
from boto3.dynamodb.conditions import Key

from lambda_src import common, create_ticket, list_tickets

OWNER = "112177216992379"
OTHER_OWNER = "492844718097981"


def token_of(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def create_tickets(api_event, monkeypatch, created_on: list[str], owner: str = OWNER) -> list[dict]:
    """Create one ticket per timestamp for `owner` through the create handler, with the clock pinned to each in
    turn."""
    clock = iter(created_on)
    tickets = []
    with monkeypatch.context() as patch:
        patch.setattr(common, "now_iso", lambda: next(clock))
        for number, _ in enumerate(created_on):
            body = {
                "description": f"Ticket number {number:03d}",
                "assigned": "Ops",
                "priority": "low",
                "status": "open",
            }
            event = api_event("POST", f"/owners/{owner}/tickets", body=body, owner=owner)
            response = create_ticket.handler(event, None)
            assert response["statusCode"] == 201, response["body"]
            tickets.append(json.loads(response["body"]))
    return tickets


def list_page(api_event, owner: str = OWNER, **query):
    event = api_event("GET", f"/owners/{owner}/tickets", query=query or None, owner=owner)
    return list_tickets.handler(event, None)


def all_pages(api_event, limit: int, owner: str = OWNER) -> list[list[dict]]:
    pages, token = [], None
    while True:
        query = {"limit": str(limit)}
        if token is not None:
            query["next"] = token
        response = list_page(api_event, owner, **query)
        assert response["statusCode"] == 200, response["body"]
        body = json.loads(response["body"])
        assert set(body) == {"tickets", "next"}
        pages.append(body["tickets"])
        token = body["next"]
        if token is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


def stamps(count: int, day: str = "2026-11-30") -> list[str]:
    return [f"{day}T03:{minute // 60:02d}:{minute % 60:02d}.{minute:03d}Z" for minute in range(count)]


def test_empty_table_lists_nothing(tickets_table, api_event):
    response = list_page(api_event)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"tickets": [], "next": None}


def test_pages_are_newest_first_complete_and_without_duplicates(tickets_table, api_event, monkeypatch):
    created_on = stamps(25)
    random.Random(7).shuffle(created_on)  # creation order differs from time order
    created = create_tickets(api_event, monkeypatch, created_on)

    pages = all_pages(api_event, limit=10)

    assert len(pages) >= 3
    assert all(len(page) <= 10 for page in pages)
    seen = [ticket for page in pages for ticket in page]
    assert [t["id"] for t in seen] == [
        t["id"] for t in sorted(created, key=lambda t: t["createdOn"], reverse=True)
    ]
    assert len({t["id"] for t in seen}) == 25
    assert [t["createdOn"] for t in seen] == sorted(created_on, reverse=True)
    assert all("kind" not in t for t in seen)
    assert seen[0] == max(created, key=lambda t: t["createdOn"])


def test_default_limit_is_20(tickets_table, api_event, monkeypatch):
    create_tickets(api_event, monkeypatch, stamps(25))
    body = json.loads(list_page(api_event)["body"])
    assert len(body["tickets"]) == 20
    assert body["next"] is not None


def test_tickets_sharing_a_timestamp_are_all_listed_once(tickets_table, api_event, monkeypatch):
    created = create_tickets(api_event, monkeypatch, ["2026-11-30T03:12:46.123Z"] * 7 + stamps(5))
    seen = [t["id"] for page in all_pages(api_event, limit=3) for t in page]
    assert sorted(seen) == sorted(t["id"] for t in created)


def test_only_the_owners_tickets_are_listed(tickets_table, api_event, monkeypatch):
    tickets_table.put_item(Item={"id": "__health__"})
    tickets_table.put_item(Item={"id": "old", "kind": "ticket", "createdOn": "2099-01-01T00:00:00.000Z"})
    legacy = {"owner": f"legacy:{OWNER}", "createdOn": "2099-01-01T00:00:00.000Z"}
    tickets_table.put_item(Item={"id": "legacy", **legacy})
    created = create_tickets(api_event, monkeypatch, stamps(2))
    listed = json.loads(list_page(api_event)["body"])["tickets"]
    assert {t["id"] for t in listed} == {t["id"] for t in created}
    assert {t["owner"] for t in listed} == {OWNER}


def test_one_owners_listing_never_shows_anothers(tickets_table, api_event, monkeypatch):
    times = stamps(30)
    mine = create_tickets(api_event, monkeypatch, times[0::2], owner=OWNER)  # interleaved in time
    theirs = create_tickets(api_event, monkeypatch, times[1::2], owner=OTHER_OWNER)
    operators = create_tickets(api_event, monkeypatch, stamps(3, day="2027-01-01"), owner="operator")

    for owner, expected in ((OWNER, mine), (OTHER_OWNER, theirs), ("operator", operators)):
        seen = [t for page in all_pages(api_event, limit=4, owner=owner) for t in page]
        assert [t["id"] for t in seen] == [
            t["id"] for t in sorted(expected, key=lambda t: t["createdOn"], reverse=True)
        ]
        assert {t["owner"] for t in seen} == {owner}
    assert json.loads(list_page(api_event, owner="1")["body"]) == {"tickets": [], "next": None}


def test_a_page_token_of_another_owners_listing_is_400(tickets_table, api_event, monkeypatch):
    create_tickets(api_event, monkeypatch, stamps(3), owner=OTHER_OWNER)
    their_next = json.loads(list_page(api_event, OTHER_OWNER, limit="1")["body"])["next"]
    assert their_next is not None

    response = list_page(api_event, OWNER, next=their_next)

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"message": "Query parameter 'next' is not a valid page token"}


@pytest.mark.parametrize("owner", ["", "abc", "9" * 33, "OPERATOR", f"legacy:{OWNER}", "12 34", "*"])
def test_bad_owner_is_400_naming_owner(tickets_table, api_event, owner):
    response = list_page(api_event, owner)
    assert response["statusCode"] == 400
    assert "'owner'" in json.loads(response["body"])["message"]


def test_missing_path_parameters_is_400_naming_owner(tickets_table, api_event):
    response = list_tickets.handler(api_event("GET", "/owners/x/tickets"), None)
    assert response["statusCode"] == 400
    assert "'owner'" in json.loads(response["body"])["message"]


def test_listing_queries_the_index_and_never_scans(tickets_table, api_event, monkeypatch):
    calls = []

    class Spy:
        def __init__(self, table):
            self._table = table

        def query(self, **kwargs):
            calls.append(kwargs)
            return self._table.query(**kwargs)

        def scan(self, **kwargs):
            raise AssertionError("listing must never Scan")

    real_table = common.table
    monkeypatch.setattr(common, "table", lambda *a, **k: Spy(real_table(*a, **k)))
    assert list_page(api_event, limit="5")["statusCode"] == 200
    assert len(calls) == 1
    assert calls[0]["IndexName"] == "owner-createdOn"
    assert calls[0]["KeyConditionExpression"] == Key("owner").eq(OWNER)
    assert calls[0]["ScanIndexForward"] is False
    assert calls[0]["Limit"] == 5


def test_index_name_comes_from_the_environment(tickets_table, api_event, monkeypatch):
    monkeypatch.setenv("INDEX_NAME", "noSuchIndex")
    response = list_page(api_event)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["message"] == "Internal error"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", " 5", "+5", "1e1", "99999", "٣"])
def test_bad_limit_is_400_naming_limit(tickets_table, api_event, limit):
    response = list_page(api_event, limit=limit)
    assert response["statusCode"] == 400
    assert "limit" in json.loads(response["body"])["message"]
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("limit", ["1", "100", "050"])
def test_limit_bounds_are_accepted(tickets_table, api_event, limit):
    assert list_page(api_event, limit=limit)["statusCode"] == 200


GOOD_KEY = {
    "id": "8c1d0e4e-0000-4000-8000-000000000000",
    "owner": OWNER,
    "createdOn": "2026-11-30T03:12:46.123Z",
}

BAD_TOKENS = [
    pytest.param("", id="empty"),
    pytest.param("!!!!", id="not-base64-alphabet"),
    pytest.param("abcde", id="impossible-length"),
    pytest.param("ab+/", id="standard-alphabet"),
    pytest.param(token_of(b"not json"), id="not-json"),
    pytest.param(token_of(b"\xff\xfe\xfd"), id="not-utf8"),
    pytest.param(token_of([GOOD_KEY]), id="json-list"),
    pytest.param(token_of({k: v for k, v in GOOD_KEY.items() if k != "owner"}), id="missing-key"),
    pytest.param(token_of({**{k: v for k, v in GOOD_KEY.items() if k != "owner"}, "kind": "ticket"}), id="old-key"),
    pytest.param(token_of({**GOOD_KEY, "extra": "x"}), id="extra-key"),
    pytest.param(token_of({**GOOD_KEY, "owner": OTHER_OWNER}), id="another-owner"),
    pytest.param(token_of({**GOOD_KEY, "owner": f"legacy:{OWNER}"}), id="legacy-owner"),
    pytest.param(token_of({**GOOD_KEY, "id": 7}), id="number-value"),
    pytest.param(token_of({**GOOD_KEY, "id": {"S": "x"}}), id="typed-value"),
    pytest.param(token_of({**GOOD_KEY, "createdOn": ""}), id="empty-value"),
    pytest.param(token_of({**GOOD_KEY, "id": "x" * 1000}), id="over-1024-chars"),
    pytest.param(token_of(b"[" * 384 + b"]" * 384), id="nested-arrays-1024-chars"),
    pytest.param(token_of(b'{"a":' * 127 + b"1" + b"}" * 127), id="nested-objects"),
    pytest.param(token_of(b"[" * 768), id="unclosed-arrays-1024-chars"),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_bad_next_is_400_naming_next(tickets_table, api_event, token):
    response = list_page(api_event, next=token)
    assert response["statusCode"] == 400
    assert "next" in json.loads(response["body"])["message"]


def test_nested_token_fits_the_length_limit():
    assert len(token_of(b"[" * 384 + b"]" * 384)) == list_tickets.MAX_TOKEN_CHARS


def test_recursion_error_while_parsing_the_token_is_400(tickets_table, api_event, monkeypatch):
    """How deep the parser can go depends on the interpreter and the stack in use: running out is a 400 too."""

    def exhausted(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded while decoding a JSON array from a unicode string")

    monkeypatch.setattr(list_tickets, "json", types.SimpleNamespace(loads=exhausted, dumps=json.dumps))
    response = list_page(api_event, next=token_of(GOOD_KEY))

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"message": "Query parameter 'next' is not a valid page token"}


def test_token_round_trip_and_alphabet():
    token = list_tickets.encode_token(GOOD_KEY)
    assert len(token) <= 1024
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert list_tickets.decode_token(token, OWNER) == GOOD_KEY
    assert list_tickets.decode_token(token + "=" * (-len(token) % 4), OWNER) == GOOD_KEY


def test_handmade_valid_token_starts_after_that_key(tickets_table, api_event, monkeypatch):
    created = create_tickets(api_event, monkeypatch, stamps(4))
    newest_first = sorted(created, key=lambda t: t["createdOn"], reverse=True)
    start = {"id": newest_first[1]["id"], "owner": OWNER, "createdOn": newest_first[1]["createdOn"]}
    body = json.loads(list_page(api_event, next=token_of(start))["body"])
    assert [t["id"] for t in body["tickets"]] == [t["id"] for t in newest_first[2:]]


@pytest.mark.parametrize("query", [{"page": "2"}, {"limit": "5", "sort": "asc"}, {"Limit": "5"}])
def test_unknown_query_parameter_is_400_naming_it(tickets_table, api_event, query):
    response = list_page(api_event, **query)
    assert response["statusCode"] == 400
    message = json.loads(response["body"])["message"]
    assert [name for name in query if name not in ("limit", "next")][0] in message


def test_repeated_query_parameter_is_400(tickets_table, api_event):
    event = api_event("GET", f"/owners/{OWNER}/tickets", query={"limit": "5"}, owner=OWNER)
    event["multiValueQueryStringParameters"] = {"limit": ["5", "6"]}
    response = list_tickets.handler(event, None)
    assert response["statusCode"] == 400
    assert "limit" in json.loads(response["body"])["message"]


def test_cors_headers_on_list_responses(tickets_table, api_event, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGIN", "https://tickets.example.com")
    for response in (list_page(api_event), list_page(api_event, limit="0")):
        assert response["headers"]["Access-Control-Allow-Origin"] == "https://tickets.example.com"
        assert response["headers"]["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
        assert response["headers"]["Content-Type"] == "application/json"


def test_unexpected_exception_is_500_with_lambda_request_id(mocked_aws, api_event, monkeypatch):
    class Context:
        aws_request_id = "lambda-invocation-9"

    def broken(*_args, **_kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(common, "table", broken)
    event = api_event("GET", f"/owners/{OWNER}/tickets", request_id=None, owner=OWNER)
    response = list_tickets.handler(event, Context())
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "lambda-invocation-9"}
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
