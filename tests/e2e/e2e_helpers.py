"""End-to-end helpers: run the real `wildrydes` command in a temporary directory with its own local cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3

from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

ROOT = Path(__file__).resolve().parents[2]
PRIMARY = "eu-west-1"


def wildrydes(workdir: Path, *args: str, check: bool = True, config: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `python -m wildrydes_mr --output json ARGS` in `workdir` with fake credentials only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=PRIMARY)
    config = config or ROOT / "config" / "wildrydes.yaml"
    result = subprocess.run([sys.executable, "-m", "wildrydes_mr", "--config", str(config), "--output", "json",
                             *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"wildrydes {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def wildrydes_json(workdir: Path, *args: str, **kwargs) -> dict:
    return json.loads(wildrydes(workdir, *args, **kwargs).stdout)


def moto_client(endpoint: str, service: str, region: str = PRIMARY):
    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id=LOCAL_ACCESS_KEY_ID, aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY)
