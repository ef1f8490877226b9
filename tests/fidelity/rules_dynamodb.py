"""DynamoDB behaviours moto does not have: point-in-time recovery that cannot be enabled right after a table
(or a replica) is created, and global tables (version 2019.11.21) replicas, which moto ignores entirely.

Global tables stand-in: UpdateTable(ReplicaUpdates=[{Create: {RegionName}}]) is answered here. The replica
table is made in moto in the other region (same keys, indexes, billing and stream; PITR off, tags not copied:
both are per-replica settings), and the source's DescribeTable lists it — not at once (DescribeTable is
eventually consistent), then CREATING for `duration` seconds, then ACTIVE. A Delete shows DELETING for a while
and removes the replica table. A test may force a replica's status (e.g. REGION_DISABLED) with `force_status`.
"""

from __future__ import annotations

from typing import Any

from fidelity.layer import Call, Response, Rule

CONSISTENCY_SECONDS = 3.0
DELETING_SECONDS = 30.0


class PitrUnavailableAfterCreate(Rule):
    name = "dynamodb-pitr-unavailable"
    summary = "UpdateContinuousBackups answers ContinuousBackupsUnavailableException for a while after the " \
              "table (or a replica) was created"
    source = "DynamoDB UpdateContinuousBackups API reference (ContinuousBackupsUnavailableException: 'Backups " \
             "have not yet been enabled for this table'); reported by several IaC projects"
    operations = frozenset({"dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups"})
    duration = 20.0

    def mark_created(self, call: Call, region: str, table: str, at: float) -> None:
        call.layer.memory(self, lambda memory: memory.__setitem__(f"{region}/{table}", at))

    def before(self, call: Call) -> Response | None:
        if call.operation != "UpdateContinuousBackups":
            return None
        table = call.params.get("TableName", "")
        created = call.layer.recall(self).get(f"{call.region}/{table}")
        if created is None or call.now - created >= self.duration:
            return None
        call.layer.fired(self)
        return call.error("ContinuousBackupsUnavailableException",
                          f"Backups are being enabled for the table: {table}. Please retry later")

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation == "CreateTable":
            self.mark_created(call, call.region, call.params.get("TableName", ""), call.now)


class GlobalTableReplicas(Rule):
    name = "dynamodb-global-table-replicas"
    summary = "UpdateTable(ReplicaUpdates) adds a replica that DescribeTable lists only after a moment, as " \
              "CREATING for minutes, then ACTIVE (moto ignores ReplicaUpdates)"
    source = "DynamoDB global tables (2019.11.21) developer guide; DescribeTable API reference ('eventually " \
             "consistent'); ReplicaStatus enum in the DynamoDB model"
    operations = frozenset({"dynamodb:UpdateTable", "dynamodb:DescribeTable"})
    duration = 180.0

    def __init__(self, pitr: PitrUnavailableAfterCreate | None = None):
        self.pitr = pitr

    @staticmethod
    def _key(region: str, table: str) -> str:
        return f"{region}/{table}"

    def force_status(self, layer: Any, source_region: str, table: str, replica_region: str, status: str) -> None:
        """For tests: the replica's status from now on (e.g. REGION_DISABLED, REPLICATION_NOT_AUTHORIZED)."""
        def force(memory: dict[str, Any]) -> None:
            replicas = memory.setdefault(self._key(source_region, table), {})
            replicas.setdefault(replica_region, {"requested": 0.0})["forced"] = status
        layer.memory(self, force)

    def before(self, call: Call) -> Response | None:
        if call.operation != "UpdateTable" or not call.params.get("ReplicaUpdates"):
            return None
        table = call.params["TableName"]
        source = call.layer.raw_call(call, "dynamodb", "DescribeTable", TableName=table)["Table"]
        now = call.now
        replicas = {region: replica for region, replica in call.layer.recall(self).get(
            self._key(call.region, table), {}).items() if self._status(now, replica) is not None}
        for update in call.params["ReplicaUpdates"]:
            if "Create" in update:
                region = update["Create"]["RegionName"]
                if region in replicas or region == call.region:
                    return call.error("ValidationException",
                                      f"Failed to create a the new replica of table with name: '{table}' because "
                                      "one or more replicas already existed as tables.")
                self._create(call, source, region)
            elif "Delete" in update:
                region = update["Delete"]["RegionName"]
                if region not in replicas:
                    return call.error("ValidationException",
                                      f"Cannot delete a replica in region {region}: not a replica of {table}")
                self._delete(call, table, region)
        call.layer.fired(self)
        source = dict(source, TableStatus="UPDATING", Replicas=self._listed(call, call.region, table, consistent=True))
        return call.answer({"TableDescription": source})

    def _create(self, call: Call, source: dict[str, Any], region: str) -> None:
        params: dict[str, Any] = {
            "TableName": source["TableName"], "KeySchema": source["KeySchema"],
            "AttributeDefinitions": source["AttributeDefinitions"], "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        indexes = [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                   for i in source.get("GlobalSecondaryIndexes", [])]
        if indexes:
            params["GlobalSecondaryIndexes"] = indexes
        call.layer.raw_call(call, "dynamodb", "CreateTable", region, **params)
        now = call.now
        key = self._key(call.region, source["TableName"])
        call.layer.memory(self, lambda memory: memory.setdefault(key, {}).__setitem__(region, {"requested": now}))
        if self.pitr is not None:
            # The replica exists for PITR's purposes once it is ACTIVE: that is when its clock starts.
            self.pitr.mark_created(call, region, source["TableName"], now + self.duration)

    def _delete(self, call: Call, table: str, region: str) -> None:
        call.layer.raw_call(call, "dynamodb", "DeleteTable", region, TableName=table)
        now = call.now
        key = self._key(call.region, table)
        call.layer.memory(self, lambda memory: memory[key][region].__setitem__("deleted", now))

    def _status(self, now: float, replica: dict[str, Any]) -> str | None:
        if "deleted" in replica:
            return "DELETING" if now - replica["deleted"] < DELETING_SECONDS else None
        if replica.get("forced"):
            return replica["forced"]
        return "CREATING" if now - replica["requested"] < self.duration else "ACTIVE"

    def _listed(self, call: Call, region: str, table: str, consistent: bool = False) -> list[dict[str, str]]:
        now = call.now
        listed = []
        for replica_region, replica in call.layer.recall(self).get(self._key(region, table), {}).items():
            if not consistent and now - replica["requested"] < CONSISTENCY_SECONDS:
                call.layer.fired(self)  # an eventually consistent read that does not show the new replica yet
                continue
            status = self._status(now, replica)
            if status in ("CREATING", "DELETING"):
                call.layer.fired(self)  # not ready yet: a caller waiting for ACTIVE (or gone) waits on this rule
            if status is not None:
                listed.append({"RegionName": replica_region, "ReplicaStatus": status})
        return listed

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation != "DescribeTable":
            return
        table = parsed.get("Table", {})
        listed = self._listed(call, call.region, table.get("TableName", ""))
        # The replica's own DescribeTable names the source region once the replica is ACTIVE.
        for key, replicas in call.layer.recall(self).items():
            source_region, name = key.split("/", 1)
            replica = replicas.get(call.region)
            if name == table.get("TableName") and replica and self._status(call.now, replica) == "ACTIVE":
                listed.append({"RegionName": source_region, "ReplicaStatus": "ACTIVE"})
        if listed:
            table["Replicas"] = listed
            table["GlobalTableVersion"] = "2019.11.21"
