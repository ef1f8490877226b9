"""`wildrydes local outage REGION` / `--end` on a running local cloud, through the real command (clocks compressed
with local.time_scale 0.1): the region's API gateway answers 503 while the other region's serves and the control
plane stays up, `local status` shows the outage, `--end` brings the gateway back; the admin call the command makes
is refused without the runtime file's token; regions the local cloud does not serve are a one-line error."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request

from e2e_helpers import PRIMARY, moto_client, wildrydes, wildrydes_json

from wildrydes_mr.local.outage import ADMIN_TOKEN_HEADER, OUTAGE_PATH

SECONDARY = "ap-southeast-1"


def mock_health_api(endpoint: str, region: str) -> str:
    """A REST API with GET /health answered by a MOCK integration (no function involved); its id."""
    apigw = moto_client(endpoint, "apigateway", region)
    api_id = apigw.create_rest_api(name="outage-cli", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="health")["id"]
    apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": '{"healthy": true}'})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_local_outage_takes_the_regions_gateway_down_and_end_restores_it(tmp_path):
    config = tmp_path / "fast.yaml"
    config.write_text("local: {time_scale: 0.1}\n")
    started = wildrydes_json(tmp_path, "local", "up", config=config)
    try:
        endpoint, site = started["aws_endpoint"], started["site_root"]
        health = {region: f"{started['gateway_urls'][region]}/{mock_health_api(endpoint, region)}/prod/health"
                  for region in (PRIMARY, SECONDARY)}
        assert http("GET", health[PRIMARY]) == (200, {"healthy": True})
        assert wildrydes_json(tmp_path, "local", "status", config=config)["outage"] == []

        # The admin token is in the runtime file only (0600), never in the command's output.
        runtime = tmp_path / ".wildrydes" / "local-cloud.json"
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
        token = json.loads(runtime.read_text())["admin_token"]
        assert len(token) >= 32 and token not in json.dumps(started)
        start = json.dumps({"region": PRIMARY}).encode()
        assert http("POST", endpoint + OUTAGE_PATH, start)[0] == 403
        assert http("POST", endpoint + OUTAGE_PATH, start, {ADMIN_TOKEN_HEADER: "guessed"})[0] == 403
        assert http("POST", endpoint + OUTAGE_PATH, start, {ADMIN_TOKEN_HEADER: token,
                                                            "Origin": site})[0] == 403
        assert wildrydes_json(tmp_path, "local", "status", config=config)["outage"] == []

        assert wildrydes_json(tmp_path, "local", "outage", PRIMARY, config=config) == {"outage": [PRIMARY]}
        assert http("GET", health[PRIMARY]) == (503, {"message": f"Service Unavailable (local outage of {PRIMARY})"})
        assert http("GET", health[SECONDARY]) == (200, {"healthy": True})
        assert http("POST", f"{site}/_cognito/{PRIMARY}/", b"{}")[0] == 503
        assert http("POST", f"{site}/_facebook/login", b'{"name": "Rita"}')[0] == 200  # Facebook is global
        # The control plane stays reachable: the tool's commands work during an outage.
        assert moto_client(endpoint, "apigateway", PRIMARY).get_rest_apis()["items"]
        status = wildrydes_json(tmp_path, "local", "status", config=config)
        assert status["running"] is True and status["outage"] == [PRIMARY] and token not in json.dumps(status)

        # One region at a time, and only the regions the local cloud serves: one-line errors, exit 2.
        for arguments in ((SECONDARY,), ("us-east-2",), (), (PRIMARY, "--end")):
            refused = wildrydes(tmp_path, "local", "outage", *arguments, config=config, check=False)
            assert refused.returncode == 2, (arguments, refused.stderr)
            assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr, refused.stderr
        assert "not us-east-2" in wildrydes(tmp_path, "local", "outage", "us-east-2", config=config,
                                            check=False).stderr

        assert wildrydes_json(tmp_path, "local", "outage", "--end", config=config) == {"outage": []}
        assert http("GET", health[PRIMARY]) == (200, {"healthy": True})
        assert wildrydes_json(tmp_path, "local", "status", config=config)["outage"] == []
    finally:
        wildrydes(tmp_path, "local", "down", config=config, check=False)
    refused = wildrydes(tmp_path, "local", "outage", PRIMARY, config=config, check=False)
    assert refused.returncode == 1 and "not running" in refused.stderr
