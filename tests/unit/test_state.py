"""The state file: atomic saves, order for teardown, refusal of bad files, and the lock."""

from __future__ import annotations

import json
import multiprocessing
import time

import pytest

from wildrydes_mr import state
from wildrydes_mr.errors import StateError, StateLockedError


def test_put_saves_at_once_and_reload_keeps_order(tmp_path):
    path = tmp_path / "s.json"
    s = state.load(path, "wr", "local")
    s.put("dynamodb-table", "eu-west-1", "T", "build-api", arn="arn:t")
    assert json.loads(path.read_text())["resources"]["eu-west-1/dynamodb-table/T"]["arn"] == "arn:t"
    s.put("iam-role", "eu-west-1", "R", "build-api", arn="arn:r")
    s.put("dynamodb-table", "eu-west-1", "T", "build-api", arn="arn:t2")  # refresh keeps original order
    again = state.load(path, "wr", "local")
    assert [r["name"] for r in again.in_reverse_order()] == ["R", "T"]
    assert again.get("dynamodb-table", "eu-west-1", "T")["arn"] == "arn:t2"
    again.put("lambda-function", "eu-west-1", "F", "build-api")
    assert [r["name"] for r in again.in_reverse_order()] == ["F", "R", "T"]
    again.remove("iam-role", "eu-west-1", "R")
    assert [r["name"] for r in state.load(path, "wr", "local").in_reverse_order()] == ["F", "T"]
    assert not list(tmp_path.glob("*.tmp"))


def test_unchanged_put_does_not_rewrite(tmp_path):
    path = tmp_path / "s.json"
    s = state.load(path, "wr", "local")
    s.put("log-group", "eu-west-1", "/g", "build-api")
    stamp = path.stat().st_mtime_ns
    time.sleep(0.01)
    s.put("log-group", "eu-west-1", "/g", "build-api")
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize("content", [
    "", "{", "not json", "[]", '{"schema_version": 99, "resources": {}}',
    '{"schema_version": 1, "deployment": "wr", "target": "local", "resources": {"x": {"kind": 1}}}',
    '{"schema_version": 1, "deployment": "wr", "target": "local", "resources": []}',
])
def test_unreadable_or_corrupt_state_is_a_clear_error(tmp_path, content):
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(StateError) as raised:
        state.load(path, "wr", "local")
    assert str(path) in raised.value.message
    assert path.read_text() == content  # nothing rewritten


def test_a_schema_1_file_is_read_and_written_back_as_schema_2(tmp_path):
    """Deployments from before owners and two-region sites: their state reads, a pool's roles move from `roles`
    to `setting`, and the file says schema 2 from its next change on."""
    path = tmp_path / "s.json"
    roles = {"authenticated": "arn:aws:iam::123456789012:role/wr-web-identity"}
    path.write_text(json.dumps({
        "schema_version": 1, "deployment": "wr", "target": "local", "sequence": 2, "extras": {"site_url": "u"},
        "resources": {
            "eu-west-1/cognito-pool-roles/p": {"kind": "cognito-pool-roles", "region": "eu-west-1", "name": "p",
                                               "module": "build-ui", "order": 2, "roles": roles},
            "eu-west-1/log-group/g": {"kind": "log-group", "region": "eu-west-1", "name": "g", "module": "build-api",
                                      "order": 1}}}))
    loaded = state.load(path, "wr", "local")
    mapping = loaded.get("cognito-pool-roles", "eu-west-1", "p")
    assert mapping["setting"] == {"Roles": roles} and "roles" not in mapping
    assert json.loads(path.read_text())["schema_version"] == 1  # reading changes nothing
    loaded.put("iam-role", "eu-west-1", "R", "build-api")
    written = json.loads(path.read_text())
    assert written["schema_version"] == 2 and written["extras"] == {"site_url": "u"}
    assert [r["name"] for r in state.load(path, "wr", "local").in_reverse_order()] == ["R", "p", "g"]


def test_state_of_another_deployment_or_target_is_refused(tmp_path):
    path = tmp_path / "s.json"
    state.load(path, "wr", "local").put("log-group", "eu-west-1", "/g", "build-api")
    with pytest.raises(StateError, match="belongs to deployment 'wr'"):
        state.load(path, "other", "local")
    with pytest.raises(StateError, match="target 'local'"):
        state.load(path, "wr", "aws")


def _hold_lock(path, ready, release):
    with state.locked(path):
        ready.set()
        release.wait(10)


def test_lock_refuses_a_second_holder(tmp_path):
    path = tmp_path / "s.json"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(path, ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        with pytest.raises(StateLockedError, match=f"pid {holder.pid}"):
            with state.locked(path):
                pass
    finally:
        release.set()
        holder.join(10)
    with state.locked(path):  # free again once the holder is gone
        pass
