"""POST /owners/{owner}/tickets (lambda_src.create_ticket), the body: valid tickets are stored once; every bad
request is a 400 that names the field and writes nothing; unsigned calls are 403; failures are 500 with the request
id. The owner, the client's id and the idempotent create: test_handlers_create_owner.py."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest

from lambda_src import common, create_ticket, json_body

CREATED_ON = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256"
    ),
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
    "Content-Type": "application/json",
}


def valid_body(**changes):
    body = {
        "description": "The unicorn refused to take me past the rainbow.",
        "assigned": "Ops team",
        "priority": "high",
        "status": "open",
    }
    body.update(changes)
    return body


def without(field):
    body = valid_body()
    del body[field]
    return body


def all_items(table):
    return table.scan(ConsistentRead=True)["Items"]


OWNER = "112177216992379"
PATH = f"/owners/{OWNER}/tickets"


def post(api_event, body, **kwargs):
    return create_ticket.handler(api_event("POST", PATH, body=body, owner=OWNER, **kwargs), None)


def test_valid_ticket_is_created_and_stored_with_every_field(tickets_table, api_event):
    event = api_event(
        "POST", PATH, body=valid_body(description="  Saddle is loose on unicorn 42.  "), owner=OWNER
    )
    response = create_ticket.handler(event, None)

    assert response["statusCode"] == 201
    ticket = json.loads(response["body"])
    assert set(ticket) == {
        "id", "owner", "description", "assigned", "priority", "status", "createdBy", "createdOn"
    }
    assert uuid.UUID(ticket["id"]).version == 4
    assert ticket["owner"] == OWNER
    assert ticket["description"] == "Saddle is loose on unicorn 42."
    assert ticket["assigned"] == "Ops team"
    assert ticket["priority"] == "high"
    assert ticket["status"] == "open"
    assert ticket["createdBy"] == event["requestContext"]["identity"]["cognitoIdentityId"]
    assert CREATED_ON.fullmatch(ticket["createdOn"])

    items = all_items(tickets_table)
    assert items == [ticket]


def test_each_create_gets_its_own_id(tickets_table, api_event):
    ids = {json.loads(post(api_event, valid_body())["body"])["id"] for _ in range(5)}
    assert len(ids) == 5
    assert {item["id"] for item in all_items(tickets_table)} == ids


def test_base64_encoded_body_is_accepted(tickets_table, api_event):
    raw = base64.b64encode(json.dumps(valid_body(priority="low")).encode()).decode()
    response = post(api_event, raw, base64=True)
    assert response["statusCode"] == 201
    assert all_items(tickets_table)[0]["priority"] == "low"


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "x" * 10},
        {"description": "x" * 2000},
        {"assigned": "a"},
        {"assigned": "a" * 100},
        {"priority": "medium", "status": "assigned"},
        {"status": "closed"},
        {"description": "Ünïcörn 🦄 saddle broke"},
    ],
)
def test_boundary_values_are_accepted(tickets_table, api_event, changes):
    response = post(api_event, valid_body(**changes))
    assert response["statusCode"] == 201, response["body"]
    assert len(all_items(tickets_table)) == 1


def test_body_of_exactly_16_kib_is_accepted_and_one_byte_more_is_not(tickets_table, api_event):
    compact = json.dumps(valid_body())
    at_limit = compact + " " * (16384 - len(compact.encode()))
    assert len(at_limit.encode()) == 16384
    assert post(api_event, at_limit)["statusCode"] == 201

    response = post(api_event, at_limit + " ")
    assert response["statusCode"] == 400
    assert "body" in json.loads(response["body"])["message"]
    assert len(all_items(tickets_table)) == 1


BAD_REQUESTS = [
    pytest.param(None, "body", id="no-body"),
    pytest.param("", "body", id="empty-body"),
    pytest.param("   \n ", "body", id="blank-body"),
    pytest.param("{not json", "JSON", id="bad-json"),
    pytest.param("[1, 2]", "object", id="array-body"),
    pytest.param('"a string"', "object", id="string-body"),
    pytest.param("null", "object", id="null-body"),
    pytest.param(without("description"), "description", id="missing-description"),
    pytest.param(without("assigned"), "assigned", id="missing-assigned"),
    pytest.param(without("priority"), "priority", id="missing-priority"),
    pytest.param(without("status"), "status", id="missing-status"),
    pytest.param(valid_body(description=12345678901), "description", id="description-not-string"),
    pytest.param(valid_body(description="too short"), "description", id="description-9-chars"),
    pytest.param(valid_body(description="   short    "), "description", id="description-short-after-strip"),
    pytest.param(valid_body(description="x" * 2001), "description", id="description-2001-chars"),
    pytest.param(valid_body(assigned=""), "assigned", id="assigned-empty"),
    pytest.param(valid_body(assigned="   "), "assigned", id="assigned-blank"),
    pytest.param(valid_body(assigned="a" * 101), "assigned", id="assigned-101-chars"),
    pytest.param(valid_body(assigned=None), "assigned", id="assigned-null"),
    pytest.param(valid_body(priority="urgent"), "priority", id="priority-unknown"),
    pytest.param(valid_body(priority="HIGH"), "priority", id="priority-wrong-case"),
    pytest.param(valid_body(priority=["high"]), "priority", id="priority-list"),
    pytest.param(valid_body(status="pending"), "status", id="status-unknown"),
    pytest.param(valid_body(status=1), "status", id="status-number"),
    pytest.param(valid_body(id="chosen-by-client"), "id", id="id-not-a-uuid"),
    pytest.param(valid_body(kind="ticket"), "kind", id="unknown-field-kind"),
    pytest.param(valid_body(owner="492844718097981"), "owner", id="unknown-field-owner"),
    pytest.param(valid_body(createdBy="someone-else"), "createdBy", id="unknown-field-createdBy"),
    pytest.param(
        '{"description": "long enough text", "assigned": "a", "priority": "low", "status": "open",'
        ' "status": "closed"}',
        "status",
        id="duplicate-field",
    ),
    pytest.param(
        '{"description": NaN, "assigned": "a", "priority": "low", "status": "open"}', "NaN", id="nan"
    ),
    pytest.param(json.dumps(valid_body(description="x" * 2000)) + " " * 16384, "body", id="over-16-kib"),
]


@pytest.mark.parametrize(("body", "names"), BAD_REQUESTS)
def test_bad_request_is_400_naming_the_field_and_writes_nothing(tickets_table, api_event, body, names):
    response = post(api_event, body)

    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    message = json.loads(response["body"])["message"]
    assert names in message
    assert all_items(tickets_table) == []


BAD_BASE64 = [
    pytest.param("not base64 at all!", "base64", id="invalid-base64"),
    pytest.param(base64.b64encode(b"\xff\xfe{}").decode(), "UTF-8", id="not-utf8"),
    pytest.param(base64.b64encode(b" " * 16385).decode(), "body", id="decoded-over-16-kib"),
    pytest.param("A" * 30000, "body", id="encoded-far-over-16-kib"),
    pytest.param(base64.b64encode(json.dumps(without("status")).encode()).decode(), "status", id="missing"),
]


@pytest.mark.parametrize(("body", "names"), BAD_BASE64)
def test_bad_base64_body_is_400_and_writes_nothing(tickets_table, api_event, body, names):
    response = post(api_event, body, base64=True)

    assert response["statusCode"] == 400
    assert names in json.loads(response["body"])["message"]
    assert all_items(tickets_table) == []


def padded_to_16_kib(text):
    assert len(text.encode()) <= 16384
    return text + " " * (16384 - len(text.encode()))


def nested_objects(levels):
    return '{"a":' * levels + "1" + "}" * levels


def nested_in_description(levels):
    fields = json.dumps(without("description"))[1:]
    return '{"description":' + "[" * levels + "]" * levels + "," + fields


DEEP_BODIES = [
    pytest.param("[" * 5000 + "]" * 5000, id="arrays-5000"),
    pytest.param("[" * 8192 + "]" * 8192, id="arrays-at-16-kib"),
    pytest.param(nested_objects(2000), id="objects-2000"),
    pytest.param(padded_to_16_kib(nested_objects(2730)), id="objects-at-16-kib"),
    pytest.param(padded_to_16_kib('[{"a":' * 2047 + "1" + "}]" * 2047), id="mixed-at-16-kib"),
    pytest.param(padded_to_16_kib(nested_in_description(8000)), id="inside-a-field-at-16-kib"),
    pytest.param("[" * 5000, id="unclosed-arrays"),
    pytest.param(nested_objects(create_ticket.MAX_NESTING + 1), id="one-level-over-the-limit"),
]


@pytest.mark.parametrize("body", DEEP_BODIES)
def test_deeply_nested_json_is_400_and_writes_nothing(tickets_table, api_event, body):
    assert len(body.encode()) <= create_ticket.MAX_BODY_BYTES
    response = post(api_event, body)

    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    message = json.loads(response["body"])["message"]
    assert message.startswith("Request body is not valid JSON: nested too deeply")
    assert all_items(tickets_table) == []


def test_deeply_nested_base64_body_is_400_and_writes_nothing(tickets_table, api_event):
    body = base64.b64encode(b"[" * 8192 + b"]" * 8192).decode()
    response = post(api_event, body, base64=True)

    assert response["statusCode"] == 400
    assert "nested too deeply" in json.loads(response["body"])["message"]
    assert all_items(tickets_table) == []


def test_nesting_up_to_the_limit_gets_the_usual_field_message(tickets_table, api_event):
    levels = create_ticket.MAX_NESTING - 1  # the body object itself is the first level
    body = json.dumps(valid_body(priority=json.loads("[" * levels + "]" * levels)))

    response = post(api_event, body)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"].startswith("Field 'priority' must be a string")
    assert all_items(tickets_table) == []


@pytest.mark.parametrize(
    "description",
    [
        pytest.param("[" * 1000 + "{" * 1000, id="brackets"),
        pytest.param('\\"' + "[" * 1990, id="escaped-quote-then-brackets"),
        pytest.param('"' + "{" * 1990 + '"', id="quoted-braces"),
    ],
)
def test_brackets_inside_strings_do_not_count_as_nesting(tickets_table, api_event, description):
    response = post(api_event, valid_body(description=description))
    assert response["statusCode"] == 201, response["body"]
    assert all_items(tickets_table)[0]["description"] == description


def test_recursion_error_while_parsing_is_400(tickets_table, api_event, monkeypatch):
    """The backstop: the scanner, or the object_pairs_hook it calls at every object, runs out of stack."""

    def exhausted(pairs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(json_body, "_no_duplicate_keys", exhausted)
    response = post(api_event, valid_body())

    assert response["statusCode"] == 400
    assert "nested too deeply" in json.loads(response["body"])["message"]
    assert all_items(tickets_table) == []


def test_recursion_error_outside_parsing_is_still_a_500(tickets_table, api_event, monkeypatch):
    def buggy(data):
        raise RecursionError("a bug, not a client error")

    monkeypatch.setattr(create_ticket, "validate", buggy)
    response = post(api_event, valid_body(), request_id="req-rec")

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "req-rec"}
    assert all_items(tickets_table) == []


def test_iam_principal_without_cognito_identity_is_the_creator(tickets_table, api_event):
    # API Gateway fills cognitoIdentityId only for Cognito-issued credentials; an IAM user or role (the
    # operator's canary) gets userArn and caller instead.
    event = api_event("POST", PATH, body=valid_body(), identity=None, owner=OWNER)
    operator = "arn:aws:iam::123456789012:user/wildrydes-operator"
    event["requestContext"]["identity"].update(userArn=operator, caller="AIDAEXAMPLEOPERATOR")
    response = create_ticket.handler(event, None)

    assert response["statusCode"] == 201, response["body"]
    ticket = json.loads(response["body"])
    assert ticket["createdBy"] == operator
    assert [item["createdBy"] for item in all_items(tickets_table)] == [operator]


@pytest.mark.parametrize("identity", [None, ""])
def test_unsigned_request_is_403_and_writes_nothing(tickets_table, api_event, identity):
    response = post(api_event, valid_body(), identity=identity)

    assert response["statusCode"] == 403
    assert json.loads(response["body"]) == {"message": "Signed request required"}
    assert response["headers"]["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert all_items(tickets_table) == []


def test_cors_headers_on_success_and_on_errors(tickets_table, api_event):
    for response in (
        post(api_event, valid_body()),
        post(api_event, "{"),
        post(api_event, valid_body(), identity=None),
    ):
        for name, value in CORS.items():
            assert response["headers"][name] == value


def test_allowed_origin_comes_from_the_environment(tickets_table, api_event, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGIN", "https://tickets.example.com")
    for response in (post(api_event, valid_body()), post(api_event, "{")):
        assert response["headers"]["Access-Control-Allow-Origin"] == "https://tickets.example.com"


def test_existing_ticket_is_never_overwritten(tickets_table, api_event, monkeypatch):
    fixed = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    monkeypatch.setattr(create_ticket.uuid, "uuid4", lambda: fixed)
    assert post(api_event, valid_body(status="open"))["statusCode"] == 201

    response = post(api_event, valid_body(status="closed"))

    # The conditional put refused to overwrite; the same owner gets the stored ticket back, as for a retry.
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "open"
    assert [item["status"] for item in all_items(tickets_table)] == ["open"]


def test_unexpected_exception_is_500_with_request_id(mocked_aws, api_event, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(common, "table", broken)
    response = post(api_event, valid_body(), request_id="req-0042")

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "req-0042"}
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


def test_missing_table_is_500_not_a_hang(mocked_aws, api_event):
    response = post(api_event, valid_body())
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["requestId"]


def test_preflight_and_wrong_method(tickets_table, api_event):
    preflight = create_ticket.handler(api_event("OPTIONS", PATH, owner=OWNER), None)
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Headers"] == CORS["Access-Control-Allow-Headers"]

    wrong = create_ticket.handler(api_event("PUT", PATH, body=valid_body(), owner=OWNER), None)
    assert wrong["statusCode"] == 405
    assert all_items(tickets_table) == []
