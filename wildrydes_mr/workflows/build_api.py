"""Workshop module 1, `build-api`: the tickets table, three functions with their roles and log groups, the
REST API and the invoke permissions, in one region (the primary; `replicate` reuses it for the secondary).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from wildrydes_mr import bundle
from wildrydes_mr.engine import PLACEHOLDER, Context, Resource, converge, converge_one
from wildrydes_mr.resources.apigateway import RestApi, Route, execute_api_arn
from wildrydes_mr.resources.dynamodb import LISTING_INDEX, PointInTimeRecovery, Table, table_arn
from wildrydes_mr.resources.iam import Role, UserPolicy, lambda_trust_policy, role_arn
from wildrydes_mr.resources.lambda_fn import Function, InvokePermission, function_arn, wait_ready
from wildrydes_mr.resources.logs import LogGroup, log_group_arn
from wildrydes_mr.targets import LOCAL_OPERATOR_USER

MODULE = "build-api"


@dataclass(frozen=True)
class FunctionSpec:
    """One handler of lambda_src/: its route and exactly the DynamoDB actions it needs, on the table and on the
    listing index."""

    short_name: str
    handler: str
    method: str
    path: str
    authorization: str
    table_actions: tuple[str, ...] = ()
    index_actions: tuple[str, ...] = ()


# Tickets belong to an owner, and the path names it: the web app's identity role may invoke only paths with its
# own owner in them (its principal tag, see build_ui.identity_policy), so API Gateway itself refuses another's.
OWNER_TICKETS = "/owners/{owner}/tickets"
OWNER_CLAIMS = "/owners/{owner}/claims"
FUNCTIONS = (
    FunctionSpec("list-tickets", "list_tickets.handler", "GET", OWNER_TICKETS, "AWS_IAM",
                 index_actions=("dynamodb:Query",)),
    # A retried create (the client names the id) reads the ticket that is already there.
    FunctionSpec("create-ticket", "create_ticket.handler", "POST", OWNER_TICKETS, "AWS_IAM",
                 table_actions=("dynamodb:PutItem", "dynamodb:GetItem")),
    # Tickets from before owners existed, found by their pseudo-owner and given to the caller's owner.
    FunctionSpec("claim-tickets", "claim_tickets.handler", "POST", OWNER_CLAIMS, "AWS_IAM",
                 table_actions=("dynamodb:UpdateItem",), index_actions=("dynamodb:Query",)),
    # Route 53 health checks cannot sign requests, so /health is open; it reveals only region and status.
    FunctionSpec("health", "health.handler", "GET", "/health", "NONE", table_actions=("dynamodb:GetItem",)),
)
TICKET_PATHS = (OWNER_TICKETS, OWNER_CLAIMS)


def function_name(ctx: Context, spec: FunctionSpec) -> str:
    return f"{ctx.config.deployment}-{spec.short_name}"


def function_role_name(function: str, region: str) -> str:
    """Each function's role is named after the function and its region (IAM is global; a role per region)."""
    return f"{function}-{region}"


def api_name(ctx: Context) -> str:
    return f"{ctx.config.deployment}-tickets"


def _function_policy(ctx: Context, region: str, spec: FunctionSpec) -> dict[str, Any]:
    table = table_arn(ctx, region, ctx.config.api.table)
    log_group = log_group_arn(ctx, region, f"/aws/lambda/{function_name(ctx, spec)}")
    statements = []
    if spec.table_actions:
        statements.append({"Sid": "Tickets", "Effect": "Allow", "Action": list(spec.table_actions),
                           "Resource": table})
    if spec.index_actions:
        statements.append({"Sid": "TicketsByOwner", "Effect": "Allow", "Action": list(spec.index_actions),
                           "Resource": f"{table}/index/{LISTING_INDEX}"})
    return {"Version": "2012-10-17", "Statement": [
        *statements,
        # The log group is made by the tool, so the function only needs to write streams and events.
        {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group}:*"},
    ]}


def allowed_origin(ctx: Context) -> str:
    """CORS origin: the site's once build-ui has recorded it, else any (module 1 alone has no site)."""
    site_url = ctx.state.extras.get("site_url")
    if not site_url:
        return "*"
    parts = urllib.parse.urlsplit(site_url)
    return f"{parts.scheme}://{parts.netloc}"


def function_environment(ctx: Context) -> dict[str, str]:
    return {"TABLE_NAME": ctx.config.api.table, "INDEX_NAME": LISTING_INDEX, "ALLOWED_ORIGIN": allowed_origin(ctx)}


def regional_resources(ctx: Context, region: str) -> tuple[list[Resource], RestApi]:
    """The module-1 resources of one region, in dependency order, except the invoke permissions. The table is
    made in the primary region only; elsewhere it is a global-table replica (replicate makes it)."""
    code = bundle.build()
    resources: list[Resource] = [Table(region, ctx.config.api.table)] if region == ctx.config.regions.primary else []
    routes = []
    functions: list[Resource] = []
    # Every role before any function: IAM propagates roles in parallel, so the functions wait for it once,
    # not once each.
    for spec in FUNCTIONS:
        name = function_name(ctx, spec)
        role_name = function_role_name(name, region)
        resources.append(LogGroup(region, f"/aws/lambda/{name}"))
        resources.append(Role(region, role_name, lambda_trust_policy(), _function_policy(ctx, region, spec),
                              description=f"Wild Rydes {spec.short_name} function in {region}"))
        functions.append(Function(region, name, spec.handler, role_arn(ctx, region, role_name),
                                  function_environment(ctx), code))
        routes.append(Route(spec.path, spec.method, spec.authorization, function_arn(ctx, region, name)))
    resources += functions
    api = RestApi(region, api_name(ctx), ctx.config.api.stage, routes, allowed_origin(ctx))
    # Last: DynamoDB refuses point-in-time recovery for a while after CreateTable; the rest overlaps that.
    backups = [PointInTimeRecovery(region, ctx.config.api.table)] if region == ctx.config.regions.primary else []
    return resources + [api] + backups, api


def build_region(ctx: Context, region: str) -> dict[str, Any]:
    """Converges module 1 in `region`; returns the API id and URL."""
    resources, api = regional_resources(ctx, region)
    converged = converge(ctx, resources)
    api_attributes = converged[resources.index(api)]
    api_id = api_attributes.get("id", PLACEHOLDER)
    # API Gateway may invoke each function for its own method and path, on the configured stage only.
    converge(ctx, [InvokePermission(region, function_name(ctx, spec),
                                    execute_api_arn(ctx, region, api_id, ctx.config.api.stage, spec.method,
                                                    any_parameter(spec.path)))
                   for spec in FUNCTIONS])
    if not ctx.dry_run:
        # A new function is Pending for a while and refuses invocations: the API serves once all are Active.
        # Awaited here, once, so that the functions' Pending periods overlap with each other and the API's build.
        for spec in FUNCTIONS:
            wait_ready(ctx, region, function_name(ctx, spec))
    return {"api_id": api_attributes.get("id"), "api_url": api_attributes.get("url")}


def deployed_apis(ctx: Context) -> dict[str, dict[str, Any]]:
    """The REST APIs build-api (and replicate) recorded, by region, each with its invoke `url` (a run that died
    right after CreateRestApi recorded only the id)."""
    return {r["region"]: {**r, "url": r.get("url") or ctx.target.api_url(r["region"], r["id"], ctx.config.api.stage)}
            for r in ctx.state.resources.values()
            if r["kind"] == RestApi.kind and r["name"] == api_name(ctx) and r.get("id")}


def any_parameter(path: str) -> str:
    """A route's path as an execute-api ARN matches every request of it: each {parameter} becomes `*` (IAM
    compares the ARN of the path requested, `/owners/1234/tickets`, never the template)."""
    return re.sub(r"\{[^}/]+\}", "*", path)


def invoke_policy(ctx: Context, apis: dict[str, dict[str, Any]], owner: str = "*") -> dict[str, Any]:
    """Only execute-api:Invoke, only on the ticket routes of this deployment's API stage(s), only for `owner`:
    the operator's policy names every owner (`*`: it is the deployment's admin, and the game day's canary writes
    as the owner `operator`); the web identity's names its own, `${aws:PrincipalTag/owner}`."""
    routes = [("GET", OWNER_TICKETS), ("POST", OWNER_TICKETS)] + ([("POST", OWNER_CLAIMS)] if owner != "*" else [])
    resources = [execute_api_arn(ctx, region, api["id"], ctx.config.api.stage, method,
                                 path.replace("{owner}", owner))
                 for region, api in sorted(apis.items()) for method, path in routes]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "InvokeTicketRoutes", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resources}]}


def operator_access(ctx: Context) -> None:
    """On the local cloud, the operator's keys belong to an IAM user (as an operator's keys would on AWS, where
    `wildrydes policy --for operator` names what they need): its policy may invoke this deployment's ticket
    routes, and the local gateway evaluates it as API Gateway would. On AWS, the caller's own policy is theirs."""
    apis = deployed_apis(ctx)
    if ctx.target.is_local and apis:
        converge_one(ctx, UserPolicy(ctx.config.regions.primary, LOCAL_OPERATOR_USER,
                                     f"{ctx.config.deployment}-invoke-apis", invoke_policy(ctx, apis)))


def run(ctx: Context) -> dict[str, Any]:
    region = ctx.config.regions.primary
    result = build_region(ctx, region)
    operator_access(ctx)
    return {"region": region, **result}
