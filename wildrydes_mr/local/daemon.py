"""The local cloud's background process: moto server, a local API gateway per region, the DNS plane (health
checks and failover routing), the global-table replicator, and the site server.

Started by `wildrydes local up` (see cloud.py) as `python -m wildrydes_mr.local.daemon`. It picks free ports on
127.0.0.1, writes them and its pid to the runtime file once everything answers, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import urllib.request
from pathlib import Path

# moto reads these when its modules load: certificates are ISSUED at once, and DynamoDB Streams answer in
# server mode without an account id in the endpoint.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


# The local cloud's own keys belong to one IAM user, as an operator's keys would on AWS (moto's account).
OPERATOR_ARN = "arn:aws:iam::123456789012:user/wildrydes-operator"
OPERATOR_ID = "AIDAWILDRYDESOPERATOR"


def _configure_moto(endpoint: str) -> None:
    """moto would need docker to run Lambda functions; the local gateway runs them instead."""
    request = urllib.request.Request(f"{endpoint}/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def _write_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run(runtime_file: Path, regions: list[str], lambda_src: Path, time_scale: float) -> None:
    from moto.server import ThreadedMotoServer

    from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
    from wildrydes_mr.local.dns import DnsPlane
    from wildrydes_mr.local.gateway import LocalGateway
    from wildrydes_mr.local.replicator import Replicator
    from wildrydes_mr.local.site import SiteServer
    from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _configure_moto(endpoint)

    admin = LocalCredential(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY, principal_arn=OPERATOR_ARN,
                            principal_id=OPERATOR_ID)
    credentials = CredentialStore()
    # Calls signed with the local cloud's own keys (the demo, the canary) come from an IAM user, not a Cognito
    # identity: API Gateway gives the function userArn and caller for them, as it would on AWS.
    credentials.add(admin)
    gateways = {region: LocalGateway(region, endpoint, credentials, lambda_src, admin) for region in regions}
    for gateway in gateways.values():
        gateway.start()
    dns = DnsPlane(endpoint, gateways, admin.access_key_id, admin.secret_access_key, time_scale=time_scale)
    dns.start()
    replicator = Replicator(endpoint, regions, admin.access_key_id, admin.secret_access_key)
    replicator.start()
    site = SiteServer(endpoint, credentials, admin,
                      status_provider=lambda: {"dns": dns.status(), "replication": replicator.status()})
    site.start()
    _write_atomically(runtime_file, {
        "pid": os.getpid(),
        "aws_endpoint": endpoint,
        "api_urls": {region: gateway.url for region, gateway in gateways.items()},
        "regions": regions,
        "site_root": site.url,
        "dns_urls": {"failover": dns.failover_url, **dns.regional_urls},
        "time_scale": time_scale,
    })
    try:
        stop.wait()
    finally:
        site.stop()
        replicator.stop()
        dns.stop()
        for gateway in gateways.values():
            gateway.stop()
        moto.stop()
        runtime_file.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="wildrydes local cloud (started by `wildrydes local up`)")
    parser.add_argument("--runtime-file", type=Path, required=True)
    parser.add_argument("--regions", required=True, help="comma-separated regions to serve")
    parser.add_argument("--lambda-src", type=Path, required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    run(args.runtime_file, args.regions.split(","), args.lambda_src, args.time_scale)


if __name__ == "__main__":
    main()
