"""The request contract (tests/fidelity/contract.py): a call that breaks the service model's max / min / enum /
pattern traits is refused the way AWS refuses it, before it reaches moto; a valid call goes through untouched."""

from __future__ import annotations

import io
import json
import threading

import boto3
import botocore.loaders
import botocore.model
import botocore.session
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import ParamValidator
from fidelity.contract import ContractChecker, Violation, check, compile_pattern, translate_pattern
from moto import mock_aws

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/wildrydes-lambda"
HEALTH_CHECK = {"Type": "HTTPS", "FullyQualifiedDomainName": "api.example.com", "ResourcePath": "/health",
                "Port": 443, "RequestInterval": 30, "FailureThreshold": 3}
TABLE = {"TableName": "wildrydes-tickets", "BillingMode": "PAY_PER_REQUEST",
         "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
MODELLED_SERVICES = ("route53", "acm", "dynamodb", "lambda", "apigateway", "iam", "cognito-identity", "s3",
                     "cloudfront", "logs", "sts", "fis", "resourcegroupstaggingapi", "service-quotas")
_SESSION = botocore.session.get_session()


def operation(service: str, name: str) -> botocore.model.OperationModel:
    return _SESSION.get_service_model(service).operation_model(name)


def summary(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.constraint) for v in violations]


@pytest.fixture(autouse=True)
def aws_contract():
    """Overrides the suite-wide contract check (tests/conftest.py) here: these tests break the contract on purpose,
    each with its own checker, which the suite-wide one would refuse first and then fail the test for."""
    yield None


@pytest.fixture
def checker(tmp_path):
    return ContractChecker(tmp_path / "violations.jsonl")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def client(aws, checker):
    def make(service: str, **kwargs):
        made = boto3.client(service, region_name=REGION, **kwargs)
        checker.register(made.meta.events)
        return made
    return make


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response


# --- refusals through real clients (the hook raises out of the call; moto never sees the request) ----------------
def test_caller_reference_over_max_is_refused_as_route53_refuses_it_and_nothing_is_created(client, checker):
    route53 = client("route53")
    response = refused(route53.create_health_check, CallerReference="r" * 70, HealthCheckConfig=HEALTH_CHECK)
    assert response["Error"]["Code"] == "InvalidInput"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Message"] == (
        f"1 validation error detected: Value '{'r' * 57}...' at 'callerReference' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")
    assert [(v.service, v.operation, v.path, v.constraint) for v in checker.violations] == [
        ("route53", "CreateHealthCheck", "CallerReference", "max")]
    assert route53.list_health_checks()["HealthChecks"] == []

    route53.create_health_check(CallerReference="r" * 64, HealthCheckConfig=HEALTH_CHECK)
    assert len(route53.list_health_checks()["HealthChecks"]) == 1
    assert len(checker.violations) == 1


def test_registered_on_a_client_the_refusal_is_its_modeled_exception(aws, checker):
    route53 = boto3.client("route53", region_name=REGION)
    checker.register(route53)
    with pytest.raises(route53.exceptions.InvalidInput):
        route53.create_health_check(CallerReference="r" * 65, HealthCheckConfig=HEALTH_CHECK)


def test_registered_on_a_session_it_checks_the_clients_made_later(aws, checker):
    session = botocore.session.get_session()
    checker.register(session)
    route53 = session.create_client("route53", region_name=REGION)
    refused(route53.create_health_check, CallerReference="r" * 65, HealthCheckConfig=HEALTH_CHECK)
    assert summary(checker.violations) == [("CallerReference", "max")]


def test_the_handler_itself_can_be_registered_on_an_emitter(aws, checker):
    session = botocore.session.get_session()
    session.register("before-parameter-build", checker.before_parameter_build)
    route53 = session.create_client("route53", region_name=REGION)
    response = refused(route53.create_health_check, CallerReference="r" * 65, HealthCheckConfig=HEALTH_CHECK)
    assert response["Error"]["Code"] == "InvalidInput"
    assert route53.list_health_checks()["HealthChecks"] == []


def test_enum_violation_botocore_lets_through_is_refused(client, checker):
    params = {"CallerReference": "enum-check", "HealthCheckConfig": {**HEALTH_CHECK, "Type": "HTTPZ"}}
    assert not ParamValidator().validate(params, operation("route53", "CreateHealthCheck").input_shape).has_errors()
    response = refused(client("route53").create_health_check, **params)
    assert summary(checker.violations) == [("HealthCheckConfig.Type", "enum")]
    assert "Value 'HTTPZ' at 'healthCheckConfig.type' failed to satisfy constraint: Member must satisfy enum value " \
           "set: [HTTP, HTTPS, HTTP_STR_MATCH" in response["Error"]["Message"]


def test_pattern_violation_is_refused_and_a_matching_value_passes(client, checker):
    acm = client("acm")
    response = refused(acm.request_certificate, DomainName="example.com", IdempotencyToken="a-b")
    assert response["Error"]["Code"] == "ValidationException"
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value 'a-b' at 'idempotencyToken' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: \\w+")
    assert summary(checker.violations) == [("IdempotencyToken", "pattern")]
    assert acm.request_certificate(DomainName="example.com", IdempotencyToken="abc123")["CertificateArn"]


def test_list_member_violation_reports_its_path(client, checker):
    dynamodb = client("dynamodb")
    response = refused(dynamodb.create_table, **TABLE, Tags=[{"Key": "app", "Value": "ok"}, {"Key": "k" * 129,
                                                                                               "Value": "v"}])
    assert summary(checker.violations) == [("Tags[1].Key", "max")]
    assert "at 'tags.2.member.key' failed to satisfy constraint" in response["Error"]["Message"]
    assert dynamodb.list_tables()["TableNames"] == []


def test_number_over_max_is_refused(client, checker):
    response = refused(client("route53").create_health_check, CallerReference="threshold",
                       HealthCheckConfig={**HEALTH_CHECK, "FailureThreshold": 11})
    assert summary(checker.violations) == [("HealthCheckConfig.FailureThreshold", "max")]
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value '11' at 'healthCheckConfig.failureThreshold' failed to satisfy "
        "constraint: Member must have value less than or equal to 10")


def test_every_violation_of_a_request_is_counted_in_the_message(client, checker):
    response = refused(client("route53").create_health_check, CallerReference="c" * 65,
                       HealthCheckConfig={**HEALTH_CHECK, "Type": "HTTPZ", "Port": 70000})
    assert response["Error"]["Message"].startswith("3 validation errors detected: Value ")
    assert response["Error"]["Message"].count("; Value ") == 2


def test_iam_and_sts_answer_validation_error_and_never_show_a_secret(client, checker):
    response = refused(client("iam").create_login_profile, UserName="rider", Password="hunter2" * 30)
    assert response["Error"]["Code"] == "ValidationError"
    assert "hunter2" not in response["Error"]["Message"]
    assert "Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 128" \
        in response["Error"]["Message"]
    response = refused(client("sts").assume_role, RoleArn=ROLE_ARN, RoleSessionName="my session")
    assert response["Error"]["Code"] == "ValidationError"
    assert summary(checker.violations)[-1] == ("RoleSessionName", "pattern")


# --- min: what botocore refuses itself is left to it ---------------------------------------------------------------
def test_a_min_botocore_checks_is_not_reported_twice(client, checker):
    with pytest.raises(ParamValidationError):
        client("route53").create_health_check(CallerReference="", HealthCheckConfig=HEALTH_CHECK)
    assert checker.violations == []


def test_blob_and_map_min_which_botocore_skips_are_checked():
    found = check(operation("acm", "ImportCertificate"), {"Certificate": b"", "PrivateKey": b"secret-key-bytes"})
    assert summary(found) == [("Certificate", "min")]
    assert found[0].message == ("Value at 'certificate' failed to satisfy constraint: Member must have length "
                                "greater than or equal to 1")
    found = check(operation("logs", "TagResource"), {"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:x",
                                                      "tags": {}})
    assert summary(found) == [("tags", "min")]
    memory = {"FunctionName": "f", "Role": ROLE_ARN, "Code": {"ZipFile": b"PK"}, "MemorySize": 64}
    assert check(operation("lambda", "CreateFunction"), memory) == []  # botocore refuses this one itself
    assert summary(check(operation("lambda", "CreateFunction"), memory, botocore_validates=False)) == [
        ("MemorySize", "min")]


# --- maps: keys and values -----------------------------------------------------------------------------------------
def test_map_key_pattern_names_the_key_and_hides_the_sensitive_variables():
    params = {"FunctionName": "wildrydes-tickets", "Role": ROLE_ARN, "Code": {"ZipFile": b"PK"},
              "Environment": {"Variables": {"1BAD": "hunter2-secret", "TABLE_NAME": "tickets"}},
              "Tags": {"team": "v" * 257}}
    found = check(operation("lambda", "CreateFunction"), params)
    assert summary(found) == [("Environment.Variables (key: 1BAD)", "pattern"), ("Tags.team", "max")]
    assert found[0].message == (
        "Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
    assert found[1].message.startswith(f"Value '{'v' * 57}...' at 'tags' failed to satisfy constraint: Map value "
                                       "must satisfy constraint: [Member must have length less than or equal to 256]")
    assert all("hunter2" not in v.message and "1BAD" not in v.message for v in found)


# --- the log, the counters, threads --------------------------------------------------------------------------------
def test_each_violation_is_appended_to_the_jsonl_log(client, checker):
    refused(client("route53").create_health_check, CallerReference="r" * 70, HealthCheckConfig=HEALTH_CHECK)
    lines = checker.log_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"service": "route53", "operation": "CreateHealthCheck", "path": "CallerReference", "constraint": "max",
         "message": checker.violations[0].message}]


def test_concurrent_calls_record_every_violation_and_count_every_request(client, checker):
    route53 = client("route53")

    def work() -> None:
        for _ in range(20):
            with pytest.raises(ClientError):
                route53.create_health_check(CallerReference="r" * 65, HealthCheckConfig=HEALTH_CHECK)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checker.violations) == 160
    assert len(checker.log_path.read_text(encoding="utf-8").splitlines()) == 160
    assert checker.stats() == {"requests_checked": 160, "violations": 160, "uncheckable_patterns": 0}


def test_valid_requests_pass_with_no_violation(client, checker):
    client("dynamodb").create_table(**TABLE, Tags=[{"Key": "app", "Value": "wildrydes"}])
    client("route53").create_health_check(CallerReference="valid-1", HealthCheckConfig=HEALTH_CHECK)
    client("acm").request_certificate(DomainName="api.example.com", ValidationMethod="DNS",
                                      SubjectAlternativeNames=["*.example.com"])
    logs = client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/wildrydes-tickets", tags={"app": "wildrydes"})
    logs.put_retention_policy(logGroupName="/aws/lambda/wildrydes-tickets", retentionInDays=7)
    client("iam").create_role(RoleName="wildrydes-lambda", Path="/", Description="Ticket handlers",
                              AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    client("sts").get_caller_identity()
    s3 = client("s3")
    s3.create_bucket(Bucket="wildrydes-site-123")
    s3.put_object(Bucket="wildrydes-site-123", Key="index.html", Body=b"<html></html>", ContentType="text/html")
    s3.put_object(Bucket="wildrydes-site-123", Key="app.js", Body=io.BytesIO(b"console.log(1)"))
    client("apigateway").create_rest_api(name="wildrydes", endpointConfiguration={"types": ["REGIONAL"]})
    client("cognito-identity").create_identity_pool(IdentityPoolName="wildrydes_pool",
                                                    AllowUnauthenticatedIdentities=True)
    direct = {
        ("lambda", "CreateFunction"): {
            "FunctionName": "wildrydes-tickets", "Runtime": "python3.12", "Role": ROLE_ARN, "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04" + bytes(range(256))}, "Timeout": 30, "MemorySize": 256,
            "Environment": {"Variables": {"TABLE_NAME": "wildrydes-tickets"}}, "Tags": {"app": "wildrydes"},
            "Architectures": ["arm64"]},
        ("resourcegroupstaggingapi", "GetResources"): {
            "TagFilters": [{"Key": "app", "Values": ["wildrydes"]}], "ResourceTypeFilters": ["dynamodb:table"]},
        ("service-quotas", "GetServiceQuota"): {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"},
        ("sts", "AssumeRole"): {"RoleArn": ROLE_ARN, "RoleSessionName": "wildrydes-deploy", "DurationSeconds": 900},
    }
    for (service, name), params in direct.items():
        assert checker.check(operation(service, name), params) == [], (service, name)
    assert checker.violations == []
    assert checker.stats()["requests_checked"] >= 14


# --- patterns ------------------------------------------------------------------------------------------------------
def test_every_pattern_of_the_services_used_compiles():
    loader = botocore.loaders.create_loader()
    checker = ContractChecker()
    failed = {}
    for name in MODELLED_SERVICES:
        model = botocore.model.ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)
        patterns = {model.shape_for(shape).metadata.get("pattern") for shape in model.shape_names} - {None}
        assert patterns, name
        failed[name] = sorted(p for p in patterns if compile_pattern(p) is None)
        checker.prepare(model)
    assert failed == {name: [] for name in MODELLED_SERVICES}
    assert checker.uncheckable_patterns == set()


def test_an_uncheckable_pattern_is_counted_and_skipped_never_reported():
    pattern = "[0-9a-z]{11}{0,1011}"  # rbin's: a quantifier on a quantifier (Java refuses it too)
    model = botocore.model.ServiceModel({
        "metadata": {"protocol": "json", "apiVersion": "2020-01-01", "endpointPrefix": "fake", "serviceId": "Fake"},
        "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "In"}}},
        "shapes": {"In": {"type": "structure", "members": {"A": {"shape": "S"}}},
                   "S": {"type": "string", "pattern": pattern, "max": 3}}}, service_name="fake")
    checker = ContractChecker()
    assert checker.check(model.operation_model("Op"), {"A": "!!"}) == []
    assert summary(checker.check(model.operation_model("Op"), {"A": "!!!!"})) == [("A", "max")]
    assert checker.uncheckable_patterns == {pattern}
    assert checker.stats() == {"requests_checked": 2, "violations": 0, "uncheckable_patterns": 1}


@pytest.mark.parametrize(("pattern", "matches", "refuses"), [
    (r"\p{Print}+", ["abc def", "~!"], ["\x07", "é", "tab\there"]),
    (r"\p{L}", ["é", "a", "Ж"], ["1", "ab"]),
    (r"\w+", ["abc_1"], ["é", "a-b"]),  # Java's \w is ASCII
    (r"[\p{Alnum}\p{Punct}\p{Blank}]*", ["a1 !\t"], ["é"]),
    (r"\p{ASCII}+", ["\x00~"], ["\x80"]),
    (r"[\P{Digit}]+", ["ab"], ["a1"]),
    (r"\P{Alpha}", ["1"], ["a"]),
    (r"[\s-_]+", [" -_\t"], ["A"]),  # the hyphen next to \s is literal, not a range
    (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF]+", ["a😀", "\uffef"], ["\x07"]),
    (r"[\p{Print}&&[^|:/]]+", ["abc"], ["a|b", "a:b"]),
    (r"\A\S[\p{Print}]*\z", ["a b"], [" a", "a\n"]),
    (r"^abc$", ["abc"], ["abc\n", "xabc"]),
    (r"a.c", ["abc"], ["a\rc", "a\nc", "a\u2028c"]),  # Java's . excludes every line terminator
    (r"(?s)a.c", ["a\nc"], []),
    (r"\x{60}\Q.*\E", ["`.*"], ["`ab"]),
    (r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*", ["this is the description"], ["this is the あいう"]),
])
def test_java_patterns_mean_what_they_mean_in_java(pattern, matches, refuses):
    compiled = compile_pattern(pattern)
    assert compiled is not None, translate_pattern(pattern)
    assert [value for value in matches if not compiled.fullmatch(value)] == []
    assert [value for value in refuses if compiled.fullmatch(value)] == []
