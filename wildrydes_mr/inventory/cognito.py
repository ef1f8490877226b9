"""Cognito: the identity pool and its role mapping.

- cognito-identity-pool: ListIdentityPools + DescribeIdentityPool (IdentityPoolTags); tagged.
- cognito-pool-roles: GetIdentityPoolRoles of each pool found, when it maps roles (moto lacks the call).
  (A pool's principal-tag map goes with the pool like its roles; nothing to find or delete on its own.)
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, unless_gone
from wildrydes_mr.resources import cognito


def find_identity_pools(scan: Scan, region: str) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("cognito-identity", region)
    found = []
    for page in client.get_paginator("list_identity_pools").paginate(MaxResults=60):
        for summary in page["IdentityPools"]:
            pool_id = summary["IdentityPoolId"]
            pool = unless_gone(lambda p=pool_id: client.describe_identity_pool(IdentityPoolId=p), None)
            if pool is None or not scan.ours(pool.get("IdentityPoolTags")):
                continue
            found.append(record(cognito.IdentityPool.kind, region, pool["IdentityPoolName"], BY_TAG, id=pool_id))
            roles = _pool_roles(scan, region, pool_id)
            if roles:
                found.append(record(cognito.PoolRoles.kind, region, pool_id, BY_NAME, setting={"Roles": roles}))
    return found


def _pool_roles(scan: Scan, region: str, pool_id: str) -> dict[str, str]:
    # moto implements no GetIdentityPoolRoles (NotImplementedError in-process, a bare 500 in server mode,
    # which botocore would retry for a minute): one attempt on an emulator, and "unknown" counts as none.
    # The mapping goes with its pool anyway (its deleter does nothing).
    answer = scan.unless_gone_or_emulator_gap(
        "cognito-identity", region, lambda client: client.get_identity_pool_roles(IdentityPoolId=pool_id), {})
    return answer.get("Roles") or {}
