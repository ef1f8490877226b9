"""End-to-end helpers: run the real `wildrydes` command in a temporary directory with its own local cloud."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from fidelity import install as fidelity

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


@contextmanager
def local_deployment(workdir: Path, config_text: str, *modules: str) -> Iterator[dict]:
    """A local cloud started by `wildrydes local up` with this config in `workdir`, then each module run on it;
    yields {"workdir", "config", "started": local up's JSON, <module>: its JSON, ...}; always stopped."""
    config = workdir / "wildrydes.yaml"
    config.write_text(config_text)
    started = wildrydes_json(workdir, "local", "up", config=config)
    try:
        results = {module: wildrydes_json(workdir, module, config=config) for module in modules}
        yield {"workdir": workdir, "config": config, "started": started, **results}
    finally:
        wildrydes(workdir, "local", "down", check=False, config=config)


def moto_client(endpoint: str, service: str, region: str = PRIMARY):
    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id=LOCAL_ACCESS_KEY_ID, aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY)


# --- the AWS code path (target aws, AWS_ENDPOINT_URL) against a moto server, the AWS CLI as the judge -------

def aws_env(endpoint: str) -> dict[str, str]:
    """Fake credentials and AWS_ENDPOINT_URL at the moto server; none of the test harness's hooks (the AWS CLI
    judges what exists, as AWS itself would answer it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")
           and k not in ("PYTHONPATH", fidelity.ENVIRONMENT_VARIABLE)}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=PRIMARY,
               AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def aws_cli_raw(endpoint: str, *args: str, harness: dict[str, str] | None = None) -> str:
    """The AWS CLI at the moto server; with `harness`, behind the same behaviour layer as the tool's processes
    (to read what the layer stands in for, e.g. an API moto lacks)."""
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    assert aws, "the AWS CLI (awscli) is a declared test dependency"
    return subprocess.run([aws, *args], env={**aws_env(endpoint), **(harness or {})}, capture_output=True,
                          text=True, check=True, timeout=120).stdout


def aws_cli(endpoint: str, *args: str, harness: dict[str, str] | None = None) -> dict:
    out = aws_cli_raw(endpoint, *args, "--output", "json", harness=harness)
    return json.loads(out) if out.strip() else {}


def run_on_aws(endpoint: str, workdir: Path, *args: str, config_text: str = "target: aws\n",
               harness: dict[str, str] | None = None, timeout: float = 600,
               program: tuple[str, ...] = ("-m", "wildrydes_mr")) -> subprocess.CompletedProcess:
    """The real `wildrydes` on target aws at the moto server, with the contract check (and, with `harness`
    from fidelity.install.subprocess_environment, the behaviour layer) in front of its AWS calls. `program`:
    what python runs instead (e.g. ("-c", code)), given the same --config ARGS."""
    config = workdir / "aws.yaml"
    config.write_text(config_text)
    env = {**aws_env(endpoint), **(harness or {k: os.environ[k] for k in ("PYTHONPATH", fidelity.ENVIRONMENT_VARIABLE)
                                               if k in os.environ})}
    return subprocess.run([sys.executable, *program, "--config", str(config), "--output", "json", *args],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


def wildrydes_on_aws(endpoint: str, workdir: Path, *args: str, **kwargs) -> dict:
    result = run_on_aws(endpoint, workdir, *args, **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
