"""CloudWatch log groups for the functions, made by the tool (with a retention) so cleanup can remove them."""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context, Resource

RETENTION_DAYS = 14


def log_group_arn(ctx: Context, region: str, name: str) -> str:
    return f"arn:{ctx.aws.partition(region)}:logs:{region}:{ctx.aws.account_id(region)}:log-group:{name}"


class LogGroup(Resource):
    kind = "log-group"

    def find(self, ctx: Context) -> dict[str, Any] | None:
        logs = ctx.aws.client("logs", self.region)
        groups = logs.describe_log_groups(logGroupNamePrefix=self.name)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == self.name), None)

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        arn = live["arn"].removesuffix(":*")
        return ctx.aws.client("logs", self.region).list_tags_for_resource(resourceArn=arn).get("tags", {})

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if live.get("retentionInDays") == RETENTION_DAYS else [f"retention {RETENTION_DAYS} days"]

    def create(self, ctx: Context) -> dict[str, Any]:
        logs = ctx.aws.client("logs", self.region)
        logs.create_log_group(logGroupName=self.name, tags=ctx.config.tag)
        ctx.record(self)
        logs.put_retention_policy(logGroupName=self.name, retentionInDays=RETENTION_DAYS)
        return {}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        ctx.aws.client("logs", self.region).put_retention_policy(logGroupName=self.name,
                                                                 retentionInDays=RETENTION_DAYS)
        return {}


def delete_log_group(ctx: Context, record: dict[str, Any]) -> None:
    try:
        ctx.aws.client("logs", record["region"]).delete_log_group(logGroupName=record["name"])
    except ClientError as exc:
        if not is_not_found(exc):
            raise
