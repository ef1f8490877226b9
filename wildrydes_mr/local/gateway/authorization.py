"""API Gateway's AWS_IAM authorization, locally: who signed the request, and may they invoke it.

1. Authentication: the SigV4 signature is verified against the credentials the local cloud issued
   (sigv4_verify): the local operator's keys, and the ones its Cognito stand-in handed out (which expire).
2. Authorization: the caller's identity-based policies are evaluated (iam_policy, strict: anything it cannot
   evaluate denies) for `execute-api:Invoke` on `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/
   <path>`: the path as requested (its segments percent-decoded), not the resource's `{param}` template (API
   Gateway's guide grants `GET /pets/{petId}` for one pet as `.../GET/pets/a1b2`:
   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html),
   so `${aws:PrincipalTag/owner}` in a Resource limits a caller to their own path. A request the policies do not
   allow gets AWS's 403: "User: <arn> is not authorized to perform: execute-api:Invoke on resource: <arn>" (as
   API Gateway words it).

Whose policies (`Principals`): for credentials a Cognito identity pool issued, the authenticated role mapped to
that pool (SetIdentityPoolRoles, held by the local cloud's identity stand-in); for an IAM user's keys (the local
operator), that user's policies — both read from moto's IAM, inline and attached, cached for a second.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from ..credentials import CredentialStore, LocalCredential
from ..iam_policy import PolicyError, Request, evaluate
from ..moto_access import TtlCache
from ..sigv4_verify import SigV4Error, verify_request
from .messages import GatewayRequest, GatewayResponse, json_error

__all__ = ["Authorizer", "IamPrincipals", "Principal", "Principals", "execute_api_arn"]

logger = logging.getLogger(__name__)


def execute_api_arn(region: str, account: str, api_id: str, stage: str, method: str, resource_path: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}{resource_path}"


@dataclass(frozen=True)
class Principal:
    """Who a credential acts as: its ARN (as AWS reports it), its policies, and its condition keys."""

    arn: str
    policies: tuple[Any, ...]
    context: dict[str, Any] = field(default_factory=dict)


class Principals(Protocol):
    def principal(self, credential: LocalCredential) -> Principal | None:
        """The principal `credential` acts as; None when it acts as no one (every request is denied)."""


class IamPrincipals:
    """Principals from moto's IAM: an IAM user's policies, or the role a Cognito identity pool maps to."""

    def __init__(self, iam_client: Callable[[], Any], pool_role: Callable[[str], str | None],
                 account: Callable[[], str], cache_ttl: float = 1.0) -> None:
        self._iam = iam_client
        self._pool_role = pool_role  # identity pool id -> authenticated role ARN
        self._account = account
        self._cache = TtlCache(cache_ttl)

    @property
    def account(self) -> str:
        return self._account()

    def principal(self, credential: LocalCredential) -> Principal | None:
        if credential.cognito_identity_id:
            role_arn = self._pool_role(credential.cognito_identity_pool_id or "")
            if not role_arn:
                return None
            role = role_arn.rsplit("/", 1)[-1]
            arn = f"arn:aws:sts::{self.account}:assumed-role/{role}/CognitoIdentityCredentials"
            policies = self._cache.get(("role", role), lambda: self._policies("role", role))
            tags = {f"aws:PrincipalTag/{key}": value for key, value in credential.principal_tags}
            return Principal(arn, policies, {"aws:PrincipalAccount": self.account, **tags})
        if credential.principal_arn and ":user/" in credential.principal_arn:
            user = credential.principal_arn.rsplit("/", 1)[-1]
            policies = self._cache.get(("user", user), lambda: self._policies("user", user))
            return Principal(credential.principal_arn, policies, {
                "aws:PrincipalAccount": self.account, "aws:username": user,
                "aws:userid": credential.principal_id or ""})
        return None

    def _policies(self, kind: str, name: str) -> tuple[Any, ...]:
        """The inline and attached policies of a role or user; none when it does not exist."""
        iam = self._iam()
        key = {"role": "RoleName", "user": "UserName"}[kind]
        noun = kind.capitalize()
        try:
            inline = [getattr(iam, f"get_{kind}_policy")(**{key: name, "PolicyName": policy})["PolicyDocument"]
                      for policy in getattr(iam, f"list_{kind}_policies")(**{key: name})["PolicyNames"]]
            attached = []
            for policy in getattr(iam, f"list_attached_{kind}_policies")(**{key: name})["AttachedPolicies"]:
                version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
                attached.append(iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)[
                    "PolicyVersion"]["Document"])
        except iam.exceptions.NoSuchEntityException:
            logger.info("local gateway: IAM %s %s does not exist: it may invoke nothing", noun, name)
            return ()
        # moto hands documents back as dicts or (URL-encoded) JSON text.
        return tuple(json.loads(unquote(d)) if isinstance(d, str) else d for d in inline + attached)


class Authorizer:
    """Authenticates and authorizes one region's AWS_IAM requests."""

    def __init__(self, region: str, credentials: CredentialStore, principals: Principals) -> None:
        self.region = region
        self.credentials = credentials
        self.principals = principals

    def authorize(self, request: GatewayRequest, raw_path: str, query: str, method: str,
                  resource_arn: str) -> LocalCredential | GatewayResponse:
        """The caller's credential, or the 403 API Gateway would answer."""
        try:
            caller = verify_request(method=method, path=raw_path, query=query, headers=request.headers,
                                    body=request.body, region=self.region, credentials=self.credentials)
        except SigV4Error as err:
            # The message of a signature mismatch quotes the canonical request; the log gets the type only.
            return json_error(err.status, err.message, err.error_type, note=err.error_type)
        principal = self.principals.principal(caller)
        if principal is None:
            return _denied("(unknown principal)", resource_arn, "credential maps to no principal")
        try:
            decision = evaluate(principal.policies, Request("execute-api:Invoke", resource_arn, principal.context))
        except PolicyError as exc:
            # A policy this evaluator cannot read denies, naming what it could not read: never a silent allow.
            return _denied(principal.arn, resource_arn, f"policy not evaluated: {exc}")
        if not decision.allowed:
            return _denied(principal.arn, resource_arn, decision.reason)
        return caller


def _denied(principal_arn: str, resource_arn: str, why: str) -> GatewayResponse:
    return json_error(403, f"User: {principal_arn} is not authorized to perform: execute-api:Invoke on resource: "
                      f"{resource_arn}", "AccessDeniedException", note=f"denied: {why}")
