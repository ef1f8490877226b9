"""preflight's checks of identity, regions, hosted zone and delegation, config and cost, each against fakes (and
the delegation against a local dnslib server): pass, fail with the fix, or cannot-check, as the answers say."""

from __future__ import annotations

import botocore.exceptions
import pytest
from fidelity.public_dns import public_dns
from preflight_fakes import FakeAws, client_error, fake_context

from wildrydes_mr import config as config_module
from wildrydes_mr.errors import UsageError
from wildrydes_mr.preflight import cost, hosted_zone, identity, regions, settings
from wildrydes_mr.preflight.checklist import CANNOT_CHECK, FAIL, PASS

ACCOUNT = "123456789012"
SERVERS = ["ns-1.awsdns-01.com", "ns-2.awsdns-02.net", "ns-3.awsdns-03.org", "ns-4.awsdns-04.co.uk"]


# --- identity ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("arn", "kind", "name"), [
    (f"arn:aws:iam::{ACCOUNT}:user/team/dev", identity.USER, "dev"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/alice@example.com", identity.ASSUMED_ROLE, "Deployer"),
    (f"arn:aws:iam::{ACCOUNT}:root", identity.ROOT, ""),
    (f"arn:aws:sts::{ACCOUNT}:federated-user/bob", identity.FEDERATED_USER, "bob"),
    (f"arn:aws:sts::{ACCOUNT}:user/moto", identity.OTHER, ""),
])
def test_caller_arns_are_read_by_kind(arn, kind, name):
    caller = identity.parse_caller(ACCOUNT, arn)
    assert (caller.kind, caller.name, caller.partition) == (kind, name, "aws")


def test_credentials_pass_with_the_account_and_fail_with_the_fix():
    arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    item, caller = identity.check_credentials(FakeAws({"sts": {"get_caller_identity": {
        "Account": ACCOUNT, "Arn": arn, "UserId": "AIDA"}}}), "eu-west-1")
    assert item.status == PASS and ACCOUNT in item.detail and caller.arn == arn
    for error in (botocore.exceptions.NoCredentialsError(), client_error("ExpiredToken", "expired")):
        item, caller = identity.check_credentials(FakeAws({"sts": {"get_caller_identity": error}}), "eu-west-1")
        assert item.status == FAIL and "AWS_PROFILE" in item.fix and caller is None
    item, _ = identity.check_credentials(FakeAws({"sts": {"get_caller_identity": client_error("Throttling")}}),
                                         "eu-west-1")
    assert item.status == CANNOT_CHECK


def test_an_assumed_role_maps_to_its_role_arn_with_the_path_from_get_role():
    caller = identity.parse_caller(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_1/alice")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"
    aws = FakeAws({"iam": {"get_role": {"Role": {"Arn": role_arn}}}})
    assert identity.principal_arn(aws, caller, "eu-west-1") == role_arn
    assert aws.calls == [("iam", "get_role", {"RoleName": "AWSReservedSSO_Admin_1"})]
    with pytest.raises(identity.PrincipalUnknown) as denied:
        identity.principal_arn(FakeAws({"iam": {"get_role": client_error("AccessDenied")}}), caller, "eu-west-1")
    assert "iam:GetRole" in denied.value.fix
    with pytest.raises(identity.PrincipalUnknown, match="root"):
        identity.principal_arn(FakeAws({}), identity.parse_caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"), "x")


# --- regions ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "outcome", "fix"), [
    ("ENABLED_BY_DEFAULT", PASS, None), ("ENABLED", PASS, None),
    ("DISABLED", FAIL, "aws account enable-region --region-name me-south-1"),
    ("ENABLING", FAIL, "get-region-opt-status"),
])
def test_region_opt_status(status, outcome, fix):
    aws = FakeAws({"account": {"get_region_opt_status": {"RegionName": "me-south-1", "RegionOptStatus": status}}})
    item = regions.check_region(aws, "me-south-1")
    assert item.status == outcome and (fix is None or fix in item.fix)
    assert aws.calls[0][2] == {"RegionName": "me-south-1"}


def test_region_status_refused_is_cannot_check_naming_the_permission():
    item = regions.check_region(FakeAws({"account": {"get_region_opt_status": client_error("AccessDeniedException")}}),
                                "eu-west-1")
    assert item.status == CANNOT_CHECK and "account:GetRegionOptStatus" in item.fix


# --- hosted zone and delegation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "address"), [
    ("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)), ("[::1]:5300", ("::1", 5300)),
    ("::1", ("::1", 53)), ("[::1]", ("::1", 53)),
])
def test_resolver_addresses(text, address):
    assert hosted_zone.parse_resolver(text) == address


@pytest.mark.parametrize("text", ["dns.example.com", "127.0.0.1:0", "127.0.0.1:http", "[::1]x"])
def test_bad_resolver_addresses_are_usage_errors(text):
    with pytest.raises(UsageError, match="HOST"):
        hosted_zone.parse_resolver(text)


def zone(name="wildrydes.example.com.", private=False, zone_id="/hostedzone/Z123"):
    return {"HostedZone": {"Id": zone_id, "Name": name, "Config": {"PrivateZone": private}},
            "DelegationSet": {"NameServers": [s.upper() + "." for s in SERVERS]}}


def test_a_missing_zone_fails_and_names_the_fix():
    ctx = fake_context({"route53": {"list_hosted_zones_by_name": {"HostedZones": [
        {"Id": "/hostedzone/ZP", "Name": "wildrydes.example.com.", "Config": {"PrivateZone": True}}]}}})
    item, found = hosted_zone.find_zone(ctx)
    assert item.status == FAIL and found is None
    assert "no public hosted zone for wildrydes.example.com" in item.detail
    assert "create it" in item.fix and "dns.hosted_zone_id" in item.fix


def test_the_zone_found_by_name_passes_with_its_name_servers():
    ctx = fake_context({"route53": {
        "list_hosted_zones_by_name": {"HostedZones": [{"Id": "/hostedzone/Z123", "Name": "wildrydes.example.com.",
                                                       "Config": {"PrivateZone": False}}]},
        "get_hosted_zone": zone()}})
    item, found = hosted_zone.find_zone(ctx)
    assert item.status == PASS and found == {"id": "Z123", "name": "wildrydes.example.com", "name_servers": SERVERS}


@pytest.mark.parametrize(("answer", "words"), [
    (client_error("NoSuchHostedZone", status=404), "no such hosted zone"),
    (zone(private=True), "private"),
    (zone(name="other.org."), "cannot hold records"),
])
def test_a_configured_zone_must_exist_be_public_and_hold_the_domain(answer, words):
    ctx = fake_context({"route53": {"get_hosted_zone": answer}}, "target: aws\ndns: {hosted_zone_id: Z123}\n")
    item, found = hosted_zone.find_zone(ctx)
    assert item.status == FAIL and words in item.detail and item.fix and found is None


def test_a_configured_parent_zone_is_accepted():
    ctx = fake_context({"route53": {"get_hosted_zone": zone(name="example.com.")}},
                       "target: aws\ndns: {hosted_zone_id: /hostedzone/Z123}\n")
    item, found = hosted_zone.find_zone(ctx)
    assert item.status == PASS and found["name"] == "example.com"


def test_delegation_passes_only_when_the_public_ns_records_are_the_zones():
    ours = {"id": "Z123", "name": "wildrydes.example.com", "name_servers": SERVERS}
    with public_dns({"wildrydes.example.com": list(SERVERS)}) as (address, resolver):
        item = hosted_zone.check_delegation(ours, address)
        assert item.status == PASS and resolver.queries == [("wildrydes.example.com", "NS")]
        resolver.zones["wildrydes.example.com"] = ["ns-9.awsdns-09.com", *SERVERS[:3]]
        item = hosted_zone.check_delegation(ours, address)
        assert item.status == FAIL and "partly other name servers (ns-9.awsdns-09.com)" in item.detail
        assert all(server in item.fix for server in SERVERS)
        resolver.zones["wildrydes.example.com"] = ["ns1.registrar.example"]
        assert "delegated to other name servers" in hosted_zone.check_delegation(ours, address).detail
        del resolver.zones["wildrydes.example.com"]
        item = hosted_zone.check_delegation(ours, address)
        assert item.status == FAIL and "does not exist in the public DNS" in item.detail
    assert hosted_zone.check_delegation(None, address).status == CANNOT_CHECK


# --- config -----------------------------------------------------------------------------------------------

def test_facebook_app_id_is_needed_on_aws():
    assert settings.check_facebook_app_id(config_module.parse("", "t")).status == FAIL
    assert settings.check_facebook_app_id(config_module.parse('site: {facebook_app_id: "1234567890"}', "t")
                                          ).status == PASS


def test_predicted_rto_against_the_objective():
    slow = config_module.parse("dns: {health_check: {interval: 30, failure_threshold: 10}}\n"
                               "objectives: {rto_seconds: 60}\n", "t")
    item = settings.check_predicted_rto(slow)
    assert item.status == FAIL and "400 s predicted" in item.detail and "rto_seconds" in item.fix
    assert settings.check_predicted_rto(config_module.parse("", "t")).data["predicted_rto_seconds"] == 110


# --- cost -------------------------------------------------------------------------------------------------

def test_cost_estimate_counts_health_check_features_and_the_table_size():
    table = {"describe_table": client_error("ResourceNotFoundException", status=400)}
    item = cost.estimate_item(fake_context({"dynamodb": table}))
    lines = item.data["lines"]
    checks = [line for line in lines if "optional features" in line["what"]]
    assert [line["quantity"] for line in checks] == [2, 2]  # HTTPS and the 10 s interval, in both regions
    assert all(line["source"].startswith("https://aws.amazon.com/") for line in lines)
    assert item.data["total_usd"] == pytest.approx(0.50 + 2 * (0.50 + 2 * 1.00), abs=0.01)
    assert "ESTIMATE" in item.detail and item.data["prices_as_of"] == cost.PRICES_AS_OF

    ten_gb = {"describe_table": {"Table": {"TableSizeBytes": 10 * cost.GB}}}
    slow = "target: aws\ndns: {health_check: {interval: 30}}\n"
    item = cost.estimate_item(fake_context({"dynamodb": ten_gb}, slow))
    storage = [line for line in item.data["lines"] if line["what"].startswith(("DynamoDB", "its point"))]
    assert sum(line["usd"] for line in storage) == pytest.approx(2 * 10 * (0.25 + 0.20))
    assert "us-east-1 rate" in storage[0]["rate"]
    assert item.data["total_usd"] == pytest.approx(0.50 + 2 * (0.50 + 1.00) + 9.0, abs=0.01)
