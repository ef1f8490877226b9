"""Suite-wide safety: fake AWS credentials and no profile, so no test can ever reach real AWS."""

import os

import pytest

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ACM_VALIDATION_WAIT": "0",
}

for _key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_key, None)
os.environ.update(FAKE_ENV)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch):
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


# --- as strict as AWS: the contract check on every AWS call, the behaviour layer where asked for -----------

from fidelity import install as fidelity  # noqa: E402 - after the fake environment above

fidelity.patch_botocore_sessions()


def _violations_message(violations) -> str:
    return "AWS would refuse these requests (service model constraints):\n" + "\n".join(
        f"  {v['service']}:{v['operation']} {v['path']}: {v['message']}" for v in violations)


@pytest.fixture(autouse=True)
def aws_contract(monkeypatch, tmp_path):
    """Every AWS call of the test — in this process and in every process it starts (the real `wildrydes`, the
    local cloud) — is checked against its service model's min/max/enum/pattern traits; a violation fails the
    test even if the code under test swallowed the refusal."""
    harness = fidelity.in_process(behaviour=False)
    log = tmp_path / "aws-contract-violations.jsonl"
    for name, value in fidelity.subprocess_environment(log).items():
        monkeypatch.setenv(name, value)
    yield harness
    fidelity.activate(None)
    violations = [v.to_json() for v in harness.contract.violations] + fidelity.read_contract_log(log)
    assert not violations, _violations_message(violations)


@pytest.fixture
def aws_behaviour(aws_contract):
    """The AWS behaviour layer (eventual consistency, readiness delays, rate limits, resources held) in front of
    moto for this test, on a simulated clock; see tests/fidelity/."""
    harness = fidelity.in_process(behaviour=True)
    harness.contract = aws_contract.contract  # one contract record for the test
    fidelity.activate(harness)
    return harness


# `./run test` runs the in-process tests on both cores (pytest-xdist, a file per worker): the longest file goes
# first, so that it does not run alone at the end.
LONGEST_FIRST = ("tests/functional/test_resilience.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))
