"""The REST API (REGIONAL): its resources and methods, Lambda proxy integrations, CORS, and its stage.

The desired API is small data (`Route`s); the live API is read into the same shape and compared, so a re-run
with nothing changed makes no call, and a deployment happens only when the definition changed (the stage's
deployment carries a hash of the definition it serves).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context, Resource

T = TypeVar("T")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256",
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
}
DEPLOYMENT_PREFIX = "wildrydes definition "

# API Gateway's fixed control-plane quotas, per account, which cannot be raised ("Amazon API Gateway quotas"):
# seconds between two requests of the operation. A request inside the window is a 429 TooManyRequests.
RATE_WINDOWS = {"CreateDomainName": 30.0, "UpdateDomainName": 30.0, "DeleteDomainName": 30.0,
                "DeleteRestApi": 30.0, "CreateDeployment": 5.0, "CreateRestApi": 3.0}
# Long enough for four custom domains (two per region) with other commands' calls in between.
PACED_TIMEOUT_SECONDS = 600.0


def paced(ctx: Context, region: str, operation: str, action: Callable[[], T]) -> T:
    """Calls a rate-limited API Gateway operation: spaced by its quota window (on AWS; an emulator has no
    quota and the local demo should not wait for one), and retried on TooManyRequests wherever it runs."""
    window = 0.0 if ctx.aws.is_emulated("apigateway", region) else RATE_WINDOWS[operation]
    return ctx.aws.paced(f"apigateway:{operation}", window, action, timeout=PACED_TIMEOUT_SECONDS,
                         progress=ctx.progress)


@dataclass(frozen=True)
class Route:
    """One method on one path, served by a Lambda proxy integration."""

    path: str
    method: str
    authorization: str
    function_arn: str


def lambda_integration_uri(region: str, function_arn: str, partition: str = "aws") -> str:
    return f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def execute_api_arn(ctx: Context, region: str, api_id: str, stage: str, method: str, path: str) -> str:
    account = ctx.aws.account_id(region)
    return f"arn:{ctx.aws.partition(region)}:execute-api:{region}:{account}:{api_id}/{stage}/{method}{path}"


def _cors_parameters(allowed_origin: str, prefix: str = "method.response.header.") -> dict[str, str]:
    headers = dict(CORS_HEADERS, **{"Access-Control-Allow-Origin": allowed_origin})
    return {f"{prefix}{name}": f"'{value}'" for name, value in headers.items()}


# API Gateway's own errors (403 Missing Authentication Token, a bad signature, throttling) carry no CORS headers
# unless its gateway responses add them; without them a browser sees only "network error".
GATEWAY_RESPONSE_TYPES = ("DEFAULT_4XX", "DEFAULT_5XX")


class RestApi(Resource):
    kind = "rest-api"

    def __init__(self, region: str, name: str, stage: str, routes: list[Route], allowed_origin: str = "*"):
        super().__init__(region, name)
        self.stage = stage
        self.routes = routes
        self.allowed_origin = allowed_origin

    # --- the desired definition, in the shape live APIs are read into --------------------------------
    def desired_methods(self, partition: str = "aws") -> dict[str, dict[str, Any]]:
        methods: dict[str, dict[str, Any]] = {}
        for route in self.routes:
            methods[f"{route.method} {route.path}"] = {
                "authorization": route.authorization, "type": "AWS_PROXY",
                "uri": lambda_integration_uri(self.region, route.function_arn, partition)}
        for path in sorted({route.path for route in self.routes}):
            methods[f"OPTIONS {path}"] = {"authorization": "NONE", "type": "MOCK",
                                          "cors": _cors_parameters(self.allowed_origin)}
        return methods

    def desired_gateway_responses(self) -> dict[str, dict[str, str]]:
        cors = _cors_parameters(self.allowed_origin, "gatewayresponse.header.")
        return {response_type: cors for response_type in GATEWAY_RESPONSE_TYPES}

    def needed_paths(self) -> set[str]:
        """Every resource path the routes need: theirs and their ancestors'."""
        needed = {"/"}
        for route in self.routes:
            parts = route.path.strip("/").split("/")
            needed |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)}
        return needed

    def unneeded_paths(self, live: dict[str, Any]) -> list[str]:
        """Live resources no route needs (a route that was removed, e.g. /ticket before owners), outermost
        only: deleting a resource deletes the resources under it."""
        needed = self.needed_paths()
        extra = sorted(path for path in live["resources"] if path not in needed)
        return [path for path in extra if not any(path.startswith(other + "/") for other in extra)]

    def definition_hash(self, partition: str = "aws") -> str:
        text = json.dumps([self.desired_methods(partition), self.desired_gateway_responses()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # --- find -------------------------------------------------------------------------------------------
    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("apigateway", self.region)
        recorded = (ctx.state.get(self.kind, self.region, self.name) or {}).get("id")
        candidates = []
        for page in client.get_paginator("get_rest_apis").paginate():
            for api in page["items"]:
                if api["name"] == self.name and api.get("tags", {}).get("wildrydes:deployment") \
                        == ctx.config.deployment:
                    candidates.append(api)
        if not candidates:
            return None
        # After a crash there may be two; prefer the one the state file knows.
        api = next((a for a in candidates if a["id"] == recorded), candidates[0])
        return self._read(client, api)

    def _read(self, client: Any, api: dict[str, Any]) -> dict[str, Any]:
        resources = []
        for page in client.get_paginator("get_resources").paginate(restApiId=api["id"], embed=["methods"]):
            resources.extend(page["items"])
        methods: dict[str, dict[str, Any]] = {}
        for resource in resources:
            for verb, method in resource.get("resourceMethods", {}).items():
                integration = method.get("methodIntegration", {})
                entry: dict[str, Any] = {"authorization": method.get("authorizationType"),
                                         "type": integration.get("type")}
                if integration.get("type") == "MOCK":
                    entry["cors"] = integration.get("integrationResponses", {}).get("200", {}).get(
                        "responseParameters", {})
                else:
                    entry["uri"] = integration.get("uri")
                methods[f"{verb} {resource['path']}"] = entry
        deployed = None
        try:
            stage = client.get_stage(restApiId=api["id"], stageName=self.stage)
            deployment = client.get_deployment(restApiId=api["id"], deploymentId=stage["deploymentId"])
            deployed = deployment.get("description", "")
        except ClientError as exc:
            if not is_not_found(exc):
                raise
        gateway_responses = {}
        for response_type in GATEWAY_RESPONSE_TYPES:
            try:
                gateway_responses[response_type] = client.get_gateway_response(
                    restApiId=api["id"], responseType=response_type).get("responseParameters", {})
            except ClientError as exc:
                if not is_not_found(exc):
                    raise
        return {"id": api["id"], "endpoint": api.get("endpointConfiguration", {}).get("types", []),
                "gateway_responses": gateway_responses,
                "resources": {r["path"]: r["id"] for r in resources}, "methods": methods,
                "deployed": deployed}

    # --- compare and act --------------------------------------------------------------------------------
    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        desired = self.desired_methods(ctx.aws.partition(self.region))
        changes = [f"method {key}" for key, spec in sorted(desired.items()) if live["methods"].get(key) != spec]
        changes += [f"remove {key}" for key in sorted(live["methods"]) if key not in desired]
        changes += [f"remove resource {path}" for path in self.unneeded_paths(live)]
        changes += [f"gateway response {kind}" for kind, parameters in self.desired_gateway_responses().items()
                    if live["gateway_responses"].get(kind) != parameters]
        if changes or live["deployed"] != DEPLOYMENT_PREFIX + self.definition_hash(ctx.aws.partition(self.region)):
            changes.append(f"deploy stage {self.stage}")
        return changes

    def create(self, ctx: Context) -> dict[str, Any]:
        client = ctx.aws.client("apigateway", self.region)
        api = paced(ctx, self.region, "CreateRestApi", lambda: client.create_rest_api(
            name=self.name, description=f"Wild Rydes tickets ({ctx.config.deployment})",
            endpointConfiguration={"types": ["REGIONAL"]}, tags=ctx.config.tag))
        ctx.record(self, id=api["id"])
        live = self._read(client, api)
        self.update(ctx, live, self.changes(ctx, live))
        return self.attributes(ctx, live)

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("apigateway", self.region)
        api_id = live["id"]
        partition = ctx.aws.partition(self.region)
        desired = self.desired_methods(partition)
        resource_ids = dict(live["resources"])
        unneeded = self.unneeded_paths(live)
        for path in unneeded:
            client.delete_resource(restApiId=api_id, resourceId=resource_ids[path])  # with its methods
        for key in sorted(live["methods"]):
            verb, path = key.split(" ", 1)
            if key not in desired and not any(path == gone or path.startswith(gone + "/") for gone in unneeded):
                client.delete_method(restApiId=api_id, resourceId=resource_ids[path], httpMethod=verb)
        for key, spec in sorted(desired.items()):
            if live["methods"].get(key) == spec:
                continue
            verb, path = key.split(" ", 1)
            resource_id = self._ensure_path(client, api_id, resource_ids, path)
            if key in live["methods"]:
                client.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb)
            self._put_method(client, api_id, resource_id, verb, spec)
        for kind, parameters in self.desired_gateway_responses().items():
            if live["gateway_responses"].get(kind) != parameters:
                client.put_gateway_response(restApiId=api_id, responseType=kind, responseParameters=parameters)
        if any(change.startswith("deploy") for change in changes):
            description = DEPLOYMENT_PREFIX + self.definition_hash(partition)
            paced(ctx, self.region, "CreateDeployment", lambda: client.create_deployment(
                restApiId=api_id, stageName=self.stage, description=description))
        return self.attributes(ctx, live)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": live["id"], "stage": self.stage,
                "url": ctx.target.api_url(self.region, live["id"], self.stage)}

    @staticmethod
    def _ensure_path(client: Any, api_id: str, resource_ids: dict[str, str], path: str) -> str:
        """Creates the resources along `path` that do not exist yet; returns the id of the last one."""
        current = ""
        for part in path.strip("/").split("/"):
            parent = resource_ids[current or "/"]
            current = f"{current}/{part}"
            if current not in resource_ids:
                resource_ids[current] = client.create_resource(restApiId=api_id, parentId=parent,
                                                               pathPart=part)["id"]
        return resource_ids[current]

    @staticmethod
    def _put_method(client: Any, api_id: str, resource_id: str, verb: str, spec: dict[str, Any]) -> None:
        client.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb,
                          authorizationType=spec["authorization"])
        if spec["type"] == "AWS_PROXY":
            # Lambda proxy integrations always call Lambda with POST, whatever the client's method.
            client.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=verb, type="AWS_PROXY",
                                   integrationHttpMethod="POST", uri=spec["uri"])
            return
        client.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=verb, type="MOCK",
                               requestTemplates={"application/json": '{"statusCode": 200}'})
        client.put_method_response(restApiId=api_id, resourceId=resource_id, httpMethod=verb, statusCode="200",
                                   responseParameters={name: False for name in spec["cors"]})
        client.put_integration_response(restApiId=api_id, resourceId=resource_id, httpMethod=verb,
                                        statusCode="200", responseParameters=spec["cors"],
                                        responseTemplates={"application/json": ""})


def delete_rest_api(ctx: Context, record: dict[str, Any]) -> None:
    client = ctx.aws.client("apigateway", record["region"])
    paced(ctx, record["region"], "DeleteRestApi", lambda: client.delete_rest_api(restApiId=record["id"]))
