"""The local gateway's strict IAM evaluator (wildrydes_mr/local/iam_policy.py): IAM's allow/deny logic, wildcards,
policy variables, condition operators, and a PolicyError for everything it does not support."""

from __future__ import annotations

import json

import pytest

from wildrydes_mr.local.iam_policy import Decision, PolicyError, Request, evaluate

ACCOUNT = "123456789012"
API = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:abc123"
GET_TICKET = f"{API}/prod/GET/ticket"
POST_TICKET = f"{API}/prod/POST/ticket"
INVOKE = "execute-api:Invoke"
OWNER_PATH = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:api/prod/GET/owners/${{aws:PrincipalTag/owner}}/tickets"

TOOL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "InvokeTicketRoutes", "Effect": "Allow", "Action": "execute-api:Invoke",
                   "Resource": [GET_TICKET, POST_TICKET]}],
}


def policy(*statements: dict, version: str = "2012-10-17") -> dict:
    return {"Version": version, "Statement": list(statements)}


def allow(resource: object = "*", action: object = INVOKE, **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(resource: object = "*", action: object = INVOKE, **extra: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(policies: list, resource: str = GET_TICKET, action: str = INVOKE, **context: object) -> Decision:
    return evaluate(policies, Request(action, resource, context))


def allowed(policies: list, resource: str = GET_TICKET, action: str = INVOKE, **context: object) -> bool:
    return decide(policies, resource, action, **context).allowed


def cond(condition: dict, resource: object = "*") -> list:
    return [policy(allow(resource, Condition=condition))]


# ---------------------------------------------------------------------------------------- allow / deny logic


def test_the_tools_own_policy_allows_its_routes_and_nothing_else():
    decision = decide([TOOL_POLICY])
    assert decision == Decision(True, "allowed by statement InvokeTicketRoutes", "InvokeTicketRoutes")
    assert allowed([TOOL_POLICY], POST_TICKET)
    assert not allowed([TOOL_POLICY], f"{API}/prod/DELETE/ticket")
    assert not allowed([TOOL_POLICY], f"{API}/prod/GET/ticket/extra")
    assert not allowed([TOOL_POLICY], GET_TICKET, "execute-api:ManageConnections")


def test_implicit_deny_names_action_and_resource():
    decision = decide([policy(allow(POST_TICKET))])
    assert decision == Decision(False, f"implicit deny: no statement allows {INVOKE} on {GET_TICKET}", None)
    assert not allowed([])


def test_wildcard_actions_case_insensitive():
    for action in ("execute-api:*", "execute-api:Inv*", "Execute-API:invoke", "execute-api:Inv?ke", "*",
                   ["s3:GetObject", "execute-api:invoke"]):
        assert allowed([policy(allow(action=action))]), action
    for action in ("execute-api:Inv", "s3:*", "execute-api:Invoke?", "execute-api:?nvok"):
        assert not allowed([policy(allow(action=action))]), action


def test_resource_is_case_sensitive():
    assert not allowed([policy(allow(GET_TICKET.replace("/GET/", "/get/")))])
    assert not allowed([policy(allow(GET_TICKET.upper()))])


def test_star_matches_across_slash_and_question_mark_one_character():
    assert allowed([policy(allow(f"{API}/*"))])
    assert allowed([policy(allow(f"{API}/prod/*/ticket"))])
    assert allowed([policy(allow(f"arn:aws:execute-api:*:{ACCOUNT}:*"))])
    assert allowed([policy(allow(f"{API}/prod/G?T/ticket"))])
    assert not allowed([policy(allow(f"{API}/prod/G?T/ticket"))], f"{API}/prod/GEET/ticket")
    assert not allowed([policy(allow(f"{API}/dev/*"))])


def test_regex_metacharacters_are_literal():
    dotted = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a.c/prod/GET/t+"
    assert allowed([policy(allow(dotted))], dotted)
    assert not allowed([policy(allow(dotted))], dotted.replace("a.c", "abc"))
    assert not allowed([policy(allow(dotted))], dotted.replace("t+", "tt"))
    assert not allowed([policy(allow(f"{API}/prod/GET/(ticket|x)"))], f"{API}/prod/GET/x")


def test_explicit_deny_beats_allow_in_same_and_other_policy():
    same = policy(allow(), {**deny(GET_TICKET), "Sid": "NoGet"})
    decision = decide([same])
    assert decision == Decision(False, "explicit deny by statement NoGet", "NoGet")
    assert allowed([same], POST_TICKET)
    other = decide([TOOL_POLICY, policy(deny(f"{API}/*/GET/*"))])
    assert not other.allowed
    assert other.reason == "explicit deny by statement policies[1].Statement[0]"


def test_not_action_and_not_resource():
    assert allowed([policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})])
    assert not allowed([policy({"Effect": "Allow", "NotAction": "execute-api:*", "Resource": "*"})])
    not_post = policy({"Effect": "Allow", "Action": INVOKE, "NotResource": POST_TICKET})
    assert allowed([not_post])
    assert not allowed([not_post], POST_TICKET)
    guard = policy(allow(), {"Effect": "Deny", "Action": INVOKE, "NotResource": [f"{API}/prod/*"]})
    assert allowed([guard])
    assert not allowed([guard], f"{API}/dev/GET/ticket")


def test_policies_as_json_strings_and_single_statement_dict():
    single = {"Version": "2008-10-17", "Id": "x", "Statement": allow(GET_TICKET)}
    assert allowed([json.dumps(TOOL_POLICY)])
    assert allowed([single])
    assert allowed([json.dumps(single)])
    assert not allowed([json.dumps(single)], POST_TICKET)


# ---------------------------------------------------------------------------------------------- policy variables


def test_principal_tag_variable_in_resource():
    owners = [policy(allow(OWNER_PATH))]
    path = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:api/prod/GET/owners/{{}}/tickets"
    assert allowed(owners, path.format("abc"), **{"aws:PrincipalTag/owner": "abc"})
    assert allowed(owners, path.format("abc"), **{"AWS:principaltag/OWNER": "abc"})  # keys case-insensitive
    assert not allowed(owners, path.format("xyz"), **{"aws:PrincipalTag/owner": "abc"})
    assert not allowed(owners, path.format("abc"))  # no tag: the pattern matches nothing
    assert not allowed(owners, path.format("abc"), **{"aws:PrincipalTag/owner": "*"})  # "*" is literal
    assert allowed(owners, path.format("*"), **{"aws:PrincipalTag/owner": "*"})
    assert not allowed(owners, path.format("abc"), **{"aws:PrincipalTag/owner": "a?c"})


def test_unresolved_variable_in_one_resource_leaves_the_others():
    both = [policy(allow([OWNER_PATH, GET_TICKET]))]
    assert allowed(both)


def test_other_variables_and_escapes():
    base = f"{API}/prod/GET/"
    assert allowed([policy(allow(base + "${aws:username}"))], base + "alice", **{"aws:username": "alice"})
    assert allowed([policy(allow(base + "${aws:userid}"))], base + "AIDA:x", **{"aws:userid": "AIDA:x"})
    acct = [policy(allow("arn:aws:execute-api:eu-west-1:${aws:PrincipalAccount}:*"))]
    assert allowed(acct, **{"aws:PrincipalAccount": ACCOUNT})
    assert not allowed(acct, **{"aws:PrincipalAccount": "999999999999"})
    star = [policy(allow(base + "a${*}b${?}${$}"))]
    assert allowed(star, base + "a*b?$")
    assert not allowed(star, base + "axxb!$")


def test_unresolved_variable_in_not_resource_or_condition_voids_the_statement():
    not_res = [policy({"Effect": "Allow", "Action": INVOKE, "NotResource": OWNER_PATH})]
    assert not allowed(not_res)
    assert allowed(not_res, **{"aws:PrincipalTag/owner": "abc"})
    negated = cond({"StringNotEquals": {"aws:userid": ["x", "${aws:username}"]}})
    assert not allowed(negated, **{"aws:userid": "y"})
    assert allowed(negated, **{"aws:userid": "y", "aws:username": "z"})


def test_variable_in_condition_value():
    same = cond({"StringEquals": {"aws:PrincipalTag/owner": "${aws:userid}"}})
    assert allowed(same, **{"aws:PrincipalTag/owner": "u1", "aws:userid": "u1"})
    assert not allowed(same, **{"aws:PrincipalTag/owner": "u1", "aws:userid": "u2"})
    like = cond({"StringLike": {"aws:SourceArn": "${aws:userid}/*"}})
    assert allowed(like, **{"aws:SourceArn": "a*/x", "aws:userid": "a*"})
    assert not allowed(like, **{"aws:SourceArn": "ab/x", "aws:userid": "a*"})  # the value's "*" is literal


# ------------------------------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "ABC", False),
        ("StringEquals", "a*", "abc", False),
        ("StringNotEquals", "abc", "abd", True),
        ("StringNotEquals", "abc", "abc", False),
        ("StringEqualsIgnoreCase", "abc", "ABC", True),
        ("StringEqualsIgnoreCase", "abc", "abd", False),
        ("StringLike", "a*c?", "abbbcd", True),
        ("StringLike", "a*c", "Abc", False),
        ("StringNotLike", "a*", "bcd", True),
        ("StringNotLike", "a*", "abc", False),
        ("ArnEquals", f"{API}/prod/*", GET_TICKET, True),
        ("ArnEquals", f"{API}/dev/*", GET_TICKET, False),
        ("ArnLike", "arn:aws:execute-api:*:*:abc123/*", GET_TICKET, True),
        ("ArnLike", "arn:aws:*:eu-west-1:123456789012:abc123/*", GET_TICKET, True),
        ("ArnLike", f"arn:aws:execute-api:eu-*:{ACCOUNT}:*", f"arn:aws:execute-api:eu-west-1:x:{ACCOUNT}:a", False),
        ("ArnLike", "arn:aws:execute-api:*:*:*", "not-an-arn", False),
        ("ArnNotEquals", f"{API}/dev/*", GET_TICKET, True),
        ("ArnNotEquals", GET_TICKET, GET_TICKET, False),
        ("ArnNotLike", f"{API}/dev/*", GET_TICKET, True),
        ("ArnNotLike", f"{API}/*", GET_TICKET, False),
        ("Bool", "true", "true", True),
        ("Bool", "true", "TRUE", True),
        ("Bool", True, "true", True),
        ("Bool", "false", "true", False),
    ],
)
def test_condition_operators(operator, policy_value, request_value, expected):
    """One case per operator and outcome; an ArnLike "*" stays inside its colon-delimited component."""
    assert allowed(cond({operator: {"aws:Key": policy_value}}), **{"aws:key": request_value}) is expected


def test_arn_last_component_wildcard_may_span_colons():
    lam = cond({"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:*"}})
    assert allowed(lam, **{"aws:SourceArn": "arn:aws:lambda:eu-west-1:1:function:f:alias"})


@pytest.mark.parametrize(
    ("operator", "expected"),
    [("StringEquals", False), ("StringLike", False), ("ArnLike", False), ("Bool", False),
     ("StringNotEquals", True), ("StringNotLike", True), ("ArnNotEquals", True), ("ArnNotLike", True),
     ("StringEqualsIfExists", True), ("ArnLikeIfExists", True), ("BoolIfExists", True),
     ("StringNotEqualsIfExists", True), ("ForAllValues:StringEquals", True), ("ForAnyValue:StringEquals", False),
     ("ForAnyValue:StringNotEquals", False), ("ForAnyValue:StringLikeIfExists", True)],
)
def test_missing_key(operator, expected):
    value = f"{API}/*" if "Arn" in operator else "true"
    assert allowed(cond({operator: {"aws:Absent": value}}), aws_other="x") is expected


def test_if_exists_with_present_key_still_checks():
    assert not allowed(cond({"StringEqualsIfExists": {"aws:k": "a"}}), **{"aws:k": "b"})
    assert allowed(cond({"StringEqualsIfExists": {"aws:k": "a"}}), **{"aws:k": "a"})


def test_null():
    absent = cond({"Null": {"aws:PrincipalTag/owner": "true"}})
    present = cond({"Null": {"aws:PrincipalTag/owner": "false"}})
    assert allowed(absent) and not allowed(present)
    assert allowed(present, **{"aws:PrincipalTag/owner": "abc"})
    assert not allowed(absent, **{"aws:PrincipalTag/owner": "abc"})
    assert allowed(absent, **{"aws:PrincipalTag/owner": []})  # an empty set is absent
    denied = [policy(allow(), deny(Condition={"Null": {"aws:PrincipalTag/owner": True}}))]
    assert not allowed(denied) and allowed(denied, **{"aws:PrincipalTag/owner": "abc"})


def test_set_operators_with_list_values():
    any_of = cond({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}})
    all_of = cond({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})
    assert allowed(any_of, **{"aws:TagKeys": ["b", "z"]})
    assert not allowed(any_of, **{"aws:TagKeys": ["y", "z"]})
    assert not allowed(any_of, **{"aws:TagKeys": []})
    assert allowed(all_of, **{"aws:TagKeys": ["a", "b", "a"]})
    assert not allowed(all_of, **{"aws:TagKeys": ["a", "z"]})
    assert allowed(all_of, **{"aws:TagKeys": []})  # empty set: ForAllValues is true
    assert allowed(all_of)
    like_all = cond({"ForAllValues:StringLike": {"aws:TagKeys": "Created*"}})
    assert allowed(like_all, **{"aws:TagKeys": ["CreatedBy", "CreatedAt"]})
    assert not allowed(like_all, **{"aws:TagKeys": ["CreatedBy", "Owner"]})
    none_of = cond({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}})
    assert allowed(none_of, **{"aws:TagKeys": ["a", "b"]})
    assert not allowed(none_of, **{"aws:TagKeys": ["a", "secret"]})
    some_arn = cond({"ForAnyValue:ArnLike": {"aws:Arns": f"{API}/*"}})
    assert allowed(some_arn, **{"aws:Arns": ["arn:aws:s3:::b", GET_TICKET]})


def test_keys_anded_values_ored_negated_values_nored():
    two_keys = cond({"StringEquals": {"aws:a": "1", "aws:b": "2"}})
    assert allowed(two_keys, **{"aws:a": "1", "aws:b": "2"})
    assert not allowed(two_keys, **{"aws:a": "1", "aws:b": "3"})
    assert not allowed(two_keys, **{"aws:a": "1"})
    one_of = cond({"StringEquals": {"aws:a": ["1", "2"]}})
    assert allowed(one_of, **{"aws:a": "2"}) and not allowed(one_of, **{"aws:a": "3"})
    neither = cond({"StringNotEquals": {"aws:a": ["1", "2"]}})
    assert allowed(neither, **{"aws:a": "3"}) and not allowed(neither, **{"aws:a": "2"})
    two_operators = cond({"StringEquals": {"aws:a": "1"}, "Bool": {"aws:SecureTransport": "true"}})
    assert allowed(two_operators, **{"aws:a": "1", "aws:SecureTransport": "true"})
    assert not allowed(two_operators, **{"aws:a": "1", "aws:SecureTransport": "false"})


def test_condition_on_a_deny_statement():
    owner_only = [policy(allow(), deny(Condition={"StringNotEquals": {"aws:PrincipalTag/owner": "abc"}}))]
    assert allowed(owner_only, **{"aws:PrincipalTag/owner": "abc"})
    assert not allowed(owner_only, **{"aws:PrincipalTag/owner": "xyz"})
    assert not allowed(owner_only)  # a missing key makes the negated operator true: denied


# ----------------------------------------------------------------------------------------- unsupported: PolicyError


@pytest.mark.parametrize(
    ("bad_policy", "named"),
    [
        (cond({"NumericLessThan": {"aws:k": "1"}}), "unsupported condition operator NumericLessThan"),
        (cond({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}), "DateGreaterThan"),
        (cond({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), "IpAddress"),
        (cond({"StringNotEqualsIgnoreCase": {"aws:k": "a"}}), "StringNotEqualsIgnoreCase"),
        (cond({"ForAnyValue:Bool": {"aws:k": "true"}}), "ForAnyValue:Bool"),
        (cond({"NullIfExists": {"aws:k": "true"}}), "NullIfExists"),
        (cond({"Bool": {"aws:k": "yes"}}), "true or false"),
        (cond({"ArnLike": {"aws:SourceArn": "*"}}), "ARN"),
        (cond({"StringEquals": {"aws:k": 1}}), "aws:k"),
        ([policy(allow(NotPrincipal={"AWS": "*"}))], "unsupported element NotPrincipal"),
        ([policy(allow(Principal="*"))], "unsupported element Principal"),
        ([policy(allow(f"{API}/${{aws:SourceIp}}"))], "unsupported policy variable ${aws:SourceIp}"),
        ([policy(allow(f"{API}/${{aws:username, 'x'}}"))], "unsupported policy variable"),
        ([policy(allow(f"{API}/${{aws:username"))], "unterminated policy variable"),
        (cond({"StringEquals": {"aws:k": "${aws:CurrentTime}"}}), "${aws:CurrentTime}"),
        ([policy(allow(OWNER_PATH), version="2008-10-17")], "needs Version 2012-10-17"),
        ([policy({"Effect": "Maybe", "Action": INVOKE, "Resource": "*"})], "Effect 'Maybe'"),
        ([policy({"Action": INVOKE, "Resource": "*"})], "Effect None"),
        ([policy(allow(NotAction="s3:*"))], "Action/NotAction"),
        ([policy({"Effect": "Allow", "Resource": "*"})], "Action/NotAction"),
        ([policy(allow(NotResource="*"))], "Resource/NotResource"),
        ([policy({"Effect": "Allow", "Action": INVOKE})], "Resource/NotResource"),
        ([policy(allow(Foo="bar"))], "unsupported element Foo"),
        ([policy(allow(action="execute-api"))], "unsupported Action"),
        ([policy(allow(action=[]))], "Action must be"),
        ([policy(allow(resource=[GET_TICKET, 3]))], "Resource must be"),
        ([policy(allow(Condition={}))], "Condition"),
        ([{"Version": "2012-10-17", "Statement": [], "Extra": 1}], "unsupported policy element Extra"),
        ([{"Version": "2020-01-01", "Statement": []}], "unsupported policy Version"),
        ([{"Version": "2012-10-17"}], "no Statement"),
        (["{not json"], "not valid JSON"),
        ([["a list"]], "must be a JSON object"),
    ],
)
def test_unsupported_constructs_raise_policy_error_naming_them(bad_policy, named):
    with pytest.raises(PolicyError) as excinfo:
        decide(bad_policy)
    assert named in str(excinfo.value)


def test_unsupported_construct_raises_even_after_a_matching_deny():
    with pytest.raises(PolicyError, match="NumericLessThan"):
        decide([policy(deny(), allow(Condition={"NumericLessThan": {"aws:k": "1"}}))])
