"""IAM (global): the roles of this deployment.

- iam-role: ListRoles named `<deployment>-...` + ListRoleTags; tagged.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import iam


def find_roles(scan: Scan) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("iam", scan.primary)
    found = []
    for page in client.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            # Every role the tool makes is named `<deployment>-...`; only those are worth a tag read
            # (ListRoles carries no tags, and IAM is slow for accounts with many roles).
            if not name.startswith(scan.prefix):
                continue
            tags = unless_gone(lambda n=name: client.list_role_tags(RoleName=n)["Tags"], [])
            if scan.ours(tags):
                found.append(record(iam.Role.kind, scan.home_region(name), name, BY_TAG, arn=role["Arn"]))
    return found
