"""A corpus of hostile requests against a running local cloud (build-api and build-ui deployed): a web page that
found a port (foreign Origin, foreign Host, "simple" cross-origin POSTs), a caller borrowing someone else's
identity or using expired credentials, injection through a function's configuration, paths that would be
signed as one thing and routed as another, broken HTTP framing, oversized and nested bodies, a policy that
denies. Each is refused as AWS would refuse it, and nothing is changed by any of them."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from e2e_helpers import PRIMARY, local_deployment, moto_client

from wildrydes_mr.apiclient import TicketsApi
from wildrydes_mr.local import facebook
from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_OPERATOR_USER, LOCAL_SECRET_ACCESS_KEY

OPERATOR = Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY)
TICKET = {"description": "A hostile request must not make this", "assigned": "nobody", "priority": "low",
          "status": "open"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    # Cognito stand-in credentials live 30 s × 0.1 = 3 s here, so that expiry is quick to reach.
    with local_deployment(tmp_path_factory.mktemp("hostile"), "local: {time_scale: 0.1, credential_lifetime: 30}\n",
                          "build-api", "build-ui") as env:
        yield {**env, "api": env["build-api"], "ui": env["build-ui"]}


# --- how the hostile requests are made --------------------------------------------------------------------

def raw(base: str, head: str, body: bytes = b"", timeout: float = 5) -> tuple[int, str]:
    """Sends exactly these bytes (request line and headers `head`, then `body`); the status and the answer."""
    parts = urllib.parse.urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        try:
            while chunk := connection.recv(65536):
                data += chunk
        except TimeoutError:
            pass
    text = data.decode("latin-1")
    return (int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else 0), text


def http(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def signed(method: str, url: str, credentials: Credentials, region: str = PRIMARY, body: bytes = b"",
           headers: dict[str, str] | None = None, when: dt.datetime | None = None) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if when is not None:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        signer = SigV4Auth(credentials, "execute-api", region)
        signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders="
                                            f"{signer.signed_headers(signer.headers_to_sign(request))}, "
                                            f"Signature={signature}")
    else:
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def cognito(endpoint: str, operation: str, body: dict) -> tuple[int, dict]:
    status, _, answer = http("POST", endpoint, {"Content-Type": "application/x-amz-json-1.1",
                                                "X-Amz-Target": f"AWSCognitoIdentityService.{operation}"},
                             json.dumps(body).encode())
    return status, json.loads(answer or b"{}")


def sign_in(endpoint: str, pool: str, name: str) -> tuple[str, Credentials]:
    logins = {"graph.facebook.com": f"local:{name}"}
    identity = cognito(endpoint, "GetId", {"IdentityPoolId": pool, "Logins": logins})[1]["IdentityId"]
    issued = cognito(endpoint, "GetCredentialsForIdentity", {"IdentityId": identity, "Logins": logins})[1]
    creds = issued["Credentials"]
    return identity, Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])


def tickets(env: dict) -> list[str]:
    table = moto_client(env["started"]["aws_endpoint"], "dynamodb").scan(TableName="SXRTickets")["Items"]
    return sorted(item["id"]["S"] for item in table)


# --- the corpus --------------------------------------------------------------------------------------------

def test_hostile_requests_are_refused_as_aws_would_and_change_nothing(deployed, tmp_path):
    env = deployed
    control = env["started"]["aws_endpoint"]
    api_url = env["api"]["api_url"]
    api_base = api_url.split("/", 3)[:3]
    gateway = "/".join(api_base)
    api_path = "/" + api_url.split("/", 3)[3]
    site_url = env["ui"]["site_url"]
    site_root = env["started"]["site_root"]
    config_js = json.loads(http("GET", site_url + "config.js")[2].decode().split("=", 1)[1].rstrip().rstrip(";"))
    pool, endpoint = config_js["identityPoolId"], config_js["cognitoEndpoint"]
    alice_identity, alice = sign_in(endpoint, pool, "alice")
    bob_identity, _ = sign_in(endpoint, pool, "bob")
    control_port = urllib.parse.urlsplit(control).port
    gateway_port = urllib.parse.urlsplit(gateway).port
    site_port = urllib.parse.urlsplit(site_root).port
    marker = tmp_path / "injected-code-ran"
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (evil / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\ndef handler(e, c): return {{}}\n")
    lam = moto_client(control, "lambda")
    iam = moto_client(control, "iam")
    s3 = moto_client(control, "s3")
    bucket = env["ui"]["bucket"]
    site_objects = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    users = sorted(u["UserName"] for u in iam.list_users()["Users"])
    before = tickets(env)
    tickets_path = "owners/operator/tickets"
    ticket_url = api_url + tickets_path
    body = json.dumps(TICKET).encode()
    alice_owner, bob_owner = facebook.user_id("alice"), facebook.user_id("bob")

    def refused(status: int, *allowed: int) -> bool:
        return status in (allowed or (403,))

    cases: dict[str, bool] = {}
    # 1-6: the control plane is not for browsers.
    form = b"Action=CreateUser&UserName=pwned&Version=2010-05-08"
    cases["control: simple cross-origin POST (IAM CreateUser)"] = refused(http(
        "POST", control, {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
        form)[0])
    status, headers, _ = http("OPTIONS", control, {"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
    cases["control: CORS preflight"] = refused(status) and "access-control-allow-origin" not in headers
    cases["control: same-site Origin is still an Origin"] = refused(http(
        "POST", control, {"Origin": site_root, "Content-Type": "application/x-www-form-urlencoded"}, form)[0])
    cases["control: DNS rebinding Host"] = refused(raw(control, f"GET /moto-api/ HTTP/1.1\nHost: evil.example:"
                                                                f"{control_port}\nConnection: close\n")[0])
    cases["control: S3 form POST with an Origin"] = refused(http(
        "POST", f"{control}/{bucket}", {"Origin": "https://evil.example",
                                        "Content-Type": "application/x-www-form-urlencoded"}, b"key=index.html")[0])
    cases["control: GetIdentityPoolRoles with an Origin"] = refused(http(
        "POST", control, {"Origin": "https://evil.example", "X-Amz-Target":
                          "AWSCognitoIdentityService.GetIdentityPoolRoles",
                          "Content-Type": "application/x-amz-json-1.1"},
        json.dumps({"IdentityPoolId": pool}).encode())[0])
    # 7-9: every other local server refuses a Host that is not its own address.
    cases["gateway: foreign Host"] = refused(raw(gateway, f"GET {api_path}health HTTP/1.1\nHost: evil.example\n"
                                                          "Connection: close\n")[0])
    cases["site: foreign Host"] = refused(raw(site_root, f"GET /{bucket}/ HTTP/1.1\nHost: evil.example:{site_port}\n"
                                                         "Connection: close\n")[0])
    cases["gateway: Host with a fragment"] = refused(raw(
        gateway, f"GET {api_path}{tickets_path} HTTP/1.1\nHost: 127.0.0.1:{gateway_port}#x\nConnection: close\n")[0])
    # 10-17: identity.
    cases["gateway: unsigned"] = refused(http("GET", ticket_url)[0])
    cases["gateway: unknown key"] = refused(TicketsApi(api_url, PRIMARY, Credentials(
        "ASIAUNKNOWNUNKNOWN00", "x", "y")).list_tickets().status)
    cases["gateway: wrong secret"] = refused(TicketsApi(api_url, PRIMARY, Credentials(
        LOCAL_ACCESS_KEY_ID, "guessed")).list_tickets().status)
    cases["gateway: signed for another region"] = refused(TicketsApi(api_url, "ap-southeast-1", OPERATOR)
                                                          .list_tickets().status)
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    cases["gateway: replayed signature (20 minutes old)"] = refused(http(
        "GET", ticket_url, signed("GET", ticket_url, OPERATOR, when=old))[0])
    swap = signed("POST", ticket_url, OPERATOR, body=body, headers={"Content-Type": "application/json",
                                                                     "X-Amz-Content-SHA256": "0" * 64})
    cases["gateway: body swapped under a signature"] = refused(http("POST", ticket_url, swap, body)[0])
    cases["cognito: credentials for someone else's identity"] = refused(cognito(endpoint, "GetCredentialsForIdentity", {
        "IdentityId": bob_identity, "Logins": {"graph.facebook.com": "local:alice"}})[0], 400)
    cases["cognito: an identity id nobody signed in as"] = refused(cognito(endpoint, "GetCredentialsForIdentity", {
        "IdentityId": f"{PRIMARY}:11111111-2222-3333-4444-555555555555",
        "Logins": {"graph.facebook.com": "local:alice"}})[0], 400)
    cases["cognito: no login (unauthenticated)"] = refused(cognito(endpoint, "GetId", {"IdentityPoolId": pool})[0],
                                                           400)
    cases["cognito: SetIdentityPoolRoles from the browser endpoint"] = refused(cognito(
        endpoint, "SetIdentityPoolRoles",
        {"IdentityPoolId": pool, "Roles": {"authenticated": "arn:aws:iam::123456789012:role/evil"}})[0], 400)
    cases["cognito: SetPrincipalTagAttributeMap from the browser endpoint"] = refused(cognito(
        endpoint, "SetPrincipalTagAttributeMap", {"IdentityPoolId": pool, "IdentityProviderName": "graph.facebook.com",
                                                  "UseDefaults": False, "PrincipalTags": {"owner": "aud"}})[0], 400)
    # 19-23: paths signed as one thing and routed as another, and a site that must not redirect anywhere.
    for name, path in (("dot-dot segment", f"{api_path}x/../{tickets_path}"),
                       ("dot segment", f"{api_path}./{tickets_path}"),
                       ("encoded dot-dot", f"{api_path}owners/x/%2e%2e/operator/tickets"),
                       ("double slash", f"{api_path}/{tickets_path}")):
        url = gateway + path
        cases[f"gateway: {name}"] = refused(http("GET", url, signed("GET", url, OPERATOR))[0])
    cases["site: /\\evil open redirect"] = refused(raw(
        site_root, f"GET /%5Cevil.example HTTP/1.1\nHost: 127.0.0.1:{site_port}\nConnection: close\n")[0], 404)
    status, text = raw(site_root, f"GET /%0d%0aSet-Cookie:%20pwned=1 HTTP/1.1\nHost: 127.0.0.1:{site_port}\n"
                                  "Connection: close\n")
    cases["site: CRLF header injection"] = status == 404 and "pwned" not in text.split("\r\n\r\n")[0]
    # 24-28: framing and size.
    host = f"Host: 127.0.0.1:{gateway_port}\nConnection: close\n"
    cases["gateway: negative chunk size"] = refused(raw(
        gateway, f"POST {api_path}{tickets_path} HTTP/1.1\n{host}Transfer-Encoding: chunked\n",
        b"-5\r\nhello\r\n0\r\n\r\n")[0], 400)
    started = time.monotonic()
    status = raw(gateway, f"POST {api_path}{tickets_path} HTTP/1.1\n{host}Content-Length: -1\n")[0]
    cases["gateway: Content-Length -1 (answered at once)"] = refused(status, 400) and time.monotonic() - started < 3
    cases["gateway: Content-Length and chunked"] = refused(raw(
        gateway, f"POST {api_path}{tickets_path} HTTP/1.1\n{host}Content-Length: 5\nTransfer-Encoding: chunked\n",
        b"0\r\n\r\n")[0], 400)
    huge = b"x" * (10 * 1024 * 1024 + 1)
    cases["gateway: body over 10 MiB"] = refused(http("POST", ticket_url, {"Content-Type": "application/json"},
                                                      huge)[0], 413)
    nested = ("[" * 5000 + "]" * 5000).encode()
    cases["gateway: deeply nested JSON body"] = refused(TicketsApi(api_url, PRIMARY, OPERATOR).request(
        "POST", tickets_path, raw_body=nested).status, 400)
    # 29-31: code execution through a function's configuration.
    function = "wildrydes-health"
    original = lam.get_function_configuration(FunctionName=function)
    variables = dict(original["Environment"]["Variables"])
    try:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": {
            **variables, "PYTHONPATH": str(evil), "PYTHONSTARTUP": str(evil / "sitecustomize.py"),
            "LD_PRELOAD": str(evil / "nothing.so")}})
        time.sleep(1.5)  # the gateway re-reads a function's configuration within a second
        status = TicketsApi(api_url, PRIMARY, None).health().status
        cases["worker: PYTHONPATH / PYTHONSTARTUP / LD_PRELOAD in the environment"] = status == 200 and \
            not marker.exists()
        for handler in ("evilmod.handler", "os.system", "antigravity.fly"):
            lam.update_function_configuration(FunctionName=function, Handler=handler)
            time.sleep(1.5)
            status = TicketsApi(api_url, PRIMARY, None).health().status
            cases[f"worker: Handler {handler}"] = status == 502 and not marker.exists()
    finally:
        lam.update_function_configuration(FunctionName=function, Handler=original["Handler"],
                                          Environment={"Variables": variables})
    # 32-35: authorization.
    _, alice_now = sign_in(endpoint, pool, "alice")  # (the first credentials may have expired by now)
    for name, owner in (("another user's tickets", bob_owner), ("the operator's tickets", "operator")):
        other = TicketsApi(api_url, PRIMARY, alice_now, owner=owner)
        listed, made = other.list_tickets(), other.create_ticket(TICKET)
        cases[f"gateway: a signed request for {name}"] = listed.status == made.status == 403 and \
            f"/owners/{owner}/tickets" in listed.body["message"]
    policy_name = "wildrydes-invoke-apis"
    allowed = iam.get_user_policy(UserName=LOCAL_OPERATOR_USER, PolicyName=policy_name)["PolicyDocument"]
    get_only = json.loads(json.dumps(allowed))
    get_only["Statement"][0]["Resource"] = [r for r in get_only["Statement"][0]["Resource"] if "/GET/" in r]
    iam.put_user_policy(UserName=LOCAL_OPERATOR_USER, PolicyName=policy_name, PolicyDocument=json.dumps(get_only))
    try:
        time.sleep(1.5)  # the gateways cache a principal's policies for a second
        denied = TicketsApi(api_url, PRIMARY, OPERATOR).create_ticket(TICKET)
        cases["gateway: a policy that does not allow POST"] = denied.status == 403 and \
            "is not authorized to perform: execute-api:Invoke" in denied.body["message"]
    finally:
        iam.put_user_policy(UserName=LOCAL_OPERATOR_USER, PolicyName=policy_name, PolicyDocument=json.dumps(allowed))
    time.sleep(3.5)  # alice's credentials (3 s) have expired
    expired = TicketsApi(api_url, PRIMARY, alice, owner=alice_owner).create_ticket(TICKET)
    cases["gateway: expired Cognito credentials"] = expired.status == 403 and expired.body == {
        "message": "The security token included in the request is expired"}

    failed = [name for name, ok in cases.items() if not ok]
    assert len(cases) >= 30 and failed == []
    # Nothing any of them did stuck.
    assert tickets(env) == before
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == users
    assert {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]} == site_objects
    assert not marker.exists() and not Path(evil / "nothing.so").exists()
    assert alice_identity != bob_identity
