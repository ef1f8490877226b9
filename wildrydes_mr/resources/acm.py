"""ACM certificates for the regional custom domains (`api.<domain>` + `<label>.<domain>`), DNS-validated.

A regional API Gateway custom domain needs a certificate in its own region, so there is one per region. An
ISSUED (or pending) certificate of this deployment with exactly these names is reused; issuing is a separate,
bounded wait so that it can overlap with other work.
"""

from __future__ import annotations

import uuid
from typing import Any

from wildrydes_mr.aws import error_code, none_if_missing
from wildrydes_mr.engine import Context, Resource

ISSUE_WAIT_SECONDS = 3 * 3600  # ACM DNS validation takes minutes to over an hour
IN_USE_WAIT_SECONDS = 30 * 60  # a deleted custom domain releases its certificate within minutes (~20 reported)
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
                certificate = _ours(ctx, acm, summary, self.name)
                if certificate and sorted(certificate.get("SubjectAlternativeNames", [])) == self.names:
                    candidates.append(certificate)
        # Prefer an ISSUED certificate over one still pending validation.
        candidates.sort(key=lambda c: REUSABLE.index(c["Status"]))
        return candidates[0] if candidates else None

    def create(self, ctx: Context) -> dict[str, Any]:
        acm = ctx.aws.client("acm", self.region)
        # ACM returns the certificate of an earlier request with the same token for an hour, even one deleted
        # since: so each new request gets a token of its own (IdempotencyToken must match \w+, at most 32
        # characters). It is recorded before the request, so that a run killed before the answer repeats the
        # same request (and gets the same certificate) instead of making a second one.
        pending = ctx.state.get(self.kind, self.region, self.name) or {}
        token = pending.get("token") if not pending.get("arn") else None
        if token is None:
            token = uuid.uuid4().hex
            ctx.record(self, token=token)
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
                described = _describe(acm, arn) or {}
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


def _describe(acm: Any, arn: str) -> dict[str, Any] | None:
    """The certificate's description, or None while ACM cannot describe it yet: right after RequestCertificate
    DescribeCertificate answers ResourceNotFoundException for several seconds (ACM API reference)."""
    return none_if_missing(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"])


def wait_issued(ctx: Context, region: str, arn: str) -> None:
    acm = ctx.aws.client("acm", region)

    def issued() -> bool:
        described = _describe(acm, arn)
        if described is None:
            return False
        status = described["Status"]
        if status not in REUSABLE:
            raise RuntimeError(f"certificate {arn} is {status}; check the validation records in the hosted zone")
        return status == "ISSUED"
    ctx.aws.wait_until(issued, what=f"certificate in {region} to be issued (DNS validation)",
                       timeout=ISSUE_WAIT_SECONDS, interval=15, progress=ctx.progress)


def delete_certificate(ctx: Context, record: dict[str, Any]) -> None:
    """Deletes the certificate once nothing uses it. An API Gateway custom domain keeps its certificate "in use"
    for minutes after the domain is deleted (ResourceInUseException; up to ~20 minutes reported), so the wait is
    on `InUseBy` becoming empty, bounded, with progress."""
    acm = ctx.aws.client("acm", record["region"])
    arns = [record["arn"]] if record.get("arn") else _requested_by_token(ctx, record)
    for arn in arns:
        def released(arn: str = arn) -> bool:
            described = _describe(acm, arn)
            return described is None or not described.get("InUseBy")
        ctx.aws.wait_until(released, what=f"certificate for {record['name']} in {record['region']} to be "
                           "released by the deleted custom domains", timeout=IN_USE_WAIT_SECONDS, interval=15,
                           progress=ctx.progress)
        ctx.aws.retry(lambda arn=arn: none_if_missing(lambda: acm.delete_certificate(CertificateArn=arn)),
                      lambda exc: error_code(exc) == "ResourceInUseException", timeout=IN_USE_WAIT_SECONDS,
                      first_delay=15, max_delay=60)


def _requested_by_token(ctx: Context, record: dict[str, Any]) -> list[str]:
    """A record without an ARN is a request whose answer never arrived (the run was killed): the certificate it
    may have made is the one for this domain name that carries this deployment's tag."""
    acm = ctx.aws.client("acm", record["region"])
    return [summary["CertificateArn"] for page in acm.get_paginator("list_certificates").paginate()
            for summary in page["CertificateSummaryList"] if _ours(ctx, acm, summary, record["name"])]


def _ours(ctx: Context, acm: Any, summary: dict[str, Any], domain: str) -> dict[str, Any] | None:
    """The listed certificate's description when it is for `domain` and carries this deployment's tag."""
    if summary["DomainName"] != domain:
        return None
    certificate = _describe(acm, summary["CertificateArn"])
    if certificate is None:
        return None
    tags = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(
        CertificateArn=summary["CertificateArn"]).get("Tags", [])}
    return certificate if tags.get("wildrydes:deployment") == ctx.config.deployment else None
