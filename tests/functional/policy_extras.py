"""What IAM authorizes for a call beyond its own action — each with its reason and source — for the policy lifecycle
test: iam:PassRole where a call hands a role to a service, the tag action where a create call carries tags, a
replica's actions in its region, the service-linked role a first use makes, GetFunction's tag read. Worked out from
the recorded call (never from wildrydes_mr.permissions), as authz.reference.Authorization values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authz.recorder import Record
from authz.reference import ACCOUNT, PARTITION, Authorization, resources_of


@dataclass(frozen=True)
class Extra:
    action: str
    operations: frozenset[str]  # "service:Operation" of the calls that need it
    reason: str
    resources: Callable[[Record], list[str]] | str  # the ARNs, or the SAR resource type to build from the call
    context: tuple[tuple[str, str], ...] = ()
    when: Callable[[Record], bool] = lambda record: True

    def authorizations(self, record: Record) -> list[Authorization]:
        if record.name not in self.operations or not self.when(record):
            return []
        arns = resources_of(record, self.action, only=self.resources) if isinstance(self.resources, str) \
            else self.resources(record)
        return [Authorization(self.action, arn, self.context, self.reason) for arn in arns]


def _iam(resource: str) -> str:
    return f"arn:{PARTITION}:iam::{ACCOUNT}:{resource}"


def _service_linked(service: str, name: str) -> Callable[[Record], list[str]]:
    return lambda record: [_iam(f"role/aws-service-role/{service}/{name}")]


def _replica_regions(record: Record, verb: str) -> list[str]:
    return [update[verb]["RegionName"] for update in record.params.get("ReplicaUpdates", []) if verb in update]


def _replica_tables(verb: str) -> Callable[[Record], list[str]]:
    return lambda record: [f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT}:table/{record.params['TableName']}"
                           for region in _replica_regions(record, verb)]


def _passed(service: str) -> tuple[tuple[str, str], ...]:
    return (("iam:PassedToService", f"{service}.amazonaws.com"),)


def _slr(service: str) -> tuple[tuple[str, str], ...]:
    return (("iam:AWSServiceName", service),)


TAG_ON_CREATE = "tag-on-create: a create call that carries tags is authorized for the tag action too"
REPLICA_CREATE = "DynamoDB guide, 'Using IAM with global tables' (2019.11.21): to create a replica, these in the " \
                 "destination region"
REPLICA_DELETE = "DynamoDB guide, 'Using IAM with global tables': to delete a replica, these in the destination region"

EXTRAS: tuple[Extra, ...] = (
    Extra("iam:PassRole", frozenset({"lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"}),
          "the function's execution role is passed to Lambda (IAM guide, 'Grant a user permissions to pass a role'; "
          "SAR: a dependent action of lambda:CreateFunction)",
          lambda r: [r.params["Role"]], _passed("lambda"), when=lambda r: "Role" in r.params),
    Extra("iam:PassRole", frozenset({"cognito-identity:SetIdentityPoolRoles"}),
          "the pool's roles are passed to Cognito (Cognito guide, role-based access control: iam:PassRole)",
          lambda r: sorted(r.params["Roles"].values()), _passed("cognito-identity")),
    Extra("iam:PassRole", frozenset({"fis:CreateExperimentTemplate", "fis:UpdateExperimentTemplate"}),
          "the experiment's role is passed to FIS (FIS guide, IAM roles for experiments)",
          lambda r: [r.params["roleArn"]], _passed("fis"), when=lambda r: "roleArn" in r.params),
    Extra("lambda:TagResource", frozenset({"lambda:CreateFunction"}),
          TAG_ON_CREATE + " (Lambda guide, 'Using tags on Lambda functions')", "function",
          when=lambda r: bool(r.params.get("Tags"))),
    Extra("lambda:ListTags", frozenset({"lambda:GetFunction"}),
          "Lambda guide, 'Using tags on Lambda functions': for tagged functions lambda:ListTags is also necessary "
          "for GetFunction", "function"),
    Extra("dynamodb:TagResource", frozenset({"dynamodb:CreateTable"}), TAG_ON_CREATE, "table",
          when=lambda r: bool(r.params.get("Tags"))),
    Extra("iam:TagRole", frozenset({"iam:CreateRole"}), TAG_ON_CREATE + " (IAM guide, 'Tagging IAM roles')", "role",
          when=lambda r: bool(r.params.get("Tags"))),
    Extra("logs:TagResource", frozenset({"logs:CreateLogGroup"}),
          TAG_ON_CREATE + " (CloudWatch Logs API reference, CreateLogGroup: logs:TagResource)", "log-group",
          when=lambda r: bool(r.params.get("tags"))),
    Extra("acm:AddTagsToCertificate", frozenset({"acm:RequestCertificate"}),
          TAG_ON_CREATE + " (ACM API reference, RequestCertificate Tags)", "certificate",
          when=lambda r: bool(r.params.get("Tags"))),
    Extra("cognito-identity:TagResource", frozenset({"cognito-identity:CreateIdentityPool",
                                                     "cognito-identity:UpdateIdentityPool"}),
          TAG_ON_CREATE + " (UpdateIdentityPool sets the tags again)", "identitypool",
          when=lambda r: bool(r.params.get("IdentityPoolTags"))),
    Extra("fis:TagResource", frozenset({"fis:CreateExperimentTemplate"}), TAG_ON_CREATE, "experiment-template",
          when=lambda r: bool(r.params.get("tags"))),
    Extra("fis:TagResource", frozenset({"fis:StartExperiment"}), TAG_ON_CREATE, "experiment",
          when=lambda r: bool(r.params.get("tags"))),
    *(Extra(f"dynamodb:{action}", frozenset({"dynamodb:UpdateTable"}), REPLICA_CREATE, _replica_tables("Create"),
            when=lambda r: bool(_replica_regions(r, "Create")))
      for action in ("CreateTable", "CreateTableReplica", "Scan", "Query", "UpdateItem", "PutItem", "GetItem",
                     "DeleteItem", "BatchWriteItem")),
    *(Extra(f"dynamodb:{action}", frozenset({"dynamodb:UpdateTable"}), REPLICA_DELETE, _replica_tables("Delete"),
            when=lambda r: bool(_replica_regions(r, "Delete")))
      for action in ("DeleteTable", "DeleteTableReplica")),
    Extra("iam:CreateServiceLinkedRole", frozenset({"dynamodb:UpdateTable"}),
          "the account's first global table: DynamoDB creates AWSServiceRoleForDynamoDBReplication (DynamoDB guide)",
          _service_linked("replication.dynamodb.amazonaws.com", "AWSServiceRoleForDynamoDBReplication"),
          _slr("replication.dynamodb.amazonaws.com"), when=lambda r: bool(_replica_regions(r, "Create"))),
    Extra("iam:CreateServiceLinkedRole", frozenset({"apigateway:CreateDomainName"}),
          "the account's first custom domain name: API Gateway creates AWSServiceRoleForAPIGateway (API Gateway "
          "guide, 'Using service-linked roles for API Gateway')",
          _service_linked("ops.apigateway.amazonaws.com", "AWSServiceRoleForAPIGateway"),
          _slr("ops.apigateway.amazonaws.com")),
    Extra("iam:CreateServiceLinkedRole", frozenset({"fis:StartExperiment"}),
          "the account's first experiment: FIS creates AWSServiceRoleForFIS (SAR: a dependent action of "
          "fis:StartExperiment)", _service_linked("fis.amazonaws.com", "AWSServiceRoleForFIS"),
          _slr("fis.amazonaws.com")),
    Extra("s3:DeleteObjectVersion", frozenset({"s3:DeleteObjects"}),
          "S3 API reference, DeleteObjects: s3:DeleteObjectVersion to delete a specific version (the tool names the "
          "versions it lists)", "object",
          when=lambda r: any("VersionId" in o for o in r.params.get("Delete", {}).get("Objects", []))),
)

# SAR dependent actions of recorded actions that no call of the tool needs, and why.
DEPENDENT_NOT_NEEDED = {
    ("lambda:CreateFunction", "lambda:PassCapacityProvider"): "only for a function on a capacity provider",
    ("cloudfront:CreateDistribution", "cloudfront:CreateConnectionGroup"): "only for a multi-tenant distribution",
    ("servicequotas:GetServiceQuota", "*"): "the services' own limit reads, for quotas of other services than "
                                            "lambda, apigateway and acm",
}


def extra_authorizations(record: Record) -> list[Authorization]:
    return [authorization for extra in EXTRAS for authorization in extra.authorizations(record)]
