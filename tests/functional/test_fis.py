"""The replication pause through AWS FIS (wildrydes_mr/resources/fis.py) on moto in-process behind the behaviour layer
(whose FIS rule refuses what FIS refuses and holds experiments' states over simulated time): the template and its
least-privilege role are made once and then left alone, an experiment runs until it is stopped or its duration has
passed, a failing one is reported with FIS's reason, and cleanup (and the inventory) take both away."""

from __future__ import annotations

import json
import urllib.parse

import boto3
import pytest
from fidelity import install as fidelity
from fidelity.tables import make_global_table

from wildrydes_mr.engine import teardown
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.inventory import find_deployment_resources
from wildrydes_mr.resources import DELETERS, fis

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"
TABLE = "SXRTickets"


def state_of(experiment_id: str, region: str = PRIMARY) -> str:
    return boto3.client("fis", region).get_experiment(id=experiment_id)["experiment"]["state"]["status"]


@pytest.fixture
def made(make_context):
    make_global_table(TABLE, PRIMARY, SECONDARY)
    ctx = make_context(module="test-failover")
    return ctx, fis.ensure_pause_template(ctx, PRIMARY, 10)


def test_template_and_role_are_least_privilege_and_a_second_ensure_changes_nothing(make_context, made):
    ctx, made_ids = made
    assert made_ids["table_arn"] == f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/{TABLE}"
    template = boto3.client("fis", PRIMARY).get_experiment_template(id=made_ids["template_id"])["experimentTemplate"]
    (action,) = template["actions"].values()
    assert action["actionId"] == "aws:dynamodb:global-table-pause-replication"
    assert action["parameters"] == {"duration": "PT1M"}  # 10 s, rounded up to FIS's whole minutes
    (target,) = template["targets"].values()
    assert target["resourceType"] == "aws:dynamodb:global-table"
    assert target["resourceArns"] == [made_ids["table_arn"]] and action["targets"] == {"Tables": "TicketsTable"}
    assert template["stopConditions"] == [{"source": "none"}] and template["roleArn"] == made_ids["role_arn"]
    assert template["tags"] == {"wildrydes:deployment": "wildrydes", "Name": f"wildrydes-pause-replication-{PRIMARY}"}

    iam = boto3.client("iam")
    role_name = made_ids["role_arn"].rsplit("/", 1)[1]
    assert role_name == f"wildrydes-fis-pause-{PRIMARY}"
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "fis.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    policy = iam.get_role_policy(RoleName=role_name, PolicyName=role_name)["PolicyDocument"]
    policy = json.loads(urllib.parse.unquote(policy)) if isinstance(policy, str) else policy
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in a for a in actions)
        # Only tag:GetResources, which has no resource-level permissions, is granted on "*".
        assert statement["Resource"] != "*" or actions == ["tag:GetResources"]
    assert policy["Statement"][0]["Resource"] == [made_ids["table_arn"], f"{made_ids['table_arn']}/stream/*"]
    assert {r["kind"] for r in ctx.state.resources.values()} == {"iam-role", "fis-experiment-template"}

    again = make_context(module="test-failover")
    assert fis.ensure_pause_template(again, PRIMARY, 10) == made_ids
    assert again.aws.calls.mutating == 0, again.aws.calls.operations

    longer = make_context(module="test-failover")
    fis.ensure_pause_template(longer, PRIMARY, 301)  # a longer window: the template is updated in place
    assert longer.aws.calls.mutating == 1
    assert longer.aws.calls.operations["fis:UpdateExperimentTemplate"] == 1
    template = boto3.client("fis", PRIMARY).get_experiment_template(id=made_ids["template_id"])["experimentTemplate"]
    assert template["actions"]["PauseReplication"]["parameters"] == {"duration": "PT6M"}


def test_start_runs_the_experiment_and_stop_stops_it_once(made):
    ctx, made_ids = made
    experiment_id = fis.start_pause(ctx, PRIMARY, made_ids["template_id"], "gameday-1")
    assert state_of(experiment_id) == "running"
    # The same client token is the same experiment: a retried start makes no second pause.
    assert fis.start_pause(ctx, PRIMARY, made_ids["template_id"], "gameday-1") == experiment_id
    for _ in range(6):  # moto alone would call it completed after a few reads
        assert state_of(experiment_id) == "running"
    assert fis.pause_active(ctx, PRIMARY, made_ids["template_id"])

    assert fis.stop_pause(ctx, PRIMARY, made_ids["template_id"]) == [experiment_id]
    assert state_of(experiment_id) == "stopped"
    assert not fis.pause_active(ctx, PRIMARY, made_ids["template_id"])
    assert fis.stop_pause(ctx, PRIMARY, made_ids["template_id"]) == []


def test_an_experiment_ends_by_itself_once_its_duration_has_passed(made):
    ctx, made_ids = made
    experiment_id = fis.start_pause(ctx, PRIMARY, made_ids["template_id"], "gameday-2")
    fidelity.sleep(30)
    assert state_of(experiment_id) == "running"
    fidelity.sleep(31)  # PT1M since it began to run
    assert state_of(experiment_id) == "completed"
    assert not fis.pause_active(ctx, PRIMARY, made_ids["template_id"])
    assert fis.stop_pause(ctx, PRIMARY, made_ids["template_id"]) == []


def test_an_experiment_on_a_table_that_is_not_global_fails_with_fiss_reason(make_context):
    boto3.client("dynamodb", SECONDARY).create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ctx = make_context(module="test-failover")
    made_ids = fis.ensure_pause_template(ctx, SECONDARY, 10)
    with pytest.raises(WildrydesError) as failed:
        fis.start_pause(ctx, SECONDARY, made_ids["template_id"], "gameday-3")
    assert "is failed" in failed.value.message and "not a global table" in failed.value.message


def test_an_experiment_whose_role_fis_may_not_assume_fails(made):
    ctx, made_ids = made
    role_name = made_ids["role_arn"].rsplit("/", 1)[1]
    boto3.client("iam").update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    with pytest.raises(WildrydesError) as failed:
        fis.start_pause(ctx, PRIMARY, made_ids["template_id"], "gameday-4")
    assert "Unable to assume role" in failed.value.message


def test_cleanup_stops_a_running_experiment_and_removes_template_and_role(make_context, made):
    ctx, made_ids = made
    experiment_id = fis.start_pause(ctx, PRIMARY, made_ids["template_id"], "gameday-5")  # a killed game day's
    found = {(r["kind"], r["name"]) for r in find_deployment_resources(ctx, [PRIMARY, SECONDARY])}
    assert {("fis-experiment-template", f"wildrydes-pause-replication-{PRIMARY}"),
            ("iam-role", f"wildrydes-fis-pause-{PRIMARY}")} <= found

    records = list(reversed(list(ctx.state.resources.values())))  # newest first, as cleanup takes them
    assert [r["kind"] for r in records] == ["fis-experiment-template", "iam-role"]
    done, failures = teardown(ctx, records, DELETERS)
    assert not failures and len(done) == 2
    assert state_of(experiment_id) == "stopped"
    assert boto3.client("fis", PRIMARY).list_experiment_templates()["experimentTemplates"] == []
    assert not [r for r in boto3.client("iam").list_roles()["Roles"] if "fis-pause" in r["RoleName"]]
    assert not find_deployment_resources(ctx, [PRIMARY, SECONDARY])
    assert ctx.state.resources == {}


def test_is_fis_pause_statement_recognises_only_fiss_temporary_deny():
    fis_statement = {"Sid": "DoNotModifyFisDynamoDbPauseReplicationEXP1234abcd", "Effect": "Deny",
                     "Principal": {"AWS": "*"}, "Action": ["dynamodb:GetItem"], "Resource": "arn:aws:dynamodb:..."}
    assert fis.is_fis_pause_statement(fis_statement)
    assert fis.is_fis_pause_statement({**fis_statement, "Sid": fis_statement["Sid"] + "ForApplicationAutoScaling"})
    assert not fis.is_fis_pause_statement({**fis_statement, "Effect": "Allow"})
    assert not fis.is_fis_pause_statement({**fis_statement, "Sid": "MyDeny"})
