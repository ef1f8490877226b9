"""The Cognito identity pool (Facebook sign-in only, no unauthenticated identities) and its role mapping.

moto implements neither SetIdentityPoolRoles nor GetIdentityPoolRoles; the local cloud answers both (its control
plane holds the mapping, which its gateways use to authorize a Cognito identity's calls). On a bare moto that
says it lacks them, the mapping is kept in the state file only; on AWS it is read and set for real.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_emulator_gap, is_not_found
from wildrydes_mr.engine import Context, Resource

FACEBOOK = "graph.facebook.com"


def pool_name(deployment: str) -> str:
    # Identity pool names allow only word characters and spaces.
    return f"{deployment.replace('-', '_')}_tickets"


def identity_trust_policy(pool_id: str) -> dict[str, Any]:
    """The authenticated role trusts only Cognito, for this pool's authenticated identities."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}]}


class IdentityPool(Resource):
    kind = "cognito-identity-pool"

    def __init__(self, region: str, name: str, facebook_app_id: str):
        super().__init__(region, name)
        self.facebook_app_id = facebook_app_id

    def _desired(self) -> dict[str, Any]:
        providers = {FACEBOOK: self.facebook_app_id} if self.facebook_app_id else {}
        return {"AllowUnauthenticatedIdentities": False, "SupportedLoginProviders": providers}

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("cognito-identity", self.region)
        recorded = (ctx.state.get(self.kind, self.region, self.name) or {}).get("id")
        matches = []
        for page in client.get_paginator("list_identity_pools").paginate(MaxResults=60):
            matches += [p["IdentityPoolId"] for p in page["IdentityPools"] if p["IdentityPoolName"] == self.name]
        for pool_id in sorted(matches, key=lambda p: p != recorded):
            pool = client.describe_identity_pool(IdentityPoolId=pool_id)
            if pool.get("IdentityPoolTags", {}).get("wildrydes:deployment") == ctx.config.deployment:
                return pool
        return None

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        desired = self._desired()
        changes = []
        if live.get("AllowUnauthenticatedIdentities") is not False:
            changes.append("unauthenticated identities off")
        if (live.get("SupportedLoginProviders") or {}) != desired["SupportedLoginProviders"]:
            changes.append("login providers")
        if live.get("OpenIdConnectProviderARNs") or live.get("CognitoIdentityProviders") \
                or live.get("SamlProviderARNs") or live.get("DeveloperProviderName"):
            changes.append("only Facebook sign-in")
        return changes

    def create(self, ctx: Context) -> dict[str, Any]:
        pool = ctx.aws.client("cognito-identity", self.region).create_identity_pool(
            IdentityPoolName=self.name, IdentityPoolTags=ctx.config.tag, **self._desired())
        return {"id": pool["IdentityPoolId"]}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        ctx.aws.client("cognito-identity", self.region).update_identity_pool(
            IdentityPoolId=live["IdentityPoolId"], IdentityPoolName=self.name, IdentityPoolTags=ctx.config.tag,
            **self._desired())
        return {"id": live["IdentityPoolId"]}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": live["IdentityPoolId"]}


def delete_identity_pool(ctx: Context, record: dict[str, Any]) -> None:
    ctx.aws.client("cognito-identity", record["region"]).delete_identity_pool(IdentityPoolId=record["id"])


class PoolRoles(Resource):
    """SetIdentityPoolRoles: authenticated identities get the web identity role; there is no unauthenticated role."""

    kind = "cognito-pool-roles"

    def __init__(self, region: str, pool_id: str, authenticated_role_arn: str):
        super().__init__(region, pool_id)
        self.roles = {"authenticated": authenticated_role_arn}

    def _client(self, ctx: Context) -> Any:
        # On an emulator, one attempt: moto answers these unimplemented calls with a bare 500 that botocore
        # would otherwise retry for a minute.
        emulated = ctx.aws.is_emulated("cognito-identity", self.region)
        return ctx.aws.client("cognito-identity", self.region, retries=not emulated), emulated

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client, emulated = self._client(ctx)
        try:
            return client.get_identity_pool_roles(IdentityPoolId=self.name)
        except Exception as exc:
            if is_emulator_gap(exc, emulated):
                recorded = ctx.state.get(self.kind, self.region, self.name)
                return {"Roles": recorded["roles"], "_emulated": True} if recorded else None
            if isinstance(exc, ClientError) and is_not_found(exc):
                return None
            raise

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if (live.get("Roles") or {}) == self.roles and not live.get("RoleMappings") else ["roles"]

    def create(self, ctx: Context) -> dict[str, Any]:
        client, emulated = self._client(ctx)
        try:
            client.set_identity_pool_roles(IdentityPoolId=self.name, Roles=self.roles)
        except Exception as exc:
            if not is_emulator_gap(exc, emulated):
                raise
            ctx.progress("the emulator lacks SetIdentityPoolRoles: role mapping kept in the state file")
        return {"roles": self.roles}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"roles": self.roles}


def delete_pool_roles(ctx: Context, record: dict[str, Any]) -> None:
    """The mapping goes with the pool; nothing to delete on its own."""
