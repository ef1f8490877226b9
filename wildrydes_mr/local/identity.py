"""The local cloud's stand-in for Cognito Identity: the identity pools' role mappings and principal-tag maps the
tool sets, and the two calls the web app's sign-in makes — behaving as Cognito does where moto does not.

- **Role mappings** (SetIdentityPoolRoles / GetIdentityPoolRoles, which moto lacks): held here, set through the
  local control plane (control_plane.py), read by the gateways to know whose policies a Cognito identity's
  credentials carry.
- **Principal-tag maps** (Set/GetPrincipalTagAttributeMap, which moto lacks; identity_tags.py), set through the
  control plane too.
- **Per region**: Cognito is a regional service. `handle(..., region=R)` (the site's `/_cognito/R/`, or the
  control plane's call signed for R) serves only the pools and identities of R (an id starts with its region):
  any other is ResourceNotFoundException, as another region's endpoint would answer. Without a region (the
  site's older `/_cognito/`) every region's pools are served.
- **GetId** maps one login to one identity per pool: the same login always gets the same identity id. The login
  is the local Facebook stand-in's token `local:<name>` (facebook.py). The pool must exist, accept Facebook logins
  and (as every pool the tool makes) refuse unauthenticated identities.
- **GetCredentialsForIdentity** answers only for an identity the given logins map to (NotAuthorizedException
  otherwise: a login cannot borrow someone else's identity), only when the pool has an authenticated role whose
  trust policy lets Cognito assume it for this pool's authenticated identities — and, when the session gets tags,
  tag it (identity_trust.py; InvalidIdentityPoolConfigurationException otherwise, as Cognito answers when STS
  refuses). The token's claims are those of a Facebook access token: `sub` = the Facebook user id
  (facebook.user_id of the name), `aud` = the pool's Facebook app id (its SupportedLoginProviders value, or
  "local" when it names none); the credentials carry the principal tags the pool's map makes of them, which the
  gateways evaluate as `aws:PrincipalTag/<key>`. They expire after `lifetime_s` (Cognito's is one hour; the local
  cloud scales it by local.time_scale); the gateways refuse them after that (ExpiredToken); expired ones are
  pruned.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import facebook
from .credentials import CredentialStore, LocalCredential
from .identity_errors import CognitoError
from .identity_tags import FACEBOOK, PrincipalTagMaps
from .identity_trust import trust_refusal

__all__ = ["CognitoError", "IdentityStandIn"]

logger = logging.getLogger(__name__)

# botocore's IdentityPoolId / IdentityId: 1-55 characters, `[\w-]+:[0-9a-f-]+`.
POOL_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
NO_FACEBOOK_APP = "local"  # the `aud` of a local login to a pool that names no Facebook app
INVALID_CONFIGURATION = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


def _key(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def _region_of(resource_id: str) -> str:
    return resource_id.split(":", 1)[0]


class IdentityStandIn:
    def __init__(self, credentials: CredentialStore, describe_pool: Callable[[str], dict[str, Any] | None],
                 role_trust_policy: Callable[[str], dict[str, Any] | None], lifetime_s: float = 3600.0) -> None:
        """describe_pool(pool id) -> the pool as moto describes it, or None when it does not exist;
        role_trust_policy(role ARN) -> the role's trust policy from moto's IAM, or None when there is no role."""
        self.credentials = credentials
        self.describe_pool = describe_pool
        self.role_trust_policy = role_trust_policy
        self.lifetime_s = float(lifetime_s)
        self.tag_maps = PrincipalTagMaps()
        self._roles: dict[str, dict[str, Any]] = {}  # pool id -> {"Roles": ..., "RoleMappings": ...}
        self._identities: dict[tuple[str, str], str] = {}  # (pool id, login token) -> identity id
        self._issued: set[str] = set()  # access key ids minted here
        self._lock = threading.Lock()

    # --- what the gateways read ---------------------------------------------------------------------------
    def authenticated_role(self, pool_id: str) -> str | None:
        with self._lock:
            return (self._roles.get(pool_id) or {}).get("Roles", {}).get("authenticated")

    def issued_count(self) -> int:
        with self._lock:
            return len(self._issued)

    # --- the Cognito Identity API (JSON 1.1) --------------------------------------------------------------
    def handle(self, target: str, body: dict[str, Any], region: str | None = None) -> dict[str, Any]:
        """One call; `region`: the regional endpoint it came to (None: any region's pools)."""
        operation = target.rsplit(".", 1)[-1]
        handler = {"GetId": self._get_id, "GetCredentialsForIdentity": self._get_credentials,
                   "SetIdentityPoolRoles": self._set_roles, "GetIdentityPoolRoles": self._get_roles,
                   "SetPrincipalTagAttributeMap": self._set_tag_map,
                   "GetPrincipalTagAttributeMap": self._get_tag_map}.get(operation)
        if handler is None:
            raise CognitoError("UnknownOperationException", f"{operation} is not served by the local cloud")
        return handler(body, region)

    def _pool(self, body: dict[str, Any], region: str | None) -> tuple[str, dict[str, Any]]:
        pool_id = body.get("IdentityPoolId")
        if not isinstance(pool_id, str) or len(pool_id) > 55 or not POOL_ID.match(pool_id):
            raise CognitoError("InvalidParameterException", "IdentityPoolId is required")
        pool = self.describe_pool(pool_id) if region in (None, _region_of(pool_id)) else None
        if pool is None:
            raise CognitoError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
        return pool_id, pool

    @staticmethod
    def _login(body: dict[str, Any], pool: dict[str, Any]) -> str:
        """The one Facebook login of the request (the pools the tool makes allow no unauthenticated identity)."""
        logins = body.get("Logins")
        if not isinstance(logins, dict) or not logins:
            raise CognitoError("NotAuthorizedException", "Unauthenticated access is not supported for this "
                               "identity pool.")
        providers = pool.get("SupportedLoginProviders") or {}
        # A pool made for the local cloud may name no Facebook app (the local sign-in stands in for it).
        if set(logins) != {FACEBOOK} or (providers and FACEBOOK not in providers):
            raise CognitoError("NotAuthorizedException", "Invalid login token. This identity pool accepts only "
                               "graph.facebook.com logins.")
        token = logins[FACEBOOK]
        if facebook.name_of(token) is None:
            raise CognitoError("NotAuthorizedException", "Invalid login token (the local cloud expects local:<name>).")
        return token

    def _get_id(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, pool = self._pool(body, region)
        token = self._login(body, pool)
        with self._lock:
            identity = self._identities.setdefault((pool_id, token), f"{_region_of(pool_id)}:{uuid.uuid4()}")
        return {"IdentityId": identity}

    def _get_credentials(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        identity_id = body.get("IdentityId")
        if not isinstance(identity_id, str) or len(identity_id) > 55 or not POOL_ID.match(identity_id):
            raise CognitoError("InvalidParameterException", "IdentityId is required")
        with self._lock:
            owners = [(pool, token) for (pool, token), identity in self._identities.items() if identity == identity_id]
        if not owners or region not in (None, _region_of(identity_id)):
            raise CognitoError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
        pool_id, owner_token = owners[0]
        _, pool = self._pool({"IdentityPoolId": pool_id}, region)
        if self._login(body, pool) != owner_token:
            # Cognito: the logins must be the ones linked to this identity.
            raise CognitoError("NotAuthorizedException", "Invalid login token. Not a valid login for this identity.")
        role = self.authenticated_role(pool_id)
        if not role:
            raise CognitoError("InvalidIdentityPoolConfigurationException", INVALID_CONFIGURATION)
        app_id = (pool.get("SupportedLoginProviders") or {}).get(FACEBOOK) or NO_FACEBOOK_APP
        user_id = facebook.user_id(facebook.name_of(owner_token) or "")
        tags = self.tag_maps.tags_for(pool_id, FACEBOOK, {"sub": user_id, "aud": app_id})
        # The amr of a Cognito token for a Facebook login, as STS sees it in the trust policy's conditions.
        amr = ["authenticated", FACEBOOK, f"{FACEBOOK}:{app_id}:{user_id}"]
        refusal = trust_refusal(self.role_trust_policy(role), role, pool_id=pool_id, identity_id=identity_id,
                                amr=amr, tags=tags)
        if refusal:
            logger.info("local Cognito: no credentials for an identity of %s: %s", pool_id, refusal)
            raise CognitoError("InvalidIdentityPoolConfigurationException", INVALID_CONFIGURATION)
        return self._mint(identity_id, pool_id, tags)

    def _mint(self, identity_id: str, pool_id: str, tags: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        credential = LocalCredential(access_key_id=_key("ASIA", 16), secret_access_key=secrets.token_urlsafe(30),
                                     session_token=secrets.token_urlsafe(48), cognito_identity_id=identity_id,
                                     cognito_identity_pool_id=pool_id, principal_tags=tuple(sorted(tags.items())),
                                     expires_at=now + self.lifetime_s)
        self._prune(now)
        self.credentials.add(credential)
        with self._lock:
            self._issued.add(credential.access_key_id)
        return {"IdentityId": identity_id, "Credentials": {
            "AccessKeyId": credential.access_key_id, "SecretKey": credential.secret_access_key,
            "SessionToken": credential.session_token, "Expiration": int(credential.expires_at)}}

    def _prune(self, now: float) -> None:
        """Forgets credentials that have expired (the gateways refuse them anyway)."""
        with self._lock:
            issued = list(self._issued)
        for key in issued:
            credential = self.credentials.lookup(key)
            if credential is None or (credential.expires_at is not None and credential.expires_at <= now):
                self.credentials.remove(key, expired=credential is not None)
                with self._lock:
                    self._issued.discard(key)

    def _set_roles(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, _ = self._pool(body, region)
        roles = body.get("Roles")
        if not isinstance(roles, dict) or not set(roles) <= {"authenticated", "unauthenticated"} or not all(
                isinstance(arn, str) and ROLE_ARN.match(arn) for arn in roles.values()):
            raise CognitoError("InvalidParameterException", "Roles must map authenticated/unauthenticated to "
                               "IAM role ARNs")
        with self._lock:
            self._roles[pool_id] = {"Roles": dict(roles), **(
                {"RoleMappings": body["RoleMappings"]} if body.get("RoleMappings") else {})}
        return {}

    def _get_roles(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, _ = self._pool(body, region)
        with self._lock:
            held = self._roles.get(pool_id, {})
        return {"IdentityPoolId": pool_id, "Roles": dict(held.get("Roles", {})),
                **({"RoleMappings": held["RoleMappings"]} if held.get("RoleMappings") else {})}

    def _set_tag_map(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, pool = self._pool(body, region)
        return self.tag_maps.set(pool_id, pool, body)

    def _get_tag_map(self, body: dict[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, _ = self._pool(body, region)
        return self.tag_maps.get(pool_id, body)
