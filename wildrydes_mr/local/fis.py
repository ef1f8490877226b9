"""The local cloud's AWS FIS: moto holds the templates and experiments, this stand-in (in the control-plane front,
in the daemon's process, where moto runs) refuses what FIS refuses and holds each experiment's state as FIS would.

- CreateExperimentTemplate (POST /experimentTemplates) and UpdateExperimentTemplate (PATCH
  /experimentTemplates/{id}, checked merged with the template moto holds) are checked with fis_model's
  `template_problem`: a refusal is answered here, 400 ValidationException, and moto never sees the request.
- Experiments: moto's own state machine (one step per GetExperiment, whatever the duration) is frozen through
  moto's state manager, and before every FIS call (and whenever the replicator asks) each experiment's state is
  set from its `Timeline`: running from StartExperiment on, completed at start + duration × time_scale, stopped
  once StopExperiment asked (moto marks it "stopping"). When an experiment is first seen, FIS's start-time checks
  are made: fis.amazonaws.com may assume its role (the trust policy, with aws:SourceAccount and aws:SourceArn as
  FIS sends them), and each target table exists in the region and is a global table (the replicator replicates
  it there); otherwise the experiment is failed with the reason, as FIS fails an experiment whose targets do not
  resolve.
- `paused(region, table)`: whether a running `aws:dynamodb:global-table-pause-replication` experiment pauses that
  table's replica in that region — what the replicator asks (the control plane drives the data plane).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .fis_model import FisValidationError, Timeline, paused_table_arns, runs_for, table_of, template_problem
from .http_server import plain
from .identity_trust import service_trust_refusal

__all__ = ["FIS_PRINCIPAL", "FisStandIn", "global_table_check"]

logger = logging.getLogger(__name__)

FIS_PRINCIPAL = "fis.amazonaws.com"
_TEMPLATE_PATH = re.compile(r"^/experimentTemplates/([^/]+)$")
# moto's experiments advance one state per `times` GetExperiment calls: so many that they never do by themselves.
_FROZEN = {"progression": "manual", "times": 10**18}


class FisStandIn:
    def __init__(self, time_scale: float, role_trust: Callable[[str], dict[str, Any] | None],
                 table_problem: Callable[[str, str], str | None], clock: Callable[[], float] = time.time) -> None:
        """`role_trust(role_arn)`: the role's trust policy (None: no such role); `table_problem(region, table)`: why
        the table is not a global table with a replica in `region` (None: it is)."""
        from moto.moto_api import state_manager

        state_manager.set_transition(model_name="fis::experiment", transition=dict(_FROZEN))
        self.time_scale = time_scale
        self._role_trust = role_trust
        self._table_problem = table_problem
        self._clock = clock
        self._held: dict[str, Timeline] = {}
        self._targets: dict[str, list[tuple[str, str]]] = {}  # experiment ARN -> paused (region, table)
        self._lock = threading.RLock()

    # -- the front's part ------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: bytes, region: str | None) -> Any:
        """For a request signed for FIS: a refusal, or None for moto to answer (the states brought up to date)."""
        self.sync()
        method = method.upper()
        try:
            if method == "POST" and path == "/experimentTemplates":
                template_problem(_json(body), region or "")
            elif method == "PATCH" and _TEMPLATE_PATH.match(path):
                existing = self._template(_TEMPLATE_PATH.match(path).group(1))  # type: ignore[union-attr]
                if existing is not None:
                    update = {k: v for k, v in _json(body).items() if v is not None}
                    template_problem({**existing, **update}, region or "")
        except FisValidationError as exc:
            answer = plain(400, str(exc))
            answer.headers.append(("x-amzn-ErrorType", "ValidationException"))
            return answer
        return None

    # -- the data plane's part --------------------------------------------------------------------------------------
    def paused(self, region: str, table: str) -> bool:
        """True while an experiment pauses replication of `table`'s replica in `region`."""
        return (region, table) in self.paused_members()

    def paused_members(self) -> set[tuple[str, str]]:
        return set(self._pausing())

    def paused_since(self, region: str, table: str) -> float | None:
        """When (wall time) the experiment pausing `table`'s replica in `region` began; None if none does."""
        return self._pausing().get((region, table))

    def _pausing(self) -> dict[tuple[str, str], float]:
        """(region, table) -> start of the earliest experiment pausing it now."""
        with self._lock:
            self.sync()
            now = self._clock()
            pausing: dict[tuple[str, str], float] = {}
            for arn, timeline in self._held.items():
                if timeline.pausing(now):
                    for member in self._targets.get(arn, []):
                        pausing[member] = min(pausing.get(member, timeline.started), timeline.started)
            return pausing

    def status(self) -> dict[str, list[str]]:
        """table -> the regions where its replication is paused by an experiment now."""
        paused: dict[str, list[str]] = {}
        for region, table in sorted(self.paused_members()):
            paused.setdefault(table, []).append(region)
        return paused

    # -- experiments' states -----------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Sets each experiment's state in moto from its timeline."""
        with self._lock:
            now = self._clock()
            for region, experiment in _experiments():
                timeline = self._held.get(experiment.arn)
                if timeline is None:
                    timeline = self._first_sight(region, experiment)
                if experiment.status == "stopping" and timeline.stop_requested is None:
                    timeline.stop_requested = now  # StopExperiment: moto marked it
                status, reason = timeline.status(now)
                if status == "failed":
                    # moto gives each state a fixed reason; this experiment's own reason shadows it.
                    experiment.STATUS_REASONS = {**type(experiment).STATUS_REASONS, "failed": reason}
                if experiment.status != status:
                    experiment.status = status
                    experiment.end_time = timeline.ended_at(now)

    def _first_sight(self, region: str, experiment: Any) -> Timeline:
        timeline = Timeline(started=float(experiment.start_time),
                            runs_for=runs_for(experiment.actions) * self.time_scale)
        # Held before its checks run: they read other parts of the local cloud, which may ask what is paused.
        self._held[experiment.arn] = timeline
        self._targets[experiment.arn] = []
        timeline.failed = self._start_problem(region, experiment)
        self._targets[experiment.arn] = [member for member in (
            table_of(arn) for arn in paused_table_arns(experiment.targets, experiment.actions)) if member]
        if timeline.failed:
            logger.warning("FIS experiment %s failed: %s", experiment.id, timeline.failed)
        else:
            logger.info("FIS experiment %s runs for %.1f s (time_scale %s)", experiment.id, timeline.runs_for,
                        self.time_scale)
        return timeline

    def _start_problem(self, region: str, experiment: Any) -> str | None:
        """What makes FIS fail the experiment as it starts (None: nothing)."""
        account = experiment.account_id
        refusal = service_trust_refusal(self._role_trust(experiment.role_arn), experiment.role_arn, FIS_PRINCIPAL,
                                        {"aws:SourceAccount": account, "aws:SourceArn": experiment.arn})
        if refusal:
            return f"Unable to assume role {experiment.role_arn}: {refusal}"
        for arn in paused_table_arns(experiment.targets, experiment.actions):
            member = table_of(arn)
            problem = "not a table ARN" if member is None else self._table_problem(*member)
            if problem:
                return f"Target resolution failed for {arn}: {problem}"
        return None

    @staticmethod
    def _template(template_id: str) -> dict[str, Any] | None:
        from moto.fis.models import fis_backends

        for per_region in dict.values(fis_backends):
            for backend in dict.values(per_region):
                template = backend.experiment_templates.get(template_id)
                if template is not None:
                    return template.to_dict()
        return None


def global_table_check(replicated_regions: Callable[[str], list[str]],
                       dynamodb: Callable[[str], Any]) -> Callable[[str, str], str | None]:
    """FisStandIn's `table_problem` on the local cloud: a table is a global table with a replica in a region when
    the replicator replicates it there (`replicated_regions(table)`, the replicator's `members`);
    `dynamodb(region)`: a client, to tell a missing table from one that is not global."""

    def problem(region: str, table: str) -> str | None:
        if region in replicated_regions(table):
            return None
        client = dynamodb(region)
        try:
            client.describe_table(TableName=table)
        except client.exceptions.ResourceNotFoundException:
            return f"no table {table} in {region}"
        return f"table {table} in {region} is not a global table (it has no replica)"

    return problem


def _experiments() -> Iterator[tuple[str, Any]]:
    """(region, experiment) for every experiment moto holds, in every account (dict's own methods: moto's backend
    dicts make a backend on a missed lookup)."""
    from moto.fis.models import fis_backends

    for per_region in list(dict.values(fis_backends)):
        for region, backend in list(dict.items(per_region)):
            yield from ((region, experiment) for experiment in list(backend.experiments.values()))


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as exc:
        raise FisValidationError("the request body is not JSON") from exc
    if not isinstance(value, dict):
        raise FisValidationError("the request body must be a JSON object")
    return value
