"""`wildrydes policy` through click's CliRunner under the CLI's own global options (authz.printed): the text form (a
header line per document, the documents, the note on the `*` actions), the JSON form, the config it reads, and the
account — `--account`, else STS GetCallerIdentity (moto in-process), else a one-line usage error (exit 2)."""

from __future__ import annotations

import json

import pytest
from authz.printed import invoke
from moto import mock_aws

from wildrydes_mr import policy
from wildrydes_mr.errors import UsageError

CONFIG = "target: aws\ndeployment: shop\nregions: {primary: us-east-1, secondary: us-west-2}\n" \
         "dns: {domain: shop.example.org}\n"


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "wildrydes.yaml"
    path.write_text(CONFIG)
    return path


def policy_config(path):
    from wildrydes_mr import config

    return config.load(path)


def documents_of_text(output: str) -> list[tuple[str, dict]]:
    """The (header, document) pairs of the text form: each document follows its `#` header line."""
    found, header, lines = [], None, []
    for line in output.splitlines() + ["#"]:
        if line.startswith("#"):
            if header is not None and lines:
                found.append((header, json.loads("\n".join(lines))))
            if line.startswith("# shop-"):
                header, lines = line, []
            else:
                header = None
        elif header is not None:
            lines.append(line)
    return found


def test_text_output_is_the_documents_each_after_a_header_then_the_star_note(config_path):
    result = invoke(["--config", str(config_path), "policy", "--account", "111122223333"])
    assert result.exit_code == 0, result.output
    pairs = documents_of_text(result.output)
    assert len(pairs) >= 2  # the deployer's policy passes one document's 6,144 characters
    for number, (header, document) in enumerate(pairs, start=1):
        assert header.startswith(f"# shop-deployer-{number}: policy {number} of {len(pairs)}")
        assert f"({policy.policy_size(document)} of 6144 characters)" in header
        assert document["Version"] == "2012-10-17"
    text = json.dumps([document for _, document in pairs])
    assert "arn:aws:lambda:us-west-2:111122223333:function:shop-health" in text
    note = result.output.split('# Granted on "*" only', 1)[1]
    for item in policy.unscoped(policy_config(config_path), "deployer"):
        assert f"#   {item['action']}: {item['why']}" in note


def test_json_output_and_for_operator(config_path):
    result = invoke(["--config", str(config_path), "--output", "json", "policy", "--for", "operator",
                     "--account", "111122223333"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["for"] == "operator" and printed["account"] == "111122223333" and printed["partition"] == "aws"
    assert [p["name"] for p in printed["policies"]] == ["shop-operator-1"]
    assert [p["document"] for p in printed["policies"]] == policy.documents(
        policy_config(config_path), "111122223333", role="operator")
    assert {item["action"] for item in printed["unscoped"]} == {"fis:ListExperimentTemplates", "fis:ListExperiments",
                                                                 "route53:TestDNSAnswer"}


def test_the_account_comes_from_sts_without_account(config_path):
    with mock_aws():
        result = invoke(["--config", str(config_path), "--output", "json", "policy"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.output)["account"] == "123456789012"


def test_without_credentials_or_account_a_usage_error(config_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = invoke(["--config", str(config_path), "policy"])
    assert isinstance(result.exception, UsageError) and result.exception.exit_code == 2
    assert "no AWS account id" in result.exception.message and "--account" in result.exception.hint
    assert "\n" not in result.exception.message


def test_a_malformed_account_is_a_usage_error(config_path):
    result = invoke(["--config", str(config_path), "policy", "--account", "12345"])
    assert isinstance(result.exception, UsageError) and "12-digit" in result.exception.message
    result = invoke(["--config", str(config_path), "policy", "--for", "admin", "--account", "111122223333"])
    assert result.exit_code == 2 and "admin" in result.output
