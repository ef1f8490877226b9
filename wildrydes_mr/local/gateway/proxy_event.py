"""The event API Gateway hands a Lambda proxy integration of a REST API (payload format 1.0): the request's
method, path, headers (single and multi-valued), query, path parameters, stage variables, body (base64 when
binary or not UTF-8), and the request context — with the caller's identity as API Gateway fills it: the
cognito* fields only for credentials a Cognito identity pool issued, `userArn` / `caller` for an IAM principal."""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..credentials import LocalCredential
from .messages import GatewayRequest
from .routing import ApiDefinition, Route

__all__ = ["proxy_event"]


def proxy_event(
    request: GatewayRequest,
    request_id: str,
    api: ApiDefinition,
    stage: dict[str, Any],
    stage_name: str,
    route: Route,
    query: str,
    segments: list[str],
    caller: LocalCredential | None,
    gateway_host: str,
    gateway_port: int,
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
        f"{gateway_host}:{gateway_port}"
    )
    added = {
        "X-Forwarded-For": request.client_ip,
        "X-Forwarded-Port": "443" if domain else str(gateway_port),
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
