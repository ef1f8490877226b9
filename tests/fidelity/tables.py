"""A global table for tests that need one (the FIS tests): a table with a stream in one region and its replica
in another, made as the tool makes it (global tables 2019.11.21: UpdateTable with a replica). Under the behaviour
layer the replica becomes real; on bare moto the UpdateTable is accepted and ignored."""

from __future__ import annotations

import boto3


def make_global_table(name: str, region: str, replica_region: str) -> None:
    ddb = boto3.client("dynamodb", region)
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": replica_region}}])
