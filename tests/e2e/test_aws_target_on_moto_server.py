"""The real-AWS code path (target aws, AWS_ENDPOINT_URL) against a moto server, checked with the AWS CLI rather
than with our own code: build-api creates module 1, a re-run changes nothing, cleanup leaves nothing."""

from __future__ import annotations

from e2e_helpers import PRIMARY as REGION
from e2e_helpers import aws_cli, aws_cli_raw
from e2e_helpers import wildrydes_on_aws as wildrydes


def functions(endpoint: str) -> dict[str, tuple[str, str]]:
    listed = aws_cli(endpoint, "lambda", "list-functions")["Functions"]
    return {f["FunctionName"]: (f["CodeSha256"], f["LastModified"]) for f in listed}


def test_build_api_on_aws_path_is_idempotent_and_cleanup_leaves_nothing(moto_server, tmp_path):
    built = wildrydes(moto_server, tmp_path, "build-api")
    assert built["api_url"] == f"https://{built['api_id']}.execute-api.{REGION}.amazonaws.com/prod/"

    table = aws_cli(moto_server, "dynamodb", "describe-table", "--table-name", "SXRTickets")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    before = functions(moto_server)
    assert set(before) == {"wildrydes-list-tickets", "wildrydes-create-ticket", "wildrydes-claim-tickets",
                           "wildrydes-health"}
    roles = [r["RoleName"] for r in aws_cli(moto_server, "iam", "list-roles")["Roles"]]
    assert sorted(r for r in roles if r.startswith("wildrydes-")) == sorted(
        f"{name}-{REGION}" for name in before)
    resources = aws_cli(moto_server, "apigateway", "get-resources", "--rest-api-id", built["api_id"],
                        "--embed", "methods")["items"]
    auth = {(r["path"], m): v["authorizationType"] for r in resources for m, v in r.get("resourceMethods", {}).items()}
    tickets = "/owners/{owner}/tickets"
    assert auth[(tickets, "GET")] == auth[(tickets, "POST")] == auth[("/owners/{owner}/claims", "POST")] == "AWS_IAM"
    assert auth[("/health", "GET")] == "NONE"
    deployments = aws_cli(moto_server, "apigateway", "get-deployments", "--rest-api-id", built["api_id"])["items"]

    again = wildrydes(moto_server, tmp_path, "build-api")
    assert {a["action"] for a in again["actions"]} == {"nothing"}
    assert functions(moto_server) == before  # same CodeSha256 and LastModified
    assert aws_cli(moto_server, "apigateway", "get-deployments", "--rest-api-id", built["api_id"])["items"] \
        == deployments

    cleaned = wildrydes(moto_server, tmp_path, "cleanup", "--yes")
    assert cleaned["remaining"] == []
    assert aws_cli(moto_server, "dynamodb", "list-tables")["TableNames"] == []
    assert functions(moto_server) == {}
    assert aws_cli(moto_server, "apigateway", "get-rest-apis").get("items", []) == []
    assert not [r for r in aws_cli(moto_server, "iam", "list-roles")["Roles"] if r["RoleName"].startswith("wildrydes-")]


def test_dry_run_on_empty_account_lists_creates_and_creates_nothing(moto_server, tmp_path):
    planned = wildrydes(moto_server, tmp_path, "build-api", "--dry-run")
    assert planned["dry_run"] is True
    # The table, its PITR, the API, and per function (four) a log group, a role, the function, its permission.
    assert {a["action"] for a in planned["actions"]} == {"create"} and len(planned["actions"]) == 19
    assert functions(moto_server) == {}
    assert aws_cli(moto_server, "dynamodb", "list-tables")["TableNames"] == []


def test_build_ui_on_aws_path(moto_server, tmp_path):
    config = "target: aws\nsite: {facebook_app_id: \"1234567890\"}\n"
    (tmp_path / "aws.yaml").write_text(config)
    wildrydes(moto_server, tmp_path, "build-api", config_text=config)
    built = wildrydes(moto_server, tmp_path, "build-ui", config_text=config)
    assert built["site_url"].startswith("https://") and built["site_url"].endswith(".cloudfront.net/")

    pool = aws_cli(moto_server, "cognito-identity", "describe-identity-pool", "--identity-pool-id",
                   built["identity_pool_id"])
    assert pool["AllowUnauthenticatedIdentities"] is False
    assert pool["SupportedLoginProviders"] == {"graph.facebook.com": "1234567890"}
    assert not pool.get("OpenIdConnectProviderARNs") and not pool.get("CognitoIdentityProviders")

    policy = aws_cli(moto_server, "iam", "get-role-policy", "--role-name", "wildrydes-web-identity",
                     "--policy-name", "wildrydes-web-identity")["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    api_id = aws_cli(moto_server, "apigateway", "get-rest-apis")["items"][0]["id"]
    # Only the caller's own owner's routes: the owner in the path is the session tag the pool sets.
    assert policy["Version"] == "2012-10-17"
    assert sorted(arn.split(f":{api_id}/prod/")[1] for arn in statement["Resource"]) == [
        "GET/owners/${aws:PrincipalTag/owner}/tickets", "POST/owners/${aws:PrincipalTag/owner}/claims",
        "POST/owners/${aws:PrincipalTag/owner}/tickets"]

    block = aws_cli(moto_server, "s3api", "get-public-access-block", "--bucket", built["bucket"])
    assert all(block["PublicAccessBlockConfiguration"].values())
    (distribution,) = aws_cli(moto_server, "cloudfront", "list-distributions")["DistributionList"]["Items"]
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    config_js = tmp_path / "config.js"
    aws_cli_raw(moto_server, "s3", "cp", f"s3://{built['bucket']}/config.js", str(config_js))
    text = config_js.read_text()
    assert built["api_url"] in text and built["identity_pool_id"] in text

    again = wildrydes(moto_server, tmp_path, "build-ui", config_text=config)
    assert {a["action"] for a in again["actions"]} == {"nothing"}  # nothing uploaded, nothing changed
    assert wildrydes(moto_server, tmp_path, "cleanup", "--yes", config_text=config)["remaining"] == []
    assert aws_cli(moto_server, "s3api", "list-buckets")["Buckets"] == []
    assert not aws_cli(moto_server, "cloudfront", "list-distributions").get("DistributionList", {}).get("Items")
    assert aws_cli(moto_server, "cognito-identity", "list-identity-pools", "--max-results", "10")[
        "IdentityPools"] == []
    assert not [r for r in aws_cli(moto_server, "iam", "list-roles")["Roles"] if r["RoleName"].startswith("wildrydes-")]
