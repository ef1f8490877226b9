"""build-ui on the local cloud through the real command: the site is served from its bucket, the local sign-in
goes through the Facebook stand-in and Cognito GetId/GetCredentialsForIdentity, and the gateway accepts exactly
the credentials handed out — for their owner's tickets only (the owner tag the pool sets from the Facebook id)."""

from __future__ import annotations

import json
import urllib.request

from botocore.credentials import Credentials
from e2e_helpers import PRIMARY, moto_client, wildrydes_json

from wildrydes_mr.apiclient import TicketsApi


def cognito(endpoint: str, operation: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityService.{operation}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def facebook_login(stand_in: str, name: str) -> dict:
    request = urllib.request.Request(stand_in + "login", data=json.dumps({"name": name}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_site_sign_in_and_signed_calls_with_handed_out_credentials(local_cloud):
    workdir, started = local_cloud
    built_api = wildrydes_json(workdir, "build-api")
    built = wildrydes_json(workdir, "build-ui")
    site_url = built["site_url"]
    assert site_url.startswith(started["site_root"])
    assert wildrydes_json(workdir, "local", "status")["site_url"] == site_url

    status, headers, body = fetch(site_url)
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<html" in body.lower()
    status, headers, body = fetch(site_url + "config.js")
    assert headers["Cache-Control"].startswith("no-store")
    config_text = body.decode()
    assert built_api["api_url"] in config_text and built["identity_pool_id"] in config_text
    config = json.loads(config_text.split("=", 1)[1].rstrip().rstrip(";"))
    assert config["signIn"] == "local"

    assert config["regions"] == [PRIMARY] and config["identityPools"] == {PRIMARY: built["identity_pool_id"]}
    endpoint = config["cognitoEndpoints"][PRIMARY]
    pool = config["identityPools"][PRIMARY]
    # No unauthenticated identities, and only the local stand-in token is accepted.
    assert cognito(endpoint, "GetId", {"IdentityPoolId": pool})[0] == 400
    assert cognito(endpoint, "GetId", {"IdentityPoolId": pool, "Logins": {"graph.facebook.com": "junk"}})[0] == 400
    alice = facebook_login(config["facebookStandIn"], "alice")
    assert alice["userID"].isdigit() and facebook_login(config["facebookStandIn"], "alice") == alice
    logins = {"graph.facebook.com": alice["accessToken"]}
    status, identity = cognito(endpoint, "GetId", {"IdentityPoolId": pool, "Logins": logins})
    assert status == 200 and identity["IdentityId"].startswith(PRIMARY + ":")
    status, issued = cognito(endpoint, "GetCredentialsForIdentity",
                             {"IdentityId": identity["IdentityId"], "Logins": logins})
    assert status == 200
    creds = issued["Credentials"]
    handed_out = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])

    api = TicketsApi(config["apiUrl"], PRIMARY, handed_out, owner=alice["userID"])
    created = api.create_ticket({"description": "Signed by a Cognito identity", "assigned": "alice",
                                 "priority": "medium", "status": "open"})
    assert created.status == 201, created.body
    assert created.body["createdBy"] == identity["IdentityId"] and created.body["owner"] == alice["userID"]
    assert [t["id"] for t in api.list_tickets().body["tickets"]] == [created.body["id"]]
    # Someone else's tickets, correctly signed: refused by the gateway, as API Gateway refuses what the role's
    # policy (its ${aws:PrincipalTag/owner} resource) does not name.
    bob = facebook_login(config["facebookStandIn"], "bob")
    for owner in (bob["userID"], "operator"):
        other = TicketsApi(config["apiUrl"], PRIMARY, handed_out, owner=owner)
        refused = other.list_tickets()
        assert refused.status == 403 and "is not authorized to perform: execute-api:Invoke" in refused.body[
            "message"], refused.body
        assert other.create_ticket({"description": "Not mine to write here", "assigned": "x", "priority": "low",
                                    "status": "open"}).status == 403

    forged = TicketsApi(config["apiUrl"], PRIMARY, Credentials("ASIAFORGEDFORGED0000", "secret", "token"))
    assert forged.list_tickets().status == 403
    tampered = TicketsApi(config["apiUrl"], PRIMARY, Credentials(creds["AccessKeyId"], creds["SecretKey"], "other"))
    assert tampered.list_tickets().status == 403

    again = wildrydes_json(workdir, "build-ui")
    assert {a["action"] for a in again["actions"]} == {"nothing"}

    assert wildrydes_json(workdir, "cleanup", "--yes")["remaining"] == []
    endpoint_url = started["aws_endpoint"]
    assert moto_client(endpoint_url, "s3").list_buckets()["Buckets"] == []
    assert moto_client(endpoint_url, "cognito-identity").list_identity_pools(MaxResults=60)["IdentityPools"] == []
