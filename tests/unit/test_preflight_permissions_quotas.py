"""preflight's permission simulation, quota checks, the checklist as a whole and the `preflight` command, against
fakes: what each concludes from AWS's answers, and which calls it makes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from preflight_fakes import FakeAws, client_error, fake_context

from wildrydes_mr import preflight
from wildrydes_mr.commands.preflight import preflight as preflight_command
from wildrydes_mr.preflight import identity, quotas, simulation
from wildrydes_mr.preflight.checklist import CANNOT_CHECK, FAIL, PASS
from wildrydes_mr.session import Options

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops/Deployer"
SESSION = identity.parse_caller(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/ci")
TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/SXRTickets"
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:wildrydes-health"


def required(config, caller):
    return [{"action": "dynamodb:CreateTable", "resources": [TABLE]},
            {"action": "dynamodb:UpdateTable", "resources": [TABLE]},
            {"action": "lambda:CreateFunction", "resources": [FUNCTION]},
            {"action": "iam:PassRole", "resources": [ROLE], "context": {"iam:PassedToService": [
                "lambda.amazonaws.com"]}},
            {"action": "route53:ListHostedZonesByName", "resources": ["*"]}]


def result(action, *decisions, missing=()):
    """The current answer shape: one result per action, a decision per resource."""
    per_resource = [{"EvalResourceName": resource, "EvalResourceDecision": decision,
                     "MissingContextValues": list(missing) if decision != "allowed" else []}
                    for resource, decision in decisions]
    worst = "allowed" if all(d == "allowed" for _, d in decisions) else "implicitDeny"
    return {"EvalActionName": action, "EvalDecision": worst, "ResourceSpecificResults": per_resource}


def simulator(decide, missing=()):
    def answer(PolicySourceArn, ActionNames, ResourceArns, **extra):
        assert PolicySourceArn == ROLE
        return [{"EvaluationResults": [result(a, *[(r, decide(a, r)) for r in ResourceArns], missing=missing)
                                       for a in ActionNames]}]
    return answer


def aws_with(decide, missing=()):
    return FakeAws({"iam": {"get_role": {"Role": {"Arn": ROLE}},
                            "simulate_principal_policy": simulator(decide, missing)}})


def check(aws):
    return simulation.check_permissions(aws, "eu-west-1", SESSION, fake_context({}).config, required)


def test_every_requirement_allowed_passes_and_actions_sharing_resources_share_a_call():
    aws = aws_with(lambda action, resource: "allowed")
    item = check(aws)
    assert item.status == PASS and ROLE in item.detail and "5 actions" in item.detail
    calls = [params for _, operation, params in aws.calls if operation == "simulate_principal_policy"]
    assert sorted(c["ActionNames"] for c in calls) == [["dynamodb:CreateTable", "dynamodb:UpdateTable"],
                                                       ["iam:PassRole"], ["lambda:CreateFunction"],
                                                       ["route53:ListHostedZonesByName"]]
    (passing,) = [c for c in calls if c["ActionNames"] == ["iam:PassRole"]]
    assert passing["ContextEntries"] == [{"ContextKeyName": "iam:PassedToService", "ContextKeyType": "stringList",
                                          "ContextKeyValues": ["lambda.amazonaws.com"]}]


def test_a_denied_action_fails_naming_it_and_the_policy_to_attach():
    item = check(aws_with(lambda action, resource: "implicitDeny" if action == "dynamodb:UpdateTable" else "allowed"))
    assert item.status == FAIL and f"dynamodb:UpdateTable on {TABLE}" in item.detail
    assert "wildrydes policy" in item.fix and ROLE in item.fix
    assert item.data["denied"] == [{"action": "dynamodb:UpdateTable", "resource": TABLE, "decision": "implicitDeny",
                                    "missing_context": []}]


def test_a_denial_for_want_of_a_condition_key_is_cannot_check():
    def needs_context(config, caller):
        return [{"action": "iam:CreateServiceLinkedRole", "resources": ["*"]}]
    aws = aws_with(lambda action, resource: "implicitDeny", missing=["iam:AWSServiceName"])
    item = simulation.check_permissions(aws, "eu-west-1", SESSION, fake_context({}).config, needs_context)
    assert item.status == CANNOT_CHECK and "iam:AWSServiceName" in item.detail


def test_the_older_answer_shape_one_result_per_resource_is_read_too():
    older = {"EvalActionName": "dynamodb:CreateTable", "EvalResourceName": TABLE, "EvalDecision": "explicitDeny"}
    assert simulation._denials(older) == [{"action": "dynamodb:CreateTable", "resource": TABLE,
                                           "decision": "explicitDeny", "missing_context": []}]


def test_root_and_a_refused_simulation_are_cannot_check():
    root = identity.parse_caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
    nothing = FakeAws({})
    item = simulation.check_permissions(nothing, "eu-west-1", root, fake_context({}).config, required)
    assert item.status == CANNOT_CHECK and "root user" in item.detail and nothing.calls == []
    refused = FakeAws({"iam": {"get_role": {"Role": {"Arn": ROLE}},
                               "simulate_principal_policy": client_error("AccessDenied")}})
    item = check(refused)
    assert item.status == CANNOT_CHECK and "iam:SimulatePrincipalPolicy" in item.fix


# --- quotas -----------------------------------------------------------------------------------------------

def quota(value):
    return {"Quota": {"Value": value}}


def test_lambda_concurrency_needs_ten_unreserved():
    ctx = fake_context({"service-quotas": {"get_service_quota": quota(1000.0)},
                        "lambda": {"get_account_settings": {"AccountLimit": {"UnreservedConcurrentExecutions": 9}}}})
    item = quotas.check_lambda_concurrency(ctx, "eu-west-1")
    assert item.status == FAIL and "L-B99A9384" in item.fix and "unreserved 9 of 1000" in item.detail
    ctx.aws.answers["lambda"]["get_account_settings"] = {"AccountLimit": {"UnreservedConcurrentExecutions": 10}}
    assert quotas.check_lambda_concurrency(ctx, "eu-west-1").status == PASS
    assert ("service-quotas", "get_service_quota", {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"}) \
        in ctx.aws.calls


def test_a_quota_without_an_applied_value_falls_back_to_the_default():
    ctx = fake_context({"service-quotas": {"get_service_quota": client_error("NoSuchResourceException"),
                                           "get_aws_default_service_quota": quota(120.0)}})
    assert quotas.quota_value(ctx.aws, "eu-west-1", quotas.CUSTOM_DOMAINS) == 120.0


def test_custom_domains_count_only_the_names_not_yet_made():
    others = [{"domainName": f"d{n}.example.org"} for n in range(118)]
    ctx = fake_context({"service-quotas": {"get_service_quota": quota(120.0)},
                        "apigateway": {"get_domain_names": [{"items": others[:100]}, {"items": others[100:]}]}})
    names = ["api.wildrydes.example.com", "eu-west-1.wildrydes.example.com"]
    item = quotas.check_custom_domains(ctx, "eu-west-1", names)
    assert item.status == PASS and item.data == {"limit": 120.0, "used": 118, "adds": 2}
    ctx.aws.answers["apigateway"]["get_domain_names"] = [{"items": [*others, {"domainName": "x.example.org"}]}]
    item = quotas.check_custom_domains(ctx, "eu-west-1", names)
    assert item.status == FAIL and "L-A93447B8" in item.fix
    ctx.aws.answers["apigateway"]["get_domain_names"] = [{"items": [*others, {"domainName": names[0]}]}]
    assert quotas.check_custom_domains(ctx, "eu-west-1", names).data["adds"] == 1


def test_rest_apis_count_regional_ones_against_the_fixed_600():
    apis = [{"name": f"a{n}", "endpointConfiguration": {"types": ["REGIONAL"]}} for n in range(600)]
    ctx = fake_context({"apigateway": {"get_rest_apis": [{"items": [*apis, {"name": "e",
                                                                            "endpointConfiguration": {
                                                                                "types": ["EDGE"]}}]}]}})
    item = quotas.check_rest_apis(ctx, "eu-west-1")
    assert item.status == FAIL and item.data["used"] == 600 and "cannot be raised" in item.fix
    apis[0]["name"] = "wildrydes-tickets"  # ours exists already: nothing is added
    assert quotas.check_rest_apis(ctx, "eu-west-1").status == PASS


def test_certificates_are_listed_with_every_key_type():
    ctx = fake_context({"service-quotas": {"get_service_quota": quota(2500.0)},
                        "acm": {"list_certificates": [{"CertificateSummaryList": [
                            {"DomainName": "api.wildrydes.example.com"}]}]}})
    item = quotas.check_certificates(ctx, "eu-west-1", "api.wildrydes.example.com")
    assert item.status == PASS and item.data["adds"] == 0
    (listing,) = [params for service, operation, params in ctx.aws.calls if operation == "list_certificates"]
    assert listing == {"Includes": {"keyTypes": quotas.ACM_KEY_TYPES}}


def test_a_refused_quota_read_is_cannot_check():
    ctx = fake_context({"service-quotas": {"get_service_quota": client_error("AccessDeniedException")}})
    item = quotas.check_certificates(ctx, "eu-west-1", "api.wildrydes.example.com")
    assert item.status == CANNOT_CHECK and "servicequotas:GetServiceQuota" in item.fix


# --- the checklist and the command ------------------------------------------------------------------------

def test_without_credentials_the_aws_checks_are_skipped_and_the_run_fails():
    import botocore.exceptions

    ctx = fake_context({"sts": {"get_caller_identity": botocore.exceptions.NoCredentialsError()},
                        "dynamodb": {"describe_table": client_error("ResourceNotFoundException")}},
                       'target: aws\nsite: {facebook_app_id: "1234567890"}\n')
    result = preflight.run(ctx)
    statuses = {item["name"]: item["status"] for item in result["items"]}
    assert statuses["credentials and account"] == FAIL and statuses["AWS checks"] == CANNOT_CHECK
    assert statuses["Facebook app id"] == PASS and result["passed"] is False
    with pytest.raises(preflight.PreflightFailed) as refused:
        preflight.require_passed(result)
    assert "credentials and account" in refused.value.message and "AWS_PROFILE" in refused.value.hint


def run_command(tmp_path: Path, config_text: str, *args: str) -> tuple[int, str]:
    config = tmp_path / "wildrydes.yaml"
    config.write_text(config_text)

    @click.group()
    @click.option("--output", default="text")
    @click.pass_context
    def group(ctx, output):
        ctx.obj = Options(config, tmp_path / "state.json", None, output, False)
    group.add_command(preflight_command)
    outcome = CliRunner().invoke(group, list(args))
    if outcome.exception and not isinstance(outcome.exception, SystemExit):
        raise outcome.exception
    return outcome.exit_code, outcome.output


def test_command_on_target_local_checks_the_config_and_starts_nothing(tmp_path):
    code, out = run_command(tmp_path, "target: local\n", "--output", "json", "preflight")
    result = json.loads(out)
    assert code == 0 and result["passed"] is True
    assert [item["status"] for item in result["items"]] == [CANNOT_CHECK, PASS]
    assert [path.name for path in tmp_path.iterdir()] == ["wildrydes.yaml"]  # no state, no local cloud started
    code, out = run_command(tmp_path, "target: local\nobjectives: {rto_seconds: 60}\n", "preflight")
    assert code == 1 and "wildrydes preflight" in out and "fix:" in out and "failed" in out


def test_command_refuses_a_bad_resolver(tmp_path):
    with pytest.raises(Exception, match="HOST"):
        run_command(tmp_path, "target: local\n", "preflight", "--resolver", "name.example")
