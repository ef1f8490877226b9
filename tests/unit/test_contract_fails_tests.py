"""The suite-wide contract check fails a test that sends AWS a value its service model refuses — even when the
code under test swallows the refusal — so a value longer than AWS allows is a red test, not a user's broken
deploy. Shown by running a tiny test of its own in a separate pytest, under this suite's conftest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fidelity import install as fidelity

TESTS = Path(__file__).resolve().parents[1]

SWALLOWING_TEST = '''
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws


def test_creates_a_health_check_and_ignores_errors():
    with mock_aws():
        try:
            boto3.client("route53").create_health_check(CallerReference="{reference}", HealthCheckConfig={{
                "Type": "HTTPS", "FullyQualifiedDomainName": "eu-west-1.example.com", "Port": 443,
                "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 3}})
        except ClientError:
            pass  # the code under test swallows the refusal
'''


# The suite's own tests/conftest.py, loaded under another name (this directory's conftest is "conftest").
SUITE_CONFTEST = f'''
import importlib.util, sys
sys.path.insert(0, {str(TESTS)!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
globals().update({{k: v for k, v in vars(suite).items() if not k.startswith("__")}})
'''


def run_swallowing_test(tmp_path: Path, reference: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(SUITE_CONFTEST)
    (tmp_path / "test_swallowing.py").write_text(SWALLOWING_TEST.format(reference=reference))
    # Not this test's own harness (its log is this test's): the inner run installs the suite's, as any run does.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", fidelity.ENVIRONMENT_VARIABLE)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(tmp_path), str(tmp_path / "test_swallowing.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_an_over_long_value_fails_the_test_even_when_the_code_swallows_the_refusal(tmp_path):
    failed = run_swallowing_test(tmp_path, "wildrydes-a-deployment-name-eu-west-1-" + "f" * 36)  # 74 characters
    assert failed.returncode == 1, failed.stdout
    assert "AWS would refuse these requests" in failed.stdout
    assert "route53:CreateHealthCheck CallerReference" in failed.stdout and "64" in failed.stdout


def test_a_value_within_the_limit_passes(tmp_path):
    passed = run_swallowing_test(tmp_path, "wr-0123456789abcdef-" + "f" * 32)  # 52 characters
    assert passed.returncode == 0, passed.stdout
