"""Whether Cognito may hand out a pool's authenticated role: STS's check of the role's trust policy, locally.

On AWS, GetCredentialsForIdentity has STS assume the pool's authenticated role with AssumeRoleWithWebIdentity, on
a Cognito token whose `aud` is the identity pool id and whose `amr` says "authenticated" (and names the login
provider); with principal tags (attributes for access control) the role session is tagged, which the trust
policy must also allow (`sts:TagSession`). When STS refuses, Cognito answers
InvalidIdentityPoolConfigurationException ("Your role trust policy must grant AssumeRoleWithWebIdentity
permissions to cognito-identity.amazonaws.com", botocore's cognito-identity model;
https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html,
https://docs.aws.amazon.com/cognito/latest/developerguide/using-attributes-for-access-control-policy-example.html).

`trust_refusal` evaluates the trust policy with the strict evaluator (iam_policy): statements whose Principal is
`*` or names the Federated principal `cognito-identity.amazonaws.com` apply (the evaluator takes no Principal,
so it is checked here and the statement handed on without it); statements for other principals do not apply. A
NotPrincipal, a Resource (IAM refuses one in a trust policy) or anything the evaluator cannot read refuses.
The request context carries `cognito-identity.amazonaws.com:aud`, `:amr` and `:sub`, and, with tags,
`aws:RequestTag/<key>` and `aws:TagKeys`.

`service_trust_refusal` asks the same of a role a service assumes with sts:AssumeRole (the local FIS's experiment
role: Principal {"Service": "fis.amazonaws.com"}), with the service's request context (aws:SourceAccount,
aws:SourceArn: the confused-deputy conditions,
https://docs.aws.amazon.com/fis/latest/userguide/getting-started-iam-service-role.html).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from .iam_policy import PolicyError, Request, evaluate

__all__ = ["COGNITO_PRINCIPAL", "role_trust_reader", "service_trust_refusal", "trust_refusal"]

logger = logging.getLogger(__name__)

COGNITO_PRINCIPAL = "cognito-identity.amazonaws.com"


def _names(principal: object, kind: str, name: str) -> bool:
    """Whether a trust statement's Principal is "*" or names `name` as a principal of `kind` (Federated, Service)."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise PolicyError("Principal must be \"*\" or an object")
    named = principal.get(kind, [])
    return name in ([named] if isinstance(named, str) else list(named))


def _statements_for(document: Mapping[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The trust policy's statements that apply to principal `name` (of `kind`), without their Principal, as an
    identity policy."""
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else statements
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an object or a list")
    kept = []
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise PolicyError("a statement must be an object")
        if "NotPrincipal" in statement:
            raise PolicyError("unsupported element NotPrincipal")
        if "Resource" in statement or "NotResource" in statement:
            raise PolicyError("a trust policy has no Resource")  # IAM: "Has prohibited field Resource"
        if "Principal" not in statement:
            raise PolicyError("a trust policy statement needs a Principal")
        if _names(statement["Principal"], kind, name):
            kept.append({**{k: v for k, v in statement.items() if k != "Principal"}, "Resource": "*"})
    return {**{k: document[k] for k in ("Version", "Id") if k in document}, "Statement": kept}


def trust_refusal(document: Mapping[str, Any] | None, role_arn: str, *, pool_id: str, identity_id: str,
                  amr: list[str], tags: Mapping[str, str]) -> str | None:
    """Why STS would refuse Cognito this role for this identity (None: it would not)."""
    if document is None:
        return f"role {role_arn} does not exist"
    context: dict[str, Any] = {f"{COGNITO_PRINCIPAL}:aud": pool_id, f"{COGNITO_PRINCIPAL}:amr": list(amr),
                               f"{COGNITO_PRINCIPAL}:sub": identity_id}
    if tags:
        context.update({f"aws:RequestTag/{key}": value for key, value in tags.items()})
        context["aws:TagKeys"] = list(tags)
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if tags else [])
    try:
        policy = _statements_for(document, "Federated", COGNITO_PRINCIPAL)
        for action in actions:
            decision = evaluate([policy], Request(action, role_arn, context))
            if not decision.allowed:
                return f"the trust policy of {role_arn} does not allow {action} for {pool_id}: {decision.reason}"
    except PolicyError as exc:
        return f"the trust policy of {role_arn} was not evaluated: {exc}"
    return None


def service_trust_refusal(document: Mapping[str, Any] | None, role_arn: str, service: str,
                          context: Mapping[str, Any]) -> str | None:
    """Why STS would refuse `service` (e.g. fis.amazonaws.com) sts:AssumeRole on this role (None: it would not)."""
    if document is None:
        return f"role {role_arn} does not exist"
    try:
        decision = evaluate([_statements_for(document, "Service", service)],
                            Request("sts:AssumeRole", role_arn, dict(context)))
    except PolicyError as exc:
        return f"the trust policy of {role_arn} was not evaluated: {exc}"
    if not decision.allowed:
        return f"the trust policy of {role_arn} does not let {service} assume it: {decision.reason}"
    return None


def role_trust_reader(iam_client: Callable[[], Any]) -> Callable[[str], dict[str, Any] | None]:
    """role ARN -> its trust policy as moto's IAM holds it (None when the role does not exist)."""

    def read(role_arn: str) -> dict[str, Any] | None:
        iam = iam_client()
        try:
            document = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            return None
        # moto hands documents back as dicts or (URL-encoded) JSON text.
        return json.loads(unquote(document)) if isinstance(document, str) else document

    return read
