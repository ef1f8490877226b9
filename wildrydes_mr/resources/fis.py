"""AWS FIS: the experiment template that pauses the tickets table's replication in one region
(`aws:dynamodb:global-table-pause-replication`), the IAM role FIS runs it with, and starting, stopping and reading
its experiments (the game day's replication fault).

- `ensure_pause_template(ctx, region, duration_seconds)`: the role `<deployment>-fis-pause-<region>` (trusted by
  fis.amazonaws.com for this account's experiments only; allowed exactly what the FIS actions reference lists for
  the action, on this table and its streams) and the template (tagged with the deployment and a Name, its one
  target the table's ARN in `region`, stop condition `none`), both through the engine: found, created or updated,
  recorded in the state file. Its duration is whole minutes, one at least (FIS's durations are ISO 8601; the
  other duration actions of the reference take one minute to 12 hours).
- `start_pause`: StartExperiment with the caller's client token (the same token gives the same experiment: a
  retried start makes no second one), then a bounded wait until it is running; an experiment that fails (its
  role cannot be assumed, its target does not resolve) raises with FIS's reason.
- `stop_pause`: StopExperiment for each experiment of the template that is not final, then a bounded wait until
  each is; safe to repeat. `pause_active`: whether one still pauses replication.
- `delete_pause_template` (cleanup, through DELETERS): stops what still runs, then deletes the template; the role
  is an `iam-role` record, deleted after it (newest first).

Once it runs, FIS adds a temporary statement to the table's (and its stream's) resource policy, Sid
`DoNotModifyFisDynamoDbPauseReplication<experiment id>...` (`is_fis_pause_statement`), and removes it when the
experiment ends; it is FIS's, never drift. AWS may keep replicating for up to 5 minutes after the action begins.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context, Resource, converge_one
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.resources import iam

ACTION_ID = "aws:dynamodb:global-table-pause-replication"
TARGET_TYPE = "aws:dynamodb:global-table"
ACTION_NAME, TARGET_NAME = "PauseReplication", "TicketsTable"
FIS_PRINCIPAL = "fis.amazonaws.com"
FIS_STATEMENT_PREFIX = "DoNotModifyFisDynamoDbPauseReplication"
NOT_FINAL = ("pending", "initiating", "running")
PAUSING = (*NOT_FINAL, "stopping")  # stopping: FIS is still taking the fault back
MAX_DURATION_MINUTES = 12 * 60
START_WAIT_SECONDS = 300
STOP_WAIT_SECONDS = 300
POLL_SECONDS = 2.0


def role_name(ctx: Context, region: str) -> str:
    return f"{ctx.config.deployment}-fis-pause-{region}"


def template_name(ctx: Context, region: str) -> str:
    return f"{ctx.config.deployment}-pause-replication-{region}"


def duration_parameter(seconds: float) -> str:
    """The action's duration in whole minutes, rounded up, at least one (PT1M)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes > MAX_DURATION_MINUTES:
        raise WildrydesError(f"a replication pause of {seconds:.0f} s is longer than FIS's 12 hours")
    return f"PT{minutes}M"


def table_arn(ctx: Context, region: str) -> str:
    return (f"arn:{ctx.aws.partition(region)}:dynamodb:{region}:{ctx.aws.account_id(region)}:"
            f"table/{ctx.config.api.table}")


def trust_policy(partition: str, account: str, region: str) -> dict[str, Any]:
    """fis.amazonaws.com, for this account's experiments in `region` only (the confused-deputy conditions)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": FIS_PRINCIPAL}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account},
                      "ArnLike": {"aws:SourceArn": f"arn:{partition}:fis:{region}:{account}:experiment/*"}}}]}


def permissions_policy(table: str) -> dict[str, Any]:
    """What the FIS actions reference lists for the action on an MREC global table (dynamodb:InjectError is for
    MRSC tables only): the resource-policy calls on this table and its streams, and tag:GetResources, which has no
    resource-level permissions (its only Resource is "*"; it reads tags, nothing else)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "PauseReplicationOfTheTicketsTable", "Effect": "Allow",
         "Action": ["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
                    "dynamodb:DeleteResourcePolicy"],
         "Resource": [table, f"{table}/stream/*"]},
        {"Sid": "ResolveTargets", "Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"}]}


def pause_role(ctx: Context, region: str) -> iam.Role:
    account, partition = ctx.aws.account_id(region), ctx.aws.partition(region)
    return iam.Role(region, role_name(ctx, region), trust_policy(partition, account, region),
                    permissions_policy(table_arn(ctx, region)),
                    f"wildrydes {ctx.config.deployment}: FIS pauses replication of {ctx.config.api.table} in {region}")


class PauseTemplate(Resource):
    """The experiment template, found by its tags (the deployment's, and Name)."""

    kind = "fis-experiment-template"

    def __init__(self, region: str, name: str, role_arn: str, table: str, duration: str, description: str):
        super().__init__(region, name)
        self.role_arn = role_arn
        self.table = table
        self.duration = duration
        self.description = description

    def desired(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "targets": {TARGET_NAME: {"resourceType": TARGET_TYPE, "resourceArns": [self.table],
                                      "selectionMode": "ALL"}},
            "actions": {ACTION_NAME: {"actionId": ACTION_ID, "parameters": {"duration": self.duration},
                                      "targets": {"Tables": TARGET_NAME}}},
            # The documented "no stop condition" (the stop conditions page; botocore: "Specify none").
            "stopConditions": [{"source": "none"}],
            "roleArn": self.role_arn,
        }

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("fis", self.region)
        wanted = {**ctx.config.tag, "Name": self.name}
        for page in client.get_paginator("list_experiment_templates").paginate():
            for summary in page["experimentTemplates"]:
                tags = summary.get("tags") or {}
                if all(tags.get(key) == value for key, value in wanted.items()):
                    return client.get_experiment_template(id=summary["id"])["experimentTemplate"]
        return None

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        want, have = self.desired(), _comparable(live)
        return [name for name in ("description", "targets", "actions", "stopConditions", "roleArn")
                if _comparable({name: want[name]})[name] != have[name]]

    def create(self, ctx: Context) -> dict[str, Any]:
        template = ctx.aws.client("fis", self.region).create_experiment_template(
            clientToken=str(uuid.uuid4()), tags={**ctx.config.tag, "Name": self.name},
            **self.desired())["experimentTemplate"]
        attributes = {"id": template["id"], "arn": template.get("arn", "")}
        ctx.record(self, **attributes)
        return attributes

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        desired = self.desired()
        ctx.aws.client("fis", self.region).update_experiment_template(
            id=live["id"], **{name: desired[name] for name in changes})
        return self.attributes(ctx, live)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": live["id"], "arn": live.get("arn", "")}


def _comparable(template: dict[str, Any]) -> dict[str, Any]:
    """The parts of a template this tool sets, in one shape (FIS answers with more keys, some empty)."""
    out: dict[str, Any] = {}
    if "description" in template:
        out["description"] = template["description"]
    if "roleArn" in template:
        out["roleArn"] = template["roleArn"]
    if "targets" in template:
        out["targets"] = {name: {"resourceType": t.get("resourceType"), "resourceArns": sorted(t.get("resourceArns")
                                 or []), "selectionMode": t.get("selectionMode")}
                          for name, t in (template["targets"] or {}).items()}
    if "actions" in template:
        out["actions"] = {name: {"actionId": a.get("actionId"), "parameters": dict(a.get("parameters") or {}),
                                 "targets": dict(a.get("targets") or {})}
                          for name, a in (template["actions"] or {}).items()}
    if "stopConditions" in template:
        out["stopConditions"] = sorted(({k: v for k, v in c.items() if k in ("source", "value") and v is not None}
                                        for c in template["stopConditions"] or []), key=lambda c: sorted(c.items()))
    return out


def ensure_pause_template(ctx: Context, region: str, duration_seconds: float) -> dict[str, str]:
    """The role and the template that pause the tickets table's replication in `region` for `duration_seconds`
    (rounded up to whole minutes); returns {"template_id", "role_arn", "table_arn"}."""
    duration = duration_parameter(duration_seconds)
    role = pause_role(ctx, region)
    converge_one(ctx, role)
    arn = iam.role_arn(ctx, region, role.name)
    table = table_arn(ctx, region)
    name = template_name(ctx, region)
    template = PauseTemplate(region, name, arn, table, duration,
                             f"wildrydes deployment {ctx.config.deployment}: game day, pauses replication of table "
                             f"{ctx.config.api.table} in {region}")
    attributes = converge_one(ctx, template)
    return {"template_id": attributes.get("id", ""), "role_arn": arn, "table_arn": table}


def _experiments(client: Any, template_id: str) -> list[dict[str, Any]]:
    return [experiment for page in client.get_paginator("list_experiments").paginate(
        experimentTemplateId=template_id) for experiment in page["experiments"]
        if experiment.get("experimentTemplateId") == template_id]


def _state(client: Any, experiment_id: str) -> dict[str, Any]:
    return client.get_experiment(id=experiment_id)["experiment"]["state"]


def start_pause(ctx: Context, region: str, template_id: str, client_token: str) -> str:
    """Starts the template's experiment (`client_token`: the caller's, recorded first) and waits until it runs;
    returns the experiment id. Raises WildrydesError if FIS fails or ends it instead."""
    client = ctx.aws.client("fis", region)
    experiment = client.start_experiment(clientToken=client_token, experimentTemplateId=template_id,
                                         tags=dict(ctx.config.tag))["experiment"]
    experiment_id = experiment["id"]

    def running() -> bool:
        state = _state(client, experiment_id)
        if state["status"] not in NOT_FINAL:
            raise WildrydesError(
                f"the FIS experiment {experiment_id} that pauses replication in {region} is {state['status']}: "
                f"{state.get('reason', '')}".rstrip(": "),
                hint="see the experiment in the FIS console; fix its cause (role, target table) and run again")
        return state["status"] == "running"
    ctx.aws.wait_until(running, what=f"the FIS experiment {experiment_id} to run", timeout=START_WAIT_SECONDS,
                       interval=POLL_SECONDS, progress=ctx.progress)
    return experiment_id


def stop_pause(ctx: Context, region: str, template_id: str) -> list[str]:
    """Stops every experiment of the template that is not final, waits until each is; returns their ids."""
    client = ctx.aws.client("fis", region)
    experiments = _experiments(client, template_id)
    to_stop = [e["id"] for e in experiments if e["state"]["status"] in NOT_FINAL]
    waiting = to_stop + [e["id"] for e in experiments if e["state"]["status"] == "stopping"]
    for experiment_id in to_stop:
        try:
            client.stop_experiment(id=experiment_id)
        except ClientError as exc:
            # It may have ended on its own meanwhile: the wait below reads where it is.
            if not is_not_found(exc) and _state(client, experiment_id)["status"] in NOT_FINAL:
                raise
    if waiting:
        def all_final() -> bool:
            return all(_state(client, experiment_id)["status"] not in PAUSING for experiment_id in waiting)
        ctx.aws.wait_until(all_final, what=f"the FIS experiments of {template_id} in {region} to stop",
                           timeout=STOP_WAIT_SECONDS, interval=POLL_SECONDS, progress=ctx.progress)
    return to_stop


def pause_active(ctx: Context, region: str, template_id: str) -> bool:
    """True while an experiment of the template may still pause replication (not final yet)."""
    client = ctx.aws.client("fis", region)
    return any(e["state"]["status"] in PAUSING for e in _experiments(client, template_id))


def delete_pause_template(ctx: Context, record: dict[str, Any]) -> None:
    """Stops what still runs of the template (a killed game day's experiment), then deletes it."""
    region, template_id = record["region"], record["id"]
    try:
        stop_pause(ctx, region, template_id)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    ctx.aws.client("fis", region).delete_experiment_template(id=template_id)


def is_fis_pause_statement(statement: dict[str, Any]) -> bool:
    """A statement FIS adds to a table's or stream's resource policy while the action runs (and removes after):
    Sid `DoNotModifyFisDynamoDbPauseReplication<experiment id>`, a Deny (FIS actions reference)."""
    return str(statement.get("Sid", "")).startswith(FIS_STATEMENT_PREFIX) and statement.get("Effect") == "Deny"
