"""One module per AWS service: find / create / update / delete of the resources this tool makes.

`DELETERS` maps each recorded resource kind to its delete function: cleanup dispatches through it.
"""

from __future__ import annotations

from wildrydes_mr.engine import Deleter
from wildrydes_mr.resources import apigateway, dynamodb, iam, lambda_fn, logs

DELETERS: dict[str, Deleter] = {
    dynamodb.Table.kind: dynamodb.delete_table,
    iam.Role.kind: iam.delete_role,
    logs.LogGroup.kind: logs.delete_log_group,
    lambda_fn.Function.kind: lambda_fn.delete_function,
    lambda_fn.InvokePermission.kind: lambda_fn.delete_permission,
    apigateway.RestApi.kind: apigateway.delete_rest_api,
}
