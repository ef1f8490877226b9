"""The local cloud's FIS as the daemon wires it: the control-plane front (moto in-process behind it) with the FIS
stand-in, and a replicator asking it what is paused. The tool's own calls (wildrydes_mr/resources/fis.py) make the
template and role and start the experiment; it pauses exactly the targeted table's replica in that region, ends at
start + duration × time_scale or when stopped, and replication catches up; what FIS refuses is refused."""

from __future__ import annotations

import dataclasses
import time

import pytest
from botocore.exceptions import ClientError
from context_helpers import QuietReporter
from local_world import PRIMARY, SECONDARY, LocalWorld
from moto.moto_api import state_manager
from test_replicator import Cloud, eventually, table_name

from wildrydes_mr import config as config_module
from wildrydes_mr import state as state_module
from wildrydes_mr.aws import Aws
from wildrydes_mr.engine import Context
from wildrydes_mr.local.credentials import LocalCredential
from wildrydes_mr.local.fis import FisStandIn, global_table_check
from wildrydes_mr.local.identity_trust import role_trust_reader
from wildrydes_mr.local.replicator import Replicator
from wildrydes_mr.resources import fis
from wildrydes_mr.targets import local_target

ADMIN = LocalCredential("AKIAFISTESTADMIN0001", "fis-test-admin-secret",
                        principal_arn="arn:aws:iam::123456789012:user/fis-operator")
TIME_SCALE = 0.05  # PT1M lasts 3 s


@dataclasses.dataclass
class FisWorld:
    world: LocalWorld
    fis: FisStandIn
    replicator: Replicator
    tables: Cloud

    def context(self, table: str) -> Context:
        cfg = config_module.parse(f"target: local\napi: {{table: {table}}}\n", "t.yaml")
        cfg = dataclasses.replace(cfg, deployment=table.lower())
        state = state_module.load(self.world.src_dir.parent / f"{table}.json", cfg.deployment, cfg.target)
        target = local_target(self.world.endpoint, {})
        return Context(aws=Aws(endpoint=target.endpoint), config=cfg, state=state, target=target,
                       module="test-failover", dry_run=False, reporter=QuietReporter())

    def global_table(self) -> str:
        name = table_name()
        self.tables.create(name, PRIMARY, SECONDARY)
        eventually(lambda: name in self.replicator.status()["tables"])
        return name


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    world = LocalWorld(ADMIN, tmp_path_factory.mktemp("lambda_src"))
    stand_in = None
    replicator = None
    try:
        replicators: list[Replicator] = []
        stand_in = FisStandIn(TIME_SCALE, role_trust_reader(lambda: world.client("iam")), global_table_check(
            lambda table: replicators[0].members(table) if replicators else [],
            lambda region: world.client("dynamodb", region)))
        world.control.fis = stand_in  # as the daemon's front has it
        replicator = Replicator(world.endpoint, [PRIMARY, SECONDARY], ADMIN.access_key_id, ADMIN.secret_access_key,
                                poll_interval=0.05, paused=stand_in.paused, dark_since=stand_in.paused_since)
        replicators.append(replicator)
        replicator.start()
        tables = Cloud(world.endpoint, replicator, [])
        yield FisWorld(world, stand_in, replicator, tables)
        tables.delete_tables()
    finally:
        if replicator is not None:
            replicator.stop()
        world.stop()
        state_manager.unset_transition("fis::experiment")  # moto's own again, for later modules


def test_a_started_experiment_pauses_exactly_that_tables_replica_and_replication_catches_up(local):
    paused, other = local.global_table(), local.global_table()
    ctx = local.context(paused)
    made = fis.ensure_pause_template(ctx, PRIMARY, 60)
    assert made["role_arn"].endswith(f"{paused.lower()}-fis-pause-{PRIMARY}")
    experiment_id = fis.start_pause(ctx, PRIMARY, made["template_id"], "local-gameday-1")
    assert local.replicator.status()["paused_tables"] == {paused: [PRIMARY]}
    assert local.fis.status() == {paused: [PRIMARY]}

    local.tables.put(PRIMARY, paused, "lost-for-now", text="acknowledged by the primary")
    local.tables.put(SECONDARY, paused, "made-in-secondary", text="written while paused")
    local.tables.put(PRIMARY, other, "other-table", text="replicates meanwhile")
    eventually(lambda: local.tables.get(SECONDARY, other, "other-table"))
    time.sleep(0.5)  # ten polls: nothing of the paused table crosses either way
    assert local.tables.get(SECONDARY, paused, "lost-for-now") is None
    assert local.tables.get(PRIMARY, paused, "made-in-secondary") is None
    assert fis.pause_active(ctx, PRIMARY, made["template_id"])

    assert fis.stop_pause(ctx, PRIMARY, made["template_id"]) == [experiment_id]
    fis_client = ctx.aws.client("fis", PRIMARY)
    assert fis_client.get_experiment(id=experiment_id)["experiment"]["state"]["status"] == "stopped"
    eventually(lambda: local.tables.get(SECONDARY, paused, "lost-for-now")
               and local.tables.get(PRIMARY, paused, "made-in-secondary"), timeout=3)
    assert local.replicator.status()["paused_tables"] == {}


def test_an_experiment_ends_at_its_duration_times_time_scale(local):
    name = local.global_table()
    ctx = local.context(name)
    made = fis.ensure_pause_template(ctx, SECONDARY, 60)  # PT1M: 3 s at time_scale 0.05
    started = time.monotonic()
    experiment_id = fis.start_pause(ctx, SECONDARY, made["template_id"], "local-gameday-2")
    local.tables.put(SECONDARY, name, "held", text="waits for the pause to end")
    fis_client = ctx.aws.client("fis", SECONDARY)
    for _ in range(5):  # moto alone would call it completed after three reads
        assert fis_client.get_experiment(id=experiment_id)["experiment"]["state"]["status"] == "running"
    assert local.tables.get(PRIMARY, name, "held") is None
    eventually(lambda: fis_client.get_experiment(id=experiment_id)["experiment"]["state"]["status"] == "completed",
               timeout=6, interval=0.1)
    assert 2.5 <= time.monotonic() - started < 5.5
    eventually(lambda: local.tables.get(PRIMARY, name, "held"), timeout=3)
    assert fis.stop_pause(ctx, SECONDARY, made["template_id"]) == []


def test_an_experiment_on_a_table_without_a_replica_fails_and_pauses_nothing(local):
    name = table_name()
    local.tables.create(name, PRIMARY)
    ctx = local.context(name)
    made = fis.ensure_pause_template(ctx, PRIMARY, 60)
    with pytest.raises(Exception) as failed:
        fis.start_pause(ctx, PRIMARY, made["template_id"], "local-gameday-3")
    assert "not a global table" in str(failed.value)
    assert local.fis.status() == {}


def test_the_front_refuses_templates_fis_refuses(local):
    name = local.global_table()
    ctx = local.context(name)
    made = fis.ensure_pause_template(ctx, PRIMARY, 60)
    client = ctx.aws.client("fis", PRIMARY)
    held = client.get_experiment_template(id=made["template_id"])["experimentTemplate"]
    for change in ({"actionId": "aws:dynamodb:pause-it-all"}, {"parameters": {"duration": "PT10S"}},
                   {"targets": {"Instances": "TicketsTable"}}):
        action = {**held["actions"]["PauseReplication"], **change}
        with pytest.raises(ClientError) as refused:
            client.update_experiment_template(id=made["template_id"], actions={"PauseReplication": action})
        assert refused.value.response["Error"]["Code"] == "ValidationException", change
    with pytest.raises(ClientError) as refused:
        client.create_experiment_template(clientToken="x", description="d", roleArn=made["role_arn"],
                                          stopConditions=[{"source": "aws:none"}], actions=held["actions"],
                                          targets=held["targets"])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "aws:none" in refused.value.response["Error"]["Message"]
    # Nothing changed: the template is as the tool made it.
    again = client.get_experiment_template(id=made["template_id"])["experimentTemplate"]
    assert again["actions"] == held["actions"]
