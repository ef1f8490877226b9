"""Lambda functions and the resource-policy statements that let API Gateway invoke them.

Code is compared by CodeSha256 (packages are deterministic, see bundle.py), so an unchanged function is neither
re-uploaded nor reconfigured. Creating or reconfiguring with a just-made role is retried while IAM propagates.
"""

from __future__ import annotations

import json
from typing import Any

from wildrydes_mr.aws import is_iam_propagation_error, none_if_missing
from wildrydes_mr.bundle import Bundle
from wildrydes_mr.engine import Context, Resource

RUNTIME = "python3.12"
IAM_PROPAGATION_SECONDS = 120
UPDATE_WAIT_SECONDS = 300


def function_arn(ctx: Context, region: str, name: str) -> str:
    return f"arn:{ctx.aws.partition(region)}:lambda:{region}:{ctx.aws.account_id(region)}:function:{name}"


class Function(Resource):
    kind = "lambda-function"

    def __init__(self, region: str, name: str, handler: str, role_arn: str, environment: dict[str, str],
                 bundle: Bundle, timeout: int = 10, memory: int = 256):
        super().__init__(region, name)
        self.handler = handler
        self.role_arn = role_arn
        self.environment = environment
        self.bundle = bundle
        self.timeout = timeout
        self.memory = memory

    def _settings(self) -> dict[str, Any]:
        return {"Runtime": RUNTIME, "Handler": self.handler, "Role": self.role_arn, "Timeout": self.timeout,
                "MemorySize": self.memory, "Environment": {"Variables": self.environment}}

    def find(self, ctx: Context) -> dict[str, Any] | None:
        return none_if_missing(lambda: ctx.aws.client("lambda", self.region).get_function(FunctionName=self.name))

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        config = live["Configuration"]
        changes = [] if config["CodeSha256"] == self.bundle.code_sha256 else ["code"]
        for key, wanted in self._settings().items():
            have = config.get(key)
            if key == "Environment":
                have = {"Variables": (have or {}).get("Variables", {})}
            if have != wanted:
                changes.append(key.lower())
        return changes

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        return live.get("Tags") or {}

    def create(self, ctx: Context) -> dict[str, Any]:
        client = ctx.aws.client("lambda", self.region)
        created = ctx.aws.retry(
            lambda: client.create_function(FunctionName=self.name, Code={"ZipFile": self.bundle.zip_bytes},
                                           Tags=ctx.config.tag, **self._settings()),
            is_iam_propagation_error, timeout=IAM_PROPAGATION_SECONDS)
        ctx.record(self, arn=created["FunctionArn"])
        # Not awaited here: the workflow waits for all its functions to be Active at once (build_api).
        return {"arn": created["FunctionArn"]}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("lambda", self.region)
        arn = live["Configuration"]["FunctionArn"]
        # Lambda refuses an update while the previous one is in progress (ResourceConflictException).
        wait_ready(ctx, self.region, self.name)
        if "code" in changes:
            client.update_function_code(FunctionName=self.name, ZipFile=self.bundle.zip_bytes)
            wait_ready(ctx, self.region, self.name)
        if set(changes) - {"code"}:
            ctx.aws.retry(lambda: client.update_function_configuration(FunctionName=self.name,
                                                                       **self._settings()),
                          is_iam_propagation_error, timeout=IAM_PROPAGATION_SECONDS)
            wait_ready(ctx, self.region, self.name)
        return {"arn": arn}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"arn": live["Configuration"]["FunctionArn"]}



def wait_ready(ctx: Context, region: str, name: str) -> None:
    """Waits until the function's last change is live: State Active and LastUpdateStatus Successful. Until then
    Lambda refuses further updates, and invocations may still run the previous configuration."""
    client = ctx.aws.client("lambda", region)

    def ready() -> bool:
        config = client.get_function_configuration(FunctionName=name)
        if config.get("State") == "Failed" or config.get("LastUpdateStatus") == "Failed":
            raise RuntimeError(f"function {name} failed: {config.get('StateReason') or ''}")
        return config.get("State", "Active") == "Active" and config.get(
            "LastUpdateStatus", "Successful") == "Successful"
    ctx.aws.wait_until(ready, what=f"function {name} to be ready", timeout=UPDATE_WAIT_SECONDS, interval=1,
                       progress=ctx.progress)


def delete_function(ctx: Context, record: dict[str, Any]) -> None:
    ctx.aws.client("lambda", record["region"]).delete_function(FunctionName=record["name"])


class InvokePermission(Resource):
    """One statement on a function's resource policy: API Gateway may invoke it for one method and path."""

    kind = "lambda-permission"
    STATEMENT_ID = "wildrydes-apigateway-invoke"

    def __init__(self, region: str, function_name: str, source_arn: str):
        super().__init__(region, function_name)
        self.source_arn = source_arn

    def find(self, ctx: Context) -> dict[str, Any] | None:
        lam = ctx.aws.client("lambda", self.region)
        policy = none_if_missing(lambda: lam.get_policy(FunctionName=self.name)["Policy"])
        if policy is None:
            return None
        statements = json.loads(policy).get("Statement", [])
        return next((s for s in statements if s.get("Sid") == self.STATEMENT_ID), None)

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        source = live.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
        return [] if source == self.source_arn else ["source ARN"]

    def create(self, ctx: Context) -> dict[str, Any]:
        ctx.aws.client("lambda", self.region).add_permission(
            FunctionName=self.name, StatementId=self.STATEMENT_ID, Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com", SourceArn=self.source_arn)
        return {"source_arn": self.source_arn}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        ctx.aws.client("lambda", self.region).remove_permission(FunctionName=self.name,
                                                                StatementId=self.STATEMENT_ID)
        return self.create(ctx)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"source_arn": self.source_arn}


def delete_permission(ctx: Context, record: dict[str, Any]) -> None:
    ctx.aws.client("lambda", record["region"]).remove_permission(FunctionName=record["name"],
                                                                 StatementId=InvokePermission.STATEMENT_ID)
