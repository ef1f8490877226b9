"""The demo and status on the local cloud through the real command (clocks compressed, local.time_scale 0.1):
the demo ends with site and failover URLs and a passed failover report; status shows every resource present
and both regions healthy, then the drift of a function deleted by hand; `demo --cleanup` leaves nothing."""

from __future__ import annotations

import json
import urllib.request

import pytest
from e2e_helpers import moto_client, wildrydes, wildrydes_json

SECONDARY = "ap-southeast-1"


@pytest.fixture
def fast_cloud(tmp_path):
    """A local cloud of this test's own with its clocks at time_scale 0.1."""
    config = tmp_path / "fast.yaml"
    config.write_text("local: {time_scale: 0.1}\n")
    started = wildrydes_json(tmp_path, "local", "up", config=config)
    yield tmp_path, config, started["aws_endpoint"]
    wildrydes(tmp_path, "local", "down", check=False, config=config)


def test_demo_then_status_then_drift(fast_cloud):
    workdir, config, endpoint = fast_cloud
    demo = wildrydes_json(workdir, "demo", config=config)
    assert demo["failover_report"]["passed"] is True
    assert demo["failover_report"]["served_by"] == {"before": "eu-west-1", "during": SECONDARY,
                                                    "after": "eu-west-1"}
    with urllib.request.urlopen(demo["site_url"], timeout=10) as page:
        assert b"Wild Rydes" in page.read()
    assert demo["failover_url"].startswith("http://127.0.0.1:")
    assert demo["read_back_signed"] is True and demo["unsigned_get_status"] == 403
    assert demo["created_ticket"]["id"] and set(demo["api_urls"]) == {"eu-west-1", SECONDARY}

    status = wildrydes_json(workdir, "status", config=config)
    assert status["drift"] == []
    kinds = {r["kind"] for r in status["resources"]}
    assert {"dynamodb-table", "dynamodb-replica", "lambda-function", "rest-api", "acm-certificate",
            "route53-health-check", "route53-record", "cloudfront-distribution", "cognito-identity-pool"} <= kinds
    assert all(r["status"] == "present" for r in status["resources"])
    assert status["health"] == {"eu-west-1": "healthy", SECONDARY: "healthy"}
    assert status["dns_answer"] == "eu-west-1"

    moto_client(endpoint, "lambda", SECONDARY).delete_function(FunctionName="wildrydes-health")
    drifted = wildrydes(workdir, "status", config=config, check=False)
    assert drifted.returncode == 1
    drift = json.loads(drifted.stdout)["drift"]
    assert {"kind": "lambda-function", "region": SECONDARY, "name": "wildrydes-health", "status": "missing",
            "detail": ""} in drift

    assert wildrydes_json(workdir, "cleanup", "--yes", config=config)["remaining"] == []


def test_demo_with_cleanup_leaves_nothing(fast_cloud):
    workdir, config, endpoint = fast_cloud
    demo = wildrydes_json(workdir, "demo", "--cleanup", config=config)
    assert demo["failover_report"]["passed"] is True
    assert demo["cleanup"]["remaining"] == []
    for region in ("eu-west-1", SECONDARY):
        assert moto_client(endpoint, "lambda", region).list_functions()["Functions"] == []
