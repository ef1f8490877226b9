"""A local outage over the control-plane front (moto in-process) as the daemon wires it: the admin call that
starts and ends it (only with the admin token), the region's API gateway answering 503 without invoking a
function while the other region serves, the region's Cognito endpoint down while Facebook and the other region's
Cognito serve, and the control plane reachable throughout; and a throttle made through the control plane taking
effect with the very next request, as the game day's outage needs."""

from __future__ import annotations

import json

import pytest
from local_world import ADMIN_TOKEN, CORS_ORIGIN, PRIMARY, SECONDARY, LocalWorld, build_owner_api

from wildrydes_mr.local.credentials import LocalCredential
from wildrydes_mr.local.outage import ADMIN_TOKEN_HEADER, OUTAGE_PATH

PREFIX = "outage"
ADMIN = LocalCredential("AKIAOUTAGETESTADMIN1", "outage-test-admin-secret",
                        principal_arn="arn:aws:iam::123456789012:user/outage-operator")
UNAVAILABLE = {"message": f"Service Unavailable (local outage of {PRIMARY})"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = LocalWorld(ADMIN, tmp_path_factory.mktemp("lambda_src"))
    try:
        world.apis = {region: build_owner_api(world, region, f"{PREFIX}-{region}") for region in (PRIMARY, SECONDARY)}
        world.pools = {region: world.client("cognito-identity", region).create_identity_pool(
            IdentityPoolName="outage_pool", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
            for region in (PRIMARY, SECONDARY)}
        world.start_gateways()
        world.start_site()
        yield world
    finally:
        world.stop()


@pytest.fixture(autouse=True)
def _no_outage_left(world):
    yield
    world.outage.end()


def admin(world: LocalWorld, method: str, body: dict | None = None, token: str | None = ADMIN_TOKEN,
          **headers: str):
    if token is not None:
        headers[ADMIN_TOKEN_HEADER] = token
    return world.http.request(method, f"{world.endpoint}{OUTAGE_PATH}", timeout=10, headers=headers,
                              data=None if body is None else json.dumps(body))


def health(world: LocalWorld, region: str):
    return world.http.get(f"{world.gateways[region].url}/{world.apis[region]}/prod/health", timeout=30)


def test_the_admin_call_needs_the_token_and_keeps_the_fronts_refusals(world):
    for method, body in (("GET", None), ("POST", {"region": PRIMARY}), ("DELETE", None)):
        assert admin(world, method, body, token=None).status_code == 403
        assert admin(world, method, body, token="guessed").status_code == 403
        # A page that learnt the token still cannot use it: the front refuses any Origin.
        assert admin(world, method, body, Origin=CORS_ORIGIN).status_code == 403
    assert world.outage.current() == []
    assert admin(world, "GET").json() == {"outage": []}


def test_the_admin_call_starts_one_regions_outage_at_a_time_and_ends_it(world):
    assert admin(world, "POST", {"region": "us-east-2"}).status_code == 400
    assert admin(world, "POST", {"region": PRIMARY, "also": 1}).status_code == 400
    assert admin(world, "POST", {"regions": [PRIMARY]}).status_code == 400
    assert admin(world, "PUT", {"region": PRIMARY}).status_code == 405
    assert world.outage.current() == []
    assert admin(world, "POST", {"region": PRIMARY}).json() == {"outage": [PRIMARY]}
    assert admin(world, "POST", {"region": PRIMARY}).json() == {"outage": [PRIMARY]}  # already out: no change
    conflict = admin(world, "POST", {"region": SECONDARY})
    assert conflict.status_code == 409 and conflict.json()["outage"] == [PRIMARY]
    assert admin(world, "GET").json() == {"outage": [PRIMARY]}
    assert admin(world, "DELETE").json() == {"outage": []}
    assert world.outage.current() == []


def test_the_regions_gateway_answers_503_and_invokes_nothing_while_the_other_serves(world):
    gateway = world.gateways[PRIMARY]
    assert gateway.worker_count() == 0  # nothing has run this API's function yet
    world.outage.begin(PRIMARY)
    tickets = f"{gateway.url}/{world.apis[PRIMARY]}/prod/owners/operator/tickets"
    for response in (health(world, PRIMARY), world.signed("GET", tickets, ADMIN),
                     world.signed("POST", tickets, ADMIN, body=b'{"x": 1}'),
                     world.http.get(f"{gateway.url}/no-such-api/prod/x", timeout=10)):
        assert response.status_code == 503
        assert response.json() == UNAVAILABLE
    # The API's DEFAULT_5XX gateway response applies (a page can read the 503), as to the gateway's own errors.
    assert health(world, PRIMARY).headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert gateway.worker_count() == 0
    assert health(world, SECONDARY).status_code == 200
    # The control plane stays up: the tool's commands (cleanup, restore) work during an outage.
    assert world.client("lambda", PRIMARY).get_function(FunctionName=f"{PREFIX}-{PRIMARY}-echo")
    world.outage.end()
    answer = health(world, PRIMARY)
    assert answer.status_code == 200 and answer.json()["region"] == PRIMARY
    assert gateway.worker_count() == 1


def test_the_regions_cognito_is_down_while_facebook_and_the_other_region_sign_in(world):
    logins = {"graph.facebook.com": "local:Rita"}
    world.outage.begin(PRIMARY)
    for path in (f"/_cognito/{PRIMARY}/", "/_cognito/"):
        down = world.cognito(path, "GetId", {"IdentityPoolId": world.pools[PRIMARY], "Logins": logins})
        assert down.status_code == 503 and down.json() == UNAVAILABLE, path
        down = world.cognito(path, "GetCredentialsForIdentity", {"IdentityId": f"{PRIMARY}:0a0b", "Logins": logins})
        assert down.status_code == 503, path
    # The regional path is down whatever the call names.
    assert world.cognito(f"/_cognito/{PRIMARY}/", "GetId", {}).status_code == 503
    for path in (f"/_cognito/{SECONDARY}/", "/_cognito/"):
        up = world.cognito(path, "GetId", {"IdentityPoolId": world.pools[SECONDARY], "Logins": logins})
        assert up.status_code == 200 and up.json()["IdentityId"].startswith(SECONDARY + ":"), path
    login = world.http.post(f"{world.site.url}/_facebook/login", json={"name": "Rita"}, timeout=10)
    assert login.status_code == 200
    assert world.http.get(f"{world.site.url}/_local/status", timeout=10).json() == {"outage": [PRIMARY]}
    world.outage.end()
    assert world.cognito(f"/_cognito/{PRIMARY}/", "GetId", {"IdentityPoolId": world.pools[PRIMARY],
                                                             "Logins": logins}).status_code == 200


def test_a_throttle_through_the_control_plane_applies_to_the_next_request_and_its_removal_too(world):
    # The gateway caches definitions for a second (10 s at time_scale 0.1); the control plane tells it about a
    # Lambda change once moto has applied it, so the outage begins when PutFunctionConcurrency returns.
    lam = world.client("lambda", PRIMARY)
    function = f"{PREFIX}-{PRIMARY}-echo"
    assert health(world, PRIMARY).status_code == 200  # cached now
    for _ in range(3):
        lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
        throttled = health(world, PRIMARY)
        assert throttled.status_code == 500 and throttled.json() == {"message": "Internal server error"}
        lam.delete_function_concurrency(FunctionName=function)
        assert health(world, PRIMARY).status_code == 200
    # A throttle in the other region applies there, and this region's gateway goes on serving.
    other = world.client("lambda", SECONDARY)
    other.put_function_concurrency(FunctionName=f"{PREFIX}-{SECONDARY}-echo", ReservedConcurrentExecutions=0)
    try:
        assert health(world, SECONDARY).status_code == 500
        assert health(world, PRIMARY).status_code == 200
    finally:
        other.delete_function_concurrency(FunctionName=f"{PREFIX}-{SECONDARY}-echo")
