"""MOCK integrations (the API's CORS preflights): the status the request template names, the integration response
it selects, and that response's static (or copied) headers and template body — as API Gateway answers them."""

from __future__ import annotations

import re
from typing import Any

from .messages import GatewayRequest, GatewayResponse, internal_error

__all__ = ["mock_response"]


def mock_response(request: GatewayRequest, method_def: dict[str, Any], integration: dict[str, Any]) -> GatewayResponse:
    """The answer of a MOCK integration (the CORS preflights): its integration response's static headers and body."""
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
        return internal_error("MOCK: no integration response matches")
    out_status = str(chosen.get("statusCode") or status)
    method_responses = method_def.get("methodResponses") or {}
    if out_status not in method_responses:
        # API Gateway: "Execution failed due to configuration error: Output mapping refers to an invalid
        # method response".
        return internal_error(f"MOCK: no method response {out_status}")
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
