"""API Gateway custom domain names (REGIONAL, TLS 1.2) and their base path mappings to the API's stage.

Each region has `api.<domain>` (the failover name) and `<label>.<domain>` (its own name, which the health check
probes), each with a certificate from ACM in the same region.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_emulator_gap, is_not_found, none_if_missing
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.resources.apigateway import paced

NO_BASE_PATH = "(none)"


class DomainName(Resource):
    kind = "apigw-domain"

    def __init__(self, region: str, domain: str, certificate_arn: str):
        super().__init__(region, domain)
        self.certificate_arn = certificate_arn

    def find(self, ctx: Context) -> dict[str, Any] | None:
        return none_if_missing(lambda: ctx.aws.client("apigateway", self.region).get_domain_name(domainName=self.name))

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        return live.get("tags") or {}

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        changes = []
        if live.get("regionalCertificateArn") != self.certificate_arn:
            changes.append("certificate")
        if live.get("securityPolicy") != "TLS_1_2":
            changes.append("TLS 1.2")
        if live.get("endpointConfiguration", {}).get("types") != ["REGIONAL"]:
            changes.append("regional endpoint (replace)")
        return changes

    def create(self, ctx: Context) -> dict[str, Any]:
        client = ctx.aws.client("apigateway", self.region)
        created = paced(ctx, self.region, "CreateDomainName", lambda: client.create_domain_name(
            domainName=self.name, regionalCertificateArn=self.certificate_arn,
            endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2", tags=ctx.config.tag))
        return self._attributes(created)

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("apigateway", self.region)
        if "regional endpoint (replace)" in changes:
            paced(ctx, self.region, "DeleteDomainName", lambda: client.delete_domain_name(domainName=self.name))
            return self.create(ctx)
        operations = []
        if "certificate" in changes:
            operations.append({"op": "replace", "path": "/regionalCertificateArn", "value": self.certificate_arn})
        if "TLS 1.2" in changes:
            operations.append({"op": "replace", "path": "/securityPolicy", "value": "TLS_1_2"})
        return self._attributes(paced(ctx, self.region, "UpdateDomainName", lambda: client.update_domain_name(
            domainName=self.name, patchOperations=operations)))

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return self._attributes(live)

    @staticmethod
    def _attributes(domain: dict[str, Any]) -> dict[str, Any]:
        return {"regional_domain_name": domain["regionalDomainName"],
                "regional_hosted_zone_id": domain["regionalHostedZoneId"]}


def delete_domain_name(ctx: Context, record: dict[str, Any]) -> None:
    client = ctx.aws.client("apigateway", record["region"])
    paced(ctx, record["region"], "DeleteDomainName", lambda: client.delete_domain_name(domainName=record["name"]))


class BasePathMapping(Resource):
    """The domain's root path mapped to this region's API stage."""

    kind = "apigw-base-path"

    def __init__(self, region: str, domain: str, api_id: str, stage: str):
        super().__init__(region, domain)
        self.api_id = api_id
        self.stage = stage

    def find(self, ctx: Context) -> dict[str, Any] | None:
        emulated = ctx.aws.is_emulated("apigateway", self.region)
        client = ctx.aws.client("apigateway", self.region, retries=not emulated)
        try:
            return client.get_base_path_mapping(domainName=self.name, basePath=NO_BASE_PATH)
        except Exception as exc:
            # moto raises (KeyError / HTTP 500) for a domain without mappings instead of NotFound.
            if (isinstance(exc, ClientError) and is_not_found(exc)) or is_emulator_gap(exc, emulated):
                return None
            raise

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if (live.get("restApiId"), live.get("stage")) == (self.api_id, self.stage) else ["target"]

    def create(self, ctx: Context) -> dict[str, Any]:
        ctx.aws.client("apigateway", self.region).create_base_path_mapping(
            domainName=self.name, restApiId=self.api_id, stage=self.stage)
        return {"api_id": self.api_id, "stage": self.stage}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        ctx.aws.client("apigateway", self.region).update_base_path_mapping(
            domainName=self.name, basePath=NO_BASE_PATH, patchOperations=[
                {"op": "replace", "path": "/restapiId", "value": self.api_id},
                {"op": "replace", "path": "/stage", "value": self.stage}])
        return {"api_id": self.api_id, "stage": self.stage}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"api_id": self.api_id, "stage": self.stage}


def delete_base_path_mapping(ctx: Context, record: dict[str, Any]) -> None:
    ctx.aws.client("apigateway", record["region"]).delete_base_path_mapping(domainName=record["name"],
                                                                           basePath=NO_BASE_PATH)
