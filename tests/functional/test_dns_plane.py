"""The local DNS plane (wildrydes_mr.local.dns) and LocalGateway.handle_domain, over a moto server.

The module fixture builds, with boto3 against one moto server, what `wildrydes replicate` builds for domain D in
two regions: per region a REST API (GET /health unauthenticated, GET /ticket AWS_IAM, Lambda proxy) deployed to
"prod", a certificate, custom domains api.D and <region>.D mapped to it; then one public hosted zone with an
alias record per regional name, a health check per region and PRIMARY/SECONDARY failover alias records for
api.D. A DnsPlane runs over two LocalGateways at time_scale 0.05: a 10 s health check interval probes every
0.5 s, and the 60 s alias TTL clients cache answers for lasts 3 s.
"""

from __future__ import annotations

import json
import logging
import os
import textwrap
import time
import uuid
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")  # moto reads it when it loads: certificates ISSUED at once

import boto3  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from function_code import placeholder_package

from wildrydes_mr.local.credentials import CredentialStore, LocalCredential  # noqa: E402
from wildrydes_mr.local.dns import DnsPlane  # noqa: E402
from wildrydes_mr.local.dns.health import Checker  # noqa: E402
from wildrydes_mr.local.dns.records import Record, Snapshot  # noqa: E402
from wildrydes_mr.local.gateway import GatewayRequest, LocalGateway  # noqa: E402
from wildrydes_mr.local.outage import Outage  # noqa: E402
from wildrydes_mr.local.sigv4_verify import sign_request  # noqa: E402

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"
REGIONS = (PRIMARY, SECONDARY)
ACCOUNT = "123456789012"  # moto's default account
DOMAIN = "wildrydes.example.com"
API_NAME = f"api.{DOMAIN}"
OPERATOR = "dns-test-operator"
ADMIN = LocalCredential("AKIADNSTESTADMIN0001", "dns-plane-test-admin-secret",
                        principal_arn=f"arn:aws:iam::123456789012:user/{OPERATOR}")
TIME_SCALE = 0.05
INTERVAL_S = 10
THRESHOLD = 2
TTL_S = 60  # the alias TTL the plane assumes by default
PROBE_EVERY = INTERVAL_S * TIME_SCALE  # 0.5 s
CLIENT_TTL = TTL_S * TIME_SCALE  # 3 s

HANDLERS = """
    import json, os

    def health(event, context):
        region = os.environ["AWS_REGION"]
        if os.environ.get("FORCE_UNHEALTHY") == "true":
            return {"statusCode": 503, "body": json.dumps({"region": region, "healthy": False})}
        ctx = event["requestContext"]
        return {"statusCode": 200, "body": json.dumps({
            "region": region, "path": event["path"], "contextPath": ctx["path"], "domainName": ctx["domainName"],
            "domainPrefix": ctx["domainPrefix"], "stage": ctx["stage"],
            "userAgent": (event["headers"] or {}).get("User-Agent"),
        })}

    def ticket(event, context):
        identity = event["requestContext"]["identity"]
        return {"statusCode": 200, "body": json.dumps({
            "region": os.environ["AWS_REGION"], "accessKey": identity["accessKey"], "path": event["path"],
        })}
"""


def _client(service: str, endpoint: str, region: str = PRIMARY) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id=ADMIN.access_key_id, aws_secret_access_key=ADMIN.secret_access_key)


def _wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def _build_region(endpoint: str, region: str, role_arn: str) -> dict[str, Any]:
    lam = _client("lambda", endpoint, region)
    apigw = _client("apigateway", endpoint, region)
    acm = _client("acm", endpoint, region)
    arns = {}
    for name, handler in (("dns-health", "app.health"), ("dns-ticket", "app.ticket")):
        arns[name] = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role_arn, Handler=handler,
                                         Code={"ZipFile": placeholder_package()}, Timeout=5)["FunctionArn"]
    api_id = apigw.create_rest_api(name="dns-test", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    for part, function, auth in (("health", "dns-health", "NONE"), ("ticket", "dns-ticket", "AWS_IAM")):
        rid = apigw.create_resource(restApiId=api_id, parentId=root, pathPart=part)["id"]
        apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType=auth)
        apigw.put_integration(
            restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arns[function]}/invocations")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    for name in arns:
        lam.add_permission(FunctionName=name, StatementId="apigateway-invoke", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/*/*/*")
    cert = acm.request_certificate(DomainName=API_NAME, SubjectAlternativeNames=[API_NAME, f"{region}.{DOMAIN}"],
                                   ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=cert)["Certificate"]["Status"] == "ISSUED"
    domains = {}
    for name in (API_NAME, f"{region}.{DOMAIN}"):
        domains[name] = apigw.create_domain_name(
            domainName=name, regionalCertificateArn=cert, endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2")
        apigw.create_base_path_mapping(domainName=name, restApiId=api_id, stage="prod")
    return {"api_id": api_id, "domains": domains}


def _alias(name: str, domain: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"{name}.", "Type": "A", **extra,
        "AliasTarget": {"DNSName": domain["regionalDomainName"], "HostedZoneId": domain["regionalHostedZoneId"],
                        "EvaluateTargetHealth": False}}}


class World:
    def __init__(self, endpoint: str, gateways: dict[str, LocalGateway], plane: DnsPlane,
                 built: dict[str, dict[str, Any]], zone_id: str, checks: dict[str, str]) -> None:
        self.endpoint = endpoint
        self.gateways = gateways
        self.plane = plane
        self.built = built
        self.zone_id = zone_id
        self.checks = checks  # region -> health check id
        self.http = requests.Session()
        self.outage: Outage | None = None  # the gateways' local outage (outage.py)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.get(url, timeout=30, **kwargs)

    def signed_get(self, url: str, region: str) -> requests.Response:
        return self.http.get(url, headers=sign_request("GET", url, credential=ADMIN, region=region), timeout=30)

    def set_fault(self, region: str, on: bool) -> None:
        lam = _client("lambda", self.endpoint, region)
        variables = {"FORCE_UNHEALTHY": "true"} if on else {}
        lam.update_function_configuration(FunctionName="dns-health", Environment={"Variables": variables})

    def region_of(self, url: str) -> tuple[int, str | None]:
        response = self.get(url)
        try:
            return response.status_code, response.json().get("region")
        except ValueError:
            return response.status_code, None


@pytest.fixture(scope="module")
def moto_endpoint(moto_endpoint: str) -> str:
    """The shared moto server (conftest), told to create Lambda functions without docker."""
    requests.post(f"{moto_endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    return moto_endpoint


@pytest.fixture(scope="module")
def world(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory):
    endpoint = moto_endpoint
    src_dir = tmp_path_factory.mktemp("lambda_src")
    (src_dir / "app.py").write_text(textwrap.dedent(HANDLERS), encoding="utf-8")
    role_arn = _client("iam", endpoint).create_role(
        RoleName="dns-test-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    built = {region: _build_region(endpoint, region, role_arn) for region in REGIONS}

    route53 = _client("route53", endpoint, "us-east-1")
    zone_id = route53.create_hosted_zone(Name=DOMAIN, CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    checks = {}
    for region in REGIONS:
        checks[region] = route53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": f"{region}.{DOMAIN}", "Port": 443,
            "ResourcePath": "/health", "RequestInterval": INTERVAL_S, "FailureThreshold": THRESHOLD,
            "EnableSNI": True})["HealthCheck"]["Id"]
    changes = [_alias(f"{r}.{DOMAIN}", built[r]["domains"][f"{r}.{DOMAIN}"]) for r in REGIONS]
    for region, role in ((PRIMARY, "PRIMARY"), (SECONDARY, "SECONDARY")):
        changes.append(_alias(API_NAME, built[region]["domains"][API_NAME], SetIdentifier=f"{region}-{role.lower()}",
                              Failover=role, HealthCheckId=checks[region]))
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})

    # The keys that sign the test's calls belong to an IAM user that may invoke these APIs (the gateway checks).
    iam = _client("iam", endpoint)
    iam.create_user(UserName=OPERATOR)
    iam.put_user_policy(UserName=OPERATOR, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [
            f"arn:aws:execute-api:{r}:{ACCOUNT}:{built[r]['api_id']}/prod/GET/*" for r in REGIONS]}]}))
    outage = Outage(REGIONS)
    gateways = {r: LocalGateway(r, endpoint, CredentialStore([ADMIN]), src_dir, ADMIN, outage=outage)
                for r in REGIONS}
    for gateway in gateways.values():
        gateway.start()
    plane = DnsPlane(endpoint, gateways, ADMIN.access_key_id, ADMIN.secret_access_key, time_scale=TIME_SCALE)
    plane.start()
    try:
        # Both checks picked up and probed at least once (a cold worker per region starts on the first probe).
        assert _wait_for(lambda: all(c["probes"] >= 1 and c["last_probe"].get("ok")
                                     for c in plane.status()["health_checks"].values())
                         and len(plane.status()["health_checks"]) == 2, timeout=15)
        world = World(endpoint, gateways, plane, built, zone_id, checks)
        world.outage = outage
        yield world
    finally:
        plane.stop()
        for gateway in gateways.values():
            gateway.stop()


# ------------------------------------------------------------------------------------------ before any record


def test_urls_exist_before_any_record_and_answer_503(moto_endpoint, tmp_path):
    # A region with no custom domain and no record: what the daemon sees right after `wildrydes local up`.
    gateway = LocalGateway("eu-central-1", moto_endpoint, CredentialStore([ADMIN]), tmp_path, ADMIN)
    plane = DnsPlane(moto_endpoint, {"eu-central-1": gateway}, ADMIN.access_key_id, ADMIN.secret_access_key,
                     time_scale=TIME_SCALE)
    with plane:
        status = plane.status()
        assert status["failover_url"].startswith("http://127.0.0.1:") and status["failover_url"].endswith("/")
        assert set(status["regional_urls"]) == {"eu-central-1"}
        assert status["regional_urls"]["eu-central-1"].endswith("/")
        for url in (status["failover_url"], status["regional_urls"]["eu-central-1"]):
            response = requests.get(url + "health", timeout=10)
            assert response.status_code == 503
            assert response.json() == {"message": "no DNS record"}
        assert status["regional_names"] == {}
        assert status["serving_region"] is None or status["serving_region"] != "eu-central-1"

        # A custom domain and its record appear: picked up within a second. The domain has no base path mapping
        # yet (moto answers GetBasePathMappings with a 500 then): API Gateway's 403 Forbidden.
        apigw = _client("apigateway", moto_endpoint, "eu-central-1")
        name = "eu-central-1.central.example.org"
        domain = apigw.create_domain_name(domainName=name, endpointConfiguration={"types": ["REGIONAL"]})
        route53 = _client("route53", moto_endpoint, "us-east-1")
        zone = route53.create_hosted_zone(Name="central.example.org", CallerReference=str(uuid.uuid4()))
        route53.change_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={
            "Changes": [_alias(name, domain)]})
        url = plane.status()["regional_urls"]["eu-central-1"] + "health"
        response = _wait_for(lambda: (r := requests.get(url, timeout=10)).status_code != 503 and [r], timeout=5)
        assert response, "the new record was not picked up"
        response = response[0]
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}
        assert plane.status()["regional_names"] == {"eu-central-1": name}
    stopped_at = time.monotonic()
    assert plane.failover_url is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    assert time.monotonic() - stopped_at < 3


# --------------------------------------------------------------------------------------------- serving names


def test_regional_urls_serve_their_own_region_through_the_custom_domain(world):
    status = world.plane.status()
    assert status["regional_names"] == {r: f"{r}.{DOMAIN}" for r in REGIONS}
    for region in REGIONS:
        response = world.get(status["regional_urls"][region] + "health")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["region"] == region
        # As on AWS through a custom domain: the path as the client sent it, the domain as requestContext's.
        assert body["path"] == body["contextPath"] == "/health"
        assert body["domainName"] == f"{region}.{DOMAIN}"
        assert body["domainPrefix"] == region
        assert body["stage"] == "prod"


def test_failover_url_serves_the_primary_and_verifies_sigv4_as_the_client_signed(world):
    url = world.plane.status()["failover_url"]
    response = world.get(url + "health")
    assert response.status_code == 200, response.text
    assert response.json()["region"] == PRIMARY
    assert response.json()["domainName"] == API_NAME

    signed = world.signed_get(url + "ticket?limit=5", PRIMARY)
    assert signed.status_code == 200, signed.text
    assert signed.json() == {"region": PRIMARY, "accessKey": ADMIN.access_key_id, "path": "/ticket"}

    unsigned = world.get(url + "ticket")
    assert unsigned.status_code == 403
    assert unsigned.json() == {"message": "Missing Authentication Token"}
    # The primary's API Gateway checks the credential scope against its own region.
    wrong_region = world.signed_get(url + "ticket", SECONDARY)
    assert wrong_region.status_code == 403
    assert wrong_region.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_health_probes_look_like_route53_and_start_healthy(world):
    status = world.plane.status()
    assert status["health"] == {PRIMARY: "healthy", SECONDARY: "healthy"}
    assert status["serving_region"] == PRIMARY
    for region, check_id in world.checks.items():
        check = status["health_checks"][check_id]
        assert check["region"] == region and check["fqdn"] == f"{region}.{DOMAIN}" and check["type"] == "HTTPS"
        assert check["last_probe"]["status"] == 200 and check["last_probe"]["ok"] is True
    # The health handler sees Route 53's user agent (the health checker's requests reach the function).
    gateway = world.gateways[PRIMARY]
    probe = gateway.handle_domain(f"{PRIMARY}.{DOMAIN}", GatewayRequest("GET", "/health", [
        ("Host", f"{PRIMARY}.{DOMAIN}"), ("User-Agent", "Amazon-Route53-Health-Check-Service (ref x)")]))
    assert json.loads(probe.body)["userAgent"].startswith("Amazon-Route53-Health-Check-Service")


def test_handle_domain_maps_base_paths_like_api_gateway(world):
    gateway = world.gateways[PRIMARY]
    apigw = _client("apigateway", world.endpoint, PRIMARY)
    name = f"mapped.{DOMAIN}"
    apigw.create_domain_name(domainName=name, endpointConfiguration={"types": ["REGIONAL"]})
    apigw.create_base_path_mapping(domainName=name, restApiId=world.built[PRIMARY]["api_id"], stage="prod",
                                   basePath="v1")

    def get(domain: str, target: str) -> tuple[int, dict[str, Any], str | None]:
        response = gateway.handle_domain(domain, GatewayRequest("GET", target, [("Host", domain)]))
        return response.status, json.loads(response.body), response.header("x-amzn-ErrorType")

    status, body, _ = get(name, "/v1/health?x=1")
    assert status == 200, body
    assert body["path"] == body["contextPath"] == "/v1/health"  # the base path stays in the event's path
    assert get(name.upper() + ".", "/v1/health")[0] == 200  # DNS names are case-insensitive
    assert get(name, "/v2/health")[:2] == (403, {"message": "Forbidden"})
    assert get(name, "/v1x/health")[:2] == (403, {"message": "Forbidden"})
    assert get(name, "/v1/nothing-here") == (403, {"message": "Missing Authentication Token"},
                                             "MissingAuthenticationTokenException")
    assert get(f"unknown.{DOMAIN}", "/health") == (403, {"message": "Forbidden"}, "ForbiddenException")
    # A custom domain of the other region is unknown here.
    assert get(f"{SECONDARY}.{DOMAIN}", "/health")[:2] == (403, {"message": "Forbidden"})


def test_failover_rule_follows_route53():
    """Primary healthy -> primary; primary down, secondary up -> secondary; secondary down -> primary."""
    plane = DnsPlane("http://127.0.0.1:9", {}, "k", "s")
    records = [
        Record(API_NAME, "A", "p", "PRIMARY", "hc-p", "d-p.execute-api.eu-west-1.amazonaws.com", (), None),
        Record(API_NAME, "A", "s", "SECONDARY", "hc-s", "d-s.execute-api.ap-southeast-1.amazonaws.com", (), None),
    ]
    snapshot = Snapshot({API_NAME: records})
    for primary_ok, secondary_ok, expected in ((True, True, "p"), (True, False, "p"), (False, True, "s"),
                                               (False, False, "p")):
        plane._checkers = {"hc-p": Checker("hc-p", {}, healthy=primary_ok),
                           "hc-s": Checker("hc-s", {}, healthy=secondary_ok)}
        assert plane._choose_failover(snapshot, API_NAME).set_identifier == expected
    # A secondary without a health check is always healthy; Inverted flips; Disabled is always healthy.
    plane._checkers = {"hc-p": Checker("hc-p", {}, healthy=False)}
    no_check = [records[0], Record(API_NAME, "A", "s", "SECONDARY", None, "d-s.x", (), None)]
    assert plane._choose_failover(Snapshot({API_NAME: no_check}), API_NAME).set_identifier == "s"
    assert Checker("x", {"Inverted": True}, healthy=True).reported() is False
    assert Checker("x", {"Disabled": True}, healthy=False).reported() is True


# ---------------------------------------------------------------------------------------------------- failover


def test_failover_after_detection_and_client_ttl_then_failback(world):
    plane = world.plane
    url = plane.status()["failover_url"] + "health"
    detection_s = PROBE_EVERY * THRESHOLD
    slack = 3.0  # the gateway's 1 s config cache, a new worker process, polling
    assert world.region_of(url)[1] == PRIMARY  # the client has resolved the name before (its first answer too)
    # Start with no answer cached by the client, so that the next request caches a fresh one.
    cache = plane.status()["client_cache"]
    if cache:
        time.sleep(cache["expires_in"] + 0.05)
    assert plane.status()["client_cache"] is None
    events_before = len(plane.status()["events"])

    world.set_fault(PRIMARY, True)
    t_fault = time.monotonic()
    # This answer is cached now: the primary is still healthy (its function may already fail: 200 or 503).
    assert world.region_of(url)[1] == PRIMARY
    assert plane.status()["client_cache"]["region"] == PRIMARY

    seen: list[tuple[float, int, str | None]] = []
    t_unhealthy = None
    while time.monotonic() - t_fault < detection_s + CLIENT_TTL + slack:
        code, region = world.region_of(url)
        now = time.monotonic()
        seen.append((now - t_fault, code, region))
        if t_unhealthy is None and plane.status()["health"][PRIMARY] == "unhealthy":
            t_unhealthy = now
        if region == SECONDARY:
            break
        time.sleep(0.05)
    t_secondary = seen[-1][0]
    assert seen[-1][1:] == (200, SECONDARY), seen[-5:]
    assert t_unhealthy is not None and t_unhealthy - t_fault < t_secondary
    # Not before the client's cached answer expired, and within detection + TTL (+ slack).
    assert t_secondary >= CLIENT_TTL, seen
    assert t_secondary <= detection_s + CLIENT_TTL + slack
    # Until then the clients kept reaching the failing primary.
    assert all(region == PRIMARY for _, _, region in seen[:-1])
    assert any(code == 503 for _, code, _ in seen)
    assert plane.status()["serving_region"] == SECONDARY

    # Now the secondary's API Gateway answers api.D: calls are signed for its region.
    ticket = plane.status()["failover_url"] + "ticket"
    assert world.signed_get(ticket, SECONDARY).json()["region"] == SECONDARY
    assert world.signed_get(ticket, PRIMARY).status_code == 403

    world.set_fault(PRIMARY, False)
    t_fixed = time.monotonic()
    assert _wait_for(lambda: plane.status()["health"][PRIMARY] == "healthy", timeout=detection_s + slack)
    t_healthy = time.monotonic()
    assert _wait_for(lambda: world.region_of(url) == (200, PRIMARY), timeout=CLIENT_TTL + slack)
    t_back = time.monotonic()
    assert t_back - t_fixed <= detection_s + CLIENT_TTL + slack
    assert t_back >= t_healthy - 0.1

    events = plane.status()["events"][events_before:]
    summary = [(e["kind"], e["region"], e.get("state") or e.get("record")) for e in events]
    assert summary == [
        ("health", PRIMARY, "unhealthy"),
        ("route", SECONDARY, "SECONDARY"),
        ("health", PRIMARY, "healthy"),
        ("route", PRIMARY, "PRIMARY"),
    ], summary
    times = [e["time"] for e in events]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 30
    health_event = events[0]
    assert health_event["health_check_id"] == world.checks[PRIMARY]
    assert health_event["fqdn"] == f"{PRIMARY}.{DOMAIN}" and "503" in health_event["reason"]
    assert plane.status()["health"] == {PRIMARY: "healthy", SECONDARY: "healthy"}


def test_a_local_outage_fails_the_regions_health_check_by_itself_and_routes_to_the_secondary(world):
    plane, outage = world.plane, world.outage
    failover = plane.status()["failover_url"] + "health"
    regional = plane.status()["regional_urls"]
    detection_s = PROBE_EVERY * THRESHOLD
    slack = 3.0
    assert plane.status()["health"] == {PRIMARY: "healthy", SECONDARY: "healthy"}
    outage.begin(PRIMARY)
    try:
        # Every custom domain of the region is down with its gateway; the other region's serves.
        down = world.get(regional[PRIMARY] + "health")
        assert down.status_code == 503
        assert down.json() == {"message": f"Service Unavailable (local outage of {PRIMARY})"}
        assert world.get(regional[SECONDARY] + "health").json()["region"] == SECONDARY
        # Nothing but the probes' own answers marks the primary unhealthy; then the name moves.
        assert _wait_for(lambda: plane.status()["health"][PRIMARY] == "unhealthy", timeout=detection_s + slack)
        last = plane.status()["health_checks"][world.checks[PRIMARY]]["last_probe"]
        assert "503" in last["reason"]
        assert _wait_for(lambda: world.region_of(failover) == (200, SECONDARY), timeout=CLIENT_TTL + slack)
    finally:
        outage.end()
    assert _wait_for(lambda: plane.status()["health"][PRIMARY] == "healthy", timeout=detection_s + slack)
    assert _wait_for(lambda: world.region_of(failover) == (200, PRIMARY), timeout=CLIENT_TTL + slack)


def test_new_checks_are_picked_up_and_deleted_ones_dropped_without_errors(world, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes_mr.local.dns")
    route53 = _client("route53", world.endpoint, "us-east-1")
    # Plain HTTP on an API Gateway name: API Gateway serves HTTPS only, so this check fails, as on AWS.
    check_id = route53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig={
        "Type": "HTTP", "FullyQualifiedDomainName": f"{PRIMARY}.{DOMAIN}", "Port": 80, "ResourcePath": "/health",
        "RequestInterval": INTERVAL_S, "FailureThreshold": 1})["HealthCheck"]["Id"]
    checks = lambda: world.plane.status()["health_checks"]  # noqa: E731
    assert _wait_for(lambda: checks().get(check_id, {}).get("status") == "unhealthy", timeout=5)
    assert "HTTP" in checks()[check_id]["last_probe"]["reason"]
    assert any(e.get("health_check_id") == check_id for e in world.plane.status()["events"])
    # The failover records' check still speaks for the region.
    assert world.plane.status()["health"][PRIMARY] == "healthy"

    route53.delete_health_check(HealthCheckId=check_id)
    assert _wait_for(lambda: check_id not in checks(), timeout=5)
    probes = {cid: c["probes"] for cid, c in checks().items()}
    time.sleep(PROBE_EVERY * 2)
    assert all(checks()[cid]["probes"] > n for cid, n in probes.items())  # the others keep probing
    assert set(checks()) == set(world.checks.values())
    assert world.region_of(world.plane.status()["failover_url"] + "health") == (200, PRIMARY)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
