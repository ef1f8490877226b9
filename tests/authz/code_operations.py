"""Every AWS operation the tool's code can make, read from the code itself (ast), outside wildrydes_mr/local/.

In each module: the services named in its `.client("<service>", ...)` calls; every method called there whose name
is an operation of one of those services (botocore's snake_case names), every `get_paginator("<operation>")`, and
the calls made by name (`getattr(client, f"get_{...}")` over the `operation = "..."` class attributes of the
module, as resources/cognito.py does). Returns {(service, Operation): {module paths}}.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "wildrydes_mr"


@functools.cache
def _operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def _services(tree: ast.AST) -> set[str]:
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def _by_name_prefixes(tree: ast.AST) -> set[str]:
    """The literal prefixes of `getattr(x, f"<prefix>{...}")` calls (e.g. "get_", "set_")."""
    prefixes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.JoinedStr):
            first = node.args[1].values[0] if node.args[1].values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                prefixes.add(first.value)
    return prefixes


def _operation_attributes(tree: ast.AST) -> set[str]:
    return {node.value.value for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and node.value.value
            and any(isinstance(t, ast.Name) and t.id == "operation" for t in node.targets)}


def _called_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.add(node.func.attr)
            if node.func.attr == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def code_operations() -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "local" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        services = _services(tree)
        if not services:
            continue
        names = _called_names(tree)
        names |= {prefix + xform_name(attribute) for prefix in _by_name_prefixes(tree)
                  for attribute in _operation_attributes(tree)}
        for service in services:
            for name in names:
                operation = _operations(service).get(name)
                if operation:
                    found.setdefault((service, operation), set()).add(str(path.relative_to(ROOT)))
    return found
