"""Config validation: defaults, the shipped files, and a corpus of bad files each refused with file:line: key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wildrydes_mr import config
from wildrydes_mr.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# (config text, the key the error must name, the line it must name)
BAD_CONFIGS = [
    ("deployment: [unclosed\n", "(YAML syntax)", 2),
    ("deployment: wildrydes\n  target: local\n", "(YAML syntax)", 2),
    ("\tdeployment: x\n", "(YAML syntax)", 1),
    ("colour: blue\n", "colour", 1),
    ("deployment: x\napi: {table: T01, stages: prod}\n", "api.stages", 2),
    ("dns:\n  health_check: {interval: 10, threshold: 3}\n", "dns.health_check.threshold", 2),
    ("deployment: 12\n", "deployment", 1),
    ("deployment: \"\"\n", "deployment", 1),
    ("deployment: Wild_Rydes\n", "deployment", 1),
    ("deployment: a-very-long-deployment-name-indeed\n", "deployment", 1),
    ("target: gcp\n", "target", 1),
    ("regions: {primary: eu-west-1, secondary: eu-west-1}\n", "regions.secondary", 1),
    ("regions:\n  primary: mars-north-1\n", "regions.primary", 2),
    ("regions: eu-west-1\n", "regions", 1),
    ("regions: {primary: 42}\n", "regions.primary", 1),
    ("api: {table: T}\n", "api.table", 1),
    ("api: {stage: \"pr od\"}\n", "api.stage", 1),
    ("site: {https: \"maybe\"}\n", "site.https", 1),
    ("site: {facebook_app_id: \"abc\"}\n", "site.facebook_app_id", 1),
    ("dns: {domain: \"not a domain\"}\n", "dns.domain", 1),
    ("dns: {domain: localhost}\n", "dns.domain", 1),
    (f"dns: {{domain: {'a' * 57}.com}}\n", "dns.domain", 1),  # 61 characters: api.<domain> would pass 64
    ("dns: {hosted_zone_id: \"zone-1\"}\n", "dns.hosted_zone_id", 1),
    ("dns:\n  ttl: 0\n", "dns.ttl", 2),
    ("dns:\n  ttl: 100000\n", "dns.ttl", 2),
    ("dns: {ttl: \"60\"}\n", "dns.ttl", 1),
    ("dns:\n  health_check:\n    interval: 15\n", "dns.health_check.interval", 3),
    ("dns:\n  health_check:\n    failure_threshold: 11\n", "dns.health_check.failure_threshold", 3),
    ("dns:\n  health_check:\n    failure_threshold: 0\n", "dns.health_check.failure_threshold", 3),
    ("dns: {labels: {us-east-1: us}}\n", "dns.labels.us-east-1", 1),
    ("dns: {labels: {eu-west-1: \"EU!\"}}\n", "dns.labels.eu-west-1", 1),
    ("dns: {labels: {eu-west-1: ap-southeast-1}}\n", "dns.labels", 1),
    ("objectives: {rto_seconds: -5}\n", "objectives.rto_seconds", 1),
    ("objectives: {rpo_seconds: 1.5}\n", "objectives.rpo_seconds", 1),
    ("objectives: {rto_seconds: true}\n", "objectives.rto_seconds", 1),
    ("local: {time_scale: 0}\n", "local.time_scale", 1),
    ("local: {time_scale: 2}\n", "local.time_scale", 1),
    ("local: {credential_lifetime: 0}\n", "local.credential_lifetime", 1),
    ("local: {credential_lifetime: 43201}\n", "local.credential_lifetime", 1),
    ("- deployment: x\n", "(top level)", 1),
    ("target: local\ntarget: aws\n", "target", 2),
]


@pytest.mark.parametrize(("text", "key", "line"), BAD_CONFIGS, ids=[c[1] + str(i) for i, c in enumerate(BAD_CONFIGS)])
def test_bad_config_is_one_line_naming_file_line_and_key(text, key, line):
    with pytest.raises(ConfigError) as raised:
        config.parse(text, "bad.yaml")
    message = raised.value.message
    assert "\n" not in message
    assert message.startswith(f"bad.yaml:{line}: {key}:"), message
    assert re.search(r"expected|unknown key|given twice|YAML syntax", message), message
    assert raised.value.exit_code == 2


def test_domain_length_follows_acms_common_name_limit():
    longest = f"{'a' * 56}.com"  # 60 characters: api.<domain> is exactly 64
    assert config.parse(f"dns: {{domain: {longest}}}\n", "t.yaml").dns.domain == longest
    with pytest.raises(ConfigError) as raised:
        config.parse(f"dns: {{domain: a{longest}}}\n", "t.yaml")
    assert "at most 60 characters" in raised.value.message and "64" in raised.value.message


def test_empty_file_gives_all_defaults():
    parsed = config.parse("", "empty.yaml")
    assert parsed.deployment == "wildrydes" and parsed.target == "local"
    assert parsed.regions.both == ("eu-west-1", "ap-southeast-1")
    assert parsed.dns.health_check.interval == 10 and parsed.dns.ttl == 60
    assert parsed.objectives.rto_seconds == 900 and parsed.local.time_scale == 1.0


def test_shipped_configs_are_valid():
    local = config.load(ROOT / "config" / "wildrydes.yaml")
    assert local.target == "local"
    aws = config.load(ROOT / "config" / "aws.example.yaml")
    assert aws.target == "aws" and aws.dns.label("eu-west-1") == "eu" and aws.dns.label("ap-southeast-1") == "ap"


def test_values_are_read_and_normalised():
    parsed = config.parse(
        "deployment: demo-1\nsite: {facebook_app_id: 1234}\ndns: {domain: Tickets.Example.ORG., ttl: 30}\n"
        "local: {time_scale: 0.1, credential_lifetime: 90}\n", "x.yaml")
    assert parsed.site.facebook_app_id == "1234"
    assert parsed.dns.domain == "tickets.example.org"
    assert parsed.dns.label("eu-west-1") == "eu-west-1"
    assert parsed.local.time_scale == 0.1 and parsed.local.credential_lifetime == 90
    assert parsed.tag == {"wildrydes:deployment": "demo-1"}


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml:1: \(file\): not found"):
        config.load(tmp_path / "nope.yaml")
