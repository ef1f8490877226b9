"""CloudFront (global, recorded under the primary region): the site's distribution, its origin access control
and its response-headers policy.

- cloudfront-distribution: ListDistributions + ListTagsForResource; tagged.
- cloudfront-oac: ListOriginAccessControls (no tags); named `<deployment>-site`.
- cloudfront-response-headers-policy: ListResponseHeadersPolicies (custom; no tags); named
  `<deployment>-site-headers`. An emulator that lacks the API has none.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import cloudfront, cloudfront_headers


def find_distributions(scan: Scan) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("cloudfront", "us-east-1")
    found = []
    for page in client.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            tags = unless_gone(lambda a=item["ARN"]: client.list_tags_for_resource(Resource=a)["Tags"], {})
            if not scan.ours(tags.get("Items", [])):
                continue
            # The tool names the distribution in its comment, `wildrydes:<name>`, and records it under the
            # primary region (CloudFront itself is global).
            comment = item.get("Comment") or ""
            name = comment.removeprefix("wildrydes:") if comment.startswith("wildrydes:") else item["Id"]
            found.append(record(cloudfront.Distribution.kind, scan.primary, name, BY_TAG, id=item["Id"],
                                arn=item["ARN"], domain=item.get("DomainName")))
    return found


def find_origin_access_controls(scan: Scan) -> list[dict[str, Any]]:
    # Origin access controls carry no tags: the name build-ui gives them is all there is.
    client = scan.ctx.aws.client("cloudfront", "us-east-1")
    wanted = f"{scan.deployment}-site"
    found, marker = [], None
    while True:
        page = client.list_origin_access_controls(**({"Marker": marker} if marker else {}))[
            "OriginAccessControlList"]
        found += [record(cloudfront.OriginAccessControl.kind, scan.primary, item["Name"], BY_NAME, id=item["Id"])
                  for item in page.get("Items", []) or [] if item["Name"] == wanted]
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return found


def find_response_headers_policies(scan: Scan) -> list[dict[str, Any]]:
    wanted = f"{scan.deployment}-site-headers"
    listed = scan.unless_gone_or_emulator_gap(
        "cloudfront", "us-east-1", lambda client: client.list_response_headers_policies(Type="custom")[
            "ResponseHeadersPolicyList"].get("Items", []) or [], [])
    return [record(cloudfront_headers.ResponseHeadersPolicy.kind, scan.primary, wanted, BY_NAME,
                   id=item["ResponseHeadersPolicy"]["Id"]) for item in listed
            if item["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"] == wanted]
