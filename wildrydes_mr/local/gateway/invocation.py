"""How the local API gateway runs a Lambda proxy integration: the function's configuration read back from moto
(handler, environment, timeout, memory, reserved concurrency, resource policy), the resource policy's verdict
for this API, a pool of worker processes per configuration (lambda_worker), the two timeouts (the function's:
502; the integration's, 29 s at most: 504), throttling (reserved concurrency 0 or exhausted: 500, as API Gateway
answers a throttled Lambda), and the handler's result turned into the HTTP answer (a malformed one is a 502).

A worker's environment is the function's own variables minus what would let a control-plane call run code as
the person running the local cloud (PYTHON*, LD_*, DYLD_*), plus what the Lambda runtime sets; the worker starts
isolated (`python -I`) and imports its handler only from the task root (lambda_worker).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import lambda_worker
from ..credentials import LocalCredential
from .messages import GatewayResponse, internal_error, json_error, lambda_error
from .resource_policy import invoke_allowed

__all__ = ["FunctionConfig", "Invoker", "LAMBDA_URI", "load_function", "proxy_response"]

# API Gateway's hard integration timeout for REST APIs (timeoutInMillis defaults to, and is capped at, 29 s).
DEFAULT_INTEGRATION_TIMEOUT_S = 29.0
# Floor for a function's timeout locally (a cold worker on a busy laptop is slower than Lambda).
MIN_FUNCTION_TIMEOUT_S = 3.0
LAMBDA_URI = re.compile(
    r"^arn:aws[\w-]*:apigateway:(?P<region>[\w-]+):lambda:"
    r"path/2015-03-31/functions/(?P<function>.+)/invocations$"
)
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
# Function variables a worker never gets: each lets whoever can configure a function run code in the worker.
_UNSAFE_VARIABLE = re.compile(r"^(PYTHON|LD_|DYLD_)", re.IGNORECASE)
# What a worker inherits from the local cloud's own environment.
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT")


@dataclass(frozen=True)
class FunctionConfig:
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


def load_function(client: Any, function_ref: str, check_invoke_permission: bool) -> FunctionConfig | None:
    """The function's configuration from moto (`client`: Lambda in the function's region); None when missing."""
    try:
        cfg = client.get_function_configuration(FunctionName=function_ref)
        concurrency = client.get_function_concurrency(FunctionName=cfg["FunctionName"])
    except client.exceptions.ResourceNotFoundException:
        return None
    reserved = concurrency.get("ReservedConcurrentExecutions")
    statements: tuple[dict[str, Any], ...] | None = None
    if check_invoke_permission:
        try:
            policy = json.loads(client.get_policy(FunctionName=function_ref)["Policy"])
            listed = policy.get("Statement")
            statements = tuple(listed if isinstance(listed, list) else [listed] if listed else [])
        except client.exceptions.ResourceNotFoundException:
            statements = ()
    arn = cfg["FunctionArn"]
    return FunctionConfig(
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


class Invoker:
    """The worker pools of one region's functions, and one invocation through them."""

    def __init__(self, region: str, aws_endpoint: str, admin_credentials: LocalCredential, lambda_src_dir: Path,
                 max_workers_per_function: int = 4) -> None:
        self.region = region
        self.aws_endpoint = aws_endpoint
        self.admin_credentials = admin_credentials
        self.lambda_src_dir = Path(lambda_src_dir).resolve()
        self.max_workers_per_function = max_workers_per_function
        self._pools: dict[str, lambda_worker.WorkerPool] = {}  # function arn -> pool of its current config
        self._pools_lock = threading.Lock()
        self._stopped = False
        self._inflight: dict[str, int] = {}
        self._inflight_lock = threading.Lock()

    def close(self) -> None:
        with self._pools_lock:
            self._stopped = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def worker_count(self) -> int:
        with self._pools_lock:
            return sum(pool.size for pool in self._pools.values())

    def worker_spec(self, fn: FunctionConfig) -> lambda_worker.WorkerSpec:
        base = {k: v for k in _INHERITED if (v := os.environ.get(k)) is not None}
        env = {**base, **{k: v for k, v in fn.environment if not _UNSAFE_VARIABLE.match(k)}}
        # What the Lambda runtime sets (it wins over the function's own variables, as reserved keys do on
        # AWS), plus the local cloud's endpoint and keys, and no shared config a person's ~/.aws could inject.
        env.update({
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
        })
        if self.admin_credentials.session_token:
            env["AWS_SESSION_TOKEN"] = self.admin_credentials.session_token
        return lambda_worker.WorkerSpec(
            function_name=fn.name, function_arn=fn.arn, handler=fn.handler, src_dir=str(self.lambda_src_dir),
            environment=tuple(sorted(env.items())), memory_mb=fn.memory_mb, version=fn.version)

    def _pool(self, fn: FunctionConfig) -> lambda_worker.WorkerPool:
        spec = self.worker_spec(fn)
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

    def invoke(self, fn: FunctionConfig, source_arns: list[str], integration: dict[str, Any],
               event: dict[str, Any]) -> GatewayResponse:
        """Runs `fn` for `event` as the API's integration: `source_arns` are the execute-api ARNs the request is
        (for an ANY method, both the method's and `*`), which the function's resource policy must allow."""
        if (integration.get("httpMethod") or "POST").upper() != "POST":
            # Lambda is invoked with POST; any other integration method fails on AWS too.
            return internal_error(f"integration httpMethod for {fn.name} must be POST")
        if fn.policy_statements is not None and not invoke_allowed(fn.policy_statements, source_arns, fn.account):
            # "Execution failed due to configuration error: Invalid permissions on Lambda function"
            return internal_error(f"invalid permissions on Lambda function {fn.name}")
        if fn.reserved == 0:
            # A throttled function (reserved concurrency 0): Lambda answers 429, which a proxy integration
            # turns into 500 "Internal server error" (it does not forward the 429).
            return internal_error(f"{fn.name} throttled")
        event["requestContext"]["accountId"] = fn.account
        if event["requestContext"]["identity"]["accessKey"]:
            event["requestContext"]["identity"]["accountId"] = fn.account
        with self._inflight_lock:
            running = self._inflight.get(fn.arn, 0)
            if fn.reserved is not None and running >= fn.reserved:
                return internal_error(f"{fn.name} throttled ({running} running)")
            self._inflight[fn.arn] = running + 1
        try:
            return self._run(fn, integration, event)
        finally:
            with self._inflight_lock:
                self._inflight[fn.arn] -= 1

    def _run(self, fn: FunctionConfig, integration: dict[str, Any], event: dict[str, Any]) -> GatewayResponse:
        integration_timeout = DEFAULT_INTEGRATION_TIMEOUT_S
        if integration.get("timeoutInMillis"):
            integration_timeout = min(int(integration["timeoutInMillis"]) / 1000.0, DEFAULT_INTEGRATION_TIMEOUT_S)
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
                return lambda_error(f"{fn.name} init failed: {exc}")
        if worker is None or pool is None:
            return json_error(504, "Endpoint request timed out", note=f"{fn.name}: no free worker")
        # Two clocks: if the function's own timeout comes first, Lambda fails the invocation ("Task timed
        # out") and API Gateway answers 502; if the integration timeout (29 s, or timeoutInMillis) comes
        # first, API Gateway gives up and answers 504 "Endpoint request timed out".
        gateway_gives_up = integration_timeout <= function_timeout
        try:
            result = worker.invoke(event, min(integration_timeout, function_timeout), request_id)
        except lambda_worker.WorkerTimeout:
            pool.release(worker, healthy=False)
            if gateway_gives_up:
                return json_error(504, "Endpoint request timed out", note=f"{fn.name}: integration timeout")
            return lambda_error(f"{fn.name}: Task timed out after {function_timeout:.2f} seconds")
        except lambda_worker.WorkerDied:
            pool.release(worker, healthy=False)
            return lambda_error(f"{fn.name}: worker died")
        pool.release(worker)
        if not result.ok:
            return lambda_error(
                f"{fn.name}: {result.error.get('errorType')}: {str(result.error.get('errorMessage'))[:200]}")
        response = proxy_response(result.payload or "null")
        if response is None:
            return lambda_error(f"{fn.name}: malformed Lambda proxy response")
        response.note = f"fn={fn.name}"
        return response


def proxy_response(payload: str) -> GatewayResponse | None:
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
