"""POST /owners/{owner}/tickets (lambda_src.create_ticket), the owner and the id: the path's owner is validated and
stored; a client-chosen id must be a canonical lower-case UUID; the create is a conditional put, so the same id
twice is one ticket (201, then 200 with the stored ticket) and another owner's id is a 409."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lambda_src import common, create_ticket

OWNER = "112177216992379"
OTHER_OWNER = "492844718097981"
TICKET_ID = "3f2b8c1e-9d4a-4e7b-8c5f-1a2b3c4d5e6f"
OPERATOR_ARN = "arn:aws:iam::123456789012:user/wildrydes-operator"


def body(**changes):
    fields = {
        "id": TICKET_ID,
        "description": "The unicorn refused to take me past the rainbow.",
        "assigned": "Ops team",
        "priority": "high",
        "status": "open",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def post(api_event, fields, owner=OWNER, **kwargs):
    event = api_event("POST", f"/owners/{owner}/tickets", body=fields, owner=owner, **kwargs)
    return create_ticket.handler(event, None)


def all_items(table):
    return table.scan(ConsistentRead=True)["Items"]


def message(response):
    return json.loads(response["body"])["message"]


@pytest.mark.parametrize("owner", ["1", "9" * 32, OWNER, "operator"])
def test_ticket_belongs_to_the_owner_the_path_names(tickets_table, api_event, owner):
    response = post(api_event, body(), owner=owner)

    assert response["statusCode"] == 201, response["body"]
    ticket = json.loads(response["body"])
    assert ticket["owner"] == owner
    assert all_items(tickets_table) == [ticket]
    assert "kind" not in ticket


BAD_OWNERS = [
    pytest.param("", id="empty"),
    pytest.param("9" * 33, id="33-digits"),
    pytest.param("12a4", id="not-digits"),
    pytest.param("Operator", id="operator-wrong-case"),
    pytest.param("operator ", id="trailing-space"),
    pytest.param("1234\n", id="trailing-newline"),
    pytest.param("١٢٣", id="non-ascii-digits"),
    pytest.param("-1", id="negative"),
    pytest.param("legacy:eu-west-1:0f6a1c2e-1111-4222-8333-944455556666", id="legacy-pseudo-owner"),
    pytest.param("1234/tickets", id="two-segments"),
    pytest.param("*", id="wildcard"),
]


@pytest.mark.parametrize("owner", BAD_OWNERS)
def test_bad_owner_is_400_naming_owner_and_writes_nothing(tickets_table, api_event, owner):
    response = post(api_event, body(), owner=owner)

    assert response["statusCode"] == 400
    assert "'owner'" in message(response)
    assert all_items(tickets_table) == []


@pytest.mark.parametrize("path_parameters", [None, {}, {"owner": None}, {"owner": 1234}, {"id": OWNER}])
def test_missing_owner_is_400_naming_owner(tickets_table, api_event, path_parameters):
    event = api_event("POST", "/owners/x/tickets", body=body())
    event["pathParameters"] = path_parameters
    response = create_ticket.handler(event, None)

    assert response["statusCode"] == 400
    assert "'owner'" in message(response)
    assert all_items(tickets_table) == []


@pytest.mark.parametrize(
    "ticket_id",
    [
        TICKET_ID,  # version 4
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",  # version 1
        "01890a5d-ac96-774b-bcce-b302099a8057",  # version 7
        "00000000-0000-0000-0000-000000000000",  # the nil UUID
    ],
)
def test_client_id_of_any_version_is_the_ticket_id(tickets_table, api_event, ticket_id):
    response = post(api_event, body(id=ticket_id))

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["id"] == ticket_id
    assert [item["id"] for item in all_items(tickets_table)] == [ticket_id]


BAD_IDS = [
    pytest.param(TICKET_ID.upper(), id="upper-case"),
    pytest.param("{" + TICKET_ID + "}", id="braces"),
    pytest.param("urn:uuid:" + TICKET_ID, id="urn"),
    pytest.param(TICKET_ID.replace("-", ""), id="no-hyphens"),
    pytest.param(TICKET_ID + "\n", id="trailing-newline"),
    pytest.param(" " + TICKET_ID, id="leading-space"),
    pytest.param(TICKET_ID[:-1], id="one-digit-short"),
    pytest.param(TICKET_ID + "0", id="one-digit-long"),
    pytest.param(TICKET_ID[:-1] + "g", id="not-hex"),
    pytest.param("__health__", id="health-key"),
    pytest.param("", id="empty"),
    pytest.param(12345, id="number"),
    pytest.param([TICKET_ID], id="list"),
    pytest.param(False, id="false"),
]


@pytest.mark.parametrize("ticket_id", BAD_IDS)
def test_bad_id_is_400_naming_id_and_writes_nothing(tickets_table, api_event, ticket_id):
    response = post(api_event, body(id=ticket_id))

    assert response["statusCode"] == 400
    assert message(response).startswith("Field 'id' must be a UUID")
    assert all_items(tickets_table) == []


def test_null_id_is_400_not_a_new_id(tickets_table, api_event):
    fields = body()
    fields["id"] = None
    response = post(api_event, fields)

    assert response["statusCode"] == 400
    assert "'id'" in message(response)
    assert all_items(tickets_table) == []


def test_same_id_twice_is_one_ticket_201_then_200_with_the_stored_ticket(tickets_table, api_event):
    first = post(api_event, body())
    retry = post(api_event, body(status="closed", description="A retry that changed its mind."))

    assert first["statusCode"] == 201
    assert retry["statusCode"] == 200, retry["body"]
    created = json.loads(first["body"])
    assert json.loads(retry["body"]) == created
    assert all_items(tickets_table) == [created]
    assert created["status"] == "open"


def test_a_retry_by_another_caller_of_the_same_owner_is_the_same_ticket(tickets_table, api_event):
    """The same Facebook user through the other region's pool has another identity id, same owner."""
    first = post(api_event, body(), identity="eu-west-1:0f6a1c2e-1111-4222-8333-944455556666")
    retry = post(api_event, body(), identity="ap-southeast-1:7d1e2f3a-2222-4333-8444-a55566667777")

    assert (first["statusCode"], retry["statusCode"]) == (201, 200)
    assert json.loads(retry["body"])["createdBy"] == "eu-west-1:0f6a1c2e-1111-4222-8333-944455556666"
    assert len(all_items(tickets_table)) == 1


def test_another_owners_id_is_409_and_changes_nothing(tickets_table, api_event):
    created = json.loads(post(api_event, body(), owner=OTHER_OWNER)["body"])

    response = post(api_event, body(description="Trying to take over a ticket id."))

    assert response["statusCode"] == 409
    assert json.loads(response["body"]) == {"message": f"ticket id {TICKET_ID} is already used"}
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert all_items(tickets_table) == [created]


def test_a_legacy_tickets_id_is_409_for_every_owner(tickets_table, api_event):
    legacy = {"id": TICKET_ID, "owner": "legacy:eu-west-1:abc", "kind": "ticket", "createdOn": "2025-01-01"}
    tickets_table.put_item(Item=legacy)

    for owner in (OWNER, "operator"):
        response = post(api_event, body(), owner=owner)
        assert response["statusCode"] == 409
    assert all_items(tickets_table) == [legacy]


def test_the_retry_answer_hides_fields_clients_never_see(tickets_table, api_event):
    stored = {**body(), "owner": OWNER, "createdBy": "x", "createdOn": "2025-01-01T00:00:00.000Z", "kind": "ticket"}
    tickets_table.put_item(Item=stored)

    response = post(api_event, body())

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {k: v for k, v in stored.items() if k != "kind"}


def test_operator_creates_for_the_operator_owner(tickets_table, api_event):
    event = api_event("POST", "/owners/operator/tickets", body=body(), identity=None, owner="operator")
    event["requestContext"]["identity"].update(userArn=OPERATOR_ARN, caller="AIDAEXAMPLEOPERATOR")
    response = create_ticket.handler(event, None)

    assert response["statusCode"] == 201, response["body"]
    assert [(i["owner"], i["createdBy"]) for i in all_items(tickets_table)] == [("operator", OPERATOR_ARN)]


class TableSpy:
    """The real (moto) table, recording the calls; `put_error` makes PutItem fail with that AWS error code."""

    def __init__(self, table, put_error=None, forget_items=False):
        self._table, self._put_error, self._forget_items = table, put_error, forget_items
        self.calls = []

    def put_item(self, **kwargs):
        self.calls.append(("put_item", kwargs))
        if self._put_error:
            raise ClientError({"Error": {"Code": self._put_error, "Message": "injected"}}, "PutItem")
        return self._table.put_item(**kwargs)

    def get_item(self, **kwargs):
        self.calls.append(("get_item", kwargs))
        return {} if self._forget_items else self._table.get_item(**kwargs)


def spy_on_table(monkeypatch, tickets_table, **options):
    spy = TableSpy(tickets_table, **options)
    monkeypatch.setattr(common, "table", lambda *a, **k: spy)
    return spy


def test_create_is_a_conditional_put_and_a_duplicate_a_consistent_get(tickets_table, api_event, monkeypatch):
    spy = spy_on_table(monkeypatch, tickets_table)
    post(api_event, body())
    post(api_event, body())

    assert [name for name, _ in spy.calls] == ["put_item", "put_item", "get_item"]
    assert all(kw["ConditionExpression"] == "attribute_not_exists(id)" for _, kw in spy.calls[:2])
    assert spy.calls[2][1] == {"Key": {"id": TICKET_ID}, "ConsistentRead": True}


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ValidationException"])
def test_other_put_errors_are_500_without_a_read(tickets_table, api_event, monkeypatch, code):
    spy = spy_on_table(monkeypatch, tickets_table, put_error=code)
    response = post(api_event, body(), request_id="req-put")

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "req-put"}
    assert [name for name, _ in spy.calls] == ["put_item"]


def test_a_duplicate_that_cannot_be_read_is_500_not_a_new_ticket(tickets_table, api_event, monkeypatch):
    spy_on_table(monkeypatch, tickets_table, put_error="ConditionalCheckFailedException", forget_items=True)
    response = post(api_event, body())

    assert response["statusCode"] == 500
    assert all_items(tickets_table) == []
