"""Lambda and IAM behaviours moto does not have: a new function is Pending and an updated one InProgress for a
while (and refuses another update meanwhile), and a role just created cannot be assumed by Lambda yet."""

from __future__ import annotations

from typing import Any

from fidelity.layer import Call, Response, Rule

UPDATES = ("UpdateFunctionConfiguration", "UpdateFunctionCode")


def _function_name(reference: str) -> str:
    """A function name from a name, a partial ARN or an ARN (with or without a qualifier)."""
    if ":function:" in reference:
        return reference.split(":function:", 1)[1].split(":", 1)[0]
    return reference.split(":", 1)[0]


class FunctionNotReady(Rule):
    name = "lambda-update-in-progress"
    summary = "after CreateFunction the function is State Pending, after an update LastUpdateStatus InProgress, " \
              "for a while; another update meanwhile answers ResourceConflictException"
    source = "Lambda developer guide, 'Lambda function states'; Lambda model (State, LastUpdateStatus, " \
             "ResourceConflictException)"
    operations = frozenset({"lambda:CreateFunction", *(f"lambda:{u}" for u in UPDATES), "lambda:GetFunction",
                            "lambda:GetFunctionConfiguration"})
    duration = 5.0

    def _busy(self, call: Call, name: str) -> str | None:
        """'Pending' or 'InProgress' while the function is not ready, else None."""
        since = call.layer.recall(self).get(f"{call.region}/{name}")
        if since is None or call.now - since["at"] >= self.duration:
            return None
        return since["what"]

    def before(self, call: Call) -> Response | None:
        if call.operation not in UPDATES:
            return None
        name = _function_name(call.params.get("FunctionName", ""))
        busy = self._busy(call, name)
        if busy is None:
            return None
        call.layer.fired(self)
        arn = f"arn:aws:lambda:{call.region}:123456789012:function:{name}"
        message = (f"The operation cannot be performed at this time. An update is in progress for resource: {arn}"
                   if busy == "InProgress" else
                   "The operation cannot be performed at this time. The function is currently in the following "
                   "state: Pending")
        return call.error("ResourceConflictException", message, status=409)

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        name = _function_name(call.params.get("FunctionName", ""))
        if call.operation in ("CreateFunction", *UPDATES):
            what = "Pending" if call.operation == "CreateFunction" else "InProgress"
            entry = {"at": call.now, "what": what}
            call.layer.memory(self, lambda memory: memory.__setitem__(f"{call.region}/{name}", entry))
            self._show(parsed, what)
            return
        busy = self._busy(call, name)
        if busy is not None:
            call.layer.fired(self)
            self._show(parsed.get("Configuration", parsed), busy)

    @staticmethod
    def _show(configuration: dict[str, Any], busy: str) -> None:
        if busy == "Pending":
            configuration.update(State="Pending", StateReason="The function is being created.",
                                 StateReasonCode="Creating")
        else:
            configuration.update(State="Active", LastUpdateStatus="InProgress",
                                 LastUpdateStatusReason="The function is being updated.",
                                 LastUpdateStatusReasonCode="Updating")


class RoleNotYetAssumable(Rule):
    name = "iam-role-propagation"
    summary = "for seconds after CreateRole, Lambda answers 'The role defined for the function cannot be assumed " \
              "by Lambda' (botocore does not retry it)"
    source = "IAM user guide, 'Changes that I make are not always immediately visible' (eventual consistency); " \
             "Lambda CreateFunction InvalidParameterValueException"
    operations = frozenset({"iam:CreateRole", "lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"})
    duration = 8.0

    def before(self, call: Call) -> Response | None:
        if call.service != "lambda" or "Role" not in call.params:
            return None
        role = str(call.params["Role"]).rsplit("/", 1)[-1]
        created = call.layer.recall(self).get(role)
        if created is None or call.now - created >= self.duration:
            return None
        call.layer.fired(self)
        return call.error("InvalidParameterValueException",
                          "The role defined for the function cannot be assumed by Lambda.")

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation == "CreateRole":
            role, at = parsed["Role"]["RoleName"], call.now
            call.layer.memory(self, lambda memory: memory.__setitem__(role, at))
