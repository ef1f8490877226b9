"""The ARNs one config implies, in one account and partition: what each resource key of `permissions.CALLS` names.

Names come from the code that gives resources their names (build_api, build_ui, replicate, resources/fis), never
from copies of it: those helpers take a Context and read only `ctx.config` and `ctx.aws.account_id/partition`, so
a small stand-in (`_Naming`) is enough. Where the tool acts on something whose id AWS chooses at creation (a REST
API, a certificate, a health check, a distribution, an identity pool, an FIS template or experiment) the ARN ends
in `*` after everything the config fixes (service, region, account, resource type); where the inventory reads the
tags of every resource of a kind to find its own (cleanup's proof that nothing is left), the ARN is that kind's in
the configured regions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wildrydes_mr.config import Config

UNSCOPED = "*"
SERVICE_LINKED = {  # service principal -> the service-linked role AWS makes for it (each service's guide)
    "replication.dynamodb.amazonaws.com": "AWSServiceRoleForDynamoDBReplication",
    "ops.apigateway.amazonaws.com": "AWSServiceRoleForAPIGateway",
    "fis.amazonaws.com": "AWSServiceRoleForFIS",
}


@dataclass(frozen=True)
class _Aws:
    account: str
    partition_name: str

    def account_id(self, region: str) -> str:
        return self.account

    def partition(self, region: str) -> str:
        return self.partition_name


@dataclass(frozen=True)
class _Naming:
    """What the naming helpers read of a Context."""

    config: Config
    aws: _Aws


class Scope:
    """Resource key -> ARNs for one config, account and partition (`arns(key)`): each method `_key_<name>` is the
    key `<name>` (its underscores written as dashes), e.g. `_key_site_buckets` is "site-buckets"."""

    def __init__(self, config: Config, account: str, partition: str = "aws"):
        self.config = config
        self.account = account
        self.partition = partition
        self.naming = _Naming(config, _Aws(account, partition))
        self.primary, self.secondary = config.regions.both
        self._keys: dict[str, Callable[[], list[str]]] = {
            name.removeprefix("_key_").replace("_", "-"): getattr(self, name)
            for name in dir(self) if name.startswith("_key_")}

    def keys(self) -> list[str]:
        return sorted(self._keys)

    def arns(self, key: str) -> list[str]:
        """The ARNs (or ARN patterns) of resource key `key`, sorted; KeyError for an unknown key."""
        return sorted(dict.fromkeys(self._keys[key]()))

    # --- helpers ------------------------------------------------------------------------------------------------
    def _arn(self, service: str, region: str, resource: str, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account if account is None else account}:{resource}"

    def _both(self, service: str, resource: str) -> list[str]:
        return [self._arn(service, region, resource) for region in self.config.regions.both]

    def _function_names(self) -> list[str]:
        from wildrydes_mr.workflows import build_api

        return [build_api.function_name(self.naming, spec) for spec in build_api.FUNCTIONS]

    def _domains(self, region: str) -> list[str]:
        from wildrydes_mr.workflows import replicate

        return [replicate.failover_name(self.naming), replicate.regional_name(self.naming, region)]

    def _iam(self, resource: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{resource}"

    def _apigateway(self, paths: Callable[[str], list[str]]) -> list[str]:
        return [f"arn:{self.partition}:apigateway:{region}::{path}"
                for region in self.config.regions.both for path in paths(region)]

    # --- the keys ---------------------------------------------------------------------------------------------
    def _key_unscoped(self) -> list[str]:
        return [UNSCOPED]

    def _key_account(self) -> list[str]:
        return [f"arn:{self.partition}:account::{self.account}:account"]

    def _key_tables(self) -> list[str]:
        return self._both("dynamodb", f"table/{self.config.api.table}")

    def _key_primary_table(self) -> list[str]:
        return [self._arn("dynamodb", self.primary, f"table/{self.config.api.table}")]

    def _key_replica_table(self) -> list[str]:
        return [self._arn("dynamodb", self.secondary, f"table/{self.config.api.table}")]

    def _key_any_table(self) -> list[str]:
        return self._both("dynamodb", "table/*")

    def _key_functions(self) -> list[str]:
        return [self._arn("lambda", region, f"function:{name}")
                for region in self.config.regions.both for name in self._function_names()]

    def _key_primary_functions(self) -> list[str]:
        return [self._arn("lambda", self.primary, f"function:{name}") for name in self._function_names()]

    def _key_any_function(self) -> list[str]:
        return self._both("lambda", "function:*")

    def _key_log_groups(self) -> list[str]:
        # CloudWatch Logs authorizes a log group's own actions on its ARN with ":*" at the end (the form
        # DescribeLogGroups returns), its tag actions on the ARN without it (CloudWatch Logs user guide).
        return [arn + ":*" for arn in self._key_log_group_arns()]

    def _key_log_group_arns(self) -> list[str]:
        return [self._arn("logs", region, f"log-group:/aws/lambda/{name}")
                for region in self.config.regions.both for name in self._function_names()]

    def _key_deployment_log_groups(self) -> list[str]:
        return self._both("logs", f"log-group:/aws/lambda/{self.config.deployment}-*")

    def _key_function_roles(self) -> list[str]:
        from wildrydes_mr.workflows import build_api

        return [self._iam(f"role/{build_api.function_role_name(name, region)}")
                for region in self.config.regions.both for name in self._function_names()]

    def _key_web_identity_role(self) -> list[str]:
        from wildrydes_mr.workflows import build_ui

        return [self._iam(f"role/{build_ui.identity_role_name(self.naming)}")]

    def _key_fis_role(self) -> list[str]:
        from wildrydes_mr.resources import fis

        return [self._iam(f"role/{fis.role_name(self.naming, self.primary)}")]

    def _key_app_roles(self) -> list[str]:
        return self._key_function_roles() + self._key_web_identity_role()

    def _key_roles(self) -> list[str]:
        return self._key_app_roles() + self._key_fis_role()

    def _key_deployment_roles(self) -> list[str]:
        return [self._iam(f"role/{self.config.deployment}-*")]

    def _key_any_role(self) -> list[str]:
        return [self._iam("role/*")]

    def _key_principals(self) -> list[str]:
        return [self._iam("user/*"), self._iam("role/*")]

    def _service_linked(self, *services: str) -> list[str]:
        return [self._iam(f"role/aws-service-role/{service}/{SERVICE_LINKED[service]}") for service in services]

    def _key_deployer_service_linked_roles(self) -> list[str]:
        return self._service_linked("replication.dynamodb.amazonaws.com", "ops.apigateway.amazonaws.com")

    def _key_fis_service_linked_role(self) -> list[str]:
        return self._service_linked("fis.amazonaws.com")

    def _key_apigateway_get(self) -> list[str]:
        return self._apigateway(lambda region: ["/restapis", "/restapis/*", "/domainnames", "/tags/*", *(
            path for domain in self._domains(region) for path in (
                f"/domainnames/{domain}", f"/domainnames/{domain}/basepathmappings",
                f"/domainnames/{domain}/basepathmappings/*"))])

    def _key_apigateway_post(self) -> list[str]:
        return self._apigateway(lambda region: ["/restapis", "/restapis/*", "/domainnames", *(
            f"/domainnames/{domain}/basepathmappings" for domain in self._domains(region))])

    def _key_apigateway_put(self) -> list[str]:
        return self._apigateway(lambda region: ["/restapis/*"])

    def _key_apigateway_patch(self) -> list[str]:
        return self._apigateway(lambda region: [path for domain in self._domains(region) for path in (
            f"/domainnames/{domain}", f"/domainnames/{domain}/basepathmappings/*")])

    def _key_apigateway_delete(self) -> list[str]:
        return self._apigateway(lambda region: ["/restapis/*", *(path for domain in self._domains(region) for path in (
            f"/domainnames/{domain}", f"/domainnames/{domain}/basepathmappings/*"))])

    def _key_ticket_routes(self) -> list[str]:
        # The API ids are AWS's: any API of the region, but only this stage and the operator's ticket routes.
        from wildrydes_mr.workflows import build_api

        path = build_api.any_parameter(build_api.OWNER_TICKETS)
        return [self._arn("execute-api", region, f"*/{self.config.api.stage}/{method}{path}")
                for region in self.config.regions.both for method in ("GET", "POST")]

    def _key_certificates(self) -> list[str]:
        return self._both("acm", "certificate/*")

    def _route53(self, resource: str) -> str:
        return f"arn:{self.partition}:route53:::{resource}"

    def _key_hosted_zone(self) -> list[str]:
        from wildrydes_mr.resources import route53

        configured = self.config.dns.hosted_zone_id
        return [self._route53(f"hostedzone/{route53.zone_id_only(configured) if configured else '*'}")]

    def _key_health_checks(self) -> list[str]:
        return [self._route53("healthcheck/*")]

    def _key_route53_tagged(self) -> list[str]:
        return [self._route53("healthcheck/*"), self._route53("hostedzone/*")]

    def _key_route53_changes(self) -> list[str]:
        return [self._route53("change/*")]

    def _cloudfront(self, resource: str) -> list[str]:
        return [f"arn:{self.partition}:cloudfront::{self.account}:{resource}"]

    def _key_distributions(self) -> list[str]:
        return self._cloudfront("distribution/*")

    def _key_origin_access_controls(self) -> list[str]:
        return self._cloudfront("origin-access-control/*")

    def _key_response_headers_policies(self) -> list[str]:
        return self._cloudfront("response-headers-policy/*")

    def _bucket_names(self) -> list[str]:
        from wildrydes_mr.workflows import build_ui

        return [build_ui.bucket_name(self.naming, region) for region in self.config.regions.both]

    def _key_site_buckets(self) -> list[str]:
        return [f"arn:{self.partition}:s3:::{bucket}" for bucket in self._bucket_names()]

    def _key_site_objects(self) -> list[str]:
        return [f"arn:{self.partition}:s3:::{bucket}/*" for bucket in self._bucket_names()]

    def _key_deployment_buckets(self) -> list[str]:
        return [f"arn:{self.partition}:s3:::{self.config.deployment}-*"]

    def _key_identity_pools(self) -> list[str]:
        return self._both("cognito-identity", "identitypool/*")

    def _key_fis_templates(self) -> list[str]:
        return [self._arn("fis", self.primary, "experiment-template/*")]

    def _key_fis_experiments(self) -> list[str]:
        return [self._arn("fis", self.primary, "experiment/*")]

    def _key_fis_action(self) -> list[str]:
        # FIS's own actions are AWS's, not the account's: the account part is left open.
        from wildrydes_mr.resources import fis

        return [self._arn("fis", self.primary, f"action/{fis.ACTION_ID}", account="*")]

    def _key_quotas(self) -> list[str]:
        return [self._arn("servicequotas", region, f"{service}/*")
                for region in self.config.regions.both for service in ("lambda", "apigateway", "acm")]
