"""A small, strict evaluator of identity-based IAM policies, for the local API gateway's `execute-api:Invoke` check.

This module owns one question: "do these identity-based policies allow this action on this resource, given this
request context?". It follows IAM's policy evaluation logic for a single account's identity-based policies
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit Deny in
any statement wins, else a matching Allow allows, else the request is implicitly denied.

It is STRICT: it supports exactly the constructs this tool's policies use, and raises `PolicyError` (naming the
element) for anything else, so the caller denies such a request instead of guessing. Supported:
- Effect Allow|Deny; Sid; Action|NotAction (case-insensitive, `*`/`?`); Resource|NotResource (case-sensitive,
  `*`/`?` match any characters, '/' and ':' included; everything else literal).
- Policy variables (Version 2012-10-17 only) in Resource and condition values: ${aws:PrincipalTag/<key>},
  ${aws:username}, ${aws:userid}, ${aws:PrincipalAccount}, and the escapes ${*} ${?} ${$}. A substituted value is
  matched literally (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
- Condition operators StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike, StringNotLike,
  ArnEquals, ArnLike, ArnNotEquals, ArnNotLike (with ForAnyValue:/ForAllValues: and ...IfExists), Bool
  (with ...IfExists) and Null
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).

Missing values, as the IAM docs describe them:
- a condition key absent from the request context makes a positive operator false and a negated one (StringNot*,
  ArnNot*) true; ...IfExists makes any absent key true; Null tests presence; ForAllValues is true and ForAnyValue
  false for an absent key or an empty set;
- "If AWS cannot resolve a variable, this might cause the entire statement to be invalid": a Resource pattern
  whose variable has no (single) value matches nothing; a NotResource or condition value whose variable has no
  value makes the whole statement not apply.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Decision", "PolicyError", "Request", "evaluate"]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"  # IAM's default when a policy has no Version; it has no policy variables
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_VARIABLES = frozenset({"aws:username", "aws:userid", "aws:principalaccount"})  # plus aws:PrincipalTag/<key>
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")
# base operator -> (kind, negated); kinds: equals, iequals, like, arn, bool, null.
_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("equals", False),
    "StringNotEquals": ("equals", True),
    "StringEqualsIgnoreCase": ("iequals", False),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
    "ArnEquals": ("arn", False),  # ArnEquals and ArnLike both take wildcards, per colon-delimited component
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Bool": ("bool", False),
    "Null": ("null", False),
}
_SET_PREFIXES = {"ForAnyValue:": "any", "ForAllValues:": "all"}

# A pattern is a tuple of tokens: ("lit", text), ("*", ""), ("?", "") or ("var", lower-cased context key).
Token = tuple[str, str]


class PolicyError(Exception):
    """A policy this evaluator cannot evaluate; the message names the element. The caller must deny."""


@dataclass(frozen=True)
class Request:
    """What is asked: `action` (e.g. "execute-api:Invoke") on `resource` (an ARN), with the request's condition
    keys in `context` (e.g. {"aws:PrincipalTag/owner": "abc"}); keys compare case-insensitively."""

    action: str
    resource: str
    context: Mapping[str, str | list[str]]


@dataclass(frozen=True)
class Decision:
    """The answer: `allowed`, a human `reason`, and the deciding statement's Sid or index (None: implicit deny)."""

    allowed: bool
    reason: str
    statement: str | None


@dataclass(frozen=True)
class _Condition:
    operator: str  # as written in the policy
    kind: str
    negated: bool
    set_op: str | None  # "any", "all" or None
    if_exists: bool
    key: str  # lower-cased
    values: tuple[tuple[Token, ...], ...]  # bool/null: one ("lit", "true"|"false") token each


@dataclass(frozen=True)
class _Statement:
    label: str
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[tuple[Token, ...], ...]
    not_resource: bool
    conditions: tuple[_Condition, ...]


class _Unresolved(Exception):
    """A policy variable has no (single) value in the request context."""


# ---------------------------------------------------------------------------------------------------- parsing


@functools.lru_cache(maxsize=2048)
def _tokens(text: str, wildcards: bool, variables: bool) -> tuple[Token, ...]:
    """Split a pattern into tokens; `*`/`?` are wildcards only if `wildcards`; `${...}` only if `variables`."""
    out: list[Token] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise PolicyError(f"unterminated policy variable in {text!r}")
            name = text[i + 2 : end]
            if not variables:
                raise PolicyError(f"policy variable ${{{name}}} needs Version {VERSION_2012}")
            lowered = name.lower()
            if name in _ESCAPES:
                literal.append(_ESCAPES[name])
            elif lowered in _VARIABLES or (lowered.startswith("aws:principaltag/") and len(lowered) > 17):
                if literal:
                    out.append(("lit", "".join(literal)))
                    literal = []
                out.append(("var", lowered))
            else:
                raise PolicyError(f"unsupported policy variable ${{{name}}}")
            i = end + 1
            continue
        char = text[i]
        if wildcards and char in "*?":
            if literal:
                out.append(("lit", "".join(literal)))
                literal = []
            out.append((char, ""))
        else:
            literal.append(char)
        i += 1
    if literal:
        out.append(("lit", "".join(literal)))
    return tuple(out)


def _strings(statement: Mapping, key: str) -> tuple[str, ...]:
    value = statement[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{key} must be a string or a non-empty list of strings")
    return tuple(items)


def _one_of(statement: Mapping, key: str) -> str:
    present = [name for name in (key, "Not" + key) if name in statement]
    if len(present) != 1:
        raise PolicyError(f"a statement needs exactly one of {key}/Not{key}, found {present or 'neither'}")
    return present[0]


def _parse_operator(operator: str) -> tuple[str, bool, str | None, bool]:
    base, set_op = operator, None
    for prefix, name in _SET_PREFIXES.items():
        if base.startswith(prefix):
            base, set_op = base[len(prefix) :], name
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _OPERATORS:
        raise PolicyError(f"unsupported condition operator {operator}")
    kind, negated = _OPERATORS[base]
    if (set_op and kind in ("bool", "null")) or (if_exists and kind == "null"):
        raise PolicyError(f"unsupported condition operator {operator}")
    return kind, negated, set_op, if_exists


def _parse_conditions(block: object, variables: bool) -> tuple[_Condition, ...]:
    if not isinstance(block, Mapping) or not block:
        raise PolicyError("Condition must be a non-empty object")
    out: list[_Condition] = []
    for operator, pairs in block.items():
        kind, negated, set_op, if_exists = _parse_operator(operator)
        if not isinstance(pairs, Mapping) or not pairs:
            raise PolicyError(f"condition operator {operator} needs a non-empty object of keys")
        for key, raw in pairs.items():
            items = raw if isinstance(raw, list) else [raw]
            if not items or not all(isinstance(item, str | bool) for item in items):
                raise PolicyError(f"{operator} {key}: values must be strings or booleans")
            texts = [str(item).lower() if isinstance(item, bool) else item for item in items]
            if kind in ("bool", "null"):
                if not all(text.lower() in ("true", "false") for text in texts):
                    raise PolicyError(f"{operator} {key}: values must be true or false")
                values = tuple((("lit", text.lower()),) for text in texts)
            else:
                values = tuple(_tokens(text, kind in ("like", "arn"), variables) for text in texts)
                if kind == "arn" and not all(sum(t.count(":") for k, t in v if k == "lit") >= 5 for v in values):
                    raise PolicyError(f"{operator} {key}: values must be ARN patterns (six ':'-separated parts)")
            out.append(_Condition(operator, kind, negated, set_op, if_exists, str(key).lower(), values))
    return tuple(out)


def _parse_statement(statement: object, label: str, variables: bool) -> _Statement:
    if not isinstance(statement, Mapping):
        raise PolicyError(f"statement {label} must be an object")
    for element in ("Principal", "NotPrincipal"):
        if element in statement:
            raise PolicyError(f"unsupported element {element} (identity-based policies have none)")
    unknown = sorted(set(statement) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyError(f"unsupported element {', '.join(map(str, unknown))}")
    sid = statement.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("Sid must be a string")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"unsupported Effect {effect!r}")
    action_key, resource_key = _one_of(statement, "Action"), _one_of(statement, "Resource")
    actions = _strings(statement, action_key)
    for action in actions:
        if not _ACTION_RE.fullmatch(action):
            raise PolicyError(f"unsupported {action_key} {action!r}")
    resources = tuple(_tokens(text, True, variables) for text in _strings(statement, resource_key))
    conditions = _parse_conditions(statement["Condition"], variables) if "Condition" in statement else ()
    return _Statement(sid or label, effect, actions, action_key == "NotAction", resources,
                      resource_key == "NotResource", conditions)


def _parse_policy(policy: Mapping | str, index: int) -> list[_Statement]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError as exc:
            raise PolicyError(f"policies[{index}] is not valid JSON: {exc}") from exc
    if not isinstance(policy, Mapping):
        raise PolicyError(f"policies[{index}] must be a JSON object")
    unknown = sorted(set(policy) - _POLICY_KEYS)
    if unknown:
        raise PolicyError(f"unsupported policy element {', '.join(map(str, unknown))}")
    version = policy.get("Version", VERSION_2008)
    if version not in (VERSION_2012, VERSION_2008):
        raise PolicyError(f"unsupported policy Version {version!r}")
    if "Statement" not in policy:
        raise PolicyError(f"policies[{index}] has no Statement")
    statements = policy["Statement"]
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an object or a list")
    return [_parse_statement(statement, f"policies[{index}].Statement[{i}]", version == VERSION_2012)
            for i, statement in enumerate(statements)]


# ------------------------------------------------------------------------------------------------- evaluation


@functools.lru_cache(maxsize=2048)
def _regex(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _glob_source(tokens: tuple[Token, ...], context: Mapping[str, str | list[str]], arn: bool = False) -> str:
    """Regex source for a pattern: variables resolved and escaped, `*`/`?` wildcards. With `arn`, a wildcard
    stays within its colon-delimited component, except in the last (resource) component."""
    parts: list[str] = []
    colons = 0
    for kind, text in tokens:
        if kind in ("lit", "var"):
            text = _variable(text, context) if kind == "var" else text
            parts.append(re.escape(text))
            colons += text.count(":")
        elif arn and colons < 5:
            parts.append("[^:]*" if kind == "*" else "[^:]")
        else:
            parts.append(".*" if kind == "*" else ".")
    return "".join(parts)


def _variable(key: str, context: Mapping[str, str | list[str]]) -> str:
    value = context.get(key)
    if isinstance(value, list | tuple):  # a multivalued key cannot be a policy variable
        value = value[0] if len(value) == 1 else None
    if value is None:
        raise _Unresolved(key)
    return str(value)


def _literal(tokens: tuple[Token, ...], context: Mapping[str, str | list[str]]) -> str:
    return "".join(_variable(text, context) if kind == "var" else text for kind, text in tokens)


def _value_matches(kind: str, value: str, patterns: list[str]) -> bool:
    if kind == "equals":
        return value in patterns
    if kind == "iequals":
        return value.casefold() in (pattern.casefold() for pattern in patterns)
    if kind == "bool":
        return value.lower() in patterns
    return any(_regex(pattern, False).fullmatch(value) for pattern in patterns)  # like, arn: regex sources


def _condition_holds(condition: _Condition, context: Mapping[str, str | list[str]]) -> bool:
    raw = context.get(condition.key)
    values = [str(item) for item in raw] if isinstance(raw, list | tuple) else None if raw is None else [str(raw)]
    values = values or None  # an empty set counts as an absent key
    if condition.kind == "null":
        return ("false" if values is not None else "true") in (tokens[0][1] for tokens in condition.values)
    if values is None:
        if condition.if_exists or condition.set_op == "all":
            return True
        return False if condition.set_op == "any" else condition.negated
    # Resolve every value first: a variable without a value invalidates the statement whatever the others say.
    if condition.kind in ("like", "arn"):
        patterns = [_glob_source(tokens, context, condition.kind == "arn") for tokens in condition.values]
    else:
        patterns = [_literal(tokens, context) for tokens in condition.values]

    def ok(value: str) -> bool:
        return _value_matches(condition.kind, value, patterns) != condition.negated

    if condition.set_op == "all":
        return all(ok(value) for value in values)
    if condition.set_op == "any":
        return any(ok(value) for value in values)
    return any(_value_matches(condition.kind, value, patterns) for value in values) != condition.negated


def _resource_matches(tokens: tuple[Token, ...], resource: str, context: Mapping[str, str | list[str]]) -> bool:
    return _regex(_glob_source(tokens, context), False).fullmatch(resource) is not None


def _applies(statement: _Statement, request: Request, context: Mapping[str, str | list[str]]) -> bool:
    action_hit = any(_regex(_glob_source(_tokens(action, True, False), {}), True).fullmatch(request.action)
                     for action in statement.actions)
    if action_hit == statement.not_action:
        return False
    try:
        if statement.not_resource:
            if any(_resource_matches(tokens, request.resource, context) for tokens in statement.resources):
                return False
        else:
            hit = False
            for tokens in statement.resources:
                try:
                    hit = _resource_matches(tokens, request.resource, context)
                except _Unresolved:  # this pattern matches nothing; the others still may
                    continue
                if hit:
                    break
            if not hit:
                return False
        return all(_condition_holds(condition, context) for condition in statement.conditions)
    except _Unresolved:
        return False


def evaluate(policies: Iterable[Mapping | str], request: Request) -> Decision:
    """Evaluate identity-based `policies` (dicts or JSON strings) for `request`, the way IAM does.

    Raises PolicyError if any policy holds an element or construct this evaluator does not support (before
    looking at the request, so the outcome never depends on statement order): the caller must then deny.
    """
    statements = [statement for index, policy in enumerate(policies) for statement in _parse_policy(policy, index)]
    context = {str(key).lower(): value for key, value in request.context.items()}
    matching = [statement for statement in statements if _applies(statement, request, context)]
    for statement in matching:
        if statement.effect == "Deny":
            return Decision(False, f"explicit deny by statement {statement.label}", statement.label)
    allow = next((statement for statement in matching if statement.effect == "Allow"), None)
    if allow is not None:
        return Decision(True, f"allowed by statement {allow.label}", allow.label)
    return Decision(False, f"implicit deny: no statement allows {request.action} on {request.resource}", None)
