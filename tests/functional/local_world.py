"""A small local cloud for functional tests of its parts (a plain module, imported by the test modules).

`LocalWorld` is what the daemon wires together, in-process: the control-plane front (moto behind it, with the
Cognito stand-in answering what moto lacks and the admin call for outages), an `Outage`, and, on demand, a
LocalGateway per region and the site server. `build_owner_api` makes, with boto3, a hand-made REST API like the
project's: `GET|POST /owners/{owner}/tickets` (AWS_IAM) and `GET /health` (NONE), Lambda proxy to an echo
handler, and a DEFAULT_5XX gateway response with CORS headers. Names carry a prefix, since moto's state is shared
by every test module of the process.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from function_code import placeholder_package

from wildrydes_mr.local.control_plane import ControlPlane
from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
from wildrydes_mr.local.gateway import LocalGateway
from wildrydes_mr.local.gateway.authorization import IamPrincipals
from wildrydes_mr.local.identity import IdentityStandIn
from wildrydes_mr.local.identity_trust import role_trust_reader
from wildrydes_mr.local.moto_access import moto_client
from wildrydes_mr.local.outage import Outage
from wildrydes_mr.local.site import SiteServer

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"
REGIONS = (PRIMARY, SECONDARY)
ACCOUNT = "123456789012"  # moto's default account
ADMIN_TOKEN = "functional-test-admin-token"
ECHO = """
    import json, os

    def handler(event, context):
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({
            "region": os.environ["AWS_REGION"], "path": event["path"],
            "owner": (event.get("pathParameters") or {}).get("owner"),
            "identity": event["requestContext"]["identity"]})}
"""
CORS_ORIGIN = "http://127.0.0.1:8000"


class LocalWorld:
    def __init__(self, admin: LocalCredential, src_dir: Path) -> None:
        self.admin = admin
        self.src_dir = src_dir
        (src_dir / "echo.py").write_text(textwrap.dedent(ECHO), encoding="utf-8")
        self.credentials = CredentialStore([admin])
        self.outage = Outage(REGIONS)
        self._cors = os.environ.get("MOTO_DISABLE_GLOBAL_CORS")
        self.identity = IdentityStandIn(self.credentials, self._describe_pool,
                                        role_trust_reader(lambda: self.client("iam")), lifetime_s=600)
        self.control = ControlPlane(self.identity, outage=self.outage, admin_token=ADMIN_TOKEN)
        self.control.start()
        self.endpoint = self.control.url
        requests.post(f"{self.endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
        self.gateways: dict[str, LocalGateway] = {}
        self.site: SiteServer | None = None
        self.http = requests.Session()

    def client(self, service: str, region: str = PRIMARY) -> Any:
        return moto_client(self.endpoint, self.admin, service, region)

    def _describe_pool(self, pool_id: str) -> dict[str, Any] | None:
        cognito = self.client("cognito-identity", pool_id.split(":", 1)[0])
        try:
            return cognito.describe_identity_pool(IdentityPoolId=pool_id)
        except cognito.exceptions.ResourceNotFoundException:
            return None

    def start_gateways(self) -> None:
        principals = IamPrincipals(lambda: self.client("iam"), self.identity.authenticated_role, lambda: ACCOUNT)
        for region in REGIONS:
            self.gateways[region] = LocalGateway(region, self.endpoint, self.credentials, self.src_dir, self.admin,
                                                 principals=principals, outage=self.outage)
            self.gateways[region].start()
        self.control.changes_go_to(self.gateways)

    def start_site(self, cache_ttl: float = 2.0) -> SiteServer:
        self.site = SiteServer(self.endpoint, self.identity, self.admin, outage=self.outage, cache_ttl=cache_ttl,
                               status_provider=lambda: {"outage": self.outage.current()})
        self.site.start()
        return self.site

    def stop(self) -> None:
        self.outage.end()
        if self.site is not None:
            self.site.stop()
        for gateway in self.gateways.values():
            gateway.stop()
        self.control.stop()
        if self._cors is None:
            os.environ.pop("MOTO_DISABLE_GLOBAL_CORS", None)
        else:
            os.environ["MOTO_DISABLE_GLOBAL_CORS"] = self._cors

    # --- calls ----------------------------------------------------------------------------------------------
    def signed(self, method: str, url: str, credential: LocalCredential | Credentials, region: str = PRIMARY,
               body: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
        if isinstance(credential, LocalCredential):
            credential = Credentials(credential.access_key_id, credential.secret_access_key,
                                     credential.session_token)
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        SigV4Auth(credential, "execute-api", region).add_auth(request)
        return self.http.request(method, url, data=body, headers=dict(request.headers.items()), timeout=30)

    def cognito(self, path: str, operation: str, body: dict[str, Any]) -> requests.Response:
        """A browser's call to the site's Cognito stand-in at `path` (e.g. /_cognito/eu-west-1/)."""
        assert self.site is not None
        return self.http.post(f"{self.site.url}{path}", data=json.dumps(body), timeout=30, headers={
            "X-Amz-Target": f"AWSCognitoIdentityService.{operation}", "Content-Type": "application/x-amz-json-1.1"})

    def control_call(self, operation: str, body: dict[str, Any], region: str = PRIMARY) -> requests.Response:
        """A raw JSON 1.1 call to the control plane's Cognito, signed for `region` (a request botocore would
        refuse to send, or the contract check would flag, goes this way)."""
        url = f"{self.endpoint}/"
        request = AWSRequest(method="POST", url=url, data=json.dumps(body).encode(), headers={
            "X-Amz-Target": f"AWSCognitoIdentityService.{operation}", "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(self.admin.access_key_id, self.admin.secret_access_key), "cognito-identity",
                  region).add_auth(request)
        return self.http.post(url, data=request.body, headers=dict(request.headers.items()), timeout=30)

    def sign_in(self, name: str, pool_id: str, path: str | None = None) -> tuple[str, str, dict[str, Any]]:
        """Facebook stand-in login, then GetId and GetCredentialsForIdentity at the pool's regional path:
        (Facebook user id, identity id, the GetCredentialsForIdentity answer)."""
        assert self.site is not None
        login = self.http.post(f"{self.site.url}/_facebook/login", json={"name": name}, timeout=30)
        assert login.status_code == 200, login.text
        logins = {"graph.facebook.com": login.json()["accessToken"]}
        path = path or f"/_cognito/{pool_id.split(':', 1)[0]}/"
        got = self.cognito(path, "GetId", {"IdentityPoolId": pool_id, "Logins": logins})
        assert got.status_code == 200, got.text
        identity_id = got.json()["IdentityId"]
        issued = self.cognito(path, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
        return login.json()["userID"], identity_id, {"status": issued.status_code, **issued.json()}


def credentials_of(issued: dict[str, Any]) -> Credentials:
    creds = issued["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])


def build_owner_api(world: LocalWorld, region: str, prefix: str) -> str:
    """A REST API in `region`: /owners/{owner}/tickets (GET, POST; AWS_IAM) and /health (NONE); its id."""
    lam, apigw, iam = world.client("lambda", region), world.client("apigateway", region), world.client("iam")
    role = f"{prefix}-{region}-function"
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    function = lam.create_function(FunctionName=f"{prefix}-echo", Runtime="python3.12", Role=role_arn,
                                   Handler="echo.handler", Code={"ZipFile": placeholder_package()},
                                   Timeout=5)["FunctionArn"]
    api_id = apigw.create_rest_api(name=f"{prefix}-api", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    parent = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    resources = {}
    for part in ("owners", "{owner}", "tickets"):
        parent = resources[part] = apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    resources["health"] = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="health")["id"]
    uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations"
    for resource, method, auth in (("tickets", "GET", "AWS_IAM"), ("tickets", "POST", "AWS_IAM"),
                                   ("health", "GET", "NONE")):
        apigw.put_method(restApiId=api_id, resourceId=resources[resource], httpMethod=method,
                         authorizationType=auth)
        apigw.put_integration(restApiId=api_id, resourceId=resources[resource], httpMethod=method,
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX", responseParameters={
        "gatewayresponse.header.Access-Control-Allow-Origin": f"'{CORS_ORIGIN}'"})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    lam.add_permission(FunctionName=f"{prefix}-echo", StatementId="apigateway-invoke",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/*/*/*")
    return api_id
