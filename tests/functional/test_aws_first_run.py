"""What a first real run meets and moto alone would let pass, on moto in-process behind the behaviour layer (the
endpoint is AWS's, so the product takes its AWS path): each test fails on the code before the fix it covers."""

from __future__ import annotations

import boto3
import pytest
from deploy_helpers import REGIONS, full_deploy, zone_config
from fidelity import catalogue

from wildrydes_mr import faults
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.resources import route53
from wildrydes_mr.state import resource_key
from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate

PRIMARY, SECONDARY = REGIONS


class Crash(BaseException):
    """The process dying right after AWS accepted a call, before its answer is used."""


def crash_after(operation: str):
    """A hook for any client's after-call that dies once AWS has answered `operation` (registered on the
    general event, it runs after what AWS itself did with the request: the behaviour layer's bookkeeping)."""
    def hook(model=None, **_):
        if model is not None and model.name == operation:
            raise Crash(operation)
    return "after-call", hook


def replicate_killed_after(make_context, operation: str):
    """build-api and build-ui, then a replicate that dies once AWS has answered `operation`."""
    cfg, _ = zone_config()
    build_api.run(make_context(cfg=cfg))
    build_ui.run(make_context(module="build-ui", cfg=cfg))
    crashing = make_context(module="replicate", cfg=cfg)
    crashing.aws.events.register(*crash_after(operation))
    with pytest.raises(Crash):
        replicate.run(crashing)
    return cfg, crashing


def fired(harness, name: str) -> int:
    return harness.layer.fired_counts().get(name, 0)


@pytest.fixture
def deployed(make_context, aws_behaviour):
    cfg, zone_id = zone_config()
    ctx = full_deploy(make_context, cfg)
    return cfg, zone_id, ctx


def test_health_check_caller_reference_fits_route53s_64_characters(deployed):
    checks = boto3.client("route53").list_health_checks()["HealthChecks"]
    assert len(checks) == 2
    for check in checks:
        assert len(check["CallerReference"]) <= 64
        assert check["CallerReference"].startswith("wr-")


def test_aws_replica_path_survives_a_crash_right_after_update_table(make_context, aws_behaviour):
    cfg, _ = replicate_killed_after(make_context, "UpdateTable")
    # Re-run at once: DescribeTable does not list the new replica yet, but the state file says it was
    # requested, so the replica is awaited rather than requested twice (or made as a table of our own).
    replicate.run(make_context(module="replicate", cfg=cfg))
    replicas = boto3.client("dynamodb", PRIMARY).describe_table(TableName="SXRTickets")["Table"]["Replicas"]
    assert replicas == [{"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE"}]
    tags = boto3.client("dynamodb", SECONDARY).list_tags_of_resource(
        ResourceArn=f"arn:aws:dynamodb:{SECONDARY}:123456789012:table/SXRTickets")["Tags"]
    assert "wildrydes:replica-of" not in {t["Key"] for t in tags}  # not the emulator path


def test_replica_that_will_not_become_active_fails_fast_naming_its_status(make_context, aws_behaviour):
    cfg, _ = zone_config()
    build_api.run(make_context(cfg=cfg))
    ctx = make_context(module="replicate", cfg=cfg)
    global_tables = catalogue.rule(aws_behaviour.layer, "dynamodb-global-table-replicas")
    ctx.aws.events.register("after-call.dynamodb.UpdateTable", lambda **_: global_tables.force_status(
        aws_behaviour.layer, PRIMARY, "SXRTickets", SECONDARY, "REGION_DISABLED"))
    with pytest.raises(WildrydesError, match="REGION_DISABLED: it will not become ACTIVE") as raised:
        replicate.run(ctx)
    assert "enable it" in raised.value.hint
    assert sum(ctx.aws.clock.sleeps) < 1800  # not the 30-minute replica wait


def test_api_gateway_quotas_are_paced_so_aws_never_throttles(deployed, aws_behaviour):
    _, _, ctx = deployed
    # Four custom domains and two deployments in one replicate, all spaced by the tool itself.
    assert fired(aws_behaviour, "apigateway-rate-limits") == 0
    assert any("once every 30 s" in line for line in ctx.reporter.lines)


def test_a_certificate_request_whose_answer_was_lost_is_repeated_with_the_same_token(make_context, aws_behaviour):
    cfg, crashing = replicate_killed_after(make_context, "RequestCertificate")
    pending = [r for r in crashing.state.resources.values() if r["kind"] == "acm-certificate"]
    assert pending and all("token" in r and "arn" not in r for r in pending)
    tokens = {r["region"]: r["token"] for r in pending}
    ctx = make_context(module="replicate", cfg=cfg)
    replicate.run(ctx)
    assert fired(aws_behaviour, "acm-idempotency-token-reuse") == len(tokens)  # the same request, repeated
    for region in REGIONS:
        (summary,) = boto3.client("acm", region).list_certificates()["CertificateSummaryList"]
        assert ctx.state.get("acm-certificate", region, f"api.{cfg.dns.domain}")["arn"] == summary["CertificateArn"]


def test_a_redeploy_within_the_hour_after_cleanup_gets_new_certificates(deployed, make_context, aws_behaviour):
    cfg, _, ctx = deployed
    first = {r["region"]: r["arn"] for r in ctx.state.resources.values() if r["kind"] == "acm-certificate"}
    assert cleanup.run(make_context(module="cleanup", cfg=cfg))["remaining"] == []
    again = full_deploy(make_context, cfg)
    second = {r["region"]: r["arn"] for r in again.state.resources.values() if r["kind"] == "acm-certificate"}
    # ACM hands back a deleted certificate to a token reused within the hour; each request has its own.
    assert set(first) == set(second) == set(REGIONS) and not set(first.values()) & set(second.values())
    assert fired(aws_behaviour, "acm-idempotency-token-reuse") == 0
    token_rule = catalogue.rule(aws_behaviour.layer, "acm-idempotency-token-reuse")
    tokens = [key.split("/", 1)[1] for key in aws_behaviour.layer.recall(token_rule)]
    assert len(tokens) == len(set(tokens)) == 4
    assert all(token.isalnum() and len(token) <= 32 for token in tokens)


def test_health_fault_is_in_place_only_once_the_new_configuration_is_live(make_context, aws_behaviour):
    cfg, _ = zone_config()
    build_api.run(make_context(cfg=cfg))
    ctx = make_context(module="test-failover", cfg=cfg)
    lam = boto3.client("lambda", PRIMARY)
    faults.inject(ctx, faults.HEALTH, PRIMARY)
    config = lam.get_function_configuration(FunctionName="wildrydes-health")
    # Without the wait the rule would still report InProgress here: the old configuration may still serve.
    assert config.get("LastUpdateStatus", "Successful") == "Successful"
    assert config["Environment"]["Variables"][faults.FORCE_UNHEALTHY] == "true"
    faults.remove(ctx)
    assert faults.FORCE_UNHEALTHY not in lam.get_function_configuration(
        FunctionName="wildrydes-health")["Environment"]["Variables"]
    assert fired(aws_behaviour, "lambda-update-in-progress") > 0


def test_regional_record_is_in_sync_before_its_health_check_probes_it(deployed, aws_behaviour):
    assert fired(aws_behaviour, "route53-health-check-nxdomain") == 0
    assert fired(aws_behaviour, "route53-change-propagation") > 0


def test_alias_failover_records_of_an_earlier_version_become_cnames_in_one_batch(deployed, make_context):
    cfg, zone_id, _ = deployed
    r53 = boto3.client("route53")
    name = f"api.{cfg.dns.domain}."
    cnames = [r for r in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
              if r["Name"] == name]
    domains = {r: {d["domainName"]: d for d in boto3.client("apigateway", r).get_domain_names()["items"]}
               for r in REGIONS}
    # Make the deployment look as an earlier version left it: alias A failover records, recorded as such.
    ctx = make_context(module="replicate", cfg=cfg)
    aliases = []
    for record in cnames:
        region = PRIMARY if record["Failover"] == "PRIMARY" else SECONDARY
        domain = domains[region][f"api.{cfg.dns.domain}"]
        aliases.append({k: record[k] for k in ("Name", "SetIdentifier", "Failover", "HealthCheckId")} | {
            "Type": "A", "AliasTarget": {"HostedZoneId": domain["regionalHostedZoneId"],
                                         "DNSName": domain["regionalDomainName"], "EvaluateTargetHealth": False}})
        ctx.state.remove(route53.RecordSet.kind, route53.GLOBAL, route53.RecordSet(zone_id, record).name)
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        *({"Action": "DELETE", "ResourceRecordSet": r} for r in cnames),
        *({"Action": "CREATE", "ResourceRecordSet": r} for r in aliases)]})
    for alias in aliases:
        ctx.state.put(route53.RecordSet.kind, route53.GLOBAL, route53.RecordSet(zone_id, alias).name, "replicate",
                      zone_id=zone_id, record=alias)
    batches = []
    ctx.aws.events.register("provide-client-params.route-53.ChangeResourceRecordSets",
                            lambda params=None, **_: batches.append(params["ChangeBatch"]["Changes"]))

    replicate.run(ctx)
    failover_batches = [b for b in batches if any(c["ResourceRecordSet"]["Name"] == name for c in b)]
    (batch,) = failover_batches  # one atomic swap: the name never goes without an answer
    assert [(c["Action"], c["ResourceRecordSet"]["Type"]) for c in batch] == [
        ("DELETE", "A"), ("DELETE", "A"), ("UPSERT", "CNAME"), ("UPSERT", "CNAME")]
    live = [r for r in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"] if r["Name"] == name]
    assert sorted(r["Type"] for r in live) == ["CNAME", "CNAME"]
    recorded = [k for k in ctx.state.resources if k.startswith(resource_key(route53.RecordSet.kind, "global", name))]
    assert sorted(k.split()[1] for k in recorded) == ["CNAME", "CNAME"]
    assert any(a.detail.startswith("failover alias records become CNAME") for a in ctx.actions)


def test_health_check_type_change_replaces_the_check(deployed, make_context):
    cfg, _, _ = deployed
    ctx = make_context(module="replicate", cfg=cfg)
    check = route53.HealthCheck(PRIMARY, f"wildrydes-{PRIMARY}", f"{PRIMARY}.{cfg.dns.domain}", 10, 3)
    live = check.find(ctx)
    assert check.changes(ctx, live) == []
    changed = dict(live, HealthCheckConfig=dict(live["HealthCheckConfig"], Type="HTTPS_STR_MATCH"))
    assert check.changes(ctx, changed) == ["Type (replace)"]
    replaced = check.update(ctx, changed, ["Type (replace)"])
    assert replaced["id"] != live["Id"] and ctx.outputs["retired_health_checks"] == [live["Id"]]
