"""ACM certificates for the regional custom domains (`api.<domain>` + `<label>.<domain>`), DNS-validated.

A regional API Gateway custom domain needs a certificate in its own region, so there is one per region. An
ISSUED (or pending) certificate of this deployment with exactly these names is reused; issuing is a separate,
bounded wait so that it can overlap with other work.
"""

from __future__ import annotations

import hashlib
from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context, Resource

ISSUE_WAIT_SECONDS = 3 * 3600  # ACM DNS validation takes minutes to over an hour
REUSABLE = ("ISSUED", "PENDING_VALIDATION")


class Certificate(Resource):
    kind = "acm-certificate"

    def __init__(self, region: str, domain: str, alternative_names: list[str]):
        super().__init__(region, domain)
        self.names = sorted({domain, *alternative_names})

    def find(self, ctx: Context) -> dict[str, Any] | None:
        acm = ctx.aws.client("acm", self.region)
        candidates = []
        for page in acm.get_paginator("list_certificates").paginate(CertificateStatuses=list(REUSABLE)):
            for summary in page["CertificateSummaryList"]:
                if summary["DomainName"] != self.name:
                    continue
                certificate = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
                tags = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(
                    CertificateArn=summary["CertificateArn"]).get("Tags", [])}
                if sorted(certificate.get("SubjectAlternativeNames", [])) == self.names and \
                        tags.get("wildrydes:deployment") == ctx.config.deployment:
                    candidates.append(certificate)
        # Prefer an ISSUED certificate over one still pending validation.
        candidates.sort(key=lambda c: REUSABLE.index(c["Status"]))
        return candidates[0] if candidates else None

    def create(self, ctx: Context) -> dict[str, Any]:
        acm = ctx.aws.client("acm", self.region)
        token = hashlib.sha256(f"{ctx.config.deployment}:{self.region}:{self.names}".encode()).hexdigest()[:32]
        arn = acm.request_certificate(
            DomainName=self.name, SubjectAlternativeNames=[n for n in self.names if n != self.name],
            ValidationMethod="DNS", IdempotencyToken=token,
            Tags=[{"Key": k, "Value": v} for k, v in ctx.config.tag.items()])["CertificateArn"]
        ctx.record(self, arn=arn)
        return self._with_validation(ctx, arn)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return self._with_validation(ctx, live["CertificateArn"], live)

    def _with_validation(self, ctx: Context, arn: str, live: dict[str, Any] | None = None) -> dict[str, Any]:
        """ACM adds the DNS validation records to the description a few seconds after the request."""
        acm = ctx.aws.client("acm", self.region)
        described: dict[str, Any] = live or {}

        def records_known() -> bool:
            nonlocal described
            if not described:
                described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            options = described.get("DomainValidationOptions", [])
            if len(options) == len(self.names) and all("ResourceRecord" in o for o in options):
                return True
            described = {}
            return False
        ctx.aws.wait_until(records_known, what=f"validation records of the certificate for {self.name}",
                           timeout=300, interval=2, progress=ctx.progress)
        records = sorted({(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
                          for o in described["DomainValidationOptions"]})
        return {"arn": arn, "status": described.get("Status"),
                "validation_records": [{"name": n, "value": v} for n, v in records]}


def wait_issued(ctx: Context, region: str, arn: str) -> None:
    acm = ctx.aws.client("acm", region)

    def issued() -> bool:
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
        if status not in REUSABLE:
            raise RuntimeError(f"certificate {arn} is {status}; check the validation records in the hosted zone")
        return status == "ISSUED"
    ctx.aws.wait_until(issued, what=f"certificate in {region} to be issued (DNS validation)",
                       timeout=ISSUE_WAIT_SECONDS, interval=15, progress=ctx.progress)


def delete_certificate(ctx: Context, record: dict[str, Any]) -> None:
    try:
        ctx.aws.client("acm", record["region"]).delete_certificate(CertificateArn=record["arn"])
    except ClientError as exc:
        if not is_not_found(exc):
            raise
