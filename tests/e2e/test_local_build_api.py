"""End to end on the local cloud, through the real `wildrydes` command: local up → build-api → signed calls
through the local gateway → cleanup → nothing of ours left in moto → local down."""

from __future__ import annotations

import json

from botocore.credentials import Credentials
from e2e_helpers import PRIMARY, moto_client, wildrydes

from wildrydes_mr.apiclient import TicketsApi
from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY


def test_build_api_serves_signed_tickets_then_cleans_up(local_cloud):
    workdir, started = local_cloud
    assert started["running"] is True
    status = json.loads(wildrydes(workdir, "local", "status").stdout)
    assert status["running"] is True and status["aws_endpoint"] == started["aws_endpoint"]
    assert set(status["gateway_urls"]) == {"eu-west-1", "ap-southeast-1"} and "api_urls" not in status

    built = json.loads(wildrydes(workdir, "build-api").stdout)
    api_url = built["api_url"]
    assert api_url.startswith(status["gateway_urls"][PRIMARY])
    # Once an API is deployed, `local status` names its invoke URL, which answers.
    status = json.loads(wildrydes(workdir, "local", "status").stdout)
    assert status["api_urls"] == {PRIMARY: api_url}
    assert TicketsApi(status["api_urls"][PRIMARY], PRIMARY, None).health().status == 200

    signer = Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY)
    api = TicketsApi(api_url, PRIMARY, signer)
    ticket = {"description": "Unicorn needs new wings", "assigned": "ops", "priority": "low", "status": "open"}
    created = api.create_ticket(ticket)
    assert created.status == 201, created.body
    assert created.body["createdBy"]
    listed = api.list_tickets()
    assert listed.status == 200
    assert created.body["id"] in [t["id"] for t in listed.body["tickets"]]

    unsigned = api.request("GET", api.tickets_path, sign=False)
    assert unsigned.status == 403
    # The gateway's own 403 carries CORS headers (gateway responses), so a browser can read it.
    assert unsigned.headers.get("access-control-allow-origin") == "*"
    wrong = TicketsApi(api_url, PRIMARY, Credentials(LOCAL_ACCESS_KEY_ID, "not-the-secret"))
    assert wrong.list_tickets().status == 403
    health = api.health()
    assert health.status == 200 and health.body["region"] == PRIMARY
    assert created.body["id"] in [t["id"] for t in api.list_tickets().body["tickets"]]  # nothing lost on 403s

    again = json.loads(wildrydes(workdir, "build-api").stdout)
    assert {a["action"] for a in again["actions"]} == {"nothing"}

    cleaned = json.loads(wildrydes(workdir, "cleanup", "--yes").stdout)
    assert cleaned["remaining"] == []
    endpoint = started["aws_endpoint"]
    assert moto_client(endpoint, "dynamodb").list_tables()["TableNames"] == []
    assert moto_client(endpoint, "lambda").list_functions()["Functions"] == []
    assert moto_client(endpoint, "apigateway").get_rest_apis()["items"] == []
    assert not [r for r in moto_client(endpoint, "iam").list_roles()["Roles"] if r["RoleName"].startswith("wildrydes")]
    state = json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())
    assert state["resources"] == {}

    wildrydes(workdir, "local", "down")
    assert json.loads(wildrydes(workdir, "local", "status").stdout) == {"running": False}
