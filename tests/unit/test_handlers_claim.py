"""POST /owners/{owner}/claims (lambda_src.claim_tickets): a Cognito caller moves exactly the tickets its own
identity made before owners existed (pseudo-owner "legacy:<identity id>") to the path's owner; a second claim
moves nothing; IAM callers are 403; a body other than empty or {} is a 400; a ticket claimed meanwhile is
skipped."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from lambda_src import claim_tickets, common, list_tickets

OWNER = "112177216992379"
OTHER_OWNER = "492844718097981"
IDENTITY = "eu-west-1:0f6a1c2e-1111-4222-8333-944455556666"  # conftest's default caller
OTHER_IDENTITY = "eu-west-1:9a8b7c6d-5555-4666-8777-988899990000"
OPERATOR_ARN = "arn:aws:iam::123456789012:user/wildrydes-operator"


def legacy_ticket(number: int, identity: str = IDENTITY) -> dict:
    """A ticket as it was before owners existed, after the upgrade stamped its pseudo-owner."""
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "kind": "ticket",
        "owner": f"legacy:{identity}",
        "createdBy": identity,
        "createdOn": f"2025-06-01T00:00:{number:02d}.000Z",
        "description": f"Legacy ticket number {number}",
        "assigned": "Ops",
        "priority": "low",
        "status": "open",
    }


def store(table, *items):
    for item in items:
        table.put_item(Item=item)
    return list(items)


def owners_by_id(table) -> dict[str, str]:
    return {item["id"]: item["owner"] for item in table.scan(ConsistentRead=True)["Items"]}


def claim(api_event, owner=OWNER, body=None, **kwargs):
    event = api_event("POST", f"/owners/{owner}/claims", body=body, owner=owner, **kwargs)
    return claim_tickets.handler(event, None)


def answer(response):
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def mixed_tickets(tickets_table):
    """Three legacy tickets of the caller's identity, two of another identity, one already owned by another."""
    mine = store(tickets_table, *(legacy_ticket(n) for n in (1, 2, 3)))
    theirs = store(tickets_table, *(legacy_ticket(n, OTHER_IDENTITY) for n in (4, 5)))
    owned = store(tickets_table, {**legacy_ticket(6), "owner": OTHER_OWNER})
    return {"mine": mine, "theirs": theirs, "owned": owned}


def test_claim_moves_only_the_callers_legacy_tickets(tickets_table, api_event, mixed_tickets):
    before = owners_by_id(tickets_table)

    assert answer(claim(api_event)) == (200, {"claimed": 3})

    after = owners_by_id(tickets_table)
    mine = {t["id"] for t in mixed_tickets["mine"]}
    assert {ticket_id for ticket_id, owner in after.items() if owner == OWNER} == mine
    assert {k: v for k, v in after.items() if k not in mine} == {k: v for k, v in before.items() if k not in mine}


def test_claimed_tickets_are_listed_for_the_owner_unchanged_otherwise(tickets_table, api_event, mixed_tickets):
    claim(api_event)
    event = api_event("GET", f"/owners/{OWNER}/tickets", owner=OWNER)
    listed = json.loads(list_tickets.handler(event, None)["body"])["tickets"]

    expected = [
        {**{k: v for k, v in t.items() if k != "kind"}, "owner": OWNER}
        for t in sorted(mixed_tickets["mine"], key=lambda t: t["createdOn"], reverse=True)
    ]
    assert listed == expected


def test_a_second_claim_claims_nothing(tickets_table, api_event, mixed_tickets):
    assert answer(claim(api_event))[1] == {"claimed": 3}
    after_first = owners_by_id(tickets_table)

    assert answer(claim(api_event)) == (200, {"claimed": 0})
    assert owners_by_id(tickets_table) == after_first


def test_a_caller_without_legacy_tickets_claims_nothing(tickets_table, api_event):
    assert answer(claim(api_event)) == (200, {"claimed": 0})


def test_the_same_person_through_the_other_pool_claims_that_identitys_tickets(
    tickets_table, api_event, mixed_tickets
):
    claim(api_event)  # the first pool's identity
    assert answer(claim(api_event, identity=OTHER_IDENTITY)) == (200, {"claimed": 2})
    assert set(owners_by_id(tickets_table).values()) == {OWNER, OTHER_OWNER}


@pytest.mark.parametrize("identity", [None, "", "   "])
def test_an_iam_caller_is_refused_403_and_nothing_moves(tickets_table, api_event, mixed_tickets, identity):
    event = api_event("POST", f"/owners/{OWNER}/claims", identity=identity, owner=OWNER)
    event["requestContext"]["identity"].update(userArn=OPERATOR_ARN, caller="AIDAEXAMPLEOPERATOR")
    before = owners_by_id(tickets_table)

    response = claim_tickets.handler(event, None)

    assert answer(response) == (403, {"message": "only a Cognito identity can claim tickets"})
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert owners_by_id(tickets_table) == before


@pytest.mark.parametrize("owner", ["", "operator!", "9" * 33, f"legacy:{IDENTITY}", "abc"])
def test_bad_owner_is_400_naming_owner_and_nothing_moves(tickets_table, api_event, mixed_tickets, owner):
    before = owners_by_id(tickets_table)
    status, body = answer(claim(api_event, owner=owner))

    assert status == 400
    assert "'owner'" in body["message"]
    assert owners_by_id(tickets_table) == before


@pytest.mark.parametrize(
    ("body", "encoded"),
    [(None, False), ("", False), ("{}", False), (" { }\n", False), ("   ", False), ("e30=", True)],
)
def test_an_empty_body_or_empty_object_is_a_claim(tickets_table, api_event, mixed_tickets, body, encoded):
    assert answer(claim(api_event, body=body, base64=encoded)) == (200, {"claimed": 3})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"owner": "492844718097981"}', id="a-field"),
        pytest.param('{"identity": "eu-west-1:x"}', id="another-field"),
        pytest.param("[]", id="array"),
        pytest.param("null", id="null"),
        pytest.param('"claim"', id="string"),
        pytest.param("{", id="not-json"),
        pytest.param("{}{}", id="two-objects"),
        pytest.param('{"a": 1, "a": 1}', id="duplicate-key"),
        pytest.param("[" * 5000 + "]" * 5000, id="nested-too-deeply"),
        pytest.param("{}" + " " * 16384, id="over-16-kib"),
    ],
)
def test_any_other_body_is_400_and_nothing_moves(tickets_table, api_event, mixed_tickets, body):
    before = owners_by_id(tickets_table)
    status, answered = answer(claim(api_event, body=body))

    assert status == 400
    assert "body" in answered["message"].lower() or "Field" in answered["message"]
    assert owners_by_id(tickets_table) == before


def test_a_non_object_body_names_what_a_claim_takes(tickets_table, api_event):
    assert answer(claim(api_event, body="[]")) == (400, {"message": "Request body must be empty or {}"})


def test_invalid_base64_body_is_400(tickets_table, api_event):
    assert answer(claim(api_event, body=base64.b64encode(b"[1]").decode(), base64=True))[0] == 400
    assert answer(claim(api_event, body="not base64!", base64=True))[0] == 400


class TableSpy:
    """The real (moto) table with Query pages of at most `page_size` items; `before_update(kwargs)` runs before
    each UpdateItem (to stage a concurrent claim), `update_error` makes UpdateItem fail with that code."""

    def __init__(self, table, page_size=None, before_update=None, update_error=None):
        self._table, self._page_size = table, page_size
        self._before_update, self._update_error = before_update, update_error
        self.queries, self.updates = [], []

    def query(self, **kwargs):
        self.queries.append(dict(kwargs))
        if self._page_size:
            kwargs["Limit"] = self._page_size
        return self._table.query(**kwargs)

    def update_item(self, **kwargs):
        self.updates.append(kwargs)
        if self._before_update:
            self._before_update(kwargs)
        if self._update_error:
            raise ClientError({"Error": {"Code": self._update_error, "Message": "injected"}}, "UpdateItem")
        return self._table.update_item(**kwargs)


def spy_on_table(monkeypatch, tickets_table, **options):
    spy = TableSpy(tickets_table, **options)
    monkeypatch.setattr(common, "table", lambda *a, **k: spy)
    return spy


def test_claim_follows_every_page_of_the_index(tickets_table, api_event, monkeypatch):
    mine = store(tickets_table, *(legacy_ticket(n) for n in range(1, 8)))
    spy = spy_on_table(monkeypatch, tickets_table, page_size=2)

    assert answer(claim(api_event)) == (200, {"claimed": 7})

    assert len(spy.queries) == 4  # 2 + 2 + 2 + 1
    assert all(q["IndexName"] == "owner-createdOn" for q in spy.queries)
    assert "ExclusiveStartKey" not in spy.queries[0]
    assert all("ExclusiveStartKey" in q for q in spy.queries[1:])
    assert set(owners_by_id(tickets_table).values()) == {OWNER}
    assert {u["Key"]["id"] for u in spy.updates} == {t["id"] for t in mine}


def test_a_ticket_claimed_meanwhile_is_skipped_not_an_error(tickets_table, api_event, monkeypatch, mixed_tickets):
    raced_id = mixed_tickets["mine"][0]["id"]

    def concurrent_claim(update):
        if update["Key"]["id"] == raced_id:  # another claim of the same identity won this ticket first
            tickets_table.update_item(
                Key={"id": raced_id},
                UpdateExpression="SET #o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": OTHER_OWNER},
            )

    spy_on_table(monkeypatch, tickets_table, before_update=concurrent_claim)

    assert answer(claim(api_event)) == (200, {"claimed": 2})
    assert owners_by_id(tickets_table)[raced_id] == OTHER_OWNER


def test_other_update_errors_are_500(tickets_table, api_event, monkeypatch, mixed_tickets):
    spy_on_table(monkeypatch, tickets_table, update_error="ProvisionedThroughputExceededException")
    status, body = answer(claim(api_event, request_id="req-claim"))
    assert (status, body) == (500, {"message": "Internal error", "requestId": "req-claim"})


def test_preflight_and_wrong_method(tickets_table, api_event, mixed_tickets):
    preflight = claim_tickets.handler(api_event("OPTIONS", f"/owners/{OWNER}/claims", owner=OWNER), None)
    assert preflight["statusCode"] == 204

    wrong = claim_tickets.handler(api_event("GET", f"/owners/{OWNER}/claims", owner=OWNER), None)
    assert wrong["statusCode"] == 405
    assert OWNER not in owners_by_id(tickets_table).values()
