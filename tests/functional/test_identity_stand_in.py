"""The local Cognito Identity stand-in with attributes for access control, and the Facebook stand-in, over the
control-plane front (moto in-process) as the daemon wires them: principal-tag maps set and read through the
control plane, credentials minted from a local Facebook login carrying the tags the map makes of its claims, the
local API gateway evaluating `${aws:PrincipalTag/owner}` in the role's execute-api Resource, STS's trust-policy
check (sts:TagSession), and one Cognito endpoint per region."""

from __future__ import annotations

import json

import pytest
from local_world import ACCOUNT, PRIMARY, SECONDARY, LocalWorld, build_owner_api, credentials_of

from wildrydes_mr.local import facebook
from wildrydes_mr.local.credentials import LocalCredential

PREFIX = "stand-in"
APP_ID = "492844718097981"
ADMIN = LocalCredential("AKIASTANDINADMIN0001", "stand-in-test-admin-secret",
                        principal_arn=f"arn:aws:iam::{ACCOUNT}:user/{PREFIX}-operator")
OWNER_ROLE = f"{PREFIX}-web-identity"
NO_TAG_SESSION_ROLE = f"{PREFIX}-no-tag-session"
OTHER_POOL_ROLE = f"{PREFIX}-other-pool"
FACEBOOK = "graph.facebook.com"


def trust(pool_ids: list[str], actions: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": actions,
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool_ids},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}]})


class Built:
    def __init__(self, world: LocalWorld, api_id: str, pools: dict[str, str]) -> None:
        self.world, self.api_id, self.pools = world, api_id, pools

    def tickets_url(self, owner: str) -> str:
        return f"{self.world.gateways[PRIMARY].url}/{self.api_id}/prod/owners/{owner}/tickets"

    def arn(self, method: str, owner: str) -> str:
        return f"arn:aws:execute-api:{PRIMARY}:{ACCOUNT}:{self.api_id}/prod/{method}/owners/{owner}/tickets"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    world = LocalWorld(ADMIN, tmp_path_factory.mktemp("lambda_src"))
    try:
        api_id = build_owner_api(world, PRIMARY, PREFIX)
        pools = {}
        for name, region, app in (("owners", PRIMARY, APP_ID), ("owners", SECONDARY, APP_ID),
                                  ("no_tag_session", PRIMARY, ""), ("defaults", PRIMARY, APP_ID),
                                  ("untagged", PRIMARY, "")):
            pools[f"{name}@{region}"] = world.client("cognito-identity", region).create_identity_pool(
                IdentityPoolName=f"stand_in_{name}", AllowUnauthenticatedIdentities=False,
                SupportedLoginProviders={FACEBOOK: app} if app else {})["IdentityPoolId"]
        iam = world.client("iam")
        owner_pools = [pools[f"owners@{PRIMARY}"], pools[f"owners@{SECONDARY}"], pools[f"defaults@{PRIMARY}"]]
        # One role for both regions' pools (IAM is global), trusting Cognito for them, with tags.
        iam.create_role(RoleName=OWNER_ROLE, AssumeRolePolicyDocument=trust(
            owner_pools, ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]))
        iam.create_role(RoleName=NO_TAG_SESSION_ROLE, AssumeRolePolicyDocument=trust(
            [pools[f"no_tag_session@{PRIMARY}"], pools[f"untagged@{PRIMARY}"]], ["sts:AssumeRoleWithWebIdentity"]))
        iam.create_role(RoleName=OTHER_POOL_ROLE, AssumeRolePolicyDocument=trust(
            ["eu-west-1:00000000-0000-0000-0000-000000000000"], ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]))
        owner_paths = [f"arn:aws:execute-api:{PRIMARY}:{ACCOUNT}:{api_id}/prod/{method}/owners/"
                       "${aws:PrincipalTag/owner}/tickets" for method in ("GET", "POST")]
        for role in (OWNER_ROLE, NO_TAG_SESSION_ROLE, OTHER_POOL_ROLE):
            iam.put_role_policy(RoleName=role, PolicyName="owner-paths", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                        "Resource": owner_paths}]}))
        roles = {"owners": OWNER_ROLE, "no_tag_session": NO_TAG_SESSION_ROLE, "defaults": OWNER_ROLE,
                 "untagged": NO_TAG_SESSION_ROLE}
        for key, pool_id in pools.items():
            name, region = key.split("@")
            cognito = world.client("cognito-identity", region)
            cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={
                "authenticated": f"arn:aws:iam::{ACCOUNT}:role/{roles[name]}"})
            if name in ("owners", "no_tag_session"):
                cognito.set_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=FACEBOOK,
                                                        UseDefaults=False, PrincipalTags={"owner": "sub"})
            elif name == "defaults":
                cognito.set_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=FACEBOOK,
                                                        UseDefaults=True)
        world.start_gateways()
        world.start_site()
        yield Built(world, api_id, pools)
    finally:
        world.stop()


# --------------------------------------------------------------------------------------- the Facebook stand-in


def test_facebook_user_ids_are_stable_15_digit_ids_distinct_per_name():
    assert facebook.user_id("Rita") == facebook.user_id("Rita")
    names = [f"user {n}" for n in range(2000)] + ["Rita", "rita", "Rita "]
    ids = [facebook.user_id(name) for name in names]
    assert len(set(ids)) == len(names)
    assert all(len(i) == 15 and i.isdigit() and i[0] != "0" for i in ids)


def test_facebook_login_answers_the_token_and_user_id_and_refuses_what_is_no_name(built):
    world = built.world
    url = f"{world.site.url}/_facebook/login"
    answer = world.http.post(url, json={"name": "Rita"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"accessToken": "local:Rita", "userID": facebook.user_id("Rita"), "name": "Rita"}
    for bad in ({}, {"name": ""}, {"name": "x" * 65}, {"name": "a/b"}, {"name": 7}, {"name": "Rita", "x": 1}, []):
        refused = world.http.post(url, json=bad, timeout=10)
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "OAuthException", bad
    assert world.http.get(url, timeout=10).status_code == 405


# ------------------------------------------------------------------------------------- principal-tag maps


def test_principal_tag_maps_are_set_and_read_through_the_control_plane(built):
    cognito = built.world.client("cognito-identity", PRIMARY)
    custom = cognito.get_principal_tag_attribute_map(IdentityPoolId=built.pools[f"owners@{PRIMARY}"],
                                                     IdentityProviderName=FACEBOOK)
    assert {k: custom[k] for k in ("IdentityPoolId", "IdentityProviderName", "UseDefaults", "PrincipalTags")} == {
        "IdentityPoolId": built.pools[f"owners@{PRIMARY}"], "IdentityProviderName": FACEBOOK,
        "UseDefaults": False, "PrincipalTags": {"owner": "sub"}}
    defaults = cognito.get_principal_tag_attribute_map(IdentityPoolId=built.pools[f"defaults@{PRIMARY}"],
                                                       IdentityProviderName=FACEBOOK)
    assert defaults["UseDefaults"] is True and defaults["PrincipalTags"] == {"username": "sub", "client": "aud"}
    untagged = cognito.get_principal_tag_attribute_map(IdentityPoolId=built.pools[f"untagged@{PRIMARY}"],
                                                       IdentityProviderName=FACEBOOK)
    assert untagged["UseDefaults"] is False and untagged["PrincipalTags"] == {}


@pytest.mark.parametrize("body, message", [
    ({"IdentityPoolId": None, "IdentityProviderName": FACEBOOK}, "IdentityPoolId"),
    ({"IdentityPoolId": "not a pool id", "IdentityProviderName": FACEBOOK}, "IdentityPoolId"),
    ({"IdentityProviderName": None}, "IdentityProviderName is required"),
    ({"IdentityProviderName": ""}, "length between 1 and 128"),
    ({"IdentityProviderName": "x" * 129}, "length between 1 and 128"),
    ({"IdentityProviderName": FACEBOOK, "UseDefaults": "yes"}, "UseDefaults"),
    ({"IdentityProviderName": FACEBOOK, "PrincipalTags": {f"k{n}": "sub" for n in range(51)}}, "at most 50"),
    ({"IdentityProviderName": FACEBOOK, "PrincipalTags": {"k" * 129: "sub"}}, "1-128"),
    ({"IdentityProviderName": FACEBOOK, "PrincipalTags": {"owner": "s" * 257}}, "1-256"),
    ({"IdentityProviderName": FACEBOOK, "PrincipalTags": {"owner": ""}}, "1-256"),
    ({"IdentityProviderName": "accounts.google.com", "PrincipalTags": {"owner": "sub"}}, "not an identity provider"),
])
def test_set_principal_tag_attribute_map_validates_as_the_model_does(built, body, message):
    pool_id = built.pools[f"untagged@{PRIMARY}"]
    request = {key: value for key, value in {"IdentityPoolId": pool_id, **body}.items() if value is not None}
    answer = built.world.control_call("SetPrincipalTagAttributeMap", request)
    assert answer.status_code == 400
    assert answer.json()["__type"] == "InvalidParameterException" and message in answer.json()["message"]
    # Nothing was stored.
    assert built.world.control_call("GetPrincipalTagAttributeMap", {
        "IdentityPoolId": pool_id, "IdentityProviderName": FACEBOOK}).json()["PrincipalTags"] == {}


def test_the_control_plane_serves_only_the_pools_of_the_region_a_call_is_signed_for(built):
    pool_id = built.pools[f"owners@{SECONDARY}"]
    body = {"IdentityPoolId": pool_id, "IdentityProviderName": FACEBOOK}
    elsewhere = built.world.control_call("GetPrincipalTagAttributeMap", body, region=PRIMARY)
    assert elsewhere.status_code == 400 and elsewhere.json()["__type"] == "ResourceNotFoundException"
    assert built.world.control_call("GetPrincipalTagAttributeMap", body, region=SECONDARY).status_code == 200
    assert built.world.control_call("GetIdentityPoolRoles", {"IdentityPoolId": pool_id}).status_code == 400


# ------------------------------------------------------------------------ tags minted, then evaluated by IAM


def test_credentials_carry_the_owner_tag_and_reach_only_the_owners_path(built):
    world = built.world
    user_id, identity_id, issued = world.sign_in("Rita", built.pools[f"owners@{PRIMARY}"])
    assert issued["status"] == 200, issued
    minted = world.credentials.lookup(issued["Credentials"]["AccessKeyId"])
    assert minted.principal_tags == (("owner", user_id),) and user_id == facebook.user_id("Rita")
    rita = credentials_of(issued)

    own = world.signed("GET", built.tickets_url(user_id), rita)
    assert own.status_code == 200, own.text
    assert own.json()["owner"] == user_id and own.json()["identity"]["cognitoIdentityId"] == identity_id
    assert world.signed("POST", built.tickets_url(user_id), rita, body=b"{}").status_code == 200

    other = facebook.user_id("Sam")
    refused = world.signed("GET", built.tickets_url(other), rita)
    assert refused.status_code == 403
    assert refused.json() == {"message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{OWNER_ROLE}/"
                                         f"CognitoIdentityCredentials is not authorized to perform: "
                                         f"execute-api:Invoke on resource: {built.arn('GET', other)}"}
    assert world.signed("GET", built.tickets_url("operator"), rita).status_code == 403


def test_the_same_facebook_user_is_the_same_owner_through_either_regions_pool(built):
    world = built.world
    user_id, primary_identity, _ = world.sign_in("Ana", built.pools[f"owners@{PRIMARY}"])
    same_user, secondary_identity, issued = world.sign_in("Ana", built.pools[f"owners@{SECONDARY}"])
    assert issued["status"] == 200, issued
    assert same_user == user_id and secondary_identity != primary_identity
    assert secondary_identity.startswith(SECONDARY + ":")
    # Credentials from the secondary's pool sign for the primary's API: IAM is global.
    answer = world.signed("GET", built.tickets_url(user_id), credentials_of(issued))
    assert answer.status_code == 200 and answer.json()["identity"]["cognitoIdentityId"] == secondary_identity


def test_the_default_map_tags_username_and_client_and_an_owner_policy_then_denies(built):
    world = built.world
    user_id, _, issued = world.sign_in("Dee", built.pools[f"defaults@{PRIMARY}"])
    assert issued["status"] == 200, issued
    minted = world.credentials.lookup(issued["Credentials"]["AccessKeyId"])
    assert dict(minted.principal_tags) == {"username": user_id, "client": APP_ID}
    # No `owner` tag: ${aws:PrincipalTag/owner} does not resolve, so the statement matches nothing (fails closed).
    assert world.signed("GET", built.tickets_url(user_id), credentials_of(issued)).status_code == 403


def test_a_trust_policy_without_tag_session_gets_no_credentials_once_the_pool_tags(built):
    world = built.world
    _, _, issued = world.sign_in("Tess", built.pools[f"no_tag_session@{PRIMARY}"])
    assert issued["status"] == 400
    assert issued["__type"] == "InvalidIdentityPoolConfigurationException"
    # The same role for a pool with no principal-tag map: no tags, so no sts:TagSession is needed.
    _, _, untagged = world.sign_in("Tess", built.pools[f"untagged@{PRIMARY}"])
    assert untagged["status"] == 200, untagged
    assert world.credentials.lookup(untagged["Credentials"]["AccessKeyId"]).principal_tags == ()


def test_a_trust_policy_for_another_pool_or_a_missing_role_gets_no_credentials(built):
    world = built.world
    pool_id = built.pools[f"untagged@{PRIMARY}"]
    cognito = world.client("cognito-identity", PRIMARY)
    try:
        for role in (OTHER_POOL_ROLE, f"{PREFIX}-no-such-role"):
            cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={
                "authenticated": f"arn:aws:iam::{ACCOUNT}:role/{role}"})
            _, _, issued = world.sign_in("Olga", pool_id)
            assert (issued["status"], issued["__type"]) == (400, "InvalidIdentityPoolConfigurationException"), role
    finally:
        cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={
            "authenticated": f"arn:aws:iam::{ACCOUNT}:role/{NO_TAG_SESSION_ROLE}"})


# --------------------------------------------------------------------------------------- one endpoint per region


def test_each_regional_cognito_path_serves_only_its_regions_pools(built):
    world = built.world
    primary_pool, secondary_pool = built.pools[f"owners@{PRIMARY}"], built.pools[f"owners@{SECONDARY}"]
    logins = {FACEBOOK: "local:Rita"}
    wrong = world.cognito(f"/_cognito/{SECONDARY}/", "GetId", {"IdentityPoolId": primary_pool, "Logins": logins})
    assert wrong.status_code == 400 and wrong.json() == {"__type": "ResourceNotFoundException",
                                                         "message": f"IdentityPool '{primary_pool}' not found."}
    identity_id = world.cognito(f"/_cognito/{PRIMARY}/", "GetId", {"IdentityPoolId": primary_pool,
                                                                   "Logins": logins}).json()["IdentityId"]
    credentials_elsewhere = world.cognito(f"/_cognito/{SECONDARY}/", "GetCredentialsForIdentity",
                                          {"IdentityId": identity_id, "Logins": logins})
    assert credentials_elsewhere.json()["__type"] == "ResourceNotFoundException"
    # The older endpoint (a config.js from before) serves every region's pools, with the same identities.
    for pool_id in (primary_pool, secondary_pool):
        older = world.cognito("/_cognito/", "GetId", {"IdentityPoolId": pool_id, "Logins": logins})
        assert older.status_code == 200 and older.json()["IdentityId"].startswith(pool_id.split(":")[0] + ":")
    assert world.cognito("/_cognito/", "GetId", {"IdentityPoolId": primary_pool,
                                                 "Logins": logins}).json()["IdentityId"] == identity_id
    # Only what a browser calls: the role mapping is the control plane's.
    assert world.cognito(f"/_cognito/{PRIMARY}/", "SetIdentityPoolRoles", {
        "IdentityPoolId": primary_pool, "Roles": {}}).json()["__type"] == "UnknownOperationException"
    assert world.cognito(f"/_cognito/{PRIMARY}/", "GetPrincipalTagAttributeMap", {
        "IdentityPoolId": primary_pool, "IdentityProviderName": FACEBOOK}).status_code == 400
    # A path that names no region is no Cognito endpoint.
    assert world.http.post(f"{world.site.url}/_cognito/nowhere/", timeout=10).status_code == 405
