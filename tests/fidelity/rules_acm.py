"""ACM behaviours moto does not have: the Common Name limit, a new certificate not describable at once, its
validation records appearing later still, validation only once the records exist in DNS, idempotency tokens
that return a certificate already deleted, and a certificate held "in use" after its custom domain is deleted.
"""

from __future__ import annotations

from typing import Any

from fidelity.layer import Call, Response, Rule

ONE_HOUR = 3600.0


def _domain_arn(region: str, name: str) -> str:
    return f"arn:aws:apigateway:{region}::/domainnames/{name}"


class CommonNameLimit(Rule):
    name = "acm-common-name-64"
    summary = "RequestCertificate refuses a DomainName (the Common Name) longer than 64 octets"
    source = "ACM RequestCertificate API reference (DomainName: 'must be 64 octets or fewer'); ACM quotas"
    operations = frozenset({"acm:RequestCertificate"})

    def before(self, call: Call) -> Response | None:
        if len(str(call.params.get("DomainName", "")).encode()) <= 64:
            return None
        call.layer.fired(self)
        return call.error("ValidationException", "The first domain name can be no longer than 64 characters.")


class IdempotencyTokenReuse(Rule):
    name = "acm-idempotency-token-reuse"
    summary = "RequestCertificate with a token used in the last hour returns that request's certificate, even one " \
              "deleted since"
    source = "ACM RequestCertificate API reference (IdempotencyToken: one hour); terraform-provider-aws#6666"
    operations = frozenset({"acm:RequestCertificate"})
    duration = ONE_HOUR

    def _key(self, call: Call) -> str | None:
        token = call.params.get("IdempotencyToken")
        return f"{call.region}/{token}" if token else None

    def before(self, call: Call) -> Response | None:
        key = self._key(call)
        earlier = call.layer.recall(self).get(key) if key else None
        if earlier is None or call.now - earlier["at"] >= self.duration:
            return None
        call.layer.fired(self)
        return call.answer({"CertificateArn": earlier["arn"]})

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        key = self._key(call)
        if key:
            arn, at = parsed["CertificateArn"], call.now
            call.layer.memory(self, lambda memory: memory.__setitem__(key, {"arn": arn, "at": at}))


class _Requested(Rule):
    """Remembers when each certificate was requested (RequestCertificate's answer)."""

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation == "RequestCertificate":
            arn, at = parsed["CertificateArn"], call.now
            call.layer.memory(self, lambda memory: memory.setdefault(arn, at))

    def age(self, call: Call, arn: str) -> float | None:
        requested = call.layer.recall(self).get(arn)
        return None if requested is None else call.now - requested


class NotYetDescribable(_Requested):
    name = "acm-describe-after-request"
    summary = "DescribeCertificate answers ResourceNotFoundException for a few seconds after RequestCertificate"
    source = "ACM RequestCertificate API reference ('a delay of several seconds' before it can be described)"
    operations = frozenset({"acm:RequestCertificate", "acm:DescribeCertificate"})
    duration = 5.0

    def before(self, call: Call) -> Response | None:
        if call.operation != "DescribeCertificate":
            return None
        arn = call.params.get("CertificateArn", "")
        age = self.age(call, arn)
        if age is None or age >= self.duration:
            return None
        call.layer.fired(self)
        return call.error("ResourceNotFoundException", f"Could not find certificate {arn}.")


class ValidationRecordsLater(_Requested):
    name = "acm-validation-records-later"
    summary = "the DNS validation ResourceRecord is missing from DescribeCertificate for a while after the request"
    source = "ACM DescribeCertificate / DomainValidation docs (ResourceRecord appears once ACM has generated it)"
    operations = frozenset({"acm:RequestCertificate", "acm:DescribeCertificate"})
    duration = 15.0

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        super().after(call, parsed)
        if call.operation != "DescribeCertificate":
            return
        certificate = parsed.get("Certificate", {})
        age = self.age(call, certificate.get("CertificateArn", ""))
        if age is None or age >= self.duration:
            return
        options = certificate.get("DomainValidationOptions", [])
        if any("ResourceRecord" in o for o in options):
            call.layer.fired(self)
        for option in options:
            option.pop("ResourceRecord", None)
            option["ValidationStatus"] = "PENDING_VALIDATION"


class ValidationNeedsRecords(_Requested):
    name = "acm-validation-needs-dns"
    summary = "a DNS-validated certificate stays PENDING_VALIDATION until its validation CNAMEs exist in the " \
              "domain's hosted zone, and then takes minutes more"
    source = "ACM user guide, 'DNS validation' (ACM checks the CNAME; validation takes minutes or longer)"
    operations = frozenset({"acm:RequestCertificate", "acm:DescribeCertificate"})
    duration = 300.0

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        super().after(call, parsed)
        if call.operation == "DescribeCertificate":
            certificate = parsed.get("Certificate", {})
            if certificate.get("Status") == "ISSUED" and not self._validated(call, certificate):
                call.layer.fired(self)
                certificate["Status"] = "PENDING_VALIDATION"
                for option in certificate.get("DomainValidationOptions", []):
                    option["ValidationStatus"] = "PENDING_VALIDATION"

    def _validated(self, call: Call, certificate: dict[str, Any]) -> bool:
        arn = certificate.get("CertificateArn", "")
        age = self.age(call, arn)
        if age is None or call.layer.recall(self).get("validated", {}).get(arn):
            return True  # not requested through this layer, or seen validated before
        if age < self.duration:
            return False
        names = {o["ResourceRecord"]["Name"].rstrip(".").lower() for o in certificate.get(
            "DomainValidationOptions", []) if "ResourceRecord" in o}
        if not names or not names <= _cname_names(call):
            return False
        call.layer.memory(self, lambda memory: memory.setdefault("validated", {}).__setitem__(arn, True))
        return True


def _cname_names(call: Call) -> set[str]:
    """Every CNAME name in the account's public hosted zones (read from moto directly)."""
    names: set[str] = set()
    zones = call.layer.raw_call(call, "route53", "ListHostedZones", "us-east-1")["HostedZones"]
    for zone in zones:
        if zone.get("Config", {}).get("PrivateZone"):
            continue
        records = call.layer.raw_call(call, "route53", "ListResourceRecordSets", "us-east-1",
                                      HostedZoneId=zone["Id"])["ResourceRecordSets"]
        names |= {r["Name"].rstrip(".").lower() for r in records if r["Type"] == "CNAME"}
    return names


class HeldByDeletedDomain(Rule):
    name = "acm-certificate-in-use"
    summary = "a certificate stays InUseBy an API Gateway custom domain, and DeleteCertificate answers " \
              "ResourceInUseException, for minutes after the domain was deleted (or moved to another certificate)"
    source = "ACM DeleteCertificate API reference (ResourceInUseException); aws-cdk#36265, " \
             "terraform-provider-aws#3866 (up to ~20 minutes reported)"
    operations = frozenset({"apigateway:CreateDomainName", "apigateway:UpdateDomainName",
                            "apigateway:DeleteDomainName", "acm:DescribeCertificate", "acm:DeleteCertificate"})
    duration = 600.0

    def _holders(self, call: Call, arn: str) -> list[str]:
        now = call.now
        return [domain for domain, hold in call.layer.recall(self).get(arn, {}).items()
                if hold is None or now < hold]

    def before(self, call: Call) -> Response | None:
        if call.operation != "DeleteCertificate":
            return None
        arn = call.params.get("CertificateArn", "")
        if not self._holders(call, arn):
            return None
        call.layer.fired(self)
        return call.error("ResourceInUseException", f"Certificate {arn} in use.")

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation == "DescribeCertificate":
            certificate = parsed.get("Certificate", {})
            holders = self._holders(call, certificate.get("CertificateArn", ""))
            if holders:
                call.layer.fired(self)
                certificate["InUseBy"] = sorted(set(certificate.get("InUseBy", [])) | set(holders))
            return
        domain = _domain_arn(call.region, call.params.get("domainName", ""))
        release_at = call.now + self.duration
        if call.operation == "CreateDomainName":
            arn = parsed.get("regionalCertificateArn") or call.params.get("regionalCertificateArn")
            if arn:
                call.layer.memory(self, lambda memory: memory.setdefault(arn, {}).__setitem__(domain, None))
        elif call.operation == "UpdateDomainName":
            new = parsed.get("regionalCertificateArn")

            def move(memory: dict[str, Any]) -> None:
                for arn, holders in memory.items():
                    if arn != new and holders.get(domain, 0) is None:
                        holders[domain] = release_at  # the old certificate is released only after a while
                if new:
                    memory.setdefault(new, {})[domain] = None
            call.layer.memory(self, move)
        else:  # DeleteDomainName
            def release(memory: dict[str, Any]) -> None:
                for holders in memory.values():
                    if domain in holders and holders[domain] is None:
                        holders[domain] = release_at
            call.layer.memory(self, release)
