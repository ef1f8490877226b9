"""The quotas a first deploy can run into, per region: each quota's value from Service Quotas, what the account
already uses, and what this deployment adds (only what does not exist yet, so a re-run is not counted twice).

Quota codes, as AWS documents them (the Service Quotas console links of each service's quota page):
- Lambda "Concurrent executions", L-B99A9384, default 1,000 (Lambda developer guide, "Lambda quotas"). The
  functions run on the account's unreserved pool (GetAccountSettings: AccountLimit.UnreservedConcurrentExecutions),
  which Lambda keeps at or above a minimum ("Specified ReservedConcurrentExecutions for function decreases
  account's UnreservedConcurrentExecution below its minimum value of [10]" on accounts with the smallest quota;
  PutFunctionConcurrency: "leave at least 100 simultaneous executions unreserved" on the default one). The tool
  reserves no concurrency (a game day's outage sets reserved concurrency 0, which takes nothing from the pool),
  so the check is that the pool has at least the minimum of 10 left for this app.
- API Gateway "Public custom domain names per account per Region", L-A93447B8, default 120 (API Gateway
  developer guide, "Quotas for configuring and running a REST API"); the tool makes api.<domain> and
  <label>.<domain> in each region.
- API Gateway "Regional APIs per Region": 600, "Can be increased: No" (same page) — a fixed quota with no
  Service Quotas code, so its documented value is used; the tool makes one REST API per region.
- ACM "ACM certificates", L-F141DD1D, default 2,500 per region, expired and revoked ones counted (ACM user
  guide, "Quotas"); the tool requests one per region.

GetServiceQuota gives the applied value; "If the applied quota value is not available for a quota, the quota
is not retrieved" (NoSuchResourceException), and then the default (GetAWSDefaultServiceQuota) applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wildrydes_mr.aws import Aws, ClientError, error_code
from wildrydes_mr.engine import Context
from wildrydes_mr.preflight.checklist import READ_ERRORS, Item, failed, from_error, passed
from wildrydes_mr.workflows import build_api

GROUP = "quotas"
MIN_UNRESERVED_CONCURRENCY = 10
REGIONAL_REST_APIS_PER_REGION = 600
ACM_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


@dataclass(frozen=True)
class Quota:
    service: str  # Service Quotas' ServiceCode
    code: str
    name: str
    default: float


LAMBDA_CONCURRENCY = Quota("lambda", "L-B99A9384", "Concurrent executions", 1000)
CUSTOM_DOMAINS = Quota("apigateway", "L-A93447B8", "Public custom domain names per account per Region", 120)
CERTIFICATES = Quota("acm", "L-F141DD1D", "ACM certificates", 2500)


def quota_value(aws: Aws, region: str, quota: Quota) -> float:
    client = aws.client("service-quotas", region)
    try:
        return float(client.get_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
    return float(client.get_aws_default_service_quota(ServiceCode=quota.service,
                                                      QuotaCode=quota.code)["Quota"]["Value"])


def _guarded(ctx: Context, region: str, name: str, call: str, action: str, service: str,
             check: Callable[[], Item]) -> Item:
    try:
        return check()
    except READ_ERRORS as exc:
        return from_error(GROUP, name, exc, call, action, ctx.aws.is_emulated(service, region))


def _headroom(name: str, quota_text: str, limit: float, used: int, adds: int, fix: str) -> Item:
    detail = f"{used} of {limit:g} used ({quota_text}); this deployment adds {adds}"
    if used + adds > limit:
        return failed(GROUP, name, detail, fix, limit=limit, used=used, adds=adds)
    return passed(GROUP, name, detail, limit=limit, used=used, adds=adds)


def _increase(quota: Quota, region: str) -> str:
    return f"request an increase of '{quota.name}' ({quota.service} {quota.code}) in Service Quotas in {region}, " \
           "or delete unused ones"


def check_lambda_concurrency(ctx: Context, region: str) -> Item:
    name = f"Lambda concurrency ({region})"

    def check() -> Item:
        limit = quota_value(ctx.aws, region, LAMBDA_CONCURRENCY)
        unreserved = ctx.aws.client("lambda", region).get_account_settings()["AccountLimit"][
            "UnreservedConcurrentExecutions"]
        detail = f"unreserved {unreserved} of {limit:g} concurrent executions ({LAMBDA_CONCURRENCY.code}); " \
                 f"at least {MIN_UNRESERVED_CONCURRENCY} must remain for this app's functions"
        if unreserved < MIN_UNRESERVED_CONCURRENCY:
            return failed(GROUP, name, detail, f"remove reserved concurrency from other functions in {region}, or "
                          + _increase(LAMBDA_CONCURRENCY, region), limit=limit, unreserved=unreserved)
        return passed(GROUP, name, detail, limit=limit, unreserved=unreserved)
    return _guarded(ctx, region, name, "service-quotas GetServiceQuota / lambda GetAccountSettings",
                    "servicequotas:GetServiceQuota and lambda:GetAccountSettings", "lambda", check)


def _pages(client, operation: str, key: str, **kwargs) -> list[dict]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def check_custom_domains(ctx: Context, region: str, names: list[str]) -> Item:
    name = f"API Gateway custom domains ({region})"

    def check() -> Item:
        limit = quota_value(ctx.aws, region, CUSTOM_DOMAINS)
        existing = {d["domainName"] for d in _pages(ctx.aws.client("apigateway", region), "get_domain_names",
                                                     "items")}
        return _headroom(name, CUSTOM_DOMAINS.code, limit, len(existing), len(set(names) - existing),
                         _increase(CUSTOM_DOMAINS, region))
    return _guarded(ctx, region, name, "service-quotas GetServiceQuota / apigateway GetDomainNames",
                    "servicequotas:GetServiceQuota and apigateway:GET on /domainnames", "apigateway", check)


def check_rest_apis(ctx: Context, region: str) -> Item:
    name = f"API Gateway regional REST APIs ({region})"

    def check() -> Item:
        apis = _pages(ctx.aws.client("apigateway", region), "get_rest_apis", "items")
        regional = [a for a in apis if "REGIONAL" in a.get("endpointConfiguration", {}).get("types", ["EDGE"])]
        adds = 0 if any(a["name"] == build_api.api_name(ctx) for a in regional) else 1
        return _headroom(name, "fixed, not adjustable", REGIONAL_REST_APIS_PER_REGION, len(regional), adds,
                         f"delete unused regional REST APIs in {region} (the quota cannot be raised)")
    return _guarded(ctx, region, name, "apigateway GetRestApis", "apigateway:GET on /restapis", "apigateway",
                    check)


def check_certificates(ctx: Context, region: str, domain: str) -> Item:
    name = f"ACM certificates ({region})"

    def check() -> Item:
        limit = quota_value(ctx.aws, region, CERTIFICATES)
        # Every key type: by default ListCertificates lists RSA_1024 and RSA_2048 certificates only.
        certificates = _pages(ctx.aws.client("acm", region), "list_certificates", "CertificateSummaryList",
                              Includes={"keyTypes": ACM_KEY_TYPES})
        adds = 0 if any(c.get("DomainName") == domain for c in certificates) else 1
        return _headroom(name, CERTIFICATES.code, limit, len(certificates), adds, _increase(CERTIFICATES, region))
    return _guarded(ctx, region, name, "service-quotas GetServiceQuota / acm ListCertificates",
                    "servicequotas:GetServiceQuota and acm:ListCertificates", "acm", check)


def check_region_quotas(ctx: Context, region: str) -> list[Item]:
    domain = ctx.config.dns.domain
    names = [f"api.{domain}", f"{ctx.config.dns.label(region)}.{domain}"]
    return [check_lambda_concurrency(ctx, region), check_custom_domains(ctx, region, names),
            check_rest_apis(ctx, region), check_certificates(ctx, region, names[0])]
