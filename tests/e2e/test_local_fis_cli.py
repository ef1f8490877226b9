"""The local cloud's replication lag and FIS pause through the real commands: `wildrydes local up` starts it with
local.replication_lag_ms (× time_scale), `local status` shows the lag and, while an FIS pause-replication
experiment runs, the paused table and region; a different lag is refused while it runs; the daemon's front refuses
a template FIS would refuse."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError
from e2e_helpers import PRIMARY, moto_client, wildrydes, wildrydes_json

from wildrydes_mr.local.cloud import data_plane_status

SECONDARY = "ap-southeast-1"
TABLE = "LagTickets"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


def pause_template(endpoint: str, role_arn: str, **action: object) -> dict:
    table_arn = f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/{TABLE}"
    return moto_client(endpoint, "fis").create_experiment_template(
        clientToken="t", description="pause", roleArn=role_arn, stopConditions=[{"source": "none"}],
        targets={"T": {"resourceType": "aws:dynamodb:global-table", "resourceArns": [table_arn],
                       "selectionMode": "ALL"}},
        actions={"P": {"actionId": "aws:dynamodb:global-table-pause-replication",
                       "parameters": {"duration": "PT10M"}, "targets": {"Tables": "T"}, **action}}
    )["experimentTemplate"]


def test_lag_and_an_fis_pause_show_in_local_status(tmp_path):
    config = tmp_path / "wildrydes.yaml"
    config.write_text("local: {time_scale: 0.1, replication_lag_ms: 2000}\n")
    started = wildrydes_json(tmp_path, "local", "up", config=config)
    try:
        endpoint = started["aws_endpoint"]
        status = wildrydes_json(tmp_path, "local", "status", config=config)
        assert status["replication"] == {"paused_tables": {}, "lag_seconds": 0.2}

        other = tmp_path / "other.yaml"
        other.write_text("local: {time_scale: 0.1, replication_lag_ms: 100}\n")
        refused = wildrydes(tmp_path, "local", "up", config=other, check=False)
        assert refused.returncode != 0 and "lag of 2000 ms" in refused.stderr

        for region in (PRIMARY, SECONDARY):
            moto_client(endpoint, "dynamodb", region).create_table(
                TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        role_arn = moto_client(endpoint, "iam").create_role(
            RoleName="lag-fis", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        with pytest.raises(ClientError) as bad:
            pause_template(endpoint, role_arn, parameters={"duration": "PT10S"})
        assert bad.value.response["Error"]["Code"] == "ValidationException"

        deadline = time.monotonic() + 10  # the replicator picks the pair up within a control poll (about 1 s)
        while TABLE not in data_plane_status(started["site_root"])["replication"]["tables"]:
            assert time.monotonic() < deadline, "the replicator never replicated the table pair"
            time.sleep(0.1)
        template = pause_template(endpoint, role_arn)
        fis = moto_client(endpoint, "fis")
        experiment = fis.start_experiment(clientToken="go", experimentTemplateId=template["id"])["experiment"]
        assert fis.get_experiment(id=experiment["id"])["experiment"]["state"]["status"] == "running"
        status = wildrydes_json(tmp_path, "local", "status", config=config)
        assert status["replication"]["paused_tables"] == {TABLE: [PRIMARY]}
        fis.stop_experiment(id=experiment["id"])
        status = wildrydes_json(tmp_path, "local", "status", config=config)
        assert status["replication"]["paused_tables"] == {}
    finally:
        wildrydes(tmp_path, "local", "down", check=False, config=config)
