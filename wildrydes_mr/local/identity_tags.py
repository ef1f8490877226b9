"""Identity pools' attributes for access control, locally: the principal-tag maps (Set/GetPrincipalTagAttributeMap,
which moto lacks) and the tags a login's credentials then carry.

- A map belongs to (identity pool, identity provider) and maps a principal tag key to a claim of the provider's
  token: `{"owner": "sub"}` tags the role session with owner = the token's `sub`. With UseDefaults the map is the
  provider's default, for Facebook `{"username": "sub", "client": "aud"}` (Cognito's "default (username and
  clientID) attribute mappings"; Facebook's access token gives aud = the app id and sub = the user id:
  https://docs.aws.amazon.com/cognito/latest/developerguide/provider-mappings.html). UseDefaults wins over
  PrincipalTags given with it. A pool without a map gets no tags (attributes for access control are off).
- Requests are checked as botocore's cognito-identity model says: IdentityPoolId (1-55, `[\\w-]+:[0-9a-f-]+`),
  IdentityProviderName (1-128) required; UseDefaults a boolean; PrincipalTags at most 50 entries, keys 1-128 and
  values 1-256 characters. The provider must be one of the pool's (a pool made for the local cloud may name no
  Facebook app: graph.facebook.com is always one).
- `tags_for(pool, provider, claims)`: the session tags for a login with these claims; a claim the token does not
  have gives no tag.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .identity_errors import CognitoError

__all__ = ["DEFAULT_TAGS", "FACEBOOK", "PrincipalTagMaps"]

FACEBOOK = "graph.facebook.com"
DEFAULT_TAGS = {FACEBOOK: {"username": "sub", "client": "aud"}}
MAX_TAGS = 50


def _invalid(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)


def _string(body: Mapping[str, Any], name: str, low: int, high: int) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise _invalid(f"{name} is required")
    if not low <= len(value) <= high:
        raise _invalid(f"1 validation error detected: Value at '{name[0].lower()}{name[1:]}' failed to satisfy "
                       f"constraint: Member must have length between {low} and {high}")
    return value


def _providers(pool: Mapping[str, Any]) -> set[str]:
    names = {FACEBOOK, *(pool.get("SupportedLoginProviders") or {})}
    names.update(pool.get("OpenIdConnectProviderARNs") or [])
    names.update(pool.get("SamlProviderARNs") or [])
    names.update(p.get("ProviderName", "") for p in pool.get("CognitoIdentityProviders") or [])
    return names


class PrincipalTagMaps:
    """(pool id, provider) -> (use defaults, tag key -> claim name). Thread-safe."""

    def __init__(self) -> None:
        self._maps: dict[tuple[str, str], tuple[bool, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def set(self, pool_id: str, pool: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        provider = _string(body, "IdentityProviderName", 1, 128)
        use_defaults = body.get("UseDefaults", False)
        if not isinstance(use_defaults, bool):
            raise _invalid("UseDefaults must be a boolean")
        tags = body.get("PrincipalTags", {})
        if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
            raise _invalid(f"PrincipalTags must be a map of at most {MAX_TAGS} entries")
        for key, claim in tags.items():
            if not (isinstance(key, str) and 1 <= len(key) <= 128 and isinstance(claim, str)
                    and 1 <= len(claim) <= 256):
                raise _invalid("PrincipalTags: keys must have 1-128 characters and values 1-256")
        if provider not in _providers(pool):
            raise _invalid(f"{provider} is not an identity provider of identity pool {pool_id}")
        mapping = dict(DEFAULT_TAGS.get(provider, {})) if use_defaults else dict(tags)
        with self._lock:
            self._maps[(pool_id, provider)] = (use_defaults, mapping)
        return self._answer(pool_id, provider, use_defaults, mapping)

    def get(self, pool_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        provider = _string(body, "IdentityProviderName", 1, 128)
        with self._lock:
            use_defaults, mapping = self._maps.get((pool_id, provider), (False, {}))
        return self._answer(pool_id, provider, use_defaults, mapping)

    def tags_for(self, pool_id: str, provider: str, claims: Mapping[str, str]) -> dict[str, str]:
        with self._lock:
            _, mapping = self._maps.get((pool_id, provider), (False, {}))
        return {key: claims[claim] for key, claim in mapping.items() if claim in claims}

    @staticmethod
    def _answer(pool_id: str, provider: str, use_defaults: bool, mapping: dict[str, str]) -> dict[str, Any]:
        return {"IdentityPoolId": pool_id, "IdentityProviderName": provider, "UseDefaults": use_defaults,
                "PrincipalTags": dict(mapping)}
