"""Quotas moto does not hold, answered with AWS's documented default values: Service Quotas GetServiceQuota and
GetAWSDefaultServiceQuota for the quotas the tool checks (moto knows only vpc's), and Lambda GetAccountSettings
(moto lacks it): the concurrency limit is the applied "Concurrent executions" quota, the unreserved pool that
limit less the functions' reserved concurrency (read from moto). A test may apply another value to a quota
(`apply`), as an account with a raised or a new account's lower quota has."""

from __future__ import annotations

from typing import Any

from fidelity.layer import BehaviourLayer, Call, Response, Rule

ACCOUNT = "123456789012"  # moto's default account
# (ServiceCode, QuotaCode) -> (ServiceName, QuotaName, default Value, Adjustable), from each service's quota page.
DEFAULTS: dict[tuple[str, str], tuple[str, str, float, bool]] = {
    ("lambda", "L-B99A9384"): ("AWS Lambda", "Concurrent executions", 1000.0, True),
    ("apigateway", "L-A93447B8"): ("Amazon API Gateway", "Public custom domain names per account per Region",
                                   120.0, True),
    ("acm", "L-F141DD1D"): ("AWS Certificate Manager (ACM)", "ACM certificates", 2500.0, True),
}
# Lambda quotas page: 75 GB of code storage per Region, 50 MB zipped and 250 MB unzipped deployment packages.
LAMBDA_CODE_STORAGE, LAMBDA_ZIPPED, LAMBDA_UNZIPPED = 80530636800, 52428800, 262144000


class ServiceQuotaDefaults(Rule):
    name = "service-quotas-defaults"
    summary = "GetServiceQuota / GetAWSDefaultServiceQuota for Lambda concurrent executions (L-B99A9384, 1,000), " \
              "API Gateway public custom domain names (L-A93447B8, 120) and ACM certificates (L-F141DD1D, 2,500), " \
              "which moto does not hold; the applied value is the default unless a test applies another"
    source = "Service Quotas API reference: GetServiceQuota, GetAWSDefaultServiceQuota; Lambda developer guide " \
             "'Lambda quotas'; API Gateway developer guide 'Quotas for configuring and running a REST API'; ACM " \
             "user guide 'Quotas'"
    operations = frozenset({"service-quotas:GetServiceQuota", "service-quotas:GetAWSDefaultServiceQuota"})

    def before(self, call: Call) -> Response | None:
        key = (call.params.get("ServiceCode", ""), call.params.get("QuotaCode", ""))
        if key not in DEFAULTS:
            return None  # moto's own (vpc), or its NoSuchResourceException
        call.layer.fired(self)
        value = self.value(call.layer, call.region, *key) if call.operation == "GetServiceQuota" \
            else DEFAULTS[key][2]
        service_name, quota_name, _, adjustable = DEFAULTS[key]
        account = ACCOUNT if call.operation == "GetServiceQuota" else ""
        return call.answer({"Quota": {
            "ServiceCode": key[0], "ServiceName": service_name, "QuotaCode": key[1], "QuotaName": quota_name,
            "QuotaArn": f"arn:aws:servicequotas:{call.region}:{account}:{key[0]}/{key[1]}", "Value": value,
            "Unit": "None", "Adjustable": adjustable, "GlobalQuota": False}})

    def value(self, layer: BehaviourLayer, region: str, service: str, code: str) -> float:
        """The applied value of a quota in a region."""
        applied = layer.recall(self).get(f"{region}/{service}/{code}")
        return float(applied) if applied is not None else DEFAULTS[(service, code)][2]

    def apply(self, layer: BehaviourLayer, region: str, service: str, code: str, value: float) -> None:
        """What a granted increase (or a new account's lower quota) looks like to the API."""
        layer.memory(self, lambda memory: memory.__setitem__(f"{region}/{service}/{code}", value))


class LambdaAccountSettings(Rule):
    name = "lambda-account-settings"
    summary = "GetAccountSettings (moto lacks it): ConcurrentExecutions is the applied L-B99A9384 quota, " \
              "UnreservedConcurrentExecutions that less every function's reserved concurrency, code-size limits " \
              "as documented, usage from the functions moto holds"
    source = "Lambda API reference: GetAccountSettings, AccountLimit, AccountUsage; Lambda developer guide " \
             "'Lambda quotas' and 'Configuring reserved concurrency'"
    operations = frozenset({"lambda:GetAccountSettings"})

    def __init__(self, quotas: ServiceQuotaDefaults):
        self.quotas = quotas

    def before(self, call: Call) -> Response | None:
        call.layer.fired(self)
        functions, params = [], {}
        while True:
            page = call.layer.raw_call(call, "lambda", "ListFunctions", **params)
            functions += page.get("Functions", [])
            if not page.get("NextMarker"):
                break
            params = {"Marker": page["NextMarker"]}
        reserved = sum(call.layer.raw_call(call, "lambda", "GetFunctionConcurrency", FunctionName=f["FunctionName"])
                       .get("ReservedConcurrentExecutions", 0) for f in functions)
        limit = int(self.quotas.value(call.layer, call.region, "lambda", "L-B99A9384"))
        return call.answer(self._settings(limit, reserved, functions))

    @staticmethod
    def _settings(limit: int, reserved: int, functions: list[dict[str, Any]]) -> dict[str, Any]:
        return {"AccountLimit": {"TotalCodeSize": LAMBDA_CODE_STORAGE, "CodeSizeUnzipped": LAMBDA_UNZIPPED,
                                 "CodeSizeZipped": LAMBDA_ZIPPED, "ConcurrentExecutions": limit,
                                 "UnreservedConcurrentExecutions": limit - reserved},
                "AccountUsage": {"TotalCodeSize": sum(f.get("CodeSize", 0) for f in functions),
                                 "FunctionCount": len(functions)}}
