"""The tickets table: on-demand, streams NEW_AND_OLD_IMAGES (global tables need them), point-in-time recovery,
and the `owner-createdOn` index that lets the list handler page one owner's tickets newest-first without a Scan.

Upgrading a table made before tickets had owners (its index was `byCreatedOn`, keyed by the constant attribute
`kind`: one partition for every ticket): the new index is added, every ticket without an owner is given the
pseudo-owner `legacy:<createdBy>` (an identity id no path can name, until its owner claims it through the API),
and only then is the old index removed — so a run that dies halfway finds the old index still there and finishes
the job. DynamoDB takes one index change per UpdateTable call, each awaited.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, error_code, is_not_found, none_if_missing
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.errors import WildrydesError

LISTING_INDEX = "owner-createdOn"
RETIRED_INDEX = "byCreatedOn"  # before owners: hash `kind` ("ticket"), range `createdOn`
LEGACY_OWNER_PREFIX = "legacy:"
ATTRIBUTES = [{"AttributeName": name, "AttributeType": "S"} for name in ("id", "owner", "createdOn")]
TABLE_WAIT_SECONDS = 600
PITR_WAIT_SECONDS = 600


def table_arn(ctx: Context, region: str, table: str) -> str:
    return f"arn:{ctx.aws.partition(region)}:dynamodb:{region}:{ctx.aws.account_id(region)}:table/{table}"


class Table(Resource):
    kind = "dynamodb-table"

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("dynamodb", self.region)
        table = none_if_missing(lambda: client.describe_table(TableName=self.name)["Table"])
        if table is None:
            return None
        if table.get("TableStatus") == "DELETING":
            # A table being deleted will be gone in a moment; creating a new one is the right action.
            ctx.aws.wait_until(lambda: self._gone(client), what=f"table {self.name} to finish deleting",
                               timeout=TABLE_WAIT_SECONDS, interval=5, progress=ctx.progress)
            return None
        return table

    def _gone(self, client: Any) -> bool:
        try:
            client.describe_table(TableName=self.name)
            return False
        except ClientError as exc:
            if is_not_found(exc):
                return True
            raise

    def _pitr_status(self, client: Any) -> str:
        try:
            description = client.describe_continuous_backups(TableName=self.name)["ContinuousBackupsDescription"]
        except ClientError as exc:
            if error_code(exc) in {"UnknownOperationException", "UnsupportedOperationException"}:
                return "UNSUPPORTED"
            raise
        return description.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        tags = ctx.aws.client("dynamodb", self.region).list_tags_of_resource(ResourceArn=live["TableArn"])
        return {t["Key"]: t["Value"] for t in tags.get("Tags", [])}

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        changes = []
        stream = live.get("StreamSpecification", {})
        if not stream.get("StreamEnabled") or stream.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            changes.append("stream NEW_AND_OLD_IMAGES")
        if live.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
            changes.append("on-demand billing")
        return changes + index_changes(live)

    def create(self, ctx: Context) -> dict[str, Any]:
        client = ctx.aws.client("dynamodb", self.region)
        response = self.create_table(ctx, client)
        ctx.record(self, arn=response["TableArn"])
        self._wait_active(ctx, client)
        return {"arn": response["TableArn"], "stream_arn": self._stream_arn(client)}

    def create_table(self, ctx: Context, client: Any, extra_tags: dict[str, str] | None = None) -> dict[str, Any]:
        """CreateTable with this app's schema, streams and tags; returns the table description."""
        return client.create_table(
            TableName=self.name,
            AttributeDefinitions=ATTRIBUTES,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[self._listing_index()],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            Tags=[{"Key": k, "Value": v} for k, v in {**ctx.config.tag, **(extra_tags or {})}.items()],
        )["TableDescription"]

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("dynamodb", self.region)
        # DynamoDB takes one kind of table change per UpdateTable call, each followed by a wait.
        if "on-demand billing" in changes:
            client.update_table(TableName=self.name, BillingMode="PAY_PER_REQUEST")
            self._wait_active(ctx, client)
        if "stream NEW_AND_OLD_IMAGES" in changes:
            if live.get("StreamSpecification", {}).get("StreamEnabled"):
                client.update_table(TableName=self.name, StreamSpecification={"StreamEnabled": False})
                self._wait_active(ctx, client)
            client.update_table(TableName=self.name, StreamSpecification={
                "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            self._wait_active(ctx, client)
        self.change_indexes(ctx, client, changes, give_owners=True)
        return {"arn": live["TableArn"], "stream_arn": self._stream_arn(client)}

    def change_indexes(self, ctx: Context, client: Any, changes: list[str], give_owners: bool) -> None:
        """Applies `index_changes`: the listing index first, then (on the table that takes writes) owners for the
        tickets from before, then the retired index goes. A replica's tickets get their owners by replication."""
        if f"index {LISTING_INDEX}" in changes:
            # Every key attribute of the table and its new index: moto takes this list as the table's whole
            # definition (AWS would merge it), and the table's own key must stay in it.
            client.update_table(TableName=self.name, AttributeDefinitions=ATTRIBUTES,
                                GlobalSecondaryIndexUpdates=[{"Create": self._listing_index()}])
            self._wait_active(ctx, client)
        if f"retire index {RETIRED_INDEX}" in changes:
            if give_owners:
                give_legacy_owners(ctx, client, self.name)
            client.update_table(TableName=self.name, GlobalSecondaryIndexUpdates=[
                {"Delete": {"IndexName": RETIRED_INDEX}}])
            self._wait_active(ctx, client)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"arn": live["TableArn"], "stream_arn": live.get("LatestStreamArn")}

    @staticmethod
    def _listing_index() -> dict[str, Any]:
        return {"IndexName": LISTING_INDEX,
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                              {"AttributeName": "createdOn", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}

    def _stream_arn(self, client: Any) -> str | None:
        return client.describe_table(TableName=self.name)["Table"].get("LatestStreamArn")

    def _wait_active(self, ctx: Context, client: Any) -> None:
        def active() -> bool:
            table = client.describe_table(TableName=self.name)["Table"]
            indexes = table.get("GlobalSecondaryIndexes", [])
            return table["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE"
                                                            for i in indexes)
        ctx.aws.wait_until(active, what=f"table {self.name} to be ACTIVE", timeout=TABLE_WAIT_SECONDS,
                           interval=2, progress=ctx.progress)

    def enable_pitr(self, ctx: Context, client: Any) -> None:
        """Turns point-in-time recovery on and waits until it is ENABLED. Right after CreateTable (or a replica
        becoming ACTIVE) DynamoDB answers ContinuousBackupsUnavailableException for a while: retried, bounded."""
        if self._pitr_status(client) in {"ENABLED", "UNSUPPORTED"}:
            return

        def enable() -> None:
            client.update_continuous_backups(
                TableName=self.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        try:
            ctx.aws.retry(enable, lambda exc: error_code(exc) == "ContinuousBackupsUnavailableException",
                          timeout=PITR_WAIT_SECONDS, first_delay=5, max_delay=20)
        except ClientError as exc:
            # Some emulators lack PITR; the issue asks for it "where the target supports it".
            if error_code(exc) in {"UnknownOperationException", "UnsupportedOperationException"}:
                return
            raise
        ctx.aws.wait_until(lambda: self._pitr_status(client) in {"ENABLED", "UNSUPPORTED"},
                           what=f"point-in-time recovery of {self.name} in {self.region}",
                           timeout=PITR_WAIT_SECONDS, interval=5, progress=ctx.progress)


def index_changes(live: dict[str, Any]) -> list[str]:
    """What a live table's indexes lack (the listing index) or still have (the index from before owners)."""
    names = {i["IndexName"] for i in live.get("GlobalSecondaryIndexes", [])}
    changes = [] if LISTING_INDEX in names else [f"index {LISTING_INDEX}"]
    return changes + ([f"retire index {RETIRED_INDEX}"] if RETIRED_INDEX in names else [])


def give_legacy_owners(ctx: Context, client: Any, table: str) -> int:
    """Gives every ticket without an owner the pseudo-owner `legacy:<createdBy>`, which puts it in the listing
    index where its owner's claim (POST /owners/{owner}/claims) finds it. Conditional, so a re-run (or a ticket
    that got an owner meanwhile) is left alone. Returns how many it changed."""
    changed = 0
    for page in client.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_not_exists(#owner)", ProjectionExpression="id, createdBy",
            ExpressionAttributeNames={"#owner": "owner"}):
        for item in page.get("Items", []):
            owner = LEGACY_OWNER_PREFIX + item.get("createdBy", {}).get("S", "unknown")
            try:
                client.update_item(TableName=table, Key={"id": item["id"]}, UpdateExpression="SET #owner = :owner",
                                   ConditionExpression="attribute_not_exists(#owner)",
                                   ExpressionAttributeNames={"#owner": "owner"},
                                   ExpressionAttributeValues={":owner": {"S": owner}})
                changed += 1
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
    if changed:
        ctx.progress(f"{changed} ticket(s) from before owners wait in {table} for their owners to claim them")
    return changed


class PointInTimeRecovery(Resource):
    """Point-in-time recovery of a table, converged on its own and late in a run: DynamoDB refuses to turn it on
    for a while after the table is created (ContinuousBackupsUnavailableException), and this way that wait
    overlaps with the rest of the run instead of holding it up. It goes with its table (no delete of its own)."""

    kind = "dynamodb-pitr"

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("dynamodb", self.region)
        status = none_if_missing(lambda: Table(self.region, self.name)._pitr_status(client))
        return None if status is None else {"status": status}

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return ["enable"] if live["status"] == "DISABLED" else []

    def create(self, ctx: Context) -> dict[str, Any]:
        Table(self.region, self.name).enable_pitr(ctx, ctx.aws.client("dynamodb", self.region))
        return {}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)


def delete_pitr(ctx: Context, record: dict[str, Any]) -> None:
    """Nothing to delete: point-in-time recovery goes with its table."""


def _refuse_replica_source(exc: ClientError, record: dict[str, Any]) -> None:
    """AWS keeps a table that was a replica source for 24 hours; say so instead of failing obscurely."""
    if error_code(exc) == "ValidationException" and "24 hours" in str(exc):
        raise WildrydesError(
            f"{record['kind']} {record['name']} in {record['region']}: AWS refuses for now, because the table was "
            "the source of a new replica in the last 24 hours",
            hint="run `wildrydes cleanup` again after 24 hours; everything else is already removed") from None


def delete_table(ctx: Context, record: dict[str, Any]) -> None:
    client = ctx.aws.client("dynamodb", record["region"])
    try:
        client.delete_table(TableName=record["name"])
    except ClientError as exc:
        if is_not_found(exc):
            return
        _refuse_replica_source(exc, record)
        raise
    table = Table(record["region"], record["name"])
    ctx.aws.wait_until(lambda: table._gone(client), what=f"table {table.name} to be deleted",
                       timeout=TABLE_WAIT_SECONDS, interval=2, progress=ctx.progress)
