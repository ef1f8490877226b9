"""Credentials the local cloud hands out and the local API gateway accepts.

On AWS, API Gateway checks a SigV4 signature against IAM/STS; locally there is no IAM data plane, so the local
cloud records every fake credential it issues (the admin keys, the keys a local Cognito sign-in hands to the
web app) in a `CredentialStore`, and the gateway looks the signing key up there.

This module owns only that record. It never logs or prints secrets: `LocalCredential.__repr__` hides them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["CredentialStore", "LocalCredential"]


@dataclass(frozen=True)
class LocalCredential:
    """One fake AWS credential: either an IAM principal's (`principal_arn`, e.g. the local operator user) or
    one issued to a Cognito identity (`cognito_identity_id`). API Gateway tells Lambda which kind signed a
    request: cognito* fields only for Cognito-issued credentials, userArn/caller for IAM principals."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    cognito_identity_id: str | None = None
    # Optional extras, shown to Lambda in requestContext.identity when known.
    cognito_identity_pool_id: str | None = None
    principal_arn: str | None = None
    principal_id: str | None = None
    # Session tags of a Cognito identity's role session (the pool's attributes for access control), as pairs.
    principal_tags: tuple[tuple[str, str], ...] = ()
    expires_at: float | None = None  # epoch seconds; None: does not expire (the operator's keys)

    @property
    def is_authenticated_identity(self) -> bool:
        return self.cognito_identity_id is not None


class CredentialStore:
    """Thread-safe map access key id -> LocalCredential. Expired credentials that were forgotten are remembered
    by key id only (the most recent EXPIRED_REMEMBERED), so that a request signed with one is still told its
    token expired, as STS tokens carry their own expiry on AWS, rather than that it is unknown."""

    EXPIRED_REMEMBERED = 10_000

    def __init__(self, credentials: list[LocalCredential] | tuple[LocalCredential, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, LocalCredential] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()
        for cred in credentials:
            self.add(cred)

    def add(self, cred: LocalCredential) -> None:
        """Add or replace the credential for `cred.access_key_id`."""
        with self._lock:
            self._by_key[cred.access_key_id] = cred

    def lookup(self, access_key_id: str) -> LocalCredential | None:
        with self._lock:
            return self._by_key.get(access_key_id)

    def remove(self, access_key_id: str, expired: bool = False) -> None:
        """Forget a credential (`expired`: because it expired); removing an unknown key is not an error."""
        with self._lock:
            self._by_key.pop(access_key_id, None)
            if expired:
                self._expired[access_key_id] = None
                while len(self._expired) > self.EXPIRED_REMEMBERED:
                    self._expired.popitem(last=False)

    def expired(self, access_key_id: str) -> bool:
        """True for a credential that was forgotten because it expired."""
        with self._lock:
            return access_key_id in self._expired

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)

    def __contains__(self, access_key_id: object) -> bool:
        with self._lock:
            return access_key_id in self._by_key
