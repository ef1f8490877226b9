"""The local API gateway: serves the REST APIs held by moto for one region, the way API Gateway would.

moto emulates API Gateway's control plane but does not serve deployed APIs, and it runs Lambda only with
docker. This package owns that data plane for one region: an HTTP server on 127.0.0.1 that, for
`{url}/{rest_api_id}/{stage}/{resource path}`, reads the API's definition back from moto (get_rest_api,
get_stage, get_resources with methods embedded), matches the resource and method (routing), authorizes an
AWS_IAM method as API Gateway does — SigV4, then the caller's IAM policies for execute-api:Invoke
(authorization) — and runs the integration: AWS_PROXY to Lambda (invocation, proxy_event) or MOCK (mock).

Definitions are cached for `cache_ttl` seconds (1 s), so that a request on a warm route makes no moto call at
all; the control plane calls `invalidate()` after every change of a function or an API made through it, so a
throttle, an updated function or a re-pointed integration is seen by the next request. Custom domain names
are served through `handle_domain(domain, request)` (called by the DNS plane): the domain's base path mappings
pick the API and stage.

Answers mirror API Gateway's, including its quirks (commented where they occur). Known differences: moto has
no per-deployment snapshot, so the live resources are served (a method change is visible without a new
deployment); API keys, usage plans, Lambda/Cognito authorizers, VTL mapping templates and non-Lambda
integrations are not served (they answer 500/401/403, and are logged). A path that is not in its normal form
(empty, "." or ".." segments) is refused rather than routed: the signature and the route must see one path.

During a local outage of its region (`outage`, see outage.py) the gateway answers every request — custom domains
and health checks' probes too — 503 {"message": "Service Unavailable (local outage of <region>)"} with the API's
DEFAULT_5XX gateway response headers (CORS, so a page can read it), and invokes no function.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..credentials import CredentialStore, LocalCredential
from ..http_server import LocalHttpServer
from ..moto_access import TtlCache, items, moto_client
from ..outage import Outage, unavailable_message
from ..sigv4_verify import split_target
from .authorization import Authorizer, IamPrincipals, Principals, execute_api_arn
from .invocation import LAMBDA_URI, STAGE_VARIABLE, FunctionConfig, Invoker, load_function
from .messages import (
    MAX_BODY_BYTES,
    GatewayRequest,
    GatewayResponse,
    internal_error,
    json_error,
    missing_auth_token,
    not_found,
)
from .mock import mock_response
from .proxy_event import proxy_event
from .routing import ApiDefinition, is_normal_path, select_mapping

__all__ = ["MAX_BODY_BYTES", "GatewayRequest", "GatewayResponse", "LocalGateway", "moto_client"]

logger = logging.getLogger(__name__)


class LocalGateway:
    """API Gateway (REST, regional) for one region of the local cloud. See the package docstring."""

    def __init__(self, region: str, aws_endpoint: str, credentials: CredentialStore, lambda_src_dir: Path,
                 admin_credentials: LocalCredential, host: str = "127.0.0.1", port: int = 0, *,
                 cache_ttl: float = 1.0, max_workers_per_function: int = 4, check_invoke_permission: bool = True,
                 principals: Principals | None = None, outage: Outage | None = None) -> None:
        self.region = region
        self.outage = outage
        self.aws_endpoint = aws_endpoint
        self.credentials = credentials
        self.admin_credentials = admin_credentials
        self.host = host
        self._port = port
        self.check_invoke_permission = check_invoke_permission
        self._api_cache = TtlCache(cache_ttl)
        self._stage_cache = TtlCache(cache_ttl)
        self._function_cache = TtlCache(cache_ttl)
        self._domain_cache = TtlCache(cache_ttl)  # custom domain name -> its base path mappings (handle_domain)
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._account: str | None = None
        self.invoker = Invoker(region, aws_endpoint, admin_credentials, lambda_src_dir, max_workers_per_function)
        self.authorizer = Authorizer(region, credentials, principals or IamPrincipals(
            lambda: self._client("iam", "us-east-1"), pool_role=lambda pool: None, account=lambda: self.account))
        self._server: LocalHttpServer | None = None

    # ---------------------------------------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalGateway is not started")
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def account(self) -> str:
        """The account the APIs belong to (moto's): what execute-api ARNs name."""
        if self._account is None:
            self._account = self._client("sts").get_caller_identity()["Account"]
        return self._account

    def start(self) -> None:
        """Listen, and serve in a daemon thread; returns once the socket is bound."""
        if self._server is not None:
            return
        self._client("apigateway")  # fail fast on a bad endpoint/credentials setup, before binding
        self._server = LocalHttpServer(f"apigw-{self.region}", self.handle, max_body_bytes=MAX_BODY_BYTES,
                                       too_large=lambda: json_error(413, "Request Too Long", note="body too large"),
                                       log_served=self._log_served, host=self.host, port=self._port)
        self._server.start()
        logger.info("local API gateway for %s listening on %s", self.region, self.url)

    def stop(self) -> None:
        """Stop serving and stop every worker process."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.invoker.close()

    def __enter__(self) -> LocalGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invalidate(self) -> None:
        """Forget cached definitions now (the control plane calls it after a Lambda or API Gateway change)."""
        for cache in (self._api_cache, self._stage_cache, self._function_cache, self._domain_cache):
            cache.clear()

    def worker_count(self) -> int:
        return self.invoker.worker_count()

    # -------------------------------------------------------------------------------------------- moto reads

    def _client(self, service: str, region: str | None = None, *, single_attempt: bool = False) -> Any:
        """A client of moto; `single_attempt` for calls whose 500 is a moto quirk, not an error to retry."""
        region = region or self.region
        key = (f"{service}#single" if single_attempt else service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._clients_lock:
            if key not in self._clients:
                retries = {"total_max_attempts": 1} if single_attempt else {"max_attempts": 3, "mode": "standard"}
                self._clients[key] = moto_client(self.aws_endpoint, self.admin_credentials, service, region,
                                                 retries=retries, connect_timeout=5, read_timeout=30,
                                                 max_pool_connections=32)
            return self._clients[key]

    def _load_api(self, api_id: str) -> ApiDefinition | None:
        client = self._client("apigateway")
        try:
            api = client.get_rest_api(restApiId=api_id)
            resources = list(items(client.get_resources, restApiId=api_id, embed=["methods"], limit=500))
            gateway_responses = client.get_gateway_responses(restApiId=api_id).get("items", [])
        except client.exceptions.NotFoundException:
            return None
        return ApiDefinition.build(api, resources, gateway_responses)

    def _load_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        client = self._client("apigateway")
        try:
            return client.get_stage(restApiId=api_id, stageName=stage)
        except client.exceptions.NotFoundException:
            return None

    def _load_function(self, function_ref: str) -> FunctionConfig | None:
        parts = function_ref.split(":")
        region = parts[3] if function_ref.startswith("arn:") and len(parts) > 3 else self.region
        return load_function(self._client("lambda", region), function_ref, self.check_invoke_permission)

    def _load_domain(self, domain: str) -> tuple[dict[str, Any], ...] | None:
        """The custom domain's base path mappings; None when this region has no such custom domain."""
        from botocore.exceptions import ClientError

        client = self._client("apigateway")
        try:
            client.get_domain_name(domainName=domain)
        except client.exceptions.NotFoundException:
            return None
        mappings: list[dict[str, Any]] = []
        single = self._client("apigateway", single_attempt=True)
        try:
            mappings.extend(items(single.get_base_path_mappings, domainName=domain, limit=500))
        except client.exceptions.NotFoundException:
            return None
        except ClientError as exc:
            # moto quirk: GetBasePathMappings on a domain that has no mapping yet fails with a 500 (KeyError)
            # where API Gateway answers an empty list.
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 500:
                raise
        return tuple(mappings)

    # ------------------------------------------------------------------------------------------ request flow

    def handle(self, request: GatewayRequest) -> GatewayResponse:
        """Answer one request as API Gateway would. Never raises."""
        return self._answer(request, None, lambda request_id: (self._handle(request, request_id), request.target))

    def handle_domain(self, domain_name: str, request: GatewayRequest) -> GatewayResponse:
        """Answer a request addressed to custom domain `domain_name` (https://{domain_name}/...) in this region.

        The domain's base path mappings (read from moto, cached like the definitions) map the path to
        `/{api_id}/{stage}/{rest}`, which is then served as `handle` would; the SigV4 check uses the request as
        the client sent (and signed) it. Never raises. Used by the local DNS plane.
        """
        domain = domain_name.strip().rstrip(".").lower()
        return self._answer(request, domain, lambda request_id: self._handle_domain(domain, request, request_id))

    def _answer(self, request: GatewayRequest, domain: str | None, serve: Any) -> GatewayResponse:
        request_id = str(uuid.uuid4())
        routed_target: str | None = None
        try:
            if self.outage is not None and self.outage.is_out(self.region):
                response, routed_target = self._unavailable(request, domain)
            else:
                response, routed_target = serve(request_id)
        except Exception as exc:  # a gateway bug or moto unreachable: API Gateway's generic 500
            logger.exception("local API gateway error for %s %s%s", request.method, split_target(request.target)[0],
                             f" on {domain}" if domain else "")
            response = internal_error(f"gateway error: {type(exc).__name__}")
        if response.from_gateway and routed_target:
            # The API's gateway responses (CORS headers on errors) apply; an unmapped request has none.
            response.headers.extend(self._gateway_response_headers(routed_target, response.status))
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _gateway_response_headers(self, target: str, status: int) -> list[tuple[str, str]]:
        """The API's gateway responses (e.g. DEFAULT_4XX with CORS headers) for an error the gateway made."""
        parts = split_target(target)[0].split("/")
        api_id = unquote(parts[1]) if len(parts) > 1 else ""
        if not api_id:
            return []
        try:
            api = self._api_cache.get(api_id, lambda: self._load_api(api_id))
        except Exception:  # noqa: BLE001 - an error answer must still go out
            return []
        return list(api.gateway_headers(status).items()) if api else []

    def _unavailable(self, request: GatewayRequest, domain: str | None) -> tuple[GatewayResponse, str | None]:
        """The local outage's answer; the routed target only to find the API's gateway responses."""
        routed_target: str | None = request.target
        if domain is not None:
            mapped = self._map_domain(domain, *split_target(request.target))
            routed_target = None if isinstance(mapped, GatewayResponse) else mapped[1]
        return json_error(503, unavailable_message(self.region), note="local outage"), routed_target

    def _handle_domain(self, domain: str, request: GatewayRequest,
                       request_id: str) -> tuple[GatewayResponse, str | None]:
        mapped = self._map_domain(domain, *split_target(request.target))
        if isinstance(mapped, GatewayResponse):
            return mapped, None
        route_path, routed_target = mapped
        return self._handle(request, request_id, route_path=route_path, domain=domain), routed_target

    def _map_domain(self, domain: str, raw_path: str, query: str) -> tuple[str, str] | GatewayResponse:
        """(`/{api_id}/{stage}/...` path, routed target) a custom-domain path maps to, or API Gateway's refusal."""
        mappings = self._domain_cache.get(("domain", domain), lambda: self._load_domain(domain))
        if mappings is None:
            # API Gateway's answer for a Host it has no custom domain for (in this region).
            return json_error(403, "Forbidden", "ForbiddenException", f"unknown custom domain {domain}")
        selected = select_mapping(mappings, raw_path)
        if selected is None:
            # No mapping for this path: API Gateway answers {"message": "Forbidden"}, as for an unknown domain.
            return json_error(403, "Forbidden", "ForbiddenException", f"no base path mapping on {domain}")
        mapping, rest = selected
        stage = mapping.get("stage")
        if not stage:
            # A mapping without a stage: the caller names the stage after the base path.
            if not rest or not rest[0]:
                return missing_auth_token(f"no stage in path on {domain}")
            stage, rest = unquote(rest[0]), rest[1:]
        route_path = "/".join(["", quote(mapping["restApiId"], safe=""), quote(stage, safe=""), *rest])
        return route_path, route_path + (f"?{query}" if query else "")

    def _handle(self, request: GatewayRequest, request_id: str, route_path: str | None = None,
                domain: str | None = None) -> GatewayResponse:
        # raw_path is what the client sent (and signed); route_path, given by handle_domain for a custom-domain
        # request, is the `/{api_id}/{stage}/...` it maps to.
        raw_path, query = split_target(request.target)
        if not is_normal_path(raw_path):
            return missing_auth_token("path not in normal form")
        parts = (route_path or raw_path).split("/")[1:]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return not_found()
        api_id, stage_name = unquote(parts[0]), unquote(parts[1])
        rest = parts[2:]
        if rest and rest[-1] == "":
            rest = rest[:-1]  # API Gateway ignores one trailing slash
        segments = [unquote(p) for p in rest]

        api = self._api_cache.get(api_id, lambda: self._load_api(api_id))
        if api is None:
            return not_found()
        stage = self._stage_cache.get((api_id, stage_name), lambda: self._load_stage(api_id, stage_name))
        if stage is None:
            return not_found()
        route = api.match(segments)
        if route is None:
            return missing_auth_token("no resource")
        method = request.method.upper()
        method_def = route.resource.methods.get(method) or route.resource.methods.get("ANY")
        if method_def is None:
            return missing_auth_token(f"no {method} on {route.resource.path}")

        caller: LocalCredential | None = None
        auth_type = method_def.get("authorizationType") or "NONE"
        if auth_type == "AWS_IAM":
            # IAM is asked about the path requested (`/owners/1234/tickets`), not the resource's template
            # (`/owners/{owner}/tickets`): a policy names the paths a caller may invoke.
            arn = execute_api_arn(self.region, self.account, api.api_id, stage_name, method,
                                  "/" + "/".join(segments))
            authorized = self.authorizer.authorize(request, raw_path, query, method, arn)
            if isinstance(authorized, GatewayResponse):
                return authorized
            caller = authorized
        elif auth_type != "NONE":
            logger.warning("authorizationType %s is not served locally; denying", auth_type)
            return json_error(401, "Unauthorized", "UnauthorizedException", f"unsupported auth {auth_type}")
        if method_def.get("apiKeyRequired"):
            return json_error(403, "Forbidden", "ForbiddenException", "API keys are not served locally")

        integration = method_def.get("methodIntegration")
        if not integration:
            return internal_error("no integration")
        integration_type = integration.get("type")
        if integration_type == "MOCK":
            return mock_response(request, method_def, integration)
        match = LAMBDA_URI.match(integration.get("uri") or "") if integration_type == "AWS_PROXY" else None
        if match is None:
            logger.warning("integration %s %s is not served locally", integration_type, integration.get("uri"))
            return internal_error(f"unsupported integration {integration_type}")
        event = proxy_event(request, request_id, api, stage, stage_name, route, query, segments, caller,
                            self.host, self.port if self._server else 0, domain=domain, client_path=raw_path)
        stage_vars = event.get("stageVariables") or {}
        function_ref = STAGE_VARIABLE.sub(lambda m: stage_vars.get(m.group(1), ""), match.group("function"))
        fn = self._function_cache.get(("fn", function_ref), lambda: self._load_function(function_ref))
        if fn is None:
            return internal_error(f"function not found: {function_ref}")
        defined = method_def.get("httpMethod") or method
        source_arns = [execute_api_arn(self.region, fn.account, api.api_id, stage_name, m, route.resource.path)
                       for m in ([method, "*"] if defined == "ANY" else [method])]
        return self.invoker.invoke(fn, source_arns, integration, event)

    def _log_served(self, request: GatewayRequest, response: Any, started: float) -> None:
        # One line per request; never the query (it may carry presigned credentials) or any header value.
        logger.info("%s %s %s %s %d %dB %.1fms %s rid=%s", self.region, request.client_ip, request.method,
                    split_target(request.target)[0], response.status, len(response.body),
                    (time.perf_counter() - started) * 1000, getattr(response, "note", ""),
                    response.header("x-amzn-RequestId") if hasattr(response, "header") else None)
