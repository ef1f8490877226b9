"""How the local API gateway finds what a request addresses: the API's resources as a tree (literal parts, then
{param}, then {proxy+}), the resource and method a path matches, a custom domain's base path mappings, and the
rule that only a path already in its normal form is routed (the SigV4 check and routing see the same path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

__all__ = ["ApiDefinition", "ApiResource", "Route", "is_normal_path", "select_mapping"]


@dataclass
class ApiResource:
    id: str
    path: str
    methods: dict[str, dict[str, Any]]


@dataclass
class Node:
    resource: ApiResource | None = None
    literal: dict[str, Node] = field(default_factory=dict)
    param: tuple[str, Node] | None = None
    greedy: tuple[str, Node] | None = None


@dataclass
class Route:
    resource: ApiResource
    path_params: dict[str, str]


@dataclass
class ApiDefinition:
    api_id: str
    binary_media_types: tuple[str, ...]
    root: Node
    # responseType (DEFAULT_4XX, DEFAULT_5XX, ...) -> headers from its gatewayresponse.header.* parameters
    gateway_responses: dict[str, dict[str, str]] = field(default_factory=dict)

    def gateway_headers(self, status: int) -> dict[str, str]:
        """Headers API Gateway adds to its own error responses (CORS headers, typically)."""
        return self.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX", {})

    @classmethod
    def build(cls, api: dict[str, Any], resources: list[dict[str, Any]],
              gateway_responses: list[dict[str, Any]] = ()) -> ApiDefinition:
        root = Node()
        for item in resources:
            node = root
            for part in [p for p in item.get("path", "/").split("/") if p]:
                if part.startswith("{") and part.endswith("+}"):
                    if node.greedy is None:
                        node.greedy = (part[1:-2], Node())
                    node = node.greedy[1]
                elif part.startswith("{") and part.endswith("}"):
                    if node.param is None:
                        node.param = (part[1:-1], Node())
                    node = node.param[1]
                else:
                    node = node.literal.setdefault(part, Node())
            node.resource = ApiResource(
                item["id"], item.get("path", "/"), dict(item.get("resourceMethods") or {})
            )
        prefix = "gatewayresponse.header."
        responses = {item["responseType"]: {name[len(prefix):]: value.strip("'")
                                            for name, value in (item.get("responseParameters") or {}).items()
                                            if name.startswith(prefix)}
                     for item in gateway_responses}
        return cls(api["id"], tuple(api.get("binaryMediaTypes") or ()), root, responses)

    def match(self, segments: list[str]) -> Route | None:
        """Most specific resource first: literal part, then {param}, then {proxy+} (greedy, 1+ parts)."""

        def walk(node: Node, i: int, params: dict[str, str]) -> Route | None:
            if i == len(segments):
                return Route(node.resource, params) if node.resource is not None else None
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
                return Route(child.resource, {**params, name: proxied})  # type: ignore[arg-type]
            return None

        return walk(self.root, 0, {})


def is_normal_path(raw_path: str) -> bool:
    """True when the path has no empty, "." or ".." segment, written plainly or percent-encoded: such a path would
    be signed (SigV4 normalises it) as one path and routed as another."""
    segments = raw_path.split("/")[1:]
    for index, segment in enumerate(segments):
        decoded = unquote(segment)
        if decoded in (".", "..") or (segment == "" and index != len(segments) - 1):
            return False
    return True


def select_mapping(mappings: tuple[dict[str, Any], ...], raw_path: str) -> tuple[dict[str, Any], list[str]] | None:
    """The base path mapping that serves `raw_path` (the longest base path of whole segments; "(none)" is the empty
    one) and the raw segments after it; None when none does."""
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
        return None
    consumed, mapping = best
    return mapping, raw_parts[consumed:]
