"""The Cognito identity pools (one per region, Facebook sign-in only, no unauthenticated identities), their role
mapping, and their principal-tag map (attributes for access control).

The principal-tag map puts the Facebook user id (the `sub` claim of a Facebook login) into the session tag
`owner` of the credentials a pool hands out; the web identity role's policy names `${aws:PrincipalTag/owner}` in
the paths it may invoke, so a user reaches only their own tickets — the same user, the same owner, whichever
region's pool signed them in (Facebook's user ids are per app, not per pool). Cognito then calls
sts:TagSession, which the role's trust policy must allow.

moto implements none of SetIdentityPoolRoles, GetIdentityPoolRoles, SetPrincipalTagAttributeMap and
GetPrincipalTagAttributeMap; the local cloud answers them (its control plane holds the mappings, which its
Cognito stand-in and gateways act on). On a bare moto that says it lacks them, the mapping is kept in the state
file only; on AWS it is read and set for real.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_emulator_gap, is_not_found
from wildrydes_mr.engine import Context, Resource

FACEBOOK = "graph.facebook.com"


def pool_name(deployment: str) -> str:
    # Identity pool names allow only word characters and spaces.
    return f"{deployment.replace('-', '_')}_tickets"


# The session tag that carries the owner of a web-app user's tickets, and the claim of a Facebook login it takes.
OWNER_TAG = "owner"
OWNER_TAG_MAP = {OWNER_TAG: "sub"}


def identity_trust_policy(pool_ids: list[str]) -> dict[str, Any]:
    """The authenticated role trusts only Cognito, for these pools' authenticated identities; sts:TagSession
    because the pools pass principal tags."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": sorted(pool_ids)},
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


class _PoolMapping(Resource):
    """A setting of an identity pool that has a Get and a Set call and no delete of its own (it goes with the
    pool). On an emulator that lacks the calls, the setting is kept in the state file only."""

    operation = ""  # e.g. "IdentityPoolRoles": get_identity_pool_roles / set_identity_pool_roles

    def _client(self, ctx: Context) -> Any:
        # On an emulator, one attempt: moto answers these unimplemented calls with a bare 500 that botocore
        # would otherwise retry for a minute.
        emulated = ctx.aws.is_emulated("cognito-identity", self.region)
        return ctx.aws.client("cognito-identity", self.region, retries=not emulated), emulated

    def request(self) -> dict[str, Any]:
        """The parameters both calls take (besides the setting itself)."""
        return {"IdentityPoolId": self.name}

    def setting(self) -> dict[str, Any]:
        raise NotImplementedError

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client, emulated = self._client(ctx)
        try:
            return getattr(client, f"get_{_snake(self.operation)}")(**self.request())
        except Exception as exc:
            if is_emulator_gap(exc, emulated):
                recorded = ctx.state.get(self.kind, self.region, self.name)
                return {**recorded["setting"], "_emulated": True} if recorded else None
            if isinstance(exc, ClientError) and is_not_found(exc):
                return None
            raise

    def create(self, ctx: Context) -> dict[str, Any]:
        client, emulated = self._client(ctx)
        try:
            getattr(client, f"set_{_snake(self.operation)}")(**self.request(), **self.setting())
        except Exception as exc:
            if not is_emulator_gap(exc, emulated):
                raise
            ctx.progress(f"the emulator lacks Set{self.operation}: kept in the state file")
        return self.attributes(ctx, {})

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"setting": self.setting()}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class PoolRoles(_PoolMapping):
    """SetIdentityPoolRoles: authenticated identities get the web identity role; there is no unauthenticated role."""

    kind = "cognito-pool-roles"
    operation = "IdentityPoolRoles"

    def __init__(self, region: str, pool_id: str, authenticated_role_arn: str):
        super().__init__(region, pool_id)
        self.roles = {"authenticated": authenticated_role_arn}

    def setting(self) -> dict[str, Any]:
        return {"Roles": self.roles}

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if (live.get("Roles") or {}) == self.roles and not live.get("RoleMappings") else ["roles"]


class PrincipalTags(_PoolMapping):
    """SetPrincipalTagAttributeMap for Facebook logins: exactly `owner` ← `sub`, no defaults (the defaults would
    add `username` and `client` tags nothing uses)."""

    kind = "cognito-principal-tags"
    operation = "PrincipalTagAttributeMap"

    def request(self) -> dict[str, Any]:
        return {"IdentityPoolId": self.name, "IdentityProviderName": FACEBOOK}

    def setting(self) -> dict[str, Any]:
        return {"UseDefaults": False, "PrincipalTags": dict(OWNER_TAG_MAP)}

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        same = live.get("UseDefaults") is False and (live.get("PrincipalTags") or {}) == OWNER_TAG_MAP
        return [] if same else ["owner tag from the Facebook user id"]


def delete_pool_mapping(ctx: Context, record: dict[str, Any]) -> None:
    """A pool's mappings go with the pool; nothing to delete on their own."""
