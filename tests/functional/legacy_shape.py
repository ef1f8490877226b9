"""A deployment as the tool made it before tickets had owners and the site had both regions (state schema 1):
the tickets table with its `byCreatedOn` index keyed by the constant `kind`, tickets that carry a Cognito
identity id as `createdBy` and no owner, three functions behind `/ticket`, one identity pool whose role may
invoke `GET|POST /ticket`, one site bucket behind a one-origin distribution, and a schema-1 state file.

It is built with the product's own resource classes, given the parameters of that time (FUNCTIONS, the table
schema, the role policy), so that the records in the state file are exactly the ones those runs wrote; then the
state file is rewritten in schema 1's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from wildrydes_mr.engine import converge, converge_one
from wildrydes_mr.resources import cloudfront, cognito, s3
from wildrydes_mr.resources.dynamodb import RETIRED_INDEX, Table
from wildrydes_mr.resources.iam import Role
from wildrydes_mr.workflows import build_api, build_ui

REGION = "eu-west-1"
LEGACY_FUNCTIONS = (
    build_api.FunctionSpec("list-tickets", "list_tickets.handler", "GET", "/ticket", "AWS_IAM",
                           index_actions=("dynamodb:Query",)),
    build_api.FunctionSpec("create-ticket", "create_ticket.handler", "POST", "/ticket", "AWS_IAM",
                           table_actions=("dynamodb:PutItem",)),
    build_api.FunctionSpec("health", "health.handler", "GET", "/health", "NONE", table_actions=("dynamodb:GetItem",)),
)
LEGACY_IDENTITIES = ("eu-west-1:11111111-1111-4111-8111-111111111111", "eu-west-1:22222222-2222-4222-8222-222222222222")


def _legacy_create_table(self, ctx, client, extra_tags=None) -> dict[str, Any]:
    return client.create_table(
        TableName=self.name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "kind", "AttributeType": "S"},
                              {"AttributeName": "createdOn", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": RETIRED_INDEX,
                                 "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                                               {"AttributeName": "createdOn", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=[{"Key": k, "Value": v} for k, v in {**ctx.config.tag, **(extra_tags or {})}.items()])["TableDescription"]


def _legacy_index_changes(live: dict[str, Any]) -> list[str]:
    return []


def build(make_context, monkeypatch, cfg, state_path: Path) -> dict[str, Any]:
    """Makes the schema-1 deployment (build-api and build-ui of that time) and three legacy tickets; returns
    what a test needs to check the upgrade: the legacy ticket ids by identity, the API id, the pool id."""
    from wildrydes_mr.resources import dynamodb

    with monkeypatch.context() as patch:
        patch.setattr(build_api, "FUNCTIONS", LEGACY_FUNCTIONS)
        patch.setattr(Table, "create_table", _legacy_create_table)
        patch.setattr(dynamodb, "index_changes", _legacy_index_changes)
        patch.setattr(dynamodb, "LISTING_INDEX", RETIRED_INDEX)
        patch.setattr(build_api, "LISTING_INDEX", RETIRED_INDEX)
        ctx = make_context(cfg=cfg)
        api = build_api.run(ctx)
        ui_ctx = ctx.for_module(build_ui.MODULE)
        apis = build_api.deployed_apis(ui_ctx)
        pool = converge_one(ui_ctx, cognito.IdentityPool(REGION, cognito.pool_name(cfg.deployment), ""))
        legacy_policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "InvokeTicketRoutes", "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": [f"arn:aws:execute-api:{REGION}:123456789012:{api['api_id']}/prod/{m}/ticket"
                         for m in ("GET", "POST")]}]}
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool["id"]},
                          "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}]}
        role = converge_one(ui_ctx, Role(REGION, build_ui.identity_role_name(ui_ctx), trust, legacy_policy,
                                         description="Wild Rydes web app users (Cognito)"))
        converge_one(ui_ctx, cognito.PoolRoles(REGION, pool["id"], role["arn"]))
        bucket = build_ui.bucket_name(ui_ctx, REGION)
        converge_one(ui_ctx, s3.Bucket(REGION, bucket, website=False))
        oac = converge_one(ui_ctx, cloudfront.OriginAccessControl(REGION, f"{cfg.deployment}-site"))
        distribution = converge_one(ui_ctx, cloudfront.Distribution(
            REGION, f"{cfg.deployment}-site", [f"{bucket}.s3.{REGION}.amazonaws.com"], oac["id"]))
        converge(ui_ctx, [s3.BucketPolicy(REGION, bucket, s3.cloudfront_read_policy(bucket, distribution["arn"]))])
        ui_ctx.state.set_extra("site_url", f"https://{distribution['domain']}/")
        assert apis
    table = boto3.client("dynamodb", REGION)
    legacy = {identity: [] for identity in LEGACY_IDENTITIES}
    for n, identity in enumerate([*LEGACY_IDENTITIES, LEGACY_IDENTITIES[0]]):
        ticket_id = f"0000000{n}-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
        table.put_item(TableName=cfg.api.table, Item={
            "id": {"S": ticket_id}, "kind": {"S": "ticket"}, "createdBy": {"S": identity},
            "createdOn": {"S": f"2026-11-0{n + 1}T10:00:00.000Z"}, "description": {"S": f"legacy ticket {n}"},
            "assigned": {"S": "crew"}, "priority": {"S": "low"}, "status": {"S": "open"}})
        legacy[identity].append(ticket_id)
    _rewrite_as_schema_1(state_path)
    return {"legacy": legacy, "api_id": api["api_id"], "pool_id": pool["id"], "bucket": bucket}


def _rewrite_as_schema_1(state_path: Path) -> None:
    data = json.loads(state_path.read_text())
    data["schema_version"] = 1
    for record in data["resources"].values():
        if record["kind"] == "cognito-pool-roles":
            record["roles"] = record.pop("setting")["Roles"]
    state_path.write_text(json.dumps(data, indent=2))
