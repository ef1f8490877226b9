"""The behaviour layer's FIS rule (tests/fidelity/rules_fis.py), called directly with boto3 on moto in-process: it
refuses the templates FIS refuses and moto stores, and holds an experiment's state as FIS does (moto alone calls any
experiment completed after a few reads)."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from fidelity import install as fidelity
from fidelity.tables import make_global_table
from moto import mock_aws

REGION, OTHER = "eu-west-1", "ap-southeast-1"
ACCOUNT = "123456789012"
TABLE = "Tickets"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
FIS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                  "ArnLike": {"aws:SourceArn": f"arn:aws:fis:{REGION}:{ACCOUNT}:experiment/*"}}}]}


@pytest.fixture
def layer(aws_behaviour):
    with mock_aws():
        yield aws_behaviour.layer


def fired(layer, name: str = "fis-experiments") -> int:
    return layer.fired_counts().get(name, 0)


def role(trust: dict = FIS_TRUST, name: str = "pause") -> str:
    return boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def template(role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/pause", duration: str = "PT2M") -> dict:
    return {"clientToken": "t", "description": "pause the tickets table", "roleArn": role_arn,
            "stopConditions": [{"source": "none"}],
            "targets": {"Table": {"resourceType": "aws:dynamodb:global-table", "resourceArns": [TABLE_ARN],
                                  "selectionMode": "ALL"}},
            "actions": {"Pause": {"actionId": "aws:dynamodb:global-table-pause-replication",
                                  "parameters": {"duration": duration}, "targets": {"Tables": "Table"}}}}


def broken(change) -> dict:
    body = copy.deepcopy(template())
    change(body)
    return body


REFUSED = {
    "unknown action id": lambda b: b["actions"]["Pause"].update(actionId="aws:dynamodb:pause-everything"),
    "wrong target type": lambda b: b["targets"]["Table"].update(resourceType="aws:ec2:instance"),
    "wrong action target key": lambda b: b["actions"]["Pause"].update(targets={"Instances": "Table"}),
    "target the template lacks": lambda b: b["actions"]["Pause"].update(targets={"Tables": "Nope"}),
    "no resources": lambda b: b["targets"]["Table"].pop("resourceArns"),
    "table of another region": lambda b: b["targets"]["Table"].update(
        resourceArns=[TABLE_ARN.replace(REGION, OTHER)]),
    "not a table ARN": lambda b: b["targets"]["Table"].update(
        resourceArns=[f"arn:aws:s3:::{'b' * 20}"]),
    "duration missing": lambda b: b["actions"]["Pause"].update(parameters={}),
    "duration in words": lambda b: b["actions"]["Pause"]["parameters"].update(duration="5minutes"),
    "duration under a minute": lambda b: b["actions"]["Pause"]["parameters"].update(duration="PT30S"),
    "duration over 12 hours": lambda b: b["actions"]["Pause"]["parameters"].update(duration="PT12H1M"),
    "unknown parameter": lambda b: b["actions"]["Pause"]["parameters"].update(percentage="50"),
    "stop condition aws:none": lambda b: b.update(stopConditions=[{"source": "aws:none"}]),
    "alarm without an ARN": lambda b: b.update(stopConditions=[{"source": "aws:cloudwatch:alarm"}]),
    "role ARN that is a user's": lambda b: b.update(roleArn=f"arn:aws:iam::{ACCOUNT}:user/pause"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_templates_fis_refuses_are_refused(layer, case):
    client = boto3.client("fis", REGION)
    with pytest.raises(ClientError) as refused:
        client.create_experiment_template(**broken(REFUSED[case]))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert fired(layer) == 1
    assert client.list_experiment_templates()["experimentTemplates"] == []  # moto never saw it


def test_a_valid_template_is_stored_and_an_update_is_checked_merged(layer):
    client = boto3.client("fis", REGION)
    created = client.create_experiment_template(**template())["experimentTemplate"]
    assert fired(layer) == 0
    with pytest.raises(ClientError) as refused:
        client.update_experiment_template(id=created["id"], actions={"Pause": {
            "actionId": "aws:dynamodb:global-table-pause-replication", "parameters": {"duration": "PT1H"},
            "targets": {"Tables": "Missing"}}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    client.update_experiment_template(id=created["id"], actions={"Pause": {
        "actionId": "aws:dynamodb:global-table-pause-replication", "parameters": {"duration": "PT1H"},
        "targets": {"Tables": "Table"}}})
    held = client.get_experiment_template(id=created["id"])["experimentTemplate"]
    assert held["actions"]["Pause"]["parameters"] == {"duration": "PT1H"}


def test_an_experiment_initiates_runs_for_its_duration_then_completes(layer):
    make_global_table(TABLE, REGION, OTHER)
    client = boto3.client("fis", REGION)
    made = client.create_experiment_template(**template(role()))["experimentTemplate"]
    started = client.start_experiment(clientToken="x", experimentTemplateId=made["id"])["experiment"]
    assert started["state"]["status"] == "initiating"
    for _ in range(5):  # moto alone: initiating, running, completed after three reads
        assert client.get_experiment(id=started["id"])["experiment"]["state"]["status"] == "initiating"
    fidelity.sleep(10)
    state = client.get_experiment(id=started["id"])["experiment"]["state"]
    assert state["status"] == "running", state
    (summary,) = client.list_experiments(experimentTemplateId=made["id"])["experiments"]
    assert summary["state"]["status"] == "running"
    fidelity.sleep(119)
    assert client.get_experiment(id=started["id"])["experiment"]["state"]["status"] == "running"
    fidelity.sleep(2)
    experiment = client.get_experiment(id=started["id"])["experiment"]
    assert experiment["state"]["status"] == "completed" and "endTime" in experiment
    assert client.stop_experiment(id=started["id"])["experiment"]["state"]["status"] == "completed"


def test_a_stopped_experiment_is_stopping_then_stopped(layer):
    make_global_table(TABLE, REGION, OTHER)
    client = boto3.client("fis", REGION)
    made = client.create_experiment_template(**template(role()))["experimentTemplate"]
    started = client.start_experiment(clientToken="x", experimentTemplateId=made["id"])["experiment"]
    fidelity.sleep(15)
    assert client.stop_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopping"
    assert client.get_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopping"
    fidelity.sleep(10)
    assert client.get_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopped"
    fidelity.sleep(600)  # its duration has long passed: stopped stays stopped
    assert client.get_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopped"


@pytest.mark.parametrize("problem", ["no role", "role trusts another service", "table missing", "not global"])
def test_an_experiment_fails_as_it_starts_when_its_role_or_target_does_not_resolve(layer, problem):
    ddb = boto3.client("dynamodb", REGION)
    if problem == "not global":
        ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    elif problem != "table missing":
        make_global_table(TABLE, REGION, OTHER)
    arn = f"arn:aws:iam::{ACCOUNT}:role/pause"
    if problem == "role trusts another service":
        arn = role({**FIS_TRUST, "Statement": [{**FIS_TRUST["Statement"][0],
                                                 "Principal": {"Service": "lambda.amazonaws.com"}}]})
    elif problem != "no role":
        arn = role()
    client = boto3.client("fis", REGION)
    made = client.create_experiment_template(**template(arn))["experimentTemplate"]
    started = client.start_experiment(clientToken="x", experimentTemplateId=made["id"])["experiment"]
    fidelity.sleep(10)
    state = client.get_experiment(id=started["id"])["experiment"]["state"]
    assert state["status"] == "failed"
    expected = {"no role": "does not exist", "role trusts another service": "does not let fis.amazonaws.com",
                "table missing": f"no table {TABLE}", "not global": "not a global table"}[problem]
    assert expected in state["reason"], state["reason"]


def test_a_replica_table_is_a_valid_target_too(layer):
    """FIS pauses the replica in the experiment's region: the replica's own region may be targeted."""
    make_global_table(TABLE, REGION, OTHER)
    client = boto3.client("fis", OTHER)
    arn = role(json.loads(json.dumps(FIS_TRUST).replace(REGION, OTHER)))
    body = template(arn)
    body["targets"]["Table"]["resourceArns"] = [TABLE_ARN.replace(REGION, OTHER)]
    made = client.create_experiment_template(**body)["experimentTemplate"]
    started = client.start_experiment(clientToken="x", experimentTemplateId=made["id"])["experiment"]
    fidelity.sleep(10)
    state = client.get_experiment(id=started["id"])["experiment"]["state"]
    assert state["status"] == "running", state
