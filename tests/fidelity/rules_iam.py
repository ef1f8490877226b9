"""IAM SimulatePrincipalPolicy, which moto lacks, answered as IAM does: the principal's identity policies (a
role's or user's inline and attached policies, a user's groups' too, and a permissions boundary) evaluated for
each action on each resource with the strict evaluator of wildrydes_mr/local/iam_policy.py, one
EvaluationResult per action with the decision per resource in ResourceSpecificResults, paginated by
MaxItems (default 100) and Marker."""

from __future__ import annotations

import fnmatch
from typing import Any

from fidelity.layer import Call, Response, Rule

from wildrydes_mr.local import iam_policy

DEFAULT_MAX_ITEMS = 100
SEVERITY = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}
Policy = tuple[str, str, Any]  # (SourcePolicyId, SourcePolicyType, document)


def _all(call: Call, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item of an IAM list call (Marker pagination), read from moto."""
    items: list[Any] = []
    while True:
        page = call.layer.raw_call(call, "iam", operation, **params)
        items += page.get(key, [])
        if not page.get("IsTruncated"):
            return items
        params["Marker"] = page["Marker"]


def _attached(call: Call, operation: str, **entity: str) -> list[Policy]:
    policies = []
    for attached in _all(call, operation, "AttachedPolicies", **entity):
        arn = attached["PolicyArn"]
        version = call.layer.raw_call(call, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = call.layer.raw_call(call, "iam", "GetPolicyVersion", PolicyArn=arn,
                                       VersionId=version)["PolicyVersion"]["Document"]
        kind = "aws-managed" if ":iam::aws:policy/" in arn else "user-managed"
        policies.append((attached["PolicyName"], kind, document))
    return policies


def _inline(call: Call, kind: str, name: str) -> list[Policy]:
    title = kind.capitalize()
    names = _all(call, f"List{title}Policies", "PolicyNames", **{f"{title}Name": name})
    return [(policy, kind, call.layer.raw_call(call, "iam", f"Get{title}Policy", **{f"{title}Name": name,
                                                                                   "PolicyName": policy})[
        "PolicyDocument"]) for policy in names]


def _boundary(call: Call, entity: dict[str, Any]) -> list[Policy] | None:
    arn = entity.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    if not arn:
        return None
    version = call.layer.raw_call(call, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return [(arn, "none", call.layer.raw_call(call, "iam", "GetPolicyVersion", PolicyArn=arn,
                                             VersionId=version)["PolicyVersion"]["Document"])]


def principal_policies(call: Call, source: str) -> tuple[list[Policy], list[Policy] | None] | None:
    """(identity policies, permissions boundary or None) of the user, group or role `source`, or None when no
    entity has that ARN (path included)."""
    resource = source.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind not in ("user", "role", "group") or not name:
        return None
    title = kind.capitalize()
    try:
        entity = call.layer.raw_call(call, "iam", f"Get{title}", **{f"{title}Name": name})[title]
    except Exception:  # moto: NoSuchEntity
        return None
    if entity["Arn"] != source:
        return None
    policies = _inline(call, kind, name) + _attached(call, f"ListAttached{title}Policies", **{f"{title}Name": name})
    if kind == "user":
        for group in _all(call, "ListGroupsForUser", "Groups", UserName=name):
            policies += _inline(call, "group", group["GroupName"])
            policies += _attached(call, "ListAttachedGroupPolicies", GroupName=group["GroupName"])
    return policies, _boundary(call, entity) if kind != "group" else None


def _decision(policies: list[Policy], request: iam_policy.Request) -> tuple[str, list[dict[str, str]]]:
    decision = iam_policy.evaluate([document for _, _, document in policies], request)
    if decision.allowed:
        verdict = "allowed"
    elif decision.statement is not None:
        verdict = "explicitDeny"
    else:
        return "implicitDeny", []
    for policy_id, kind, document in policies:  # the policy that holds the deciding statement
        alone = iam_policy.evaluate([document], request)
        if alone.allowed == decision.allowed and alone.statement is not None:
            return verdict, [{"SourcePolicyId": policy_id, "SourcePolicyType": kind}]
    return verdict, []


def _condition_keys(policies: list[Policy], action: str) -> set[str]:
    """The condition keys of the statements that name `action` (what the simulation needs values for)."""
    keys: set[str] = set()
    for _, _, document in policies:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            names = statement.get("Action", statement.get("NotAction", []))
            names = [names] if isinstance(names, str) else names
            matches = any(fnmatch.fnmatchcase(action.lower(), name.lower()) for name in names)
            if matches != ("NotAction" in statement):
                for pairs in statement.get("Condition", {}).values():
                    keys |= set(pairs)
    return keys


class PolicySimulation(Rule):
    name = "iam-simulate-principal-policy"
    summary = "SimulatePrincipalPolicy (moto lacks it): the principal's inline, attached, group and boundary " \
              "policies evaluated per action and resource; one result per action, per-resource decisions in " \
              "ResourceSpecificResults; NoSuchEntity for an ARN no user, group or role has"
    source = "IAM API reference: SimulatePrincipalPolicy, EvaluationResult ('a single EvaluationResult per action, " \
             "regardless of how many resource ARNs are provided'), ResourceSpecificResult; IAM user guide, " \
             "'Policy evaluation logic' and 'Permissions boundaries'"
    operations = frozenset({"iam:SimulatePrincipalPolicy"})

    def before(self, call: Call) -> Response | None:
        call.layer.fired(self)
        source = call.params["PolicySourceArn"]
        found = principal_policies(call, source)
        if found is None:
            return call.error("NoSuchEntity", f"The entity {source} cannot be found.", 404)
        policies, boundary = found
        context = {entry["ContextKeyName"]: entry["ContextKeyValues"] for entry in call.params.get("ContextEntries",
                                                                                                   [])}
        context = {key: values[0] if len(values) == 1 else values for key, values in context.items()}
        results = [self._result(policies, boundary, action, call.params.get("ResourceArns"), context)
                   for action in call.params["ActionNames"]]
        start = int(call.params.get("Marker") or 0)
        size = int(call.params.get("MaxItems") or DEFAULT_MAX_ITEMS)
        page = results[start:start + size]
        more = start + size < len(results)
        return call.answer({"EvaluationResults": page, "IsTruncated": more,
                            **({"Marker": str(start + size)} if more else {})})

    @staticmethod
    def _result(policies: list[Policy], boundary: list[Policy] | None, action: str, resources: list[str] | None,
                context: dict[str, Any]) -> dict[str, Any]:
        missing = sorted(key for key in _condition_keys(policies, action) if key not in context)
        per_resource = []
        for resource in resources or ["*"]:
            request = iam_policy.Request(action, resource, context)
            verdict, matched = _decision(policies, request)
            if verdict == "allowed" and boundary is not None:
                bounded, _ = _decision(boundary, request)
                verdict = "allowed" if bounded == "allowed" else bounded
            per_resource.append({"EvalResourceName": resource, "EvalResourceDecision": verdict,
                                 "MatchedStatements": matched,
                                 "MissingContextValues": missing if verdict != "allowed" else []})
        decision = max((r["EvalResourceDecision"] for r in per_resource), key=SEVERITY.__getitem__)
        result: dict[str, Any] = {"EvalActionName": action, "EvalDecision": decision}
        if not resources:  # the resource is "*": the result is its own
            first = per_resource[0]
            return {**result, "EvalResourceName": "*", "MatchedStatements": first["MatchedStatements"],
                    "MissingContextValues": first["MissingContextValues"]}
        if len(resources) == 1:
            result["EvalResourceName"] = resources[0]
        # With resources named, missing context values go under ResourceSpecificResults, and EvalDecisionDetails
        # is present but empty for a same-account simulation.
        return {**result, "MatchedStatements": [m for r in per_resource for m in r["MatchedStatements"]][:1],
                "MissingContextValues": [], "EvalDecisionDetails": {}, "ResourceSpecificResults": per_resource}
