"""replicate on the local cloud through the real command: a ticket written through the failover name is listed
through the secondary's regional name within 2 s; both regions healthy; /health via the failover name answers
from the primary; a second replicate changes nothing; a config that cannot meet its RTO is refused."""

from __future__ import annotations

import time

from botocore.credentials import Credentials
from e2e_helpers import PRIMARY, moto_client, wildrydes, wildrydes_json

from wildrydes_mr.apiclient import TicketsApi
from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

SECONDARY = "ap-southeast-1"
SIGNER = Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY)


def test_replicate_serves_failover_and_replicates(local_cloud):
    workdir, started = local_cloud
    wildrydes_json(workdir, "build-api")
    wildrydes_json(workdir, "build-ui")
    replicated = wildrydes_json(workdir, "replicate")
    assert replicated["predicted_rto_seconds"] == 110

    # replicate returns once the local data plane serves what it made (as it waits for INSYNC on AWS): right
    # after it, `local status` names the failover name, both regional names, their health, and each API's invoke
    # URL, which answers.
    status = wildrydes_json(workdir, "local", "status")
    assert status["failover_url"] == replicated["failover_url"]
    assert set(status["regional_urls"]) == {PRIMARY, SECONDARY}
    assert status["health"] == {PRIMARY: "healthy", SECONDARY: "healthy"}
    assert set(status["api_urls"]) == {PRIMARY, SECONDARY}
    for region, url in status["api_urls"].items():
        assert TicketsApi(url, region, None).health().status == 200, url

    failover = TicketsApi(status["failover_url"], PRIMARY, SIGNER)
    health = failover.health()
    assert health.status == 200 and health.body["region"] == PRIMARY

    created = failover.create_ticket({"description": "Written through the failover name", "assigned": "ops",
                                      "priority": "low", "status": "open"})
    assert created.status == 201, created.body
    secondary = TicketsApi(status["regional_urls"][SECONDARY], SECONDARY, SIGNER)
    assert secondary.health().body["region"] == SECONDARY
    deadline = time.monotonic() + 2.0
    while True:
        listed = secondary.list_tickets()
        assert listed.status == 200, listed.body
        if created.body["id"] in [t["id"] for t in listed.body["tickets"]]:
            break
        assert time.monotonic() < deadline, "not replicated to the secondary within 2 s"
        time.sleep(0.1)

    # The site now calls the failover name.
    config_js = moto_client(started["aws_endpoint"], "s3").get_object(
        Bucket=next(b["Name"] for b in moto_client(started["aws_endpoint"], "s3").list_buckets()["Buckets"]),
        Key="config.js")["Body"].read().decode()
    assert status["failover_url"] in config_js

    again = wildrydes_json(workdir, "replicate")
    assert {a["action"] for a in again["actions"]} == {"nothing"}

    slow = workdir / "slow.yaml"
    slow.write_text("dns: {health_check: {interval: 30, failure_threshold: 10}}\nobjectives: {rto_seconds: 60}\n")
    refused = wildrydes(workdir, "replicate", check=False, config=slow)
    assert refused.returncode == 2
    assert "predicts a worst-case failover of 400 s" in refused.stderr

    assert wildrydes_json(workdir, "cleanup", "--yes")["remaining"] == []
    for region in (PRIMARY, SECONDARY):
        assert moto_client(started["aws_endpoint"], "dynamodb", region).list_tables()["TableNames"] == []
    assert moto_client(started["aws_endpoint"], "route53").list_hosted_zones()["HostedZones"] == []
