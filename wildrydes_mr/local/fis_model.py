"""AWS FIS as the service answers it, for the two stand-ins that need it: the local cloud's control-plane front
(local/fis.py) and the test harness's behaviour rule in front of moto (tests/fidelity/rules_fis.py). moto's FIS
stores any template and moves any experiment to "completed" after a few GetExperiment calls; this module owns what
it lacks:

- the actions known here: the one this tool uses, `aws:dynamodb:global-table-pause-replication` (target type
  `aws:dynamodb:global-table` under the action target key `Tables`, one parameter `duration`), and FIS's own
  `aws:fis:wait`; any other action id is refused (a local stand-in does not pretend to run faults it lacks);
- what CreateExperimentTemplate / UpdateExperimentTemplate refuse (`template_problem`): an unknown action id, an
  action target key or resource type that does not fit the action, a target that names no resources, a resource
  ARN that is not a DynamoDB table of the template's region, a missing or unknown parameter, a duration that is not
  ISO 8601 or outside one minute..12 hours, a stop condition other than `none` or a CloudWatch alarm, a role ARN
  that is not an IAM role's;
- where an experiment is in its life at a given moment (`Timeline`): initiating, running for its longest action's
  duration, completed; or stopping then stopped once StopExperiment is called; or failed (its role could not be
  assumed, its targets did not resolve) — checked when it starts, as FIS resolves targets then.

Sources (docs/aws-behaviour.md lists them): the FIS actions reference (DynamoDB actions), the stop conditions
page ("source": "none"), the ExperimentState API reference, botocore's FIS model (ResourceArnList max 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FINAL", "GLOBAL_TABLE", "NOT_FINAL", "PAUSE_REPLICATION", "WAIT", "FisValidationError", "Timeline",
           "parse_duration", "paused_table_arns", "runs_for", "table_of", "template_problem"]

PAUSE_REPLICATION = "aws:dynamodb:global-table-pause-replication"
WAIT = "aws:fis:wait"
GLOBAL_TABLE = "aws:dynamodb:global-table"
MIN_DURATION_SECONDS = 60.0
MAX_DURATION_SECONDS = 12 * 3600.0
FINAL = frozenset({"completed", "stopped", "failed", "cancelled"})
NOT_FINAL = ("pending", "initiating", "running", "stopping")
STOP_SOURCES = ("none", "aws:cloudwatch:alarm")
MAX_RESOURCE_ARNS = 5  # botocore: ResourceArnList max 5

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_SELECTION = re.compile(r"^(ALL|COUNT\(\d+\)|PERCENT\(\d+\))$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_ALARM_ARN = re.compile(r"^arn:aws[\w-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$")
_TABLE_ARN = re.compile(r"^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):\d{12}:table/([A-Za-z0-9_.-]{3,255})$")


@dataclass(frozen=True)
class _Action:
    target_key: str | None  # the key of the action's `targets` map, None: the action takes no target
    resource_type: str | None
    parameters: frozenset[str]  # all required


ACTIONS = {
    PAUSE_REPLICATION: _Action("Tables", GLOBAL_TABLE, frozenset({"duration"})),
    WAIT: _Action(None, None, frozenset({"duration"})),
}


class FisValidationError(ValueError):
    """What FIS answers with ValidationException (HTTP 400)."""


def parse_duration(text: object) -> float:
    """Seconds of an ISO 8601 duration as FIS takes it (PT1M, PT90S, PT1H30M, P1D)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or text in ("P", "PT") or str(text).endswith("T"):
        raise FisValidationError(f"duration {text!r} is not an ISO 8601 duration (for example PT5M)")
    days, hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _checked_duration(action_name: str, text: object) -> float:
    seconds = parse_duration(text)
    if not MIN_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise FisValidationError(f"action {action_name}: duration {text} is outside one minute to 12 hours")
    return seconds


def _check_stop_conditions(conditions: object) -> None:
    if not isinstance(conditions, list) or not conditions:
        raise FisValidationError("stopConditions: at least one stop condition is required (source none for none)")
    for condition in conditions:
        source = condition.get("source") if isinstance(condition, Mapping) else None
        if source not in STOP_SOURCES:
            raise FisValidationError(f"stop condition source {source!r} is not one of {', '.join(STOP_SOURCES)}")
        value = condition.get("value")
        if source == "none" and value is not None:
            raise FisValidationError("a stop condition with source none takes no value")
        if source == "aws:cloudwatch:alarm" and not (isinstance(value, str) and _ALARM_ARN.match(value)):
            raise FisValidationError(f"stop condition value {value!r} is not a CloudWatch alarm ARN")
    if len(conditions) > 1 and any(c.get("source") == "none" for c in conditions):
        raise FisValidationError("stop condition none cannot be combined with other stop conditions")


def _check_target(name: str, target: object, region: str) -> None:
    if not isinstance(target, Mapping):
        raise FisValidationError(f"target {name} must be an object")
    resource_type = target.get("resourceType")
    if resource_type != GLOBAL_TABLE:
        raise FisValidationError(f"target {name}: resource type {resource_type!r} is not supported")
    if not _SELECTION.match(str(target.get("selectionMode", ""))):
        raise FisValidationError(f"target {name}: selectionMode must be ALL, COUNT(n) or PERCENT(n)")
    arns = target.get("resourceArns") or []
    if not arns and not target.get("resourceTags"):
        raise FisValidationError(f"target {name} names no resources (resourceArns or resourceTags)")
    if arns and target.get("resourceTags"):
        raise FisValidationError(f"target {name}: resourceArns and resourceTags cannot be combined")
    if len(arns) > MAX_RESOURCE_ARNS:
        raise FisValidationError(f"target {name}: at most {MAX_RESOURCE_ARNS} resource ARNs")
    for arn in arns:
        match = _TABLE_ARN.match(str(arn))
        if match is None:
            raise FisValidationError(f"target {name}: {arn} is not the ARN of a DynamoDB table")
        if match.group(1) != region:
            raise FisValidationError(f"target {name}: {arn} is not in the experiment's region {region}")


def _check_action(name: str, action: object, targets: Mapping[str, Any]) -> None:
    if not isinstance(action, Mapping):
        raise FisValidationError(f"action {name} must be an object")
    action_id = action.get("actionId")
    spec = ACTIONS.get(str(action_id))
    if spec is None:
        raise FisValidationError(f"action {name}: action id {action_id!r} is not supported")
    parameters = action.get("parameters") or {}
    missing, unknown = spec.parameters - set(parameters), set(parameters) - spec.parameters
    if missing or unknown:
        raise FisValidationError(f"action {name} ({action_id}): " + "; ".join(
            part for part in (f"missing parameter {', '.join(sorted(missing))}" if missing else "",
                              f"unknown parameter {', '.join(sorted(unknown))}" if unknown else "") if part))
    _checked_duration(name, parameters["duration"])
    action_targets = action.get("targets") or {}
    expected = {spec.target_key} if spec.target_key else set()
    if set(action_targets) != expected:
        raise FisValidationError(f"action {name} ({action_id}) takes the target key(s) "
                                 f"{', '.join(sorted(expected)) or 'none'}, not {', '.join(sorted(action_targets))}")
    for target_name in action_targets.values():
        target = targets.get(target_name)
        if target is None:
            raise FisValidationError(f"action {name} names target {target_name}, which the template lacks")
        if target.get("resourceType") != spec.resource_type:
            raise FisValidationError(f"action {name} ({action_id}) needs a target of type {spec.resource_type}")


def template_problem(template: Mapping[str, Any], region: str) -> None:
    """Raises FisValidationError for what FIS would refuse in this (whole) template, created in `region`."""
    role = template.get("roleArn")
    if not (isinstance(role, str) and _ROLE_ARN.match(role)):
        raise FisValidationError(f"roleArn {role!r} is not the ARN of an IAM role")
    if not str(template.get("description") or "").strip():
        raise FisValidationError("description is required")
    _check_stop_conditions(template.get("stopConditions"))
    targets = template.get("targets") or {}
    actions = template.get("actions") or {}
    if not actions:
        raise FisValidationError("an experiment template needs at least one action")
    for name, target in targets.items():
        _check_target(name, target, region)
    for name, action in actions.items():
        _check_action(name, action, targets)


def runs_for(actions: Mapping[str, Any]) -> float:
    """How long the experiment runs once started: its longest action (they start together here)."""
    return max((parse_duration((a.get("parameters") or {}).get("duration", "PT0S")) for a in actions.values()),
               default=0.0)


def paused_table_arns(targets: Mapping[str, Any], actions: Mapping[str, Any]) -> list[str]:
    """The table ARNs whose replication the pause actions of an experiment pause."""
    arns: list[str] = []
    for action in actions.values():
        if action.get("actionId") != PAUSE_REPLICATION:
            continue
        for target_name in (action.get("targets") or {}).values():
            arns.extend(arn for arn in (targets.get(target_name) or {}).get("resourceArns") or [] if arn not in arns)
    return arns


def table_of(arn: str) -> tuple[str, str] | None:
    """(region, table name) of a DynamoDB table ARN."""
    match = _TABLE_ARN.match(arn)
    return (match.group(1), match.group(2)) if match else None


@dataclass
class Timeline:
    """An experiment's life, in seconds of one clock: `started`, `initiating` for so long, then running for
    `runs_for`; `stop_requested` (StopExperiment) makes it stopping for `stopping` seconds, then stopped; `failed`
    (a reason) ends it once initiating is over."""

    started: float
    runs_for: float
    initiating: float = 0.0
    stopping: float = 0.0
    stop_requested: float | None = None
    failed: str | None = None

    def status(self, now: float) -> tuple[str, str]:
        """(status, reason) at `now`."""
        running_from = self.started + self.initiating
        ends = running_from + self.runs_for
        if self.stop_requested is not None and self.stop_requested < ends and (
                self.failed is None or self.stop_requested < running_from):
            if now < self.stop_requested + self.stopping:
                return "stopping", "Experiment is stopping"
            return "stopped", "Experiment stopped"
        if now < running_from:
            return "initiating", "Experiment is initiating"
        if self.failed is not None:
            return "failed", self.failed
        if now < ends:
            return "running", "Experiment is running"
        return "completed", "Experiment completed"

    def ended_at(self, now: float) -> float | None:
        status, _ = self.status(now)
        if status not in FINAL:
            return None
        if status == "stopped":
            return self.stop_requested + self.stopping  # type: ignore[operator]
        if status == "failed":
            return self.started + self.initiating
        return self.started + self.initiating + self.runs_for

    def pausing(self, now: float) -> bool:
        """True while its actions are in effect: running, or stopping (FIS is still rolling the fault back)."""
        return self.status(now)[0] in ("running", "stopping")
