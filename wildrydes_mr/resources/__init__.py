"""One module per AWS service: find / create / update / delete of the resources this tool makes.

`DELETERS` maps each recorded resource kind to its delete function: cleanup dispatches through it.
"""

from __future__ import annotations

from wildrydes_mr.engine import Deleter
from wildrydes_mr.resources import (
    acm,
    apigateway,
    cloudfront,
    cloudfront_headers,
    cognito,
    domains,
    dynamodb,
    dynamodb_replica,
    fis,
    iam,
    lambda_fn,
    logs,
    route53,
    s3,
)

DELETERS: dict[str, Deleter] = {
    dynamodb.Table.kind: dynamodb.delete_table,
    dynamodb.PointInTimeRecovery.kind: dynamodb.delete_pitr,
    iam.Role.kind: iam.delete_role,
    iam.UserPolicy.kind: iam.delete_user_policy,
    logs.LogGroup.kind: logs.delete_log_group,
    lambda_fn.Function.kind: lambda_fn.delete_function,
    lambda_fn.InvokePermission.kind: lambda_fn.delete_permission,
    apigateway.RestApi.kind: apigateway.delete_rest_api,
    cognito.IdentityPool.kind: cognito.delete_identity_pool,
    cognito.PoolRoles.kind: cognito.delete_pool_mapping,
    cognito.PrincipalTags.kind: cognito.delete_pool_mapping,
    s3.Bucket.kind: s3.delete_bucket,
    s3.BucketPolicy.kind: s3.delete_bucket_policy,
    s3.SiteFiles.kind: s3.delete_site_files,
    cloudfront.OriginAccessControl.kind: cloudfront.delete_origin_access_control,
    cloudfront.Distribution.kind: cloudfront.delete_distribution,
    cloudfront_headers.ResponseHeadersPolicy.kind: cloudfront_headers.delete_response_headers_policy,
    dynamodb_replica.Replica.kind: dynamodb_replica.delete_replica,
    acm.Certificate.kind: acm.delete_certificate,
    domains.DomainName.kind: domains.delete_domain_name,
    domains.BasePathMapping.kind: domains.delete_base_path_mapping,
    route53.HostedZone.kind: route53.delete_hosted_zone,
    route53.RecordSet.kind: route53.delete_record,
    route53.HealthCheck.kind: route53.delete_health_check,
    fis.PauseTemplate.kind: fis.delete_pause_template,
}
