"""Global-table replicas of the tickets table (2019.11.21): the AWS path (UpdateTable ReplicaUpdates, bounded
waits through DescribeTable's eventual consistency, per-replica point-in-time recovery) and the emulator path
(a replica table of the same schema that the local cloud's replicator keeps in step), and their removal.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found, none_if_missing
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.resources.dynamodb import Table, _refuse_replica_source, delete_table, index_changes

REPLICA_WAIT_SECONDS = 1800  # adding a replica takes minutes, more with data
LISTED_WAIT_SECONDS = 120  # DescribeTable is eventually consistent: a new replica may not be listed at once
# A replica in any status other than these will not become ACTIVE by waiting (DynamoDB ReplicaStatus enum).
REPLICA_ON_ITS_WAY = ("CREATING", "UPDATING", "ACTIVE")


class Replica(Resource):
    """A global-tables (2019.11.21) replica of the primary's table in another region.

    On AWS: UpdateTable(ReplicaUpdates) on the primary, then a bounded wait until DescribeTable lists the replica
    (it is eventually consistent) and, later (`wait_active`), until it is ACTIVE; then point-in-time recovery is
    turned on for the replica too (it is a per-replica setting, not inherited).
    On an emulator endpoint (the local cloud, or AWS_ENDPOINT_URL at moto), which ignores ReplicaUpdates, the
    replica table is created in the other region with the same schema and stream, tagged
    `wildrydes:replica-of`, and the local cloud's replicator copies writes both ways over the streams. Which
    path is taken follows from the endpoint alone, never from a read.
    """

    kind = "dynamodb-replica"
    REPLICA_OF_TAG = "wildrydes:replica-of"

    def __init__(self, primary_region: str, replica_region: str, table: str):
        super().__init__(replica_region, table)
        self.primary_region = primary_region

    def emulated(self, ctx: Context) -> bool:
        return ctx.aws.is_emulated("dynamodb", self.primary_region)

    def _replica_status(self, ctx: Context) -> str | None:
        primary = ctx.aws.client("dynamodb", self.primary_region).describe_table(TableName=self.name)["Table"]
        return next((r.get("ReplicaStatus") for r in primary.get("Replicas", []) if r["RegionName"] == self.region),
                    None)

    def _emulated_replica(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("dynamodb", self.region)
        table = none_if_missing(lambda: client.describe_table(TableName=self.name)["Table"])
        if table is None:
            return None
        tags = client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        if {t["Key"]: t["Value"] for t in tags}.get(self.REPLICA_OF_TAG) != self.primary_region:
            return None
        # On AWS a global table's index changes reach every replica by themselves; here the replica is a table of
        # its own, so its indexes are converged with it.
        return {"ReplicaStatus": table["TableStatus"], "emulated": True, "_indexes": index_changes(table)}

    def find(self, ctx: Context) -> dict[str, Any] | None:
        if self.emulated(ctx):
            live = self._emulated_replica(ctx)
        else:
            status = self._replica_status(ctx)
            if status is None and (ctx.state.get(self.kind, self.region, self.name) or {}).get("requested"):
                # Requested by an earlier run (perhaps one killed right after): DescribeTable may not list it yet.
                status = self._await_listed(ctx, required=False)
            live = None if status is None else {"ReplicaStatus": status, "emulated": False}
        if live is not None and live["ReplicaStatus"] == "ACTIVE":
            live["_pitr"] = Table(self.region, self.name)._pitr_status(ctx.aws.client("dynamodb", self.region))
        return live

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        status = live.get("ReplicaStatus")
        if status != "ACTIVE":
            return [f"wait for {status}"]
        return (["point-in-time recovery"] if live.get("_pitr") == "DISABLED" else []) + live.get("_indexes", [])

    def create(self, ctx: Context) -> dict[str, Any]:
        if not self.emulated(ctx):
            # Recorded before the call: a run killed right after it still knows to look for the replica.
            ctx.record(self, primary_region=self.primary_region, emulated=False, requested=True)
            ctx.aws.client("dynamodb", self.primary_region).update_table(
                TableName=self.name, ReplicaUpdates=[{"Create": {"RegionName": self.region}}])
            self._await_listed(ctx, required=True)
            # Adding a replica takes minutes; the workflow overlaps that with its other work and waits for
            # ACTIVE (`wait_active`) at the end.
            return {"primary_region": self.primary_region, "emulated": False, "requested": True}
        ctx.progress(f"an emulator ignores global-table replicas: creating the replica table in {self.region}")
        table = Table(self.region, self.name)
        client = ctx.aws.client("dynamodb", self.region)
        created = table.create_table(ctx, client, extra_tags={self.REPLICA_OF_TAG: self.primary_region})
        ctx.record(self, primary_region=self.primary_region, emulated=True, arn=created["TableArn"])
        table._wait_active(ctx, client)
        table.enable_pitr(ctx, client)
        return {"primary_region": self.primary_region, "emulated": True, "arn": created["TableArn"]}

    def _await_listed(self, ctx: Context, required: bool) -> str | None:
        """The replica's status once the primary's DescribeTable lists it (bounded); None if it never does and
        `required` is false."""
        seen: list[str] = []

        def listed() -> bool:
            status = self._replica_status(ctx)
            if status is not None:
                seen.append(status)
            return status is not None
        try:
            ctx.aws.wait_until(listed, what=f"replica of {self.name} in {self.region} to be listed",
                               timeout=LISTED_WAIT_SECONDS, interval=2, progress=ctx.progress)
        except WildrydesError:
            if required:
                raise
            return None
        return seen[-1]

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        table, client = Table(self.region, self.name), ctx.aws.client("dynamodb", self.region)
        if "point-in-time recovery" in changes:
            table.enable_pitr(ctx, client)
        # Its tickets get their owners from the table that takes the writes, through replication.
        table.change_indexes(ctx, client, changes, give_owners=False)
        return self.attributes(ctx, live)  # still being created: wait_active covers it

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        attributes = {"primary_region": self.primary_region, "emulated": bool(live.get("emulated"))}
        return attributes if attributes["emulated"] else {**attributes, "requested": True}

    def wait_active(self, ctx: Context) -> None:
        """Waits until the replica is ACTIVE (it takes minutes), then turns its point-in-time recovery on."""
        if ctx.dry_run or self.emulated(ctx):
            return  # an emulated replica is a table that was ACTIVE, with PITR, when made

        def active() -> bool:
            status = self._replica_status(ctx)
            if status is not None and status not in REPLICA_ON_ITS_WAY:
                raise WildrydesError(
                    f"replica of {self.name} in {self.region} is {status}: it will not become ACTIVE",
                    hint=REPLICA_HINTS.get(status, "see the DynamoDB console for the replica's status"))
            return status == "ACTIVE"
        ctx.aws.wait_until(active, what=f"replica of {self.name} in {self.region} to be ACTIVE (it takes minutes)",
                           timeout=REPLICA_WAIT_SECONDS, interval=10, progress=ctx.progress)
        Table(self.region, self.name).enable_pitr(ctx, ctx.aws.client("dynamodb", self.region))


REPLICA_HINTS = {
    "REGION_DISABLED": "the region is not enabled for this account: enable it, then run the command again",
    "REPLICATION_NOT_AUTHORIZED": "DynamoDB may not replicate into that region (an SCP or opt-in setting); "
                                  "allow it, then run the command again",
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS": "the replica's KMS key is not accessible: fix the key's policy",
    "CREATION_FAILED": "DynamoDB could not create the replica: run `wildrydes cleanup`, then replicate again",
    "ARCHIVED": "the replica was archived after its KMS key stayed inaccessible: remove it and replicate again",
    "ARCHIVING": "the replica is being archived after its KMS key became inaccessible",
    "DELETING": "the replica is being deleted: wait, then run the command again",
}


def delete_replica(ctx: Context, record: dict[str, Any]) -> None:
    """Removes the replica (on an emulator: the replica table itself), waiting until it is gone."""
    if record.get("emulated"):
        delete_table(ctx, record)
        return
    client = ctx.aws.client("dynamodb", record["primary_region"])
    replica = Replica(record["primary_region"], record["region"], record["name"])
    status = none_if_missing(lambda: replica._replica_status(ctx))
    if status is None and record.get("requested"):
        status = none_if_missing(lambda: replica._await_listed(ctx, required=False))
    if status is None:
        return  # not a replica (any more)
    if status == "DELETING":
        _wait_replica_gone(ctx, client, record)
        return
    try:
        client.update_table(TableName=record["name"], ReplicaUpdates=[{"Delete": {"RegionName": record["region"]}}])
    except ClientError as exc:
        if is_not_found(exc):
            return
        _refuse_replica_source(exc, record)
        raise
    _wait_replica_gone(ctx, client, record)


def _wait_replica_gone(ctx: Context, client: Any, record: dict[str, Any]) -> None:
    def gone() -> bool:
        try:
            replicas = client.describe_table(TableName=record["name"])["Table"].get("Replicas", [])
        except ClientError as exc:
            if is_not_found(exc):
                return True
            raise
        return all(r["RegionName"] != record["region"] for r in replicas)
    ctx.aws.wait_until(gone, what=f"replica of {record['name']} in {record['region']} to be deleted",
                       timeout=REPLICA_WAIT_SECONDS, interval=10, progress=ctx.progress)
