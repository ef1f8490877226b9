"""Upgrading a deployment made before tickets had owners and the site had both regions (state schema 1, see
legacy_shape.py): re-running build-api, build-ui and replicate converges it — the owner index added, the old
single-partition index removed only after every old ticket got its pseudo-owner `legacy:<identity id>`, the
`/ticket` routes replaced by the owner routes, a pool and a site bucket in the secondary too, the principal-tag
maps, the origin group — the state file migrated to schema 2, and a second run changes nothing."""

from __future__ import annotations

import json

import boto3
from deploy_helpers import full_deploy, zone_config
from legacy_shape import LEGACY_IDENTITIES, REGION
from legacy_shape import build as build_legacy

from wildrydes_mr.resources.cloudfront import ORIGIN_GROUP_ID


def test_a_schema_1_deployment_converges_to_owners_and_both_regions(make_context, monkeypatch, tmp_path):
    cfg, _ = zone_config()
    state_path = tmp_path / "state.json"
    legacy = build_legacy(make_context, monkeypatch, cfg, state_path)
    assert json.loads(state_path.read_text())["schema_version"] == 1

    ctx = full_deploy(make_context, cfg)

    table = boto3.client("dynamodb", REGION).describe_table(TableName=cfg.api.table)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["owner-createdOn"]
    items = boto3.client("dynamodb", REGION).scan(TableName=cfg.api.table)["Items"]
    owners = {item["id"]["S"]: item["owner"]["S"] for item in items}
    for identity, ticket_ids in legacy["legacy"].items():
        assert {owners[t] for t in ticket_ids} == {f"legacy:{identity}"}
    assert len(owners) == 3

    api = boto3.client("apigateway", REGION)
    paths = {r["path"] for r in api.get_resources(restApiId=legacy["api_id"])["items"]}
    assert "/ticket" not in paths and "/owners/{owner}/tickets" in paths and "/owners/{owner}/claims" in paths

    pools = {region: boto3.client("cognito-identity", region).list_identity_pools(MaxResults=10)["IdentityPools"]
             for region in cfg.regions.both}
    assert [p["IdentityPoolId"] for p in pools[REGION]] == [legacy["pool_id"]]  # the same pool, kept
    assert len(pools[cfg.regions.secondary]) == 1
    for region, (pool,) in pools.items():
        tags = ctx.aws.client("cognito-identity", region).get_principal_tag_attribute_map(
            IdentityPoolId=pool["IdentityPoolId"], IdentityProviderName="graph.facebook.com")
        assert tags["PrincipalTags"] == {"owner": "sub"} and tags["UseDefaults"] is False

    trust = boto3.client("iam").get_role(RoleName="wildrydes-web-identity")["Role"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert sorted(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert sorted(statement["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"]) == sorted(
        p["IdentityPoolId"] for (p,) in pools.values())

    buckets = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert {legacy["bucket"], legacy["bucket"].replace(REGION, cfg.regions.secondary)} <= buckets
    cloudfront = ctx.aws.client("cloudfront", "us-east-1")
    (summary,) = cloudfront.list_distributions()["DistributionList"]["Items"]
    config = cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == ORIGIN_GROUP_ID
    assert config["OriginGroups"]["Quantity"] == 1

    written = json.loads(state_path.read_text())
    assert written["schema_version"] == 2
    roles = [r for r in written["resources"].values() if r["kind"] == "cognito-pool-roles"]
    assert len(roles) == 2 and all("setting" in r and "roles" not in r for r in roles)
    assert {r["region"] for r in written["resources"].values() if r["kind"] == "cognito-principal-tags"} == set(
        cfg.regions.both)

    again = full_deploy(make_context, cfg)
    assert again.aws.calls.mutating == 0, again.aws.calls.operations
    assert set(LEGACY_IDENTITIES) == set(legacy["legacy"])
