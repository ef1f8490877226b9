"""ACM: the certificates of the regional custom domains, with their validation records (which the record-set scan
in route53.py recognises).

- acm-certificate: ListCertificates + ListTagsForCertificate; tagged.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import acm


def find_certificates(scan: Scan, region: str) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("acm", region)
    found = []
    for page in client.get_paginator("list_certificates").paginate():
        for summary in page["CertificateSummaryList"]:
            arn = summary["CertificateArn"]
            tags = unless_gone(lambda a=arn: client.list_tags_for_certificate(CertificateArn=a).get("Tags"), [])
            if not scan.ours(tags):
                continue
            described = unless_gone(lambda a=arn: client.describe_certificate(CertificateArn=a)["Certificate"], None)
            if described is None:
                continue
            validation = sorted({(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
                                 for o in described.get("DomainValidationOptions", []) if "ResourceRecord" in o})
            found.append(record(acm.Certificate.kind, region, summary["DomainName"], BY_TAG, arn=arn,
                                validation_records=[{"name": n, "value": v} for n, v in validation]))
    return found
