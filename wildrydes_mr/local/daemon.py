"""The local cloud's background process: moto behind the control-plane front, a local API gateway per region, the
DNS plane (health checks and failover routing), the global-table replicator (with its replication lag), the
Cognito, Facebook and FIS stand-ins and the site server — and the outage state they all read (outage.py).

Started by `wildrydes local up` (see cloud.py) as `python -m wildrydes_mr.local.daemon`. It picks free ports on
127.0.0.1, writes them, its pid and a random admin token (what the control-plane front's admin call, e.g. a local
outage, requires) to the runtime file (0600) once everything answers, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import threading
import urllib.request
from pathlib import Path

from wildrydes_mr.targets import LOCAL_OPERATOR_USER

# moto reads these when its modules load: certificates are ISSUED at once, and DynamoDB Streams answer in
# server mode without an account id in the endpoint.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


# The local cloud's own keys belong to one IAM user, as an operator's keys would on AWS (moto's account).
OPERATOR_ARN = f"arn:aws:iam::123456789012:user/{LOCAL_OPERATOR_USER}"
OPERATOR_ID = "AIDAWILDRYDESOPERATOR"


def _configure_moto(endpoint: str) -> None:
    """moto would need docker to run Lambda functions; the local gateway runs them instead."""
    request = urllib.request.Request(f"{endpoint}/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def _write_atomically(path: Path, data: dict) -> None:
    """Only its owner may read it (it holds the admin token): 0600 whatever the umask."""
    tmp = path.with_name(path.name + ".tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def run(runtime_file: Path, regions: list[str], lambda_src: Path, time_scale: float,
        credential_lifetime: float = 3600.0, replication_lag_ms: int = 0) -> None:
    from wildrydes_mr.local.control_plane import ControlPlane
    from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
    from wildrydes_mr.local.dns import DnsPlane
    from wildrydes_mr.local.fis import FisStandIn, global_table_check
    from wildrydes_mr.local.gateway import LocalGateway
    from wildrydes_mr.local.gateway.authorization import IamPrincipals
    from wildrydes_mr.local.identity import IdentityStandIn
    from wildrydes_mr.local.identity_trust import role_trust_reader
    from wildrydes_mr.local.moto_access import moto_client
    from wildrydes_mr.local.outage import Outage
    from wildrydes_mr.local.replicator import Replicator
    from wildrydes_mr.local.site import SiteServer
    from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    os.umask(0o077)  # the runtime file and everything else this process writes: its owner's only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    # The local cloud's own keys belong to an IAM user, as an operator's keys would on AWS: API Gateway gives the
    # function userArn and caller for calls signed with them, and the gateways evaluate that user's policy.
    admin = LocalCredential(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY, principal_arn=OPERATOR_ARN,
                            principal_id=OPERATOR_ID)
    credentials = CredentialStore([admin])
    clients: dict[tuple[str, str], object] = {}

    def client(service: str, region: str) -> object:
        if (service, region) not in clients:
            clients[(service, region)] = moto_client(endpoint, admin, service, region,
                                                     retries={"mode": "standard", "max_attempts": 3})
        return clients[(service, region)]

    def describe_pool(pool_id: str) -> dict | None:
        cognito = client("cognito-identity", pool_id.split(":", 1)[0])
        try:
            return cognito.describe_identity_pool(IdentityPoolId=pool_id)
        except cognito.exceptions.ResourceNotFoundException:
            return None

    outage = Outage(regions)
    admin_token = secrets.token_urlsafe(32)
    identity = IdentityStandIn(credentials, describe_pool, role_trust_reader(lambda: client("iam", "us-east-1")),
                               lifetime_s=credential_lifetime * time_scale)
    replicators: list[Replicator] = []  # the replicator, once made: FIS asks it which tables are global
    fis = FisStandIn(time_scale, role_trust_reader(lambda: client("iam", "us-east-1")), global_table_check(
        lambda table: replicators[0].members(table) if replicators else [], lambda region: client("dynamodb", region)))
    control = ControlPlane(identity, outage=outage, admin_token=admin_token, fis=fis)
    control.start()
    endpoint = control.url
    _configure_moto(endpoint)
    _ensure_operator(client("iam", "us-east-1"), LOCAL_OPERATOR_USER)
    account = client("sts", "us-east-1").get_caller_identity()["Account"]
    principals = IamPrincipals(lambda: client("iam", "us-east-1"), identity.authenticated_role, lambda: account)
    gateways = {region: LocalGateway(region, endpoint, credentials, lambda_src, admin, principals=principals,
                                     outage=outage) for region in regions}
    for gateway in gateways.values():
        gateway.start()
    control.changes_go_to(gateways)
    dns = DnsPlane(endpoint, gateways, admin.access_key_id, admin.secret_access_key, time_scale=time_scale)
    dns.start()
    replicator = Replicator(endpoint, regions, admin.access_key_id, admin.secret_access_key,
                            unavailable=outage.is_out, paused=fis.paused,
                            lag_seconds=replication_lag_ms / 1000 * time_scale,
                            dark_since=lambda region, table: outage.began_at(region) or fis.paused_since(region, table))
    replicators.append(replicator)
    replicator.start()
    site = SiteServer(endpoint, identity, admin, outage=outage,
                      status_provider=lambda: {"outage": outage.current(), "dns": dns.status(),
                                               "replication": replicator.status()},
                      connect_origins=lambda: [g.url for g in gateways.values()] + [
                          u.rstrip("/") for u in (dns.failover_url, *dns.regional_urls.values()) if u])
    site.start()
    _write_atomically(runtime_file, {
        "pid": os.getpid(),
        "aws_endpoint": endpoint,
        "api_urls": {region: gateway.url for region, gateway in gateways.items()},
        "regions": regions,
        "site_root": site.url,
        "dns_urls": {"failover": dns.failover_url, **dns.regional_urls},
        "time_scale": time_scale,
        "replication_lag_ms": replication_lag_ms,
        "admin_token": admin_token,
    })
    try:
        stop.wait()
    finally:
        site.stop()
        replicator.stop()
        dns.stop()
        for gateway in gateways.values():
            gateway.stop()
        control.stop()
        runtime_file.unlink(missing_ok=True)


def _ensure_operator(iam, user: str) -> None:
    try:
        iam.create_user(UserName=user)
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="wildrydes local cloud (started by `wildrydes local up`)")
    parser.add_argument("--runtime-file", type=Path, required=True)
    parser.add_argument("--regions", required=True, help="comma-separated regions to serve")
    parser.add_argument("--lambda-src", type=Path, required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--credential-lifetime", type=float, default=3600.0,
                        help="seconds the Cognito stand-in's credentials live (before time_scale)")
    parser.add_argument("--replication-lag-ms", type=int, default=0,
                        help="milliseconds a write takes to reach the other regions (before time_scale)")
    args = parser.parse_args()
    run(args.runtime_file, args.regions.split(","), args.lambda_src, args.time_scale, args.credential_lifetime,
        args.replication_lag_ms)


if __name__ == "__main__":
    main()
