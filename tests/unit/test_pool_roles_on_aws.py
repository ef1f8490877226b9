"""SetIdentityPoolRoles and SetPrincipalTagAttributeMap on the real-AWS path (moto lacks them), checked against
botocore's Stubber: the role call is made with exactly the authenticated role and no unauthenticated one, the
tag-map call with exactly owner ← sub and no defaults; an unchanged mapping makes no call."""

from __future__ import annotations

from botocore.stub import Stubber

from wildrydes_mr import config as config_module
from wildrydes_mr import state as state_module
from wildrydes_mr.aws import Aws
from wildrydes_mr.engine import Context, converge_one
from wildrydes_mr.resources.cognito import PoolRoles, PrincipalTags
from wildrydes_mr.targets import Target

POOL = "eu-west-1:11111111-2222-3333-4444-555555555555"
ROLE = "arn:aws:iam::123456789012:role/wildrydes-web-identity"


class Silent:
    def progress(self, message): ...
    def action(self, action, dry_run): ...
    def warn(self, message): ...


def make_context(tmp_path) -> Context:
    cfg = config_module.parse("target: aws\n", "t.yaml")
    return Context(aws=Aws(), config=cfg, state=state_module.load(tmp_path / "s.json", cfg.deployment, "aws"),
                   target=Target(), module="build-ui", dry_run=False, reporter=Silent())


def test_sets_only_the_authenticated_role(tmp_path):
    ctx = make_context(tmp_path)
    assert not ctx.aws.is_emulated("cognito-identity", "eu-west-1")
    client = ctx.aws.client("cognito-identity", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_identity_pool_roles", {"IdentityPoolId": POOL, "Roles": {}}, {"IdentityPoolId": POOL})
        stub.add_response("set_identity_pool_roles", {}, {"IdentityPoolId": POOL, "Roles": {"authenticated": ROLE}})
        attributes = converge_one(ctx, PoolRoles("eu-west-1", POOL, ROLE))
        stub.assert_no_pending_responses()
    assert attributes == {"setting": {"Roles": {"authenticated": ROLE}}}
    assert ctx.actions[-1].verb == "update"


def test_unchanged_mapping_makes_no_call(tmp_path):
    ctx = make_context(tmp_path)
    client = ctx.aws.client("cognito-identity", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_identity_pool_roles", {"IdentityPoolId": POOL, "Roles": {"authenticated": ROLE}},
                          {"IdentityPoolId": POOL})
        converge_one(ctx, PoolRoles("eu-west-1", POOL, ROLE))
        stub.assert_no_pending_responses()
    assert ctx.actions[-1].verb == "nothing"


def test_an_unauthenticated_role_is_removed(tmp_path):
    ctx = make_context(tmp_path)
    client = ctx.aws.client("cognito-identity", "eu-west-1")
    with Stubber(client) as stub:
        guest = "arn:aws:iam::123456789012:role/guest"
        stub.add_response("get_identity_pool_roles",
                          {"IdentityPoolId": POOL, "Roles": {"authenticated": ROLE, "unauthenticated": guest}},
                          {"IdentityPoolId": POOL})
        stub.add_response("set_identity_pool_roles", {}, {"IdentityPoolId": POOL, "Roles": {"authenticated": ROLE}})
        converge_one(ctx, PoolRoles("eu-west-1", POOL, ROLE))
        stub.assert_no_pending_responses()


TAGS_REQUEST = {"IdentityPoolId": POOL, "IdentityProviderName": "graph.facebook.com"}


def test_the_owner_tag_map_replaces_the_defaults(tmp_path):
    ctx = make_context(tmp_path)
    client = ctx.aws.client("cognito-identity", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_principal_tag_attribute_map", {
            **TAGS_REQUEST, "UseDefaults": True, "PrincipalTags": {"username": "sub", "client": "aud"}}, TAGS_REQUEST)
        stub.add_response("set_principal_tag_attribute_map", {**TAGS_REQUEST, "UseDefaults": False},
                          {**TAGS_REQUEST, "UseDefaults": False, "PrincipalTags": {"owner": "sub"}})
        converge_one(ctx, PrincipalTags("eu-west-1", POOL))
        stub.assert_no_pending_responses()
    assert ctx.actions[-1].verb == "update"


def test_an_unchanged_owner_tag_map_makes_no_call(tmp_path):
    ctx = make_context(tmp_path)
    client = ctx.aws.client("cognito-identity", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_principal_tag_attribute_map", {
            **TAGS_REQUEST, "UseDefaults": False, "PrincipalTags": {"owner": "sub"}}, TAGS_REQUEST)
        converge_one(ctx, PrincipalTags("eu-west-1", POOL))
        stub.assert_no_pending_responses()
    assert ctx.actions[-1].verb == "nothing"
