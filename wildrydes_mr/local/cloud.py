"""Starting, finding and stopping the local cloud (moto server + local gateways) in the background.

The local cloud outlives one command, so it runs as a detached process; its ports, pid and admin token go into a
runtime file beside the state file (`<state dir>/local-cloud.json`, 0600). `down` stops only a process whose pid
and command line match what that file recorded, so it never touches a local cloud it did not start.
`set_outage` starts or ends a local outage through the daemon's admin call (with that token); `outage_regions`
reads which region is out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from wildrydes_mr.bundle import lambda_src_dir
from wildrydes_mr.config import Local
from wildrydes_mr.errors import LocalCloudError, UsageError
from wildrydes_mr.local.outage import ADMIN_TOKEN_HEADER, OUTAGE_PATH

RUNTIME_FILE = "local-cloud.json"
LOG_FILE = "local-cloud.log"
DAEMON_MODULE = "wildrydes_mr.local.daemon"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class LocalCloud:
    pid: int
    aws_endpoint: str
    api_urls: dict[str, str]
    regions: list[str]
    time_scale: float
    site_root: str
    dns_urls: dict[str, str]  # "failover" and each region -> the local URL answering for that DNS name
    admin_token: str = field(default="", repr=False)  # the daemon's admin call needs it; never printed
    replication_lag_ms: int = 0  # before time_scale

    def to_json(self) -> dict:
        # The gateways' roots answer 404 on their own: a deployed API's invoke URL is in deployment_urls.
        return {"running": True, "pid": self.pid, "aws_endpoint": self.aws_endpoint,
                "gateway_urls": dict(self.api_urls), "regions": list(self.regions), "site_root": self.site_root}


def _runtime_path(state_dir: Path) -> Path:
    return state_dir / RUNTIME_FILE


def _is_our_daemon(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return DAEMON_MODULE.encode() in cmdline


def _answers(endpoint: str) -> bool:
    """Any HTTP answer counts. (moto-api/data.json is no probe: it fails with 500 once Lambda functions exist.)"""
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5).close()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def find(state_dir: Path) -> LocalCloud | None:
    """The local cloud started for this state directory, if it is running and answers."""
    path = _runtime_path(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cloud = LocalCloud(int(data["pid"]), data["aws_endpoint"], dict(data["api_urls"]),
                           list(data["regions"]), float(data.get("time_scale", 1.0)), data["site_root"],
                           dict(data.get("dns_urls", {})), str(data.get("admin_token", "")),
                           int(data.get("replication_lag_ms", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _is_our_daemon(cloud.pid) or not _answers(cloud.aws_endpoint):
        return None
    return cloud


def up(state_dir: Path, regions: list[str], time_scale: float = 1.0, progress=None,
       credential_lifetime: float = 3600.0, replication_lag_ms: int = Local.replication_lag_ms) -> LocalCloud:
    """Starts the local cloud in the background unless it already runs; returns once it answers.
    `credential_lifetime`: seconds the credentials its Cognito stand-in issues live (× time_scale);
    `replication_lag_ms`: how long a write takes to reach the other region's replica (× time_scale)."""
    cloud = find(state_dir)
    if cloud is not None:
        missing = [r for r in regions if r not in cloud.api_urls]
        if missing:
            raise LocalCloudError(f"the running local cloud serves {', '.join(cloud.regions)}, not "
                                  f"{', '.join(missing)}", hint="run `wildrydes local down`, then try again")
        if cloud.time_scale != time_scale:
            raise LocalCloudError(f"the running local cloud runs its clocks at time_scale {cloud.time_scale}, the "
                                  f"config asks for {time_scale}", hint="run `wildrydes local down`, then try again")
        if cloud.replication_lag_ms != replication_lag_ms:
            raise LocalCloudError(f"the running local cloud replicates with a lag of {cloud.replication_lag_ms} ms, "
                                  f"the config asks for {replication_lag_ms} ms (local.replication_lag_ms)",
                                  hint="run `wildrydes local down`, then try again")
        return cloud
    private_directory(state_dir)
    runtime = _runtime_path(state_dir)
    runtime.unlink(missing_ok=True)
    if progress:
        progress("starting the local cloud (moto server and local API gateways)")
    log = os.open(state_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(log, 0o600)
    process = subprocess.Popen(
        [sys.executable, "-m", DAEMON_MODULE, "--runtime-file", str(runtime), "--regions", ",".join(regions),
         "--lambda-src", str(lambda_src_dir()), "--time-scale", str(time_scale),
         "--credential-lifetime", str(credential_lifetime), "--replication-lag-ms", str(int(replication_lag_ms))],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
    os.close(log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalCloudError(f"the local cloud exited at start (code {process.returncode})",
                                  hint=f"see {state_dir / LOG_FILE}")
        cloud = find(state_dir)
        if cloud is not None:
            return cloud
        time.sleep(0.1)
    _terminate(process.pid)
    raise LocalCloudError(f"the local cloud did not answer within {START_TIMEOUT_SECONDS} s",
                          hint=f"see {state_dir / LOG_FILE}")


def private_directory(path: Path) -> None:
    """The state directory holds what only its owner may read (state, runtime file, logs): 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _terminate(pid: int, timeout: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_our_daemon(pid) or _is_zombie(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (OSError, IndexError):
        return True


def down(state_dir: Path) -> bool:
    """Stops the local cloud this state directory started; False when none was running."""
    path = _runtime_path(state_dir)
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    stopped = False
    if _is_our_daemon(pid):
        _terminate(pid)
        stopped = True
    path.unlink(missing_ok=True)
    return stopped


def data_plane_status(site_root: str) -> dict:
    """Health checks, routing and replication as the running local cloud sees them (see site.py)."""
    with urllib.request.urlopen(f"{site_root}/_local/status", timeout=10) as response:
        return json.loads(response.read())


def outage_regions(running: LocalCloud) -> list[str]:
    """The regions out (a local outage), as the running local cloud holds them."""
    return list(data_plane_status(running.site_root).get("outage", []))


def set_outage(running: LocalCloud, region: str | None) -> list[str]:
    """Starts the local outage of `region` (None: ends it) through the daemon's admin call; the regions out."""
    request = urllib.request.Request(
        f"{running.aws_endpoint}{OUTAGE_PATH}", method="DELETE" if region is None else "POST",
        data=None if region is None else json.dumps({"region": region}).encode(),
        headers={ADMIN_TOKEN_HEADER: running.admin_token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return list(json.loads(response.read())["outage"])
    except urllib.error.HTTPError as exc:
        try:
            message = str(json.loads(exc.read()).get("message") or exc)
        except ValueError:
            message = str(exc)
        if exc.code in (400, 409):
            raise UsageError(message, hint="end the current outage first: `wildrydes local outage --end`"
                             if exc.code == 409 else None) from exc
        raise LocalCloudError(f"the local cloud refused the outage call: {message}",
                              hint="run `wildrydes local down`, then `wildrydes local up`") from exc
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise LocalCloudError(f"the local cloud did not answer the outage call: {exc}") from exc


def deployment_urls(running: LocalCloud, state_file: Path, config) -> dict:
    """The local URLs of what the state file records: the site (served from its bucket), read-only."""
    from wildrydes_mr import state as state_module
    from wildrydes_mr.errors import StateError

    try:
        recorded = state_module.load(state_file, config.deployment, "local")
    except StateError:
        return {}
    urls: dict = {}
    apis = {r["region"]: r["url"] for r in recorded.resources.values() if r["kind"] == "rest-api" and r.get("url")}
    if apis:
        urls["api_urls"] = apis  # each deployed API's invoke URL: `<gateway>/<api id>/<stage>/`
    bucket = next((r["name"] for r in recorded.resources.values() if r["kind"] == "s3-bucket"), None)
    if bucket:
        urls["site_url"] = f"{running.site_root}/{bucket}/"
    status = data_plane_status(running.site_root)
    dns = status["dns"]
    replication = status.get("replication") or {}
    # What is not replicating now (a local outage's region, an FIS experiment's table), and the lag it runs with.
    urls["replication"] = {"paused_tables": replication.get("paused_tables", {}),
                           "lag_seconds": replication.get("replication_lag_seconds", 0.0)}
    if dns.get("failover_name"):
        urls["failover_url"] = dns["failover_url"]
        urls["regional_urls"] = {r: u for r, u in dns["regional_urls"].items() if r in dns.get("health", {})}
        urls["health"] = dns["health"]
    return urls
