"""The least-privilege IAM policy of a deployer or operator of this tool, for one config: made from the table of
the tool's own calls (permissions.py) and the ARNs the config implies (permission_scope.py), never by hand.

- `required(config, account, partition, role)`: every IAM action the role needs, each with the ARNs it is needed
  on (`["*"]` only where AWS has no resource-level permission); an action with a condition (iam:PassRole to a
  service, iam:CreateServiceLinkedRole for a service) carries it, and `context`, the request values that meet it
  (for IAM's policy simulator). An action appears once per condition.
- `documents(...)`: IAM policy documents (Version 2012-10-17), one statement per (service, resources, condition),
  each document within IAM's managed-policy limit of 6,144 characters, which does not count white space (IAM and
  AWS STS quotas); split into several when one would pass it. A statement too big on its own is split by resource.
- `unscoped(...)`: the actions granted on `*` and why — for the README and `wildrydes policy`'s note, never as an
  element of a document (IAM refuses elements it does not know).
"""

from __future__ import annotations

import json
import re
from typing import Any

from wildrydes_mr import permissions
from wildrydes_mr.config import Config
from wildrydes_mr.permission_scope import UNSCOPED, Scope

VERSION = "2012-10-17"
MAX_POLICY_CHARACTERS = 6144  # IAM quota for a managed policy, white space not counted
MAX_MANAGED_POLICIES = 10  # IAM's default quota of managed policies attached to one user or role (up to 20)


def policy_size(document: dict[str, Any]) -> int:
    """The size IAM measures: the policy's characters without white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def _frozen(condition: Any) -> str:
    return json.dumps(condition, sort_keys=True) if condition else ""


def _context(condition: dict[str, Any]) -> dict[str, list[str]]:
    """The request context values that satisfy a StringEquals condition."""
    return {key: list(value) if isinstance(value, list) else [value]
            for operator in condition.values() for key, value in operator.items()}


def _grouped(config: Config, account: str, partition: str, role: str) -> list[dict[str, Any]]:
    """The table's rows for `role`, merged per (action prefix, resource keys, condition), in table order."""
    scope = Scope(config, account, partition)
    groups: dict[tuple[str, tuple[str, ...], str], dict[str, Any]] = {}
    for call in permissions.rows(config, role):
        for action in call.actions:
            prefix = action.split(":", 1)[0]
            key = (prefix, call.resources, _frozen(call.condition))
            group = groups.setdefault(key, {"prefix": prefix, "keys": call.resources, "condition": call.condition,
                                            "actions": [], "why": []})
            if action not in group["actions"]:
                group["actions"].append(action)
            if call.why and call.why not in group["why"]:
                group["why"].append(call.why)
    for group in groups.values():
        arns = [arn for key in group["keys"] for arn in scope.arns(key)]
        group["resources"] = [UNSCOPED] if UNSCOPED in arns else sorted(dict.fromkeys(arns))
    return list(groups.values())


def required(config: Config, account: str, partition: str = "aws", role: str = permissions.DEPLOYER
             ) -> list[dict[str, Any]]:
    """[{"action", "resources", ("condition", "context")}] sorted by action: every IAM action `role` needs for
    `config`, with the ARNs it is needed on ("*" only where AWS has no resource-level permission)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for group in _grouped(config, account, partition, role):
        for action in group["actions"]:
            entry = merged.setdefault((action, _frozen(group["condition"])), {"action": action, "resources": []})
            entry["resources"] = entry["resources"] + group["resources"]
            if group["condition"]:
                entry["condition"] = group["condition"]
                entry["context"] = _context(group["condition"])
    for entry in merged.values():
        entry["resources"] = [UNSCOPED] if UNSCOPED in entry["resources"] else sorted(set(entry["resources"]))
    return [merged[key] for key in sorted(merged)]


def unscoped(config: Config, role: str = permissions.DEPLOYER) -> list[dict[str, str]]:
    """[{"action", "why"}]: the actions `role` is granted on `*` only, and why AWS allows no narrower resource."""
    found: dict[str, str] = {}
    for call in permissions.rows(config, role):
        if call.resources == ("unscoped",):
            for action in call.actions:
                found.setdefault(action, call.why)
    return [{"action": action, "why": found[action]} for action in sorted(found)]


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _statements(config: Config, account: str, partition: str, role: str) -> list[dict[str, Any]]:
    statements, sids = [], set()
    for group in _grouped(config, account, partition, role):
        keys = "-".join(key.removeprefix(group["prefix"] + "-") for key in group["keys"])
        sid = _camel(group["prefix"]) + _camel(keys)
        if group["condition"]:
            sid += "If" + "".join(_camel(key.split(":")[-1]) for key in _context(group["condition"]))
        base, number = sid, 2
        while sid in sids:
            sid, number = f"{base}{number}", number + 1
        sids.add(sid)
        statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(group["actions"]),
                                     "Resource": group["resources"]}
        if group["condition"]:
            statement["Condition"] = group["condition"]
        statements.append(statement)
    return statements


def _fitting(statement: dict[str, Any], room: int) -> list[dict[str, Any]]:
    """The statement, or its resources split over several statements that each fit in `room` characters."""
    if policy_size(statement) <= room:
        return [statement]
    resources = statement["Resource"]
    if len(resources) < 2:
        raise ValueError(f"statement {statement['Sid']} alone passes IAM's {MAX_POLICY_CHARACTERS} characters")
    half = len(resources) // 2
    parts = [dict(statement, Sid=f"{statement['Sid']}Part{n}", Resource=chunk)
             for n, chunk in enumerate((resources[:half], resources[half:]), start=1)]
    return [piece for part in parts for piece in _fitting(part, room)]


def documents(config: Config, account: str, partition: str = "aws", role: str = permissions.DEPLOYER
              ) -> list[dict[str, Any]]:
    """IAM policy documents granting exactly `required(...)`, each within MAX_POLICY_CHARACTERS (first fit, in
    table order)."""
    empty = policy_size({"Version": VERSION, "Statement": []})
    room = MAX_POLICY_CHARACTERS - empty
    documents_: list[list[dict[str, Any]]] = []
    for whole in _statements(config, account, partition, role):
        for statement in _fitting(whole, room):
            size = policy_size(statement)
            target = next((statements for statements in documents_
                           if sum(policy_size(s) + 1 for s in statements) + size <= room), None)
            if target is None:
                documents_.append([statement])
            else:
                target.append(statement)
    result = [{"Version": VERSION, "Statement": statements} for statements in documents_]
    assert all(policy_size(document) <= MAX_POLICY_CHARACTERS for document in result)
    return result
