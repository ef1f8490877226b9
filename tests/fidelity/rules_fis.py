"""AWS FIS behaviours moto lacks. moto stores any experiment template (any action id, target type, duration, stop
condition, role) and moves every experiment pending → initiating → running → completed one step per GetExperiment,
whatever its duration. Here, as FIS does:

- CreateExperimentTemplate / UpdateExperimentTemplate (merged with the template moto holds) refuse what FIS
  refuses — an unknown action id, a target type or action target key that does not fit the action, a table ARN of
  another region, a missing, malformed or out-of-range duration, a stop condition other than `none` or a CloudWatch
  alarm, a role ARN that is not a role's (wildrydes_mr/local/fis_model.py, shared with the local cloud's FIS);
- an experiment is initiating for `duration` seconds, then runs for its action's duration, then is completed; after
  StopExperiment it is stopping for STOPPING_SECONDS, then stopped; it fails as it starts if fis.amazonaws.com may
  not assume its role, or a target table does not exist or is not a global table (a replica listed by the
  global-tables rule, or — on an emulator endpoint, where the tool makes the replica table itself — a table of the
  same name with a stream created in another region). GetExperiment, ListExperiments and StopExperiment answer
  that state, on the layer's (simulated) clock.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote

from fidelity.layer import Call, Response, Rule
from fidelity.rules_dynamodb import GlobalTableReplicas

from wildrydes_mr.local.fis_model import (
    FisValidationError,
    Timeline,
    paused_table_arns,
    runs_for,
    table_of,
    template_problem,
)
from wildrydes_mr.local.identity_trust import service_trust_refusal

STOPPING_SECONDS = 10.0
FIS_PRINCIPAL = "fis.amazonaws.com"


class FisExperiments(Rule):
    name = "fis-experiments"
    summary = "FIS refuses templates with an unknown action, a target or duration that does not fit it, or a stop " \
              "condition other than none/alarm (moto stores anything); an experiment initiates, runs for its " \
              "duration and completes, or stops on StopExperiment, or fails as it starts (role FIS may not assume, " \
              "target table missing or not global) — moto completes any experiment after a few reads"
    source = "FIS actions reference (aws:dynamodb:global-table-pause-replication); FIS user guide: stop conditions, " \
             "IAM roles for experiments, experiment options (empty target resolution); ExperimentState API reference"
    operations = frozenset(f"fis:{op}" for op in (
        "CreateExperimentTemplate", "UpdateExperimentTemplate", "StartExperiment", "GetExperiment",
        "ListExperiments", "StopExperiment")) | {"dynamodb:CreateTable", "dynamodb:DeleteTable"}
    duration = 10.0  # initiating

    def __init__(self, replicas: GlobalTableReplicas | None = None):
        self.replicas = replicas

    # --- before: refusals, StopExperiment noted -------------------------------------------------------------------
    def before(self, call: Call) -> Response | None:
        try:
            if call.operation == "CreateExperimentTemplate":
                template_problem(call.params, call.region)
            elif call.operation == "UpdateExperimentTemplate":
                try:
                    held = call.layer.raw_call(call, "fis", "GetExperimentTemplate", id=call.params["id"])
                except Exception:  # moto: ResourceNotFoundException, answered by moto itself
                    return None
                update = {k: v for k, v in call.params.items() if k != "id"}
                template_problem({**held["experimentTemplate"], **update}, call.region)
        except FisValidationError as exc:
            call.layer.fired(self)
            return call.error("ValidationException", str(exc))
        if call.operation == "StopExperiment":
            experiment_id, now = call.params.get("id", ""), call.now

            def note(memory: dict[str, Any]) -> None:
                held = memory.get(f"experiment {experiment_id}")
                if held is not None and held.get("stop_requested") is None and \
                        self._timeline(held).status(now)[0] in ("initiating", "running"):
                    held["stop_requested"] = now
            call.layer.memory(self, note)
        return None

    # --- after: what FIS holds --------------------------------------------------------------------------------------
    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.service == "dynamodb":
            self._note_table(call)
        elif call.operation == "StartExperiment":
            self._started(call, parsed["experiment"])
        elif call.operation == "ListExperiments":
            for summary in parsed.get("experiments", []):
                self._answer_state(call, summary)
        else:
            self._answer_state(call, parsed.get("experiment", {}))

    def _started(self, call: Call, experiment: dict[str, Any]) -> None:
        call.layer.fired(self)
        held = {"started": call.now, "runs_for": runs_for(experiment.get("actions") or {}),
                "initiating": self.duration, "failed": self._start_problem(call, experiment), "stop_requested": None}
        call.layer.memory(self, lambda memory: memory.setdefault(f"experiment {experiment['id']}", held))
        self._answer_state(call, experiment)

    def _answer_state(self, call: Call, experiment: dict[str, Any]) -> None:
        held = call.layer.recall(self).get(f"experiment {experiment.get('id')}")
        if held is None:
            return
        call.layer.fired(self)
        timeline = self._timeline(held)
        status, reason = timeline.status(call.now)
        experiment["state"] = {"status": status, "reason": reason}
        ended_at = timeline.ended_at(call.now)
        ended = None if ended_at is None else dt.datetime.fromtimestamp(ended_at, tz=dt.UTC)  # as botocore parses
        for action in (experiment.get("actions") or {}).values():
            action["state"] = {"status": status, "reason": reason}
            if ended is not None:
                action["endTime"] = ended
        if ended is not None:
            experiment["endTime"] = ended
        elif "endTime" in experiment:
            del experiment["endTime"]

    def _timeline(self, held: dict[str, Any]) -> Timeline:
        return Timeline(started=held["started"], runs_for=held["runs_for"], initiating=held["initiating"],
                        stopping=STOPPING_SECONDS, stop_requested=held.get("stop_requested"), failed=held.get("failed"))

    # --- the checks FIS makes as an experiment starts ---------------------------------------------------------------
    def _start_problem(self, call: Call, experiment: dict[str, Any]) -> str | None:
        role_arn = experiment.get("roleArn", "")
        account = experiment.get("arn", "::::0").split(":")[4]
        refusal = service_trust_refusal(self._trust(call, role_arn), role_arn, FIS_PRINCIPAL,
                                        {"aws:SourceAccount": account, "aws:SourceArn": experiment.get("arn", "")})
        if refusal:
            return f"Unable to assume role {role_arn}: {refusal}"
        for arn in paused_table_arns(experiment.get("targets") or {}, experiment.get("actions") or {}):
            region, table = table_of(arn) or ("", "")
            problem = self._table_problem(call, region, table)
            if problem:
                return f"Target resolution failed for {arn}: {problem}"
        return None

    @staticmethod
    def _trust(call: Call, role_arn: str) -> dict[str, Any] | None:
        try:
            role = call.layer.raw_call(call, "iam", "GetRole", RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
        except Exception:  # NoSuchEntity
            return None
        document = role["AssumeRolePolicyDocument"]
        return json.loads(unquote(document)) if isinstance(document, str) else document

    def _table_problem(self, call: Call, region: str, table: str) -> str | None:
        try:
            call.layer.raw_call(call, "dynamodb", "DescribeTable", region, TableName=table)
        except Exception:  # ResourceNotFoundException
            return f"no table {table} in {region}"
        if self.replicas is not None:
            for key, replicas in call.layer.recall(self.replicas).items():
                source, name = key.split("/", 1)
                live = [r for r, replica in replicas.items() if "deleted" not in replica]
                if name == table and ((source == region and live) or region in live):
                    return None
        made_in = call.layer.recall(self).get(f"table {table}", [])
        if region in made_in and len(made_in) > 1:
            return None  # the emulator path: the tool's own replica table, with a stream, in another region
        return f"table {table} in {region} is not a global table (it has no replica)"

    def _note_table(self, call: Call) -> None:
        """Which regions hold a table of a name with a stream (for the emulator path's replica tables)."""
        table, region = call.params.get("TableName", ""), call.region
        stream = (call.params.get("StreamSpecification") or {}).get("StreamEnabled")

        def note(memory: dict[str, Any]) -> None:
            regions = memory.setdefault(f"table {table}", [])
            if call.operation == "DeleteTable" and region in regions:
                regions.remove(region)
            elif call.operation == "CreateTable" and stream and region not in regions:
                regions.append(region)
        call.layer.memory(self, note)
