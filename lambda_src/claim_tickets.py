"""POST /owners/{owner}/claims: move the caller identity's tickets from before owners existed to `owner`.

Owns the claim. Tickets made before owners existed were stamped during the upgrade with the pseudo-owner
"legacy:<createdBy>" (createdBy was the Cognito identity id that made them); no path can name that owner, so
they stay out of every listing until the identity that made them claims them:
  - only a Cognito caller (requestContext.identity.cognitoIdentityId set): any other principal is a 403
    {"message": "only a Cognito identity can claim tickets"};
  - the body is empty or `{}` (anything else is a 400);
  - Query the listing index (env INDEX_NAME) for owner "legacy:<cognitoIdentityId>", every page, then for each
    ticket UpdateItem SET owner = :owner with the condition owner = :legacy, so a ticket claimed meanwhile (a
    concurrent claim that won the race) is skipped, never taken twice and never an error;
  - 200 {"claimed": N}: how many tickets this call moved. A second call claims 0.
Which owner a caller may claim for is API Gateway's decision (IAM: the identity-pool role may only POST to
its own /owners/<principal tag>/claims).
DynamoDB actions: Query on the index, UpdateItem on the table.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

try:
    from . import common, json_body
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]
    import json_body  # type: ignore[no-redef]

LEGACY_PREFIX = "legacy:"
NOT_COGNITO = "only a Cognito identity can claim tickets"


def legacy_owner(identity: str) -> str:
    """The pseudo-owner the upgrade gave the tickets `identity` made before owners existed."""
    return LEGACY_PREFIX + identity


def check_body(event: dict[str, Any]) -> None:
    """A claim takes no arguments: no body, or the empty JSON object."""
    raw = json_body.raw_body(event)
    if raw is not None and json_body.parse_object(raw, "empty or {}"):
        raise common.HttpError(400, "Request body must be empty or {}: a claim takes no fields")


def legacy_ticket_ids(table: Any, legacy: str) -> list[str]:
    """The ids of every ticket under the pseudo-owner `legacy`, all pages of the index read before any moves."""
    # An index Query is eventually consistent (GSIs offer no strongly consistent reads): a ticket the upgrade
    # stamped a moment ago may show up only in the next claim, which is why the claim is safe to repeat.
    request: dict[str, Any] = {
        "IndexName": common.index_name(),
        "KeyConditionExpression": Key("owner").eq(legacy),
        "ProjectionExpression": "id",
    }
    ids: list[str] = []
    while True:
        page = table.query(**request)
        ids.extend(item["id"] for item in page.get("Items", []))
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return ids
        request["ExclusiveStartKey"] = last_key


def claim(table: Any, ticket_id: str, legacy: str, owner: str) -> bool:
    """Move one ticket from `legacy` to `owner`; False when it no longer belongs to `legacy`."""
    try:
        table.update_item(
            Key={"id": ticket_id},
            UpdateExpression="SET #owner = :owner",
            ConditionExpression="#owner = :legacy",
            # owner is a DynamoDB reserved word: an expression may only name it through a placeholder.
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": owner, ":legacy": legacy},
        )
    except ClientError as err:
        if common.error_code(err) != "ConditionalCheckFailedException":
            raise
        return False
    return True


@common.api_handler("POST")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    identity = common.identity_id(event)
    if identity is None:
        raise common.HttpError(403, NOT_COGNITO)
    owner = common.path_owner(event)
    check_body(event)

    table = common.table()
    legacy = legacy_owner(identity)
    claimed = sum(claim(table, ticket_id, legacy, owner) for ticket_id in legacy_ticket_ids(table, legacy))
    common.logger.info("Claimed %d legacy ticket(s) of %s for owner %s", claimed, identity, owner)
    return common.json_response(200, {"claimed": claimed})
