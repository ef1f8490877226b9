"""Lambda: the functions and the resource-policy statements that let API Gateway invoke them.

- lambda-function: ListFunctions + ListTags; tagged.
- lambda-permission: GetPolicy of each function found; the statement id `wildrydes-apigateway-invoke`.
"""

from __future__ import annotations

import json
from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import lambda_fn


def find_functions(scan: Scan, region: str) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("lambda", region)
    found = []
    for page in client.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            # ListFunctions carries no tags; ListTags answers NotFound for a function deleted meanwhile.
            tags = unless_gone(lambda a=function["FunctionArn"]: client.list_tags(Resource=a)["Tags"], {})
            if scan.ours(tags):
                found.append(record(lambda_fn.Function.kind, region, function["FunctionName"], BY_TAG,
                                    arn=function["FunctionArn"]))
    return found


def find_permissions(scan: Scan, region: str, functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resource-policy statements have no tags: the tool's statement id on a function of ours."""
    client = scan.ctx.aws.client("lambda", region)
    found = []
    for function in functions:
        policy = unless_gone(lambda n=function["name"]: client.get_policy(FunctionName=n)["Policy"], None)
        statements = json.loads(policy).get("Statement", []) if policy else []
        if any(s.get("Sid") == lambda_fn.InvokePermission.STATEMENT_ID for s in statements):
            found.append(record(lambda_fn.InvokePermission.kind, region, function["name"], BY_NAME))
    return found
