"""IAM roles with one inline least-privilege policy each (no `*` actions; resources scoped to ARNs), and the inline
policy of an existing IAM user (the local cloud's operator).

Roles are global, so their names carry the region they serve. Policies are built as dicts and compared
after normalisation, so an unchanged role makes no call on a re-run.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from wildrydes_mr.aws import none_if_missing
from wildrydes_mr.engine import Context, Resource


def role_arn(ctx: Context, region: str, role_name: str) -> str:
    return f"arn:{ctx.aws.partition(region)}:iam::{ctx.aws.account_id(region)}:role/{role_name}"


def _as_document(value: Any) -> dict[str, Any]:
    """IAM returns documents URL-encoded (real AWS) or as dicts (boto3 decodes some); normalise both."""
    if isinstance(value, str):
        value = json.loads(urllib.parse.unquote(value))
    return _normalise(value)


def _normalise(value: Any) -> Any:
    """Order-insensitive form of a policy: single-item lists and strings compare equal, as IAM treats them."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_normalise(v) for v in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


class Role(Resource):
    """A role with a trust policy and exactly one inline policy named after the role."""

    kind = "iam-role"

    def __init__(self, region: str, name: str, trust: dict[str, Any], policy: dict[str, Any],
                 description: str):
        super().__init__(region, name)
        self.trust = trust
        self.policy = policy
        self.description = description

    def find(self, ctx: Context) -> dict[str, Any] | None:
        iam = ctx.aws.client("iam", self.region)
        role = none_if_missing(lambda: iam.get_role(RoleName=self.name)["Role"])
        if role is None:
            return None
        role["_policy"] = none_if_missing(
            lambda: iam.get_role_policy(RoleName=self.name, PolicyName=self.name)["PolicyDocument"])
        return role

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        changes = []
        if _as_document(live["AssumeRolePolicyDocument"]) != _normalise(self.trust):
            changes.append("trust policy")
        if live["_policy"] is None or _as_document(live["_policy"]) != _normalise(self.policy):
            changes.append("permissions policy")
        return changes

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in live.get("Tags", [])}

    def create(self, ctx: Context) -> dict[str, Any]:
        iam = ctx.aws.client("iam", self.region)
        role = iam.create_role(RoleName=self.name, AssumeRolePolicyDocument=json.dumps(self.trust),
                               Description=self.description,
                               Tags=[{"Key": k, "Value": v} for k, v in ctx.config.tag.items()])["Role"]
        ctx.record(self, arn=role["Arn"])
        iam.put_role_policy(RoleName=self.name, PolicyName=self.name, PolicyDocument=json.dumps(self.policy))
        return {"arn": role["Arn"]}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        iam = ctx.aws.client("iam", self.region)
        if "trust policy" in changes:
            iam.update_assume_role_policy(RoleName=self.name, PolicyDocument=json.dumps(self.trust))
        if "permissions policy" in changes:
            iam.put_role_policy(RoleName=self.name, PolicyName=self.name, PolicyDocument=json.dumps(self.policy))
        return {"arn": live["Arn"]}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"arn": live["Arn"]}


def delete_role(ctx: Context, record: dict[str, Any]) -> None:
    """Deletes every inline policy (and detaches managed ones), then the role."""
    iam = ctx.aws.client("iam", record["region"])
    name = record["name"]
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


class UserPolicy(Resource):
    """One inline policy of an IAM user that exists already (the user is not the tool's: only its policy is)."""

    kind = "iam-user-policy"

    def __init__(self, region: str, user: str, name: str, policy: dict[str, Any]):
        super().__init__(region, name)
        self.user = user
        self.policy = policy

    def find(self, ctx: Context) -> dict[str, Any] | None:
        iam = ctx.aws.client("iam", self.region)
        return none_if_missing(lambda: iam.get_user_policy(UserName=self.user, PolicyName=self.name))

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if _as_document(live["PolicyDocument"]) == _normalise(self.policy) else ["permissions policy"]

    def create(self, ctx: Context) -> dict[str, Any]:
        ctx.aws.client("iam", self.region).put_user_policy(UserName=self.user, PolicyName=self.name,
                                                           PolicyDocument=json.dumps(self.policy))
        return {"user": self.user}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"user": self.user}


def delete_user_policy(ctx: Context, record: dict[str, Any]) -> None:
    ctx.aws.client("iam", record["region"]).delete_user_policy(UserName=record["user"], PolicyName=record["name"])


def lambda_trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
