"""`test-failover --fault region` on a local cloud whose global table lags (local.replication_lag_ms 3000 at
time_scale 0.1: 0.3 s real): the whole primary goes dark at T0 with the writes of the last lag still on their
way, so the secondary takes over without them. The report says so honestly — each lost write listed with its
acknowledgement just before T0, RPO within the lag — and after failback every one of them is back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import PRIMARY, local_deployment, moto_client, wildrydes

SECONDARY = "ap-southeast-1"
LAG_SCALED = 3.0 * 0.1


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    with local_deployment(tmp_path_factory.mktemp("region-fault"),
                          "local: {time_scale: 0.1, replication_lag_ms: 3000}\n",
                          "build-api", "build-ui", "replicate") as env:
        yield env["workdir"], env["config"], env["started"]["aws_endpoint"]


def test_region_fault_with_lag_reports_the_writes_in_flight_as_lost_then_back(lagging):
    workdir, config, endpoint = lagging
    result = wildrydes(workdir, "test-failover", "--fault", "region", config=config, timeout=300, check=False)
    report = json.loads(result.stdout)
    assert report["fault"] == "region" and report["target"] == "local"
    assert report["served_by"] == {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY}
    lost = report["lost_writes"]
    assert lost, "writes acknowledged within the lag before the primary went dark must be missing"
    # Each was acknowledged in the last lag (plus a replicator poll) before T0: older writes had arrived. (An
    # acknowledgement is timed when the canary reads the answer, which may come after T0 on a busy machine; the
    # write itself was sent before the region went dark.)
    assert all(-(LAG_SCALED + 0.3) <= w["seconds"] and w["sent_seconds"] <= 0.05 for w in lost), \
        [(w["sent_seconds"], w["seconds"]) for w in lost]
    # From the oldest lost acknowledgement to the primary's last one (a write in flight at T0 may be acknowledged
    # a moment after it).
    assert 0 < report["rpo_seconds"] <= max(report["primary_stopped_seconds"], 0) + LAG_SCALED + 0.3
    assert report["real_seconds"]["rpo"] == pytest.approx(report["rpo_seconds"] / 0.1, abs=0.01)
    assert all(w["reappeared"] is True for w in lost)
    held = {item["id"]["S"] for item in moto_client(endpoint, "dynamodb", SECONDARY).scan(
        TableName="SXRTickets")["Items"]}
    assert {w["ticket_id"] for w in lost} <= held
    assert result.returncode == 0, result.stderr  # a few real seconds of loss are inside the 900 s objective
    # The local outage is over and recorded nowhere.
    state = json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())
    assert "fault" not in state["extras"]
    status = json.loads(wildrydes(workdir, "local", "status", config=config).stdout)
    assert status["outage"] == []
    # The report's Markdown and JSON are kept, and `reports` lists this game day.
    assert Path(report["report_file"]).with_suffix(".json").exists()
    listed = json.loads(wildrydes(workdir, "reports", config=config).stdout)
    assert [r["fault"] for r in listed["rows"]] == ["region"]
