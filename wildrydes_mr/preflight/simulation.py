"""Whether the caller may make every call the tool will make: IAM SimulatePrincipalPolicy for the caller's
principal (identity.principal_arn) against every action and ARN of `wildrydes_mr.policy.required(...)`.

SimulatePrincipalPolicy "Simulate[s] how a set of IAM policies attached to an IAM entity works with a list of
API operations and Amazon Web Services resources"; for a user it includes the user's groups' policies, and
"the simulation does not automatically retrieve policies for the specified resources" (IAM API reference,
SimulatePrincipalPolicy). The simulator "returns a single EvaluationResult per action, regardless of how many
resource ARNs are provided", the decision for each resource being in ResourceSpecificResults (IAM API
reference, EvaluationResult); older answers gave one result per resource, and both shapes are read.
A policy condition on a key the simulation was not given is not met, and the key is listed in
MissingContextValues: such a denial is reported as cannot-check (the tool's real calls carry the key), unless
the requirement names the key's values (an optional "context" of `required()`'s entries).
Session policies of an assumed-role session are not part of the simulation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wildrydes_mr.aws import Aws
from wildrydes_mr.config import Config
from wildrydes_mr.preflight.checklist import READ_ERRORS, Item, cannot_check, failed, from_error, passed
from wildrydes_mr.preflight.identity import ASSUMED_ROLE, Caller, PrincipalUnknown, principal_arn

GROUP = "permissions"
NAME = "caller may make every call the tool makes"
SHOWN = 5  # denials named in the one-line detail; all are in the item's data

Requirement = dict[str, Any]  # {"action": str, "resources": [arn, ...], "context"?: {key: [values]}}


def deployer_requirements(config: Config, caller: Caller) -> list[Requirement]:
    """What the deployer needs for this config (helper module wildrydes_mr.policy, one table of the tool's calls)."""
    from wildrydes_mr import policy

    return policy.required(config, caller.account, caller.partition, role="deployer")


def _groups(required: Iterable[Requirement]) -> dict[tuple, list[str]]:
    """Actions that share their resources and context go in one simulation call."""
    groups: dict[tuple, list[str]] = {}
    for entry in required:
        resources = tuple(sorted(set(entry.get("resources") or ["*"])))
        context = tuple(sorted((key, tuple(values)) for key, values in (entry.get("context") or {}).items()))
        actions = groups.setdefault((resources, context), [])
        if entry["action"] not in actions:
            actions.append(entry["action"])
    return groups


def _denials(result: dict[str, Any]) -> list[dict[str, Any]]:
    action = result["EvalActionName"]
    denied = [{"action": action, "resource": r["EvalResourceName"], "decision": r["EvalResourceDecision"],
               "missing_context": list(r.get("MissingContextValues") or [])}
              for r in result.get("ResourceSpecificResults") or [] if r["EvalResourceDecision"] != "allowed"]
    if not denied and result["EvalDecision"] != "allowed":  # e.g. an SCP: the aggregate denies, no resource does
        denied.append({"action": action, "resource": result.get("EvalResourceName", "*"),
                       "decision": result["EvalDecision"],
                       "missing_context": list(result.get("MissingContextValues") or [])})
    return denied


def simulate(aws: Aws, region: str, principal: str, required: Iterable[Requirement]) -> list[dict[str, Any]]:
    """Every (action, resource) the principal's policies do not allow, with the decision and missing keys."""
    paginator = aws.client("iam", region).get_paginator("simulate_principal_policy")
    denials: list[dict[str, Any]] = []
    for (resources, context), actions in _groups(required).items():
        entries = [{"ContextKeyName": key, "ContextKeyValues": list(values), "ContextKeyType": "stringList"}
                   for key, values in context]
        for page in paginator.paginate(PolicySourceArn=principal, ActionNames=actions, ResourceArns=list(resources),
                                       **({"ContextEntries": entries} if entries else {})):
            for result in page["EvaluationResults"]:
                denials.extend(_denials(result))
    return denials


def _named(denials: list[dict[str, Any]]) -> str:
    shown = ", ".join(f"{d['action']} on {d['resource']}" for d in denials[:SHOWN])
    return shown + (f" and {len(denials) - SHOWN} more" if len(denials) > SHOWN else "")


def check_permissions(aws: Aws, region: str, caller: Caller, config: Config,
                      requirements: Callable[[Config, Caller], list[Requirement]] = deployer_requirements) -> Item:
    try:
        principal = principal_arn(aws, caller, region)
    except PrincipalUnknown as unknown:
        return cannot_check(GROUP, NAME, str(unknown), unknown.fix)
    except READ_ERRORS as exc:
        return from_error(GROUP, NAME, exc, "iam GetRole", "iam:GetRole", aws.is_emulated("iam", region))
    try:
        required = requirements(config, caller)
    except ImportError:
        return cannot_check(GROUP, NAME, "the table of the tool's own calls (wildrydes_mr.policy) is not available")
    try:
        denials = simulate(aws, region, principal, required)
    except READ_ERRORS as exc:
        return from_error(GROUP, NAME, exc, "iam SimulatePrincipalPolicy", f"iam:SimulatePrincipalPolicy on "
                          f"{principal}", aws.is_emulated("iam", region))
    pairs = sum(len(entry.get("resources") or ["*"]) for entry in required)
    actions = len({entry["action"] for entry in required})
    caveat = " (session policies, if any, are not simulated)" if caller.kind == ASSUMED_ROLE else ""
    refused = [d for d in denials if not d["missing_context"]]
    fix = f"attach the policy that `wildrydes policy` prints for this config to {principal}"
    if refused:
        return failed(GROUP, NAME, f"{len(refused)} of {pairs} action/resource pairs are not allowed for "
                      f"{principal}: {_named(refused)}", fix, principal=principal, denied=refused)
    if denials:
        keys = sorted({key for d in denials for key in d["missing_context"]})
        return cannot_check(GROUP, NAME, f"{len(denials)} action/resource pairs are allowed only under conditions "
                            f"on {', '.join(keys)}, which the simulation was not given: {_named(denials)}",
                            principal=principal, conditional=denials)
    return passed(GROUP, NAME, f"all {actions} actions on their {pairs} action/resource pairs allowed for "
                  f"{principal}{caveat}", principal=principal)
