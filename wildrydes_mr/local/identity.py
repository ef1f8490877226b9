"""The local cloud's stand-in for Cognito Identity: the identity pools' role mappings the tool sets, and the two
calls the web app's sign-in makes — behaving as Cognito does where moto does not.

- **Role mappings** (SetIdentityPoolRoles / GetIdentityPoolRoles, which moto lacks): held here, set through the
  local control plane (control_plane.py), read by the gateways to know whose policies a Cognito identity's
  credentials carry.
- **GetId** maps one login to one identity per pool: the same login always gets the same identity id (the web
  app's local sign-in stands in for Facebook with a token `local:<name>`). The pool must exist, accept
  Facebook logins and (as every pool the tool makes) refuse unauthenticated identities.
- **GetCredentialsForIdentity** answers only for an identity the given logins map to (NotAuthorizedException
  otherwise: a login cannot borrow someone else's identity), only when the pool has an authenticated role, and
  mints credentials that expire: `lifetime_s` (Cognito's is one hour; the local cloud scales it by
  local.time_scale). The gateways refuse them after that (ExpiredToken); expired ones are pruned.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .credentials import CredentialStore, LocalCredential

__all__ = ["CognitoError", "IdentityStandIn"]

FACEBOOK = "graph.facebook.com"
LOCAL_TOKEN = re.compile(r"^local:[\w .@-]{1,64}$")
POOL_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class CognitoError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_type = error_type
        self.status = status


def _key(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


class IdentityStandIn:
    def __init__(self, credentials: CredentialStore, describe_pool: Callable[[str], dict[str, Any] | None],
                 lifetime_s: float = 3600.0) -> None:
        """describe_pool(pool id) -> the pool as moto describes it, or None when it does not exist."""
        self.credentials = credentials
        self.describe_pool = describe_pool
        self.lifetime_s = float(lifetime_s)
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
    def handle(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        operation = target.rsplit(".", 1)[-1]
        handler = {"GetId": self._get_id, "GetCredentialsForIdentity": self._get_credentials,
                   "SetIdentityPoolRoles": self._set_roles, "GetIdentityPoolRoles": self._get_roles}.get(operation)
        if handler is None:
            raise CognitoError("UnknownOperationException", f"{operation} is not served by the local cloud")
        return handler(body)

    def _pool(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pool_id = body.get("IdentityPoolId")
        if not isinstance(pool_id, str) or not POOL_ID.match(pool_id):
            raise CognitoError("InvalidParameterException", "IdentityPoolId is required")
        pool = self.describe_pool(pool_id)
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
        if not isinstance(token, str) or not LOCAL_TOKEN.match(token):
            raise CognitoError("NotAuthorizedException", "Invalid login token (the local cloud expects local:<name>).")
        return token

    def _get_id(self, body: dict[str, Any]) -> dict[str, Any]:
        pool_id, pool = self._pool(body)
        token = self._login(body, pool)
        region = pool_id.split(":", 1)[0]
        with self._lock:
            identity = self._identities.setdefault((pool_id, token), f"{region}:{uuid.uuid4()}")
        return {"IdentityId": identity}

    def _get_credentials(self, body: dict[str, Any]) -> dict[str, Any]:
        identity_id = body.get("IdentityId")
        if not isinstance(identity_id, str) or ":" not in identity_id:
            raise CognitoError("InvalidParameterException", "IdentityId is required")
        with self._lock:
            owners = [(pool, token) for (pool, token), identity in self._identities.items() if identity == identity_id]
        if not owners:
            raise CognitoError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
        pool_id, owner_token = owners[0]
        _, pool = self._pool({"IdentityPoolId": pool_id})
        if self._login(body, pool) != owner_token:
            # Cognito: the logins must be the ones linked to this identity.
            raise CognitoError("NotAuthorizedException", "Invalid login token. Not a valid login for this identity.")
        if not self.authenticated_role(pool_id):
            raise CognitoError("InvalidIdentityPoolConfigurationException",
                               "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
        now = time.time()
        credential = LocalCredential(access_key_id=_key("ASIA", 16), secret_access_key=secrets.token_urlsafe(30),
                                     session_token=secrets.token_urlsafe(48), cognito_identity_id=identity_id,
                                     cognito_identity_pool_id=pool_id, expires_at=now + self.lifetime_s)
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
                self.credentials.remove(key)
                with self._lock:
                    self._issued.discard(key)

    def _set_roles(self, body: dict[str, Any]) -> dict[str, Any]:
        pool_id, _ = self._pool(body)
        roles = body.get("Roles")
        if not isinstance(roles, dict) or not set(roles) <= {"authenticated", "unauthenticated"} or not all(
                isinstance(arn, str) and ROLE_ARN.match(arn) for arn in roles.values()):
            raise CognitoError("InvalidParameterException", "Roles must map authenticated/unauthenticated to "
                               "IAM role ARNs")
        with self._lock:
            self._roles[pool_id] = {"Roles": dict(roles), **(
                {"RoleMappings": body["RoleMappings"]} if body.get("RoleMappings") else {})}
        return {}

    def _get_roles(self, body: dict[str, Any]) -> dict[str, Any]:
        pool_id, _ = self._pool(body)
        with self._lock:
            held = self._roles.get(pool_id, {})
        return {"IdentityPoolId": pool_id, "Roles": dict(held.get("Roles", {})),
                **({"RoleMappings": held["RoleMappings"]} if held.get("RoleMappings") else {})}
