"""A fake Wild Rydes backend for the browser tests, in Python: two regions, each with its ticket API and its
Cognito Identity pool, the failover name in front of them, the Facebook stand-in and the site.

Servers on 127.0.0.1 (browser_fake_http.py), so that the page and the APIs are different origins, as on the local
cloud and on AWS (CORS, preflights and all):
- per region (eu-west-1, ap-southeast-1): `{api_base}/prod/` the ticket API — GET /health (unsigned),
  GET|POST /owners/{owner}/tickets, POST /owners/{owner}/claims (browser_fake_api.py), SigV4 (execute-api, that
  region) checked with botocore (browser_fake_sigv4.py) and the owner checked like the identity role's IAM
  policy (a signed request for another owner's path: API Gateway's 403 "User: ... is not authorized to perform:
  execute-api:Invoke on resource: ..."); and `{api_base}/cognito/` that region's Cognito Identity (GetId,
  GetCredentialsForIdentity for the stand-in's tokens; the credentials' owner is the Facebook user id, as the
  pool's principal-tag map makes it). The tickets are one table replicated at once (a global table without lag).
- the failover name (apiUrl once replicated): the API of the region it points at (`point_failover_name`),
  the primary until told otherwise, as DNS failover would do it much later than the page does.
- site: web/ as files, a generated config.js, and the Facebook stand-in `POST /_facebook/login` (the local
  cloud's own module, wildrydes_mr.local.facebook), on the site's origin as on the local cloud.

Switches: `take_down(region, mode)` / `bring_up(region)` (the whole region, or `cognito=False` / `api=False` for
one side; mode "drop": connections closed unanswered, "503": a local outage's 503), `Region.healthy`/`reason`,
`Region.drop_answers` (carry out the next N ticket/claim requests but drop their answers), `claims_route`
(False: an API from before claims), `refuse_logins`, `credential_lifetime` (seconds), `expire_credentials()`,
`replicated` (False: the config.js from before `replicate`, one region), `config_changes`, `serve_config`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from browser_fake_api import STAGE, TicketApi
from browser_fake_sigv4 import Rejected

from wildrydes_mr.local import facebook

PRIMARY = "eu-west-1"
SECONDARY = "ap-southeast-1"
LOGIN_PROVIDER = "graph.facebook.com"
DOWN_MODES = ("drop", "503")
user_id = facebook.user_id


@dataclass
class Issued:
    access_key_id: str
    secret_key: str
    session_token: str
    expires: float
    identity_id: str
    owner: str  # the principal tag `owner` (the Facebook user id, the token's `sub`)


@dataclass
class Call:
    method: str
    path: str
    route: str  # "tickets", "claims", "health", "cognito", "facebook", or "" (no route)
    region: str = ""  # the region that answered ("" for the site)
    via: str = "regional"  # "regional" (apiUrls / a Cognito endpoint), "failover-name" (apiUrl) or "site"
    status: int = 0
    message: str = ""
    target: str = ""  # Cognito's X-Amz-Target operation
    signed_region: str = ""  # the credential scope's region, for signed calls
    identity_id: str = ""  # whose credentials signed it
    body: dict | None = None


@dataclass
class Region:
    name: str
    pool_id: str
    api_down: str = ""  # "", "drop" or "503"
    cognito_down: str = ""
    healthy: bool = True
    reason: str = ""
    drop_answers: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/{STAGE}/"

    @property
    def cognito_url(self) -> str:
        return f"{self.base}/cognito/"


def identity_of(region: Region, owner: str) -> str:
    """A user's identity id in a region's pool: one per user and pool, starting with the region."""
    return f"{region.name}:{uuid.uuid5(uuid.NAMESPACE_URL, f'{region.pool_id}/{owner}')}"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FakeCloud(TicketApi):
    web_root: Path
    sign_in: str = "local"
    facebook_app_id: str = "1234567890"
    replicated: bool = True
    serve_config: bool = True
    config_changes: dict = field(default_factory=dict)  # merged into config.js; a None value drops the key
    failover_name_region: str = PRIMARY
    claims_route: bool = True
    refuse_logins: bool = False
    credential_lifetime: float = 3600.0
    regions: dict[str, Region] = field(default_factory=lambda: {
        PRIMARY: Region(PRIMARY, f"{PRIMARY}:6f1b2c3d-0000-4000-8000-00000000c0de"),
        SECONDARY: Region(SECONDARY, f"{SECONDARY}:0a9e8d7c-0000-4000-8000-00000000beef"),
    })
    tickets: list[dict] = field(default_factory=list)  # newest first
    calls: list[Call] = field(default_factory=list)
    issued: dict[str, Issued] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- lifecycle and config.js ------------------------------------------------------------------------------

    def start(self) -> FakeCloud:
        from browser_fake_http import serve  # the servers need this module's FakeCloud

        self.servers = serve(self)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site_server.server_address[1]}/"

    @property
    def failover_name_url(self) -> str:
        return f"http://127.0.0.1:{self.failover_name_server.server_address[1]}/{STAGE}/"

    @property
    def primary(self) -> Region:
        return self.regions[PRIMARY]

    @property
    def secondary(self) -> Region:
        return self.regions[SECONDARY]

    def config_js(self) -> str:
        regions = [PRIMARY, SECONDARY] if self.replicated else [PRIMARY]
        config = {
            "region": PRIMARY,
            "regions": regions,
            "identityPools": {name: self.regions[name].pool_id for name in regions},
            "cognitoEndpoints": {name: self.regions[name].cognito_url for name in regions},
            "apiUrl": self.failover_name_url if self.replicated else self.primary.api_url,
            "apiUrls": {name: self.regions[name].api_url for name in regions},
            "signIn": self.sign_in,
            "facebookAppId": self.facebook_app_id,
            "facebookStandIn": f"{self.site_url}_facebook/",
            "identityPoolId": self.primary.pool_id,  # the single-region keys, kept for older pages
            "cognitoEndpoint": self.primary.cognito_url,
        }
        config.update(self.config_changes)
        config = {key: value for key, value in config.items() if value is not None}
        return f"window.WILDRYDES_CONFIG = {json.dumps(config, indent=2)};\n"

    # --- switches and data -------------------------------------------------------------------------------------

    def take_down(self, region: str, mode: str = "drop", *, api: bool = True, cognito: bool = True) -> None:
        assert mode in DOWN_MODES, mode
        with self.lock:
            if api:
                self.regions[region].api_down = mode
            if cognito:
                self.regions[region].cognito_down = mode

    def bring_up(self, region: str) -> None:
        with self.lock:
            self.regions[region].api_down = self.regions[region].cognito_down = ""

    def point_failover_name(self, region: str) -> None:
        with self.lock:
            self.failover_name_region = region

    def identity_id(self, region: str, name: str) -> str:
        """The identity id `region`'s pool gives the stand-in's login for `name` (one per user and pool)."""
        return identity_of(self.regions[region], user_id(name))

    def add_ticket(self, description: str, *, owner: str, assigned: str = "Support", priority: str = "medium",
                   status: str = "open", created_by: str = "", ticket_id: str = "") -> dict:
        with self.lock:
            ticket = {
                "id": ticket_id or str(uuid.uuid4()),
                "owner": owner,
                "description": description,
                "assigned": assigned,
                "priority": priority,
                "status": status,
                "createdBy": created_by or f"{PRIMARY}:{uuid.uuid4()}",
                "createdOn": now_iso(),
            }
            self.tickets.insert(0, ticket)
            return ticket

    def tickets_of(self, owner: str) -> list[dict]:
        with self.lock:
            return [t for t in self.tickets if t["owner"] == owner]

    def expire_credentials(self) -> None:
        """Every credential issued so far expires now (the API refuses them: "... token ... is expired")."""
        with self.lock:
            for issued in self.issued.values():
                issued.expires = time.time() - 1

    def calls_to(self, route: str, method: str | None = None, *, region: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.route == route and (method is None or c.method == method)
                    and (region is None or c.region == region)]

    def secrets_issued(self) -> list[str]:
        with self.lock:
            return [s for i in self.issued.values() for s in (i.secret_key, i.session_token)]

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    # --- Cognito Identity, one region's pool ---------------------------------------------------------------------

    def login_user(self, logins: object) -> str:
        """The Facebook user id of a login (the stand-in's token `local:<name>`)."""
        token = logins.get(LOGIN_PROVIDER) if isinstance(logins, dict) else None
        if self.refuse_logins:
            raise Rejected(400, "Invalid login token. Token is expired.", "NotAuthorizedException")
        name = facebook.name_of(token)
        if name is None:
            raise Rejected(400, "Invalid login token (the local cloud expects local:<name>).", "NotAuthorizedException")
        return user_id(name)

    def cognito(self, region: Region, target: str, payload: dict) -> dict:
        operation = target.removeprefix("AWSCognitoIdentityService.")
        if operation == "GetId":
            if payload.get("IdentityPoolId") != region.pool_id:  # another region's pool is not found here
                raise Rejected(400, f"IdentityPool '{payload.get('IdentityPoolId')}' not found.",
                               "ResourceNotFoundException")
            owner = self.login_user(payload.get("Logins"))
            return {"IdentityId": identity_of(region, owner)}
        if operation == "GetCredentialsForIdentity":
            identity_id = str(payload.get("IdentityId") or "")
            if not identity_id.startswith(f"{region.name}:"):  # an identity of another region's pool
                raise Rejected(400, f"Identity '{identity_id}' not found.", "ResourceNotFoundException")
            owner = self.login_user(payload.get("Logins"))
            if identity_id != identity_of(region, owner):
                raise Rejected(400, "Invalid login token. Not a valid login for this identity.",
                               "NotAuthorizedException")
            issued = Issued("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30),
                            secrets.token_urlsafe(48), time.time() + self.credential_lifetime, identity_id, owner)
            with self.lock:
                self.issued[issued.access_key_id] = issued
            return {"IdentityId": identity_id, "Credentials": {
                "AccessKeyId": issued.access_key_id, "SecretKey": issued.secret_key,
                "SessionToken": issued.session_token,
                "Expiration": round(issued.expires, 3),  # epoch seconds, a JSON number
            }}
        raise Rejected(400, f"Unknown operation {target}", "UnknownOperationException")
