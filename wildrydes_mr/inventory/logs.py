"""CloudWatch Logs: the log groups of this deployment's functions.

- log-group: DescribeLogGroups under `/aws/lambda/<deployment>-` + ListTagsForResource; tagged, or the log
  group of a function of ours (found_by "name").
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import logs
from wildrydes_mr.workflows import build_api


def find_log_groups(scan: Scan, region: str, functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("logs", region)
    # The log group of a function of ours is ours even untagged: Lambda itself creates `/aws/lambda/<name>`
    # (without tags) when a function logs and its group is missing.
    own = {f"/aws/lambda/{f['name']}" for f in functions}
    own |= {f"/aws/lambda/{build_api.function_name(scan.ctx, spec)}" for spec in build_api.FUNCTIONS}
    found = []
    pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/lambda/{scan.prefix}")
    for page in pages:
        for group in page["logGroups"]:
            name = group["logGroupName"]
            # `arn` ends in ":*"; ListTagsForResource wants the ARN without it (AWS also gives logGroupArn).
            arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
            tags = unless_gone(lambda a=arn: client.list_tags_for_resource(resourceArn=a).get("tags", {}), {})
            if scan.ours(tags):
                found.append(record(logs.LogGroup.kind, region, name, BY_TAG))
            elif name in own:
                found.append(record(logs.LogGroup.kind, region, name, BY_NAME))
    return found
