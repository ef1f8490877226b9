"""Cognito Identity calls moto lacks, stood in for as Cognito answers them: an identity pool's role mapping
(SetIdentityPoolRoles / GetIdentityPoolRoles) and its principal-tag map for a login provider
(SetPrincipalTagAttributeMap / GetPrincipalTagAttributeMap), held per pool, refused for a pool that does not
exist, validated as the service model says (the model's own traits are checked by the contract)."""

from __future__ import annotations

import re
from typing import Any

from fidelity.layer import Call, Response, Rule

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# GetPrincipalTagAttributeMap's documented defaults for a provider with UseDefaults (username and client id).
DEFAULT_TAGS = {"username": "sub", "client": "aud"}


class PoolMappings(Rule):
    name = "cognito-pool-mappings"
    summary = "identity pool role mappings and principal-tag maps (moto lacks the four calls): held per pool, " \
              "refused for a pool that does not exist"
    source = "Cognito Identity API reference: SetIdentityPoolRoles, GetIdentityPoolRoles, " \
             "SetPrincipalTagAttributeMap, GetPrincipalTagAttributeMap; developer guide, 'Using attributes for " \
             "access control' and 'Default provider mappings'"
    operations = frozenset(f"cognito-identity:{op}" for op in (
        "SetIdentityPoolRoles", "GetIdentityPoolRoles", "SetPrincipalTagAttributeMap", "GetPrincipalTagAttributeMap",
        "DeleteIdentityPool"))

    def before(self, call: Call) -> Response | None:
        if call.operation == "DeleteIdentityPool":
            return None
        call.layer.fired(self)
        pool_id = call.params.get("IdentityPoolId", "")
        try:
            call.layer.raw_call(call, "cognito-identity", "DescribeIdentityPool", IdentityPoolId=pool_id)
        except Exception:  # moto: ResourceNotFoundException for a pool it does not hold
            return call.error("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.", 404)
        if call.operation == "SetIdentityPoolRoles":
            roles = call.params.get("Roles", {})
            if not set(roles) <= {"authenticated", "unauthenticated"} or not all(
                    ROLE_ARN.match(arn) for arn in roles.values()):
                return call.error("InvalidParameterException", "Roles must map authenticated/unauthenticated to "
                                  "IAM role ARNs")
            call.layer.memory(self, lambda memory: memory.__setitem__(f"roles {pool_id}", dict(roles)))
            return call.answer({})
        if call.operation == "GetIdentityPoolRoles":
            return call.answer({"IdentityPoolId": pool_id, "Roles": call.layer.recall(self).get(f"roles {pool_id}",
                                                                                                 {})})
        key = f"tags {pool_id} {call.params.get('IdentityProviderName', '')}"
        if call.operation == "SetPrincipalTagAttributeMap":
            held = {"UseDefaults": bool(call.params.get("UseDefaults", False)),
                    "PrincipalTags": dict(call.params.get("PrincipalTags") or {})}
            call.layer.memory(self, lambda memory: memory.__setitem__(key, held))
            return call.answer(self._shape(call, held))
        held = call.layer.recall(self).get(key)
        if held is None:
            return call.error("ResourceNotFoundException", "No principal tag attribute map for this identity "
                              "provider.", 404)
        return call.answer(self._shape(call, held))

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        pool_id = call.params.get("IdentityPoolId", "")
        call.layer.memory(self, lambda memory: [memory.pop(k) for k in list(memory) if pool_id in k.split(" ")])

    @staticmethod
    def _shape(call: Call, held: dict[str, Any]) -> dict[str, Any]:
        tags = dict(DEFAULT_TAGS) if held["UseDefaults"] and not held["PrincipalTags"] else held["PrincipalTags"]
        return {"IdentityPoolId": call.params["IdentityPoolId"],
                "IdentityProviderName": call.params["IdentityProviderName"], "UseDefaults": held["UseDefaults"],
                "PrincipalTags": tags}
