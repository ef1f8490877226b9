"""DynamoDB: the tickets table and its replicas.

- dynamodb-table: ListTables + ListTagsOfResource; tagged (the table name comes from the config, so anyone may
  have a table of that name: never by name).
- dynamodb-replica: a tagged table tagged `wildrydes:replica-of` too (the emulator path of Replica.create), or
  a region listed in the Replicas of this deployment's table (a real global-table replica; found_by "name").
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, tag_dict, unless_gone
from wildrydes_mr.resources import dynamodb
from wildrydes_mr.resources.dynamodb_replica import Replica


def find_tables(scan: Scan, region: str) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("dynamodb", region)
    found = []
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            arn = dynamodb.table_arn(scan.ctx, region, name)
            tags = tag_dict(unless_gone(lambda a=arn: client.list_tags_of_resource(ResourceArn=a)["Tags"], []))
            # The table name comes from the config (default "SXRTickets"), so anyone may have one: only
            # the tag makes it ours.
            if not scan.ours(tags):
                continue
            table = unless_gone(lambda n=name: client.describe_table(TableName=n)["Table"], None)
            if table is None:
                continue
            found += _table_records(scan, region, name, tags, table)
    return found


def _table_records(scan: Scan, region: str, name: str, tags: dict[str, str],
                   table: dict[str, Any]) -> list[dict[str, Any]]:
    replica_regions = {r["RegionName"] for r in table.get("Replicas") or []} - {region}
    if Replica.REPLICA_OF_TAG in tags:
        # The emulator path of Replica.create: a table of its own in the replica region, tagged with the
        # primary's region; its deleter deletes that table.
        return [record(Replica.kind, region, name, BY_TAG, arn=table["TableArn"],
                       primary_region=tags[Replica.REPLICA_OF_TAG], emulated=True)]
    if region != scan.primary and scan.primary in replica_regions:
        # A real global-table replica that happens to carry our tag (AWS does not copy tags to replicas).
        return [record(Replica.kind, region, name, BY_TAG, primary_region=scan.primary, emulated=False)]
    records = [record(dynamodb.Table.kind, region, name, BY_TAG, arn=table["TableArn"])]
    # Real replicas (global tables 2019.11.21) are listed by the table they replicate; in their own region
    # they are untagged tables of the same name.
    records += [record(Replica.kind, replica, name, BY_NAME, primary_region=region, emulated=False)
                for replica in sorted(replica_regions)]
    return records
