"""API Gateway: the REST APIs, the regional custom domains and their base path mappings.

- rest-api: GetRestApis (the items carry the tags); tagged.
- apigw-domain: GetDomainNames (the items carry the tags); tagged.
- apigw-base-path: GetBasePathMappings of each domain found; the root mapping "(none)", the only one the tool
  makes.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import apigateway, domains


def find_rest_apis(scan: Scan, region: str) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("apigateway", region)
    # REST API names are not unique, so only the tag (included in GetRestApis items) identifies ours.
    return [record(apigateway.RestApi.kind, region, api["name"], BY_TAG, id=api["id"])
            for page in client.get_paginator("get_rest_apis").paginate()
            for api in page["items"] if scan.ours(api.get("tags"))]


def find_domains(scan: Scan, region: str) -> list[dict[str, Any]]:
    """The custom domains of ours, each followed by its root base path mapping when it has one."""
    client = scan.ctx.aws.client("apigateway", region)
    found = []
    for page in client.get_paginator("get_domain_names").paginate():
        for domain in page["items"]:
            name = domain["domainName"]
            tags = domain.get("tags")
            if tags is None:
                arn = f"arn:{scan.ctx.aws.partition(region)}:apigateway:{region}::/domainnames/{name}"
                tags = unless_gone(lambda a=arn: client.get_tags(resourceArn=a).get("tags", {}), {})
            if not scan.ours(tags):
                continue
            found.append(record(domains.DomainName.kind, region, name, BY_TAG,
                                regional_domain_name=domain.get("regionalDomainName")))
            if _has_root_mapping(scan, region, name):
                found.append(record(domains.BasePathMapping.kind, region, name, BY_NAME))
    return found


def _has_root_mapping(scan: Scan, region: str, domain: str) -> bool:
    """The tool maps only the root path ("(none)"); its deleter deletes exactly that mapping."""
    def mappings(client: Any) -> list[dict[str, Any]]:
        return [m for page in client.get_paginator("get_base_path_mappings").paginate(domainName=domain)
                for m in page.get("items", [])]
    # moto has answered mapping lookups on a domain without mappings with a KeyError (HTTP 500 in server
    # mode) instead of NotFound; see domains.BasePathMapping.find.
    return any(m.get("basePath") == domains.NO_BASE_PATH
               for m in scan.unless_gone_or_emulator_gap("apigateway", region, mappings, []))
