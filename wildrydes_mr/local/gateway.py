"""The local API gateway: serves the REST APIs held by moto for one region, the way API Gateway would.

moto emulates API Gateway's control plane but does not serve deployed APIs, and it runs Lambda only with
docker. This module owns that data plane for one region: an HTTP server on 127.0.0.1 that, for
`{url}/{rest_api_id}/{stage}/{resource path}`, reads the API's definition back from moto (get_rest_api,
get_stage, get_resources with methods embedded), matches the resource and method, checks authorization
(AWS_IAM -> SigV4, see sigv4_verify), and runs the integration:

- AWS_PROXY to Lambda: the function's configuration (handler, environment, timeout, reserved concurrency,
  resource policy) is read from moto and the handler runs from `lambda_src_dir` in a worker process
  (lambda_worker) with a v1 proxy event; its return value becomes the HTTP response. As on AWS: no invoke
  permission for this API, or a missing or throttled function -> 500; an exception, a malformed result or the
  function's own timeout -> 502; the integration timeout (timeoutInMillis, 29 s at most) -> 504.
- MOCK (CORS preflights): the integration response's static headers and template body.

Definitions are cached for `cache_ttl` seconds (1 s): a command that re-points an integration or updates a
function is seen within a second (or at once after `invalidate()`), while a request on a warm route makes no
moto call at all.

Custom domain names are served through `handle_domain(domain, request)` (called by the DNS plane, dns.py): the
domain's base path mappings pick the API and stage, and the request is served as above.

Answers mirror API Gateway's, including its quirks (commented where they occur). Known differences: moto has
no per-deployment snapshot, so the live resources are served (a method change is visible without a new
deployment); API keys, usage plans, Lambda/Cognito authorizers, VTL mapping templates and
non-Lambda integrations are not served (they answer 500/401/403, and are logged).
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from . import lambda_worker
from .credentials import CredentialStore, LocalCredential
from .http_server import ConnectionSet, KeepAliveHandler
from .sigv4_verify import SigV4Error, split_target, verify_request

__all__ = ["GatewayRequest", "GatewayResponse", "LocalGateway"]

logger = logging.getLogger(__name__)

# API Gateway's hard integration timeout for REST APIs (timeoutInMillis defaults to, and is capped at, 29 s).
DEFAULT_INTEGRATION_TIMEOUT_S = 29.0
# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024
# Floor for a function's timeout locally (a cold worker on a busy laptop is slower than Lambda).
MIN_FUNCTION_TIMEOUT_S = 3.0

_LAMBDA_URI = re.compile(
    r"^arn:aws[\w-]*:apigateway:(?P<region>[\w-]+):lambda:"
    r"path/2015-03-31/functions/(?P<function>.+)/invocations$"
)
_STAGE_VAR = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class GatewayRequest:
    method: str
    target: str  # the request-target as received: raw path and query
    headers: list[tuple[str, str]]
    body: bytes = b""
    client_ip: str = "127.0.0.1"


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    note: str = ""  # for the log line only
    from_gateway: bool = False  # made by API Gateway itself (not the integration): gateway responses apply

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


def moto_client(endpoint: str, credential: LocalCredential, service: str, region: str, **config: Any) -> Any:
    """A boto3 client for the moto server at `endpoint`, signing with `credential`, with botocore Config(**config).

    AWS_PROFILE & co are ignored: the local cloud must not depend on (or fail on) a person's profile.
    """
    import boto3
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session = boto3.session.Session(
        aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret_access_key,
        aws_session_token=credential.session_token,
        region_name=region,
        botocore_session=core,
    )
    return session.client(service, endpoint_url=endpoint, config=Config(**config))


def _items(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paged API Gateway listing (`items`, continued by `position`), page after page."""
    while True:
        page = call(**kwargs)
        yield from page.get("items", [])
        if not page.get("position"):
            return
        kwargs["position"] = page["position"]


def _json_error(status: int, message: str, error_type: str | None = None, note: str = "") -> GatewayResponse:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return GatewayResponse(status, headers, json.dumps({"message": message}).encode(), note or message,
                           from_gateway=True)


def _not_found() -> GatewayResponse:
    return _json_error(404, "Not Found", "NotFoundException", "unknown api or stage")


def _missing_auth_token(note: str) -> GatewayResponse:
    # API Gateway's famous quirk: a path or method it does not know is answered 403 "Missing Authentication
    # Token", not 404, whether or not the request is signed.
    return _json_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException", note)


def _internal_error(note: str) -> GatewayResponse:
    return _json_error(500, "Internal server error", "InternalServerErrorException", note)


def _lambda_error(note: str) -> GatewayResponse:
    # A Lambda proxy integration whose function fails (exception, timeout, malformed result) is answered 502.
    return _json_error(502, "Internal server error", "InternalServerErrorException", note)


# ------------------------------------------------------------------------------------------------ definitions


@dataclass
class _Resource:
    id: str
    path: str
    methods: dict[str, dict[str, Any]]


@dataclass
class _Node:
    resource: _Resource | None = None
    literal: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None


@dataclass
class _Route:
    resource: _Resource
    path_params: dict[str, str]


@dataclass
class _ApiDefinition:
    api_id: str
    binary_media_types: tuple[str, ...]
    root: _Node
    # responseType (DEFAULT_4XX, DEFAULT_5XX, ...) -> headers from its gatewayresponse.header.* parameters
    gateway_responses: dict[str, dict[str, str]] = field(default_factory=dict)

    def gateway_headers(self, status: int) -> dict[str, str]:
        """Headers API Gateway adds to its own error responses (CORS headers, typically)."""
        return self.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX", {})

    @classmethod
    def build(cls, api: dict[str, Any], resources: list[dict[str, Any]],
              gateway_responses: list[dict[str, Any]] = ()) -> _ApiDefinition:
        root = _Node()
        for item in resources:
            node = root
            for part in [p for p in item.get("path", "/").split("/") if p]:
                if part.startswith("{") and part.endswith("+}"):
                    if node.greedy is None:
                        node.greedy = (part[1:-2], _Node())
                    node = node.greedy[1]
                elif part.startswith("{") and part.endswith("}"):
                    if node.param is None:
                        node.param = (part[1:-1], _Node())
                    node = node.param[1]
                else:
                    node = node.literal.setdefault(part, _Node())
            node.resource = _Resource(
                item["id"], item.get("path", "/"), dict(item.get("resourceMethods") or {})
            )
        prefix = "gatewayresponse.header."
        responses = {item["responseType"]: {name[len(prefix):]: value.strip("'")
                                            for name, value in (item.get("responseParameters") or {}).items()
                                            if name.startswith(prefix)}
                     for item in gateway_responses}
        return cls(api["id"], tuple(api.get("binaryMediaTypes") or ()), root, responses)

    def match(self, segments: list[str]) -> _Route | None:
        """Most specific resource first: literal part, then {param}, then {proxy+} (greedy, 1+ parts)."""

        def walk(node: _Node, i: int, params: dict[str, str]) -> _Route | None:
            if i == len(segments):
                return _Route(node.resource, params) if node.resource is not None else None
            child = node.literal.get(segments[i])
            if child is not None:
                found = walk(child, i + 1, params)
                if found:
                    return found
            if node.param is not None and segments[i]:
                name, child = node.param
                found = walk(child, i + 1, {**params, name: segments[i]})
                if found:
                    return found
            if node.greedy is not None and node.greedy[1].resource is not None:
                name, child = node.greedy
                proxied = "/".join(segments[i:])
                return _Route(child.resource, {**params, name: proxied})  # type: ignore[arg-type]
            return None

        return walk(self.root, 0, {})


@dataclass(frozen=True)
class _FunctionConfig:
    name: str
    arn: str  # as configured (unqualified unless the integration named a qualifier)
    account: str
    handler: str
    environment: tuple[tuple[str, str], ...]
    timeout_s: float
    memory_mb: int
    version: str
    reserved: int | None
    policy_statements: tuple[dict[str, Any], ...] | None  # None: the policy was not read


class _TtlCache:
    """A small cache of moto reads; concurrent misses on one key make one read."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._data: dict[Any, tuple[float, Any]] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, loader: Callable[[], Any]) -> Any:
        entry = self._data.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            value = loader()
            self._data[key] = (time.monotonic() + self._ttl, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def _client_error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


# ------------------------------------------------------------------------------------- Lambda resource policy


def _arn_like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statement_applies(statement: dict[str, Any], source_arns: list[str], account: str) -> bool:
    principal = statement.get("Principal")
    if principal != "*":
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if "apigateway.amazonaws.com" not in services:
            return False
    actions = _as_list(statement.get("Action"))
    if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, expected in (conditions or {}).items():
            values = [str(v) for v in _as_list(expected)]
            lkey = key.lower()
            if lkey == "aws:sourcearn":
                if operator in ("ArnLike", "StringLike"):
                    ok = any(_arn_like(p, arn) for p in values for arn in source_arns)
                elif operator in ("ArnEquals", "StringEquals"):
                    ok = any(arn in values for arn in source_arns)
                else:
                    ok = False
                if not ok:
                    return False
            elif lkey == "aws:sourceaccount":
                if account not in values:
                    return False
    return True


def _invoke_allowed(statements: tuple[dict[str, Any], ...], source_arns: list[str], account: str) -> bool:
    allowed = False
    for statement in statements:
        if _statement_applies(statement, source_arns, account):
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


# ------------------------------------------------------------------------------------------------ the gateway


class LocalGateway:
    """API Gateway (REST, regional) for one region of the local cloud. See the module docstring."""

    def __init__(
        self,
        region: str,
        aws_endpoint: str,
        credentials: CredentialStore,
        lambda_src_dir: Path,
        admin_credentials: LocalCredential,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cache_ttl: float = 1.0,
        max_workers_per_function: int = 4,
        check_invoke_permission: bool = True,
    ) -> None:
        self.region = region
        self.aws_endpoint = aws_endpoint
        self.credentials = credentials
        self.lambda_src_dir = Path(lambda_src_dir).resolve()
        self.admin_credentials = admin_credentials
        self.host = host
        self._port = port
        self.max_workers_per_function = max_workers_per_function
        self.check_invoke_permission = check_invoke_permission
        self._api_cache = _TtlCache(cache_ttl)
        self._stage_cache = _TtlCache(cache_ttl)
        self._function_cache = _TtlCache(cache_ttl)
        self._domain_cache = _TtlCache(cache_ttl)  # custom domain name -> its base path mappings (handle_domain)
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._pools: dict[str, lambda_worker.WorkerPool] = {}  # function arn -> pool of its current config
        self._pools_lock = threading.Lock()
        self._stopped = False
        self._inflight: dict[str, int] = {}
        self._inflight_lock = threading.Lock()
        self._connections = ConnectionSet()  # open client connections (keep-alive)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalGateway is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen, and serve in a daemon thread; returns once the socket is bound."""
        if self._server is not None:
            return
        self._stopped = False
        self._client("apigateway")  # fail fast on a bad endpoint/credentials setup, before binding
        handler_cls = type("_BoundHandler", (_Handler,), {"gateway": self, "connections": self._connections})
        self._server = ThreadingHTTPServer((self.host, self._port), handler_cls)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"local-apigw-{self.region}",
            daemon=True,
        )
        self._thread.start()
        logger.info("local API gateway for %s listening on %s", self.region, self.url)

    def stop(self) -> None:
        """Stop serving and stop every worker process."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        # Keep-alive connections outlive serve_forever; close them so nothing is served after stop().
        self._connections.close_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._pools_lock:
            self._stopped = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def __enter__(self) -> LocalGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invalidate(self) -> None:
        """Forget cached definitions now (for a caller that just changed the API and cannot wait 1 s)."""
        self._api_cache.clear()
        self._stage_cache.clear()
        self._function_cache.clear()
        self._domain_cache.clear()

    def worker_count(self) -> int:
        with self._pools_lock:
            return sum(pool.size for pool in self._pools.values())

    # -------------------------------------------------------------------------------------------- moto reads

    def _client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = moto_client(
                    self.aws_endpoint,
                    self.admin_credentials,
                    service,
                    region,
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                    max_pool_connections=32,
                )
            return self._clients[key]

    def _load_api(self, api_id: str) -> _ApiDefinition | None:
        client = self._client("apigateway")
        try:
            api = client.get_rest_api(restApiId=api_id)
            resources = list(_items(client.get_resources, restApiId=api_id, embed=["methods"], limit=500))
            gateway_responses = client.get_gateway_responses(restApiId=api_id).get("items", [])
        except client.exceptions.NotFoundException:
            return None
        return _ApiDefinition.build(api, resources, gateway_responses)

    def _load_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        client = self._client("apigateway")
        try:
            return client.get_stage(restApiId=api_id, stageName=stage)
        except client.exceptions.NotFoundException:
            return None

    def _load_function(self, function_ref: str) -> _FunctionConfig | None:
        parts = function_ref.split(":")
        region = parts[3] if function_ref.startswith("arn:") and len(parts) > 3 else self.region
        client = self._client("lambda", region)
        try:
            cfg = client.get_function_configuration(FunctionName=function_ref)
            concurrency = client.get_function_concurrency(FunctionName=cfg["FunctionName"])
        except client.exceptions.ResourceNotFoundException:
            return None
        reserved = concurrency.get("ReservedConcurrentExecutions")
        statements: tuple[dict[str, Any], ...] | None = None
        if self.check_invoke_permission:
            try:
                policy = json.loads(client.get_policy(FunctionName=function_ref)["Policy"])
                statements = tuple(_as_list(policy.get("Statement")))
            except client.exceptions.ResourceNotFoundException:
                statements = ()
        arn = cfg["FunctionArn"]
        return _FunctionConfig(
            name=cfg["FunctionName"],
            arn=arn,
            account=arn.split(":")[4] if arn.count(":") >= 5 else "123456789012",
            handler=cfg.get("Handler") or "",
            environment=tuple(sorted(((cfg.get("Environment") or {}).get("Variables") or {}).items())),
            timeout_s=float(cfg.get("Timeout") or 3),
            memory_mb=int(cfg.get("MemorySize") or 128),
            version=str(cfg.get("Version") or "$LATEST"),
            reserved=None if reserved is None else int(reserved),
            policy_statements=statements,
        )

    # ------------------------------------------------------------------------------------------ request flow

    def handle(self, request: GatewayRequest) -> GatewayResponse:
        """Answer one request as API Gateway would. Never raises."""
        request_id = str(uuid.uuid4())
        try:
            response = self._handle(request, request_id)
        except Exception as exc:  # a gateway bug or moto unreachable: API Gateway's generic 500
            logger.exception(
                "local API gateway error for %s %s", request.method, split_target(request.target)[0]
            )
            response = _internal_error(f"gateway error: {type(exc).__name__}")
        if response.from_gateway:
            response.headers.extend(self._gateway_response_headers(request, response.status))
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _gateway_response_headers(self, request: GatewayRequest, status: int) -> list[tuple[str, str]]:
        """The API's gateway responses (e.g. DEFAULT_4XX with CORS headers) for an error the gateway made."""
        parts = split_target(request.target)[0].split("/")
        api_id = unquote(parts[1]) if len(parts) > 1 else ""
        if not api_id:
            return []
        try:
            api = self._api_cache.get(api_id, lambda: self._load_api(api_id))
        except Exception:  # noqa: BLE001 - an error answer must still go out
            return []
        return list(api.gateway_headers(status).items()) if api else []

    # ---------------------------------------------------------------------------------------- custom domains

    def handle_domain(self, domain_name: str, request: GatewayRequest) -> GatewayResponse:
        """Answer a request addressed to custom domain `domain_name` (https://{domain_name}/...) in this region.

        The domain's base path mappings (read from moto, cached like the definitions) map the path to
        `/{api_id}/{stage}/{rest}`, which is then served as `handle` would; the SigV4 check uses the request as
        the client sent (and signed) it. Never raises. Used by the local DNS plane (dns.py).
        """
        request_id = str(uuid.uuid4())
        domain = domain_name.strip().rstrip(".").lower()
        routed_target: str | None = None
        try:
            response, routed_target = self._handle_domain(domain, request, request_id)
        except Exception as exc:  # a gateway bug or moto unreachable: API Gateway's generic 500
            logger.exception(
                "local API gateway error for %s %s on %s", request.method, split_target(request.target)[0], domain
            )
            response = _internal_error(f"gateway error: {type(exc).__name__}")
        if response.from_gateway and routed_target:
            # The mapped API's gateway responses (CORS headers on errors) apply; an unmapped request has none.
            routed = GatewayRequest(request.method, routed_target, [])
            response.headers.extend(self._gateway_response_headers(routed, response.status))
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _handle_domain(
        self, domain: str, request: GatewayRequest, request_id: str
    ) -> tuple[GatewayResponse, str | None]:
        raw_path, query = split_target(request.target)
        mappings = self._domain_cache.get(("domain", domain), lambda: self._load_domain(domain))
        if mappings is None:
            # API Gateway's answer for a Host it has no custom domain for (in this region).
            return _json_error(403, "Forbidden", "ForbiddenException", f"unknown custom domain {domain}"), None
        raw_parts = raw_path.split("/")[1:]
        decoded = [unquote(p) for p in raw_parts]
        best: tuple[int, dict[str, Any]] | None = None
        for mapping in mappings:
            base = mapping.get("basePath") or "(none)"
            # "(none)" is the empty base path; a multi-level base path ("v1/orders") matches whole segments.
            base_parts = [] if base == "(none)" else [p for p in base.split("/") if p]
            if decoded[: len(base_parts)] == base_parts and (best is None or len(base_parts) > best[0]):
                best = (len(base_parts), mapping)
        if best is None:
            # No mapping for this path: API Gateway answers {"message": "Forbidden"}, as for an unknown domain.
            return _json_error(403, "Forbidden", "ForbiddenException", f"no base path mapping on {domain}"), None
        consumed, mapping = best
        rest = raw_parts[consumed:]
        stage = mapping.get("stage")
        if not stage:
            # A mapping without a stage: the caller names the stage after the base path.
            if not rest or not rest[0]:
                return _missing_auth_token(f"no stage in path on {domain}"), None
            stage, rest = unquote(rest[0]), rest[1:]
        route_path = "/".join(["", quote(mapping["restApiId"], safe=""), quote(stage, safe=""), *rest])
        routed_target = route_path + (f"?{query}" if query else "")
        return self._handle(request, request_id, route_path=route_path, domain=domain), routed_target

    def _load_domain(self, domain: str) -> tuple[dict[str, Any], ...] | None:
        """The custom domain's base path mappings; None when this region has no such custom domain."""
        from botocore.exceptions import ClientError

        client = self._client("apigateway")
        try:
            client.get_domain_name(domainName=domain)
        except client.exceptions.NotFoundException:
            return None
        mappings: list[dict[str, Any]] = []
        single = self._single_attempt_client("apigateway")  # moto's 500 below is no error to retry
        try:
            mappings.extend(_items(single.get_base_path_mappings, domainName=domain, limit=500))
        except client.exceptions.NotFoundException:
            return None
        except ClientError as exc:
            # moto quirk: GetBasePathMappings on a domain that has no mapping yet fails with a 500 (KeyError)
            # where API Gateway answers an empty list.
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 500:
                raise
        return tuple(mappings)

    def _single_attempt_client(self, service: str) -> Any:
        """A client of this region that does not retry (the shared one retries 500s, which moto uses for quirks)."""
        key = (f"{service}#single-attempt", self.region)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = moto_client(
                    self.aws_endpoint,
                    self.admin_credentials,
                    service,
                    self.region,
                    retries={"total_max_attempts": 1},
                    connect_timeout=5,
                    read_timeout=30,
                )
            return self._clients[key]

    def _handle(
        self, request: GatewayRequest, request_id: str, route_path: str | None = None, domain: str | None = None
    ) -> GatewayResponse:
        # raw_path is what the client sent (and signed); route_path, given by handle_domain for a custom-domain
        # request, is the `/{api_id}/{stage}/...` it maps to.
        raw_path, query = split_target(request.target)
        parts = (route_path or raw_path).split("/")[1:]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return _not_found()
        api_id, stage_name = unquote(parts[0]), unquote(parts[1])
        rest = parts[2:]
        if rest and rest[-1] == "":
            rest = rest[:-1]  # API Gateway ignores one trailing slash
        segments = [unquote(p) for p in rest]

        api = self._api_cache.get(api_id, lambda: self._load_api(api_id))
        if api is None:
            return _not_found()
        stage = self._stage_cache.get((api_id, stage_name), lambda: self._load_stage(api_id, stage_name))
        if stage is None:
            return _not_found()

        route = api.match(segments)
        if route is None:
            return _missing_auth_token("no resource")
        method = request.method.upper()
        method_def = route.resource.methods.get(method) or route.resource.methods.get("ANY")
        if method_def is None:
            return _missing_auth_token(f"no {method} on {route.resource.path}")

        caller: LocalCredential | None = None
        auth_type = method_def.get("authorizationType") or "NONE"
        if auth_type == "AWS_IAM":
            try:
                caller = verify_request(
                    method=method,
                    path=raw_path,
                    query=query,
                    headers=request.headers,
                    body=request.body,
                    region=self.region,
                    credentials=self.credentials,
                )
            except SigV4Error as err:
                # The message of a signature mismatch quotes the canonical request; the log gets the type
                # only.
                return _json_error(err.status, err.message, err.error_type, note=err.error_type)
        elif auth_type != "NONE":
            logger.warning("authorizationType %s is not served locally; denying", auth_type)
            return _json_error(401, "Unauthorized", "UnauthorizedException", f"unsupported auth {auth_type}")
        if method_def.get("apiKeyRequired"):
            return _json_error(403, "Forbidden", "ForbiddenException", "API keys are not served locally")

        integration = method_def.get("methodIntegration")
        if not integration:
            return _internal_error("no integration")
        integration_type = integration.get("type")
        if integration_type == "MOCK":
            return self._mock(request, method_def, integration)
        if integration_type == "AWS_PROXY":
            match = _LAMBDA_URI.match(integration.get("uri") or "")
            if match:
                event = self._proxy_event(
                    request, request_id, api, stage, stage_name, route, query, segments, caller,
                    domain=domain, client_path=raw_path,
                )
                return self._invoke(api, stage_name, route, method, method_def, integration, match, event)
        logger.warning("integration %s %s is not served locally", integration_type, integration.get("uri"))
        return _internal_error(f"unsupported integration {integration_type}")

    # ----------------------------------------------------------------------------------------------- MOCK

    def _mock(
        self, request: GatewayRequest, method_def: dict[str, Any], integration: dict[str, Any]
    ) -> GatewayResponse:
        templates = integration.get("requestTemplates") or {}
        template = templates.get("application/json") or next((t for t in templates.values() if t), "") or ""
        status = "200"
        found = re.search(r'"?statusCode"?\s*:\s*"?(\d{3})', template)
        if found:
            status = found.group(1)
        responses: dict[str, dict[str, Any]] = integration.get("integrationResponses") or {}
        # Integration responses are selected by matching selectionPattern against the status; the one without
        # a pattern is the default.
        defaults = sorted(
            (r for r in responses.values() if not r.get("selectionPattern")),
            key=lambda r: str(r.get("statusCode")) != status,  # (there should be one; prefer the status)
        )
        chosen = next(
            (
                r
                for r in responses.values()
                if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], status)
            ),
            None,
        ) or next(iter(defaults), None)
        if chosen is None:
            return _internal_error("MOCK: no integration response matches")
        out_status = str(chosen.get("statusCode") or status)
        method_responses = method_def.get("methodResponses") or {}
        if out_status not in method_responses:
            # API Gateway: "Execution failed due to configuration error: Output mapping refers to an invalid
            # method response".
            return _internal_error(f"MOCK: no method response {out_status}")
        headers: list[tuple[str, str]] = []
        for key, value in (chosen.get("responseParameters") or {}).items():
            if not key.startswith("method.response.header.") or value is None:
                continue
            name = key[len("method.response.header.") :]
            if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
                headers.append((name, value[1:-1]))  # a static value is written in single quotes: '*'
            elif value.startswith("method.request.header."):
                wanted = value[len("method.request.header.") :].lower()
                copied = next((v for k, v in request.headers if k.lower() == wanted), None)
                if copied is not None:
                    headers.append((name, copied))
        body = (chosen.get("responseTemplates") or {}).get("application/json") or ""
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return GatewayResponse(int(out_status), headers, body.encode(), "mock")

    # ------------------------------------------------------------------------------------------ Lambda proxy

    def _proxy_event(
        self,
        request: GatewayRequest,
        request_id: str,
        api: _ApiDefinition,
        stage: dict[str, Any],
        stage_name: str,
        route: _Route,
        query: str,
        segments: list[str],
        caller: LocalCredential | None,
        domain: str | None = None,
        client_path: str = "",
    ) -> dict[str, Any]:
        """The v1 (REST API) Lambda proxy integration event."""
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        present = {name.lower() for name in headers}
        host = domain or next((v for k, v in request.headers if k.lower() == "host"), None) or (
            f"{self.host}:{self.port}"
        )
        added = {
            "X-Forwarded-For": request.client_ip,
            "X-Forwarded-Port": "443" if domain else str(self.port if self._server else 0),
            "X-Forwarded-Proto": "https" if domain else "http",
        }
        for name, value in added.items():
            if name.lower() not in present:
                headers[name] = value
                multi_headers[name] = [value]

        query_single: dict[str, str] = {}
        query_multi: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            query_single[key] = value
            query_multi.setdefault(key, []).append(value)

        body: str | None = None
        is_base64 = False
        if request.body:
            content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
            content_type = content_type.split(";")[0].strip().lower()
            if content_type and any(fnmatch.fnmatchcase(content_type, t) for t in api.binary_media_types):
                body, is_base64 = base64.b64encode(request.body).decode(), True
            else:
                try:
                    body = request.body.decode("utf-8")
                except UnicodeDecodeError:
                    # Not text: hand the exact bytes over base64-encoded (flagged as such) rather than replace
                    # them, so the function sees what was sent and can refuse it.
                    body, is_base64 = base64.b64encode(request.body).decode(), True

        now = dt.datetime.now(dt.UTC)
        resource_path = "/" + "/".join(segments)
        # Through a custom domain, API Gateway puts the path as the client sent it in both `path` and
        # requestContext.path: base path included, no stage added (a quirk frameworks work around).
        event_path = unquote(client_path) if domain else resource_path
        context_path = event_path if domain else f"/{stage_name}{resource_path}"
        user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), None)
        return {
            "resource": route.resource.path,
            "path": event_path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query_single or None,
            "multiValueQueryStringParameters": query_multi or None,
            "pathParameters": route.path_params or None,
            "stageVariables": stage.get("variables") or None,
            "requestContext": {
                "resourceId": route.resource.id,
                "resourcePath": route.resource.path,
                "httpMethod": request.method.upper(),
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": context_path,
                "accountId": None,  # filled in by _invoke, from the function's account
                "protocol": "HTTP/1.1",
                "stage": stage_name,
                "domainPrefix": domain.split(".")[0] if domain else api.api_id,
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": caller.cognito_identity_pool_id if caller else None,
                    "accountId": None,
                    "cognitoIdentityId": caller.cognito_identity_id if caller else None,
                    "caller": caller.principal_id if caller else None,
                    "sourceIp": request.client_ip,
                    "principalOrgId": None,
                    "accessKey": caller.access_key_id if caller else None,
                    "cognitoAuthenticationType": (
                        "authenticated" if caller and caller.cognito_identity_id else None
                    ),
                    "cognitoAuthenticationProvider": None,
                    "userArn": caller.principal_arn if caller else None,
                    "userAgent": user_agent,
                    "user": None,
                },
                "domainName": host,
                "apiId": api.api_id,
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _worker_spec(self, fn: _FunctionConfig) -> lambda_worker.WorkerSpec:
        base = {
            k: v
            for k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT")
            if (v := os.environ.get(k)) is not None
        }
        env = {**base, **dict(fn.environment)}
        # What the Lambda runtime sets (it wins over the function's own variables, as reserved keys do on
        # AWS), plus the local cloud's endpoint and keys, and no shared config a person's ~/.aws could inject.
        env.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ENDPOINT_URL": self.aws_endpoint,
                "AWS_ACCESS_KEY_ID": self.admin_credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.admin_credentials.secret_access_key,
                "AWS_LAMBDA_FUNCTION_NAME": fn.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "LAMBDA_TASK_ROOT": str(self.lambda_src_dir),
                "_HANDLER": fn.handler,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if self.admin_credentials.session_token:
            env["AWS_SESSION_TOKEN"] = self.admin_credentials.session_token
        return lambda_worker.WorkerSpec(
            function_name=fn.name,
            function_arn=fn.arn,
            handler=fn.handler,
            src_dir=str(self.lambda_src_dir),
            environment=tuple(sorted(env.items())),
            memory_mb=fn.memory_mb,
            version=fn.version,
        )

    def _pool(self, fn: _FunctionConfig) -> lambda_worker.WorkerPool:
        spec = self._worker_spec(fn)
        size = self.max_workers_per_function
        if fn.reserved:
            size = max(1, min(size, fn.reserved))
        with self._pools_lock:
            if self._stopped:
                raise lambda_worker.PoolClosed(fn.name)
            pool = self._pools.get(fn.arn)
            if pool is not None and pool.spec == spec:
                pool.max_workers = size
                return pool
            old, pool = pool, lambda_worker.WorkerPool(spec, size)
            self._pools[fn.arn] = pool
        if old is not None:
            # New handler or environment: later invocations get a fresh process, as after a Lambda update.
            old.close()
        return pool

    def _invoke(
        self,
        api: _ApiDefinition,
        stage_name: str,
        route: _Route,
        method: str,
        method_def: dict[str, Any],
        integration: dict[str, Any],
        uri_match: re.Match[str],
        event: dict[str, Any],
    ) -> GatewayResponse:
        stage_vars = event.get("stageVariables") or {}
        function_ref = _STAGE_VAR.sub(lambda m: stage_vars.get(m.group(1), ""), uri_match.group("function"))
        fn = self._function_cache.get(("fn", function_ref), lambda: self._load_function(function_ref))
        if fn is None:
            return _internal_error(f"function not found: {function_ref}")
        if (integration.get("httpMethod") or "POST").upper() != "POST":
            # Lambda is invoked with POST; any other integration method fails on AWS too.
            return _internal_error(f"integration httpMethod for {fn.name} must be POST")
        if fn.policy_statements is not None:
            defined = method_def.get("httpMethod") or method
            methods = [method, "*"] if defined == "ANY" else [method]
            arns = [
                f"arn:aws:execute-api:{self.region}:{fn.account}:{api.api_id}/{stage_name}/"
                f"{m}{route.resource.path}"
                for m in methods
            ]
            if not _invoke_allowed(fn.policy_statements, arns, fn.account):
                # "Execution failed due to configuration error: Invalid permissions on Lambda function"
                return _internal_error(f"invalid permissions on Lambda function {fn.name}")
        if fn.reserved == 0:
            # A throttled function (reserved concurrency 0): Lambda answers 429, which a proxy integration
            # turns into 500 "Internal server error" (it does not forward the 429).
            return _internal_error(f"{fn.name} throttled")
        event["requestContext"]["accountId"] = fn.account
        if event["requestContext"]["identity"]["accessKey"]:
            event["requestContext"]["identity"]["accountId"] = fn.account

        with self._inflight_lock:
            running = self._inflight.get(fn.arn, 0)
            if fn.reserved is not None and running >= fn.reserved:
                return _internal_error(f"{fn.name} throttled ({running} running)")
            self._inflight[fn.arn] = running + 1
        try:
            return self._run(fn, integration, event)
        finally:
            with self._inflight_lock:
                self._inflight[fn.arn] -= 1

    def _run(
        self, fn: _FunctionConfig, integration: dict[str, Any], event: dict[str, Any]
    ) -> GatewayResponse:
        integration_timeout = DEFAULT_INTEGRATION_TIMEOUT_S
        if integration.get("timeoutInMillis"):
            integration_timeout = min(
                int(integration["timeoutInMillis"]) / 1000.0, DEFAULT_INTEGRATION_TIMEOUT_S
            )
        function_timeout = max(fn.timeout_s, MIN_FUNCTION_TIMEOUT_S)
        request_id = event["requestContext"]["requestId"]
        worker = None
        pool = None
        for _ in range(3):  # a pool can be retired (config changed) while we wait for it
            try:
                pool = self._pool(fn)
                worker = pool.acquire(wait_s=integration_timeout)
                break
            except lambda_worker.PoolClosed:
                continue
            except (lambda_worker.WorkerTimeout, lambda_worker.WorkerDied, OSError) as exc:
                return _lambda_error(f"{fn.name} init failed: {exc}")
        if worker is None or pool is None:
            return _json_error(504, "Endpoint request timed out", note=f"{fn.name}: no free worker")
        # Two clocks: if the function's own timeout comes first, Lambda fails the invocation ("Task timed
        # out") and API Gateway answers 502; if the integration timeout (29 s, or timeoutInMillis) comes
        # first, API Gateway gives up and answers 504 "Endpoint request timed out".
        gateway_gives_up = integration_timeout <= function_timeout
        try:
            result = worker.invoke(event, min(integration_timeout, function_timeout), request_id)
        except lambda_worker.WorkerTimeout:
            pool.release(worker, healthy=False)
            if gateway_gives_up:
                return _json_error(504, "Endpoint request timed out", note=f"{fn.name}: integration timeout")
            return _lambda_error(f"{fn.name}: Task timed out after {function_timeout:.2f} seconds")
        except lambda_worker.WorkerDied:
            pool.release(worker, healthy=False)
            return _lambda_error(f"{fn.name}: worker died")
        pool.release(worker)
        if not result.ok:
            return _lambda_error(
                f"{fn.name}: {result.error.get('errorType')}: {str(result.error.get('errorMessage'))[:200]}"
            )
        response = _proxy_response(result.payload or "null")
        if response is None:
            return _lambda_error(f"{fn.name}: malformed Lambda proxy response")
        response.note = f"fn={fn.name}"
        return response


def _proxy_response(payload: str) -> GatewayResponse | None:
    """The handler's result as an HTTP response; None when API Gateway would find it malformed (502)."""
    try:
        out = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(out, dict):
        return None
    status = out.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return None
    body = out.get("body")
    if body is not None and not isinstance(body, str):
        return None  # REST APIs want the body as a string: a dict here is a 502
    single = out.get("headers") or {}
    multi = out.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    headers: list[tuple[str, str]] = []
    scalar = (str, int, float, bool)
    for name, values in multi.items():
        if not isinstance(values, list) or not all(isinstance(v, scalar) for v in values):
            return None
        headers.extend((str(name), str(v)) for v in values)
    for name, value in single.items():
        if not isinstance(value, scalar):
            return None
        # Both given: API Gateway merges them; a pair present in both appears once.
        if (str(name), str(value)) not in headers:
            headers.append((str(name), str(value)))
    headers = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    if out.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body or "", validate=True)
        except ValueError:
            return None
    else:
        data = (body or "").encode()
    return GatewayResponse(status, headers, data)


# ------------------------------------------------------------------------------------------------- HTTP layer


class _Handler(KeepAliveHandler):
    server_version = "LocalApiGateway/1.0"
    max_body_bytes = MAX_BODY_BYTES
    gateway: LocalGateway

    def respond(self, body: bytes) -> GatewayResponse:
        return self.gateway.handle(
            GatewayRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                client_ip=self.client_address[0],
            )
        )

    def too_large(self) -> GatewayResponse:
        return _json_error(413, "Request Too Long", note="body too large")

    def log_served(self, response: GatewayResponse, started: float) -> None:
        # One line per request; never the query (it may carry presigned credentials) or any header value.
        logger.info(
            "%s %s %s %s %d %dB %.1fms %s rid=%s",
            self.gateway.region,
            self.client_address[0],
            self.command,
            split_target(self.path)[0],
            response.status,
            len(response.body),
            (time.perf_counter() - started) * 1000,
            response.note,
            response.header("x-amzn-RequestId"),
        )

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        logger.debug("local API gateway: " + format, *args)
