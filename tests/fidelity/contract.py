"""The request contract: each AWS call's parameters checked against the service model's constraint traits.

botocore validates types and required members client-side (and `min` of strings, lists and numbers), not `max`,
`enum`, `pattern`, nor `min` of blobs and maps; moto ignores them too, so a request AWS would refuse (route53
CreateHealthCheck with a 70-character CallerReference: HealthCheckNonce max 64) passes every test. This module owns
that check: `check()` walks the caller's parameters along the operation's input shape; `ContractChecker` is the
botocore `before-parameter-build` hook that records each violation (also to an optional JSON-lines file, for
violations made in a subprocess) and refuses the call with the 400 ClientError AWS would answer. Patterns are Java
regexes, matched against the whole value as AWS's validators do (IAM refuses 'my role' for `[\\w+=,.@-]+`), after
translation to the `regex` module's dialect (`translate_pattern`); one that still cannot compile is uncheckable:
counted and skipped, never reported.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import regex
from botocore.exceptions import ClientError

ERROR_CODES = {"route53": "InvalidInput", "iam": "ValidationError", "sts": "ValidationError"}
DEFAULT_ERROR_CODE = "ValidationException"
MAX_SHOWN = 60  # longer values are cut in messages

# --- pattern translation (Java -> regex) ----------------------------------------------------------------------
def _hex_sets(specs: dict[str, str]) -> dict[str, tuple[tuple[int, int], ...]]:  # {"Print": "20-7e"}
    return {name: tuple((int(r.partition("-")[0], 16), int(r.partition("-")[2] or r, 16)) for r in spec.split())
            for name, spec in specs.items()}


_ASCII_SETS = _hex_sets({  # Java's POSIX classes are ASCII-only (unless (?U))
    "Lower": "61-7a", "Upper": "41-5a", "ASCII": "0-7f", "Alpha": "41-5a 61-7a", "Digit": "30-39",
    "Alnum": "30-39 41-5a 61-7a", "Punct": "21-2f 3a-40 5b-60 7b-7e", "Graph": "21-7e", "Print": "20-7e",
    "Blank": "9 20", "Cntrl": "0-1f 7f", "XDigit": "30-39 41-46 61-66", "Space": "9-d 20"})
_ALWAYS_SETS = _hex_sets({"L1": "0-ff", "all": "0-10ffff"})
_ESCAPE_SETS = _hex_sets({  # \w \d \s are ASCII in Java; \h \v are Java 8's horizontal / vertical whitespace
    "w": "30-39 41-5a 5f 61-7a", "d": "30-39", "s": "9-d 20", "v": "a-d 85 2028-2029",
    "h": "9 20 a0 1680 180e 2000-200a 202f 205f 3000"})
_PROPERTY_BODIES = {  # Java-only property names -> a set body in the regex dialect
    "LD": r"\p{L}\p{Nd}", "javaLetterOrDigit": r"\p{L}\p{Nd}", "javaLetter": r"\p{L}", "javaDigit": r"\p{Nd}",
    "javaLowerCase": r"\p{Lowercase}", "javaUpperCase": r"\p{Uppercase}", "javaAlphabetic": r"\p{Alphabetic}",
    "javaWhitespace": r"\t-\r\x1c-\x1f \u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000",
    "javaSpaceChar": r"\p{Z}", "javaISOControl": r"\x00-\x1f\x7f-\x9f", "IsLetter": r"\p{L}", "IsDigit": r"\p{Nd}",
    "IsPunctuation": r"\p{P}", "IsControl": r"\p{Cc}", "IsAssigned": r"\P{Cn}"}
_CATEGORIES = set("L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So "
                  "Z Zs Zl Zp C Cc Cf Cs Co Cn".split())
_JAVA_END = r"(?=(?:\r\n|[\n\r\x85\u2028\u2029])?\Z)"  # Java's $ and \Z: the end, or before a final terminator
_JAVA_DOT = r"[^\n\r\x85\u2028\u2029]"  # Java's . excludes every line terminator, not only \n
_LINEBREAK = r"(?:\r\n|[\n\x0b\f\r\x85\u2028\u2029])"
_FLAG_GROUP = re.compile(r"\(\?([a-zA-Z]*(?:-[a-zA-Z]*)?)([:)])")
_COMPILED: dict[str, Any] = {}  # pattern text -> compiled, or False when uncheckable


def _char(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _ranges(ranges: tuple[tuple[int, int], ...], negate: bool) -> str:
    if negate:  # the gaps between the (sorted, disjoint) ranges
        bounds = [-1, *(x for lo_hi in sorted(ranges) for x in lo_hi), 0x110000]
        ranges = tuple((a + 1, b - 1) for a, b in zip(bounds[::2], bounds[1::2], strict=True) if b - a > 1)
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


def translate_pattern(java: str) -> tuple[str, int]:
    """Java regex -> (text, flags) for the `regex` module: POSIX \\p{Print} etc., \\w \\d \\s (ASCII unless (?U)),
    \\p{L1} \\p{all} \\p{LD} \\p{javaXxx} \\p{IsXx}, \\h \\v \\R, \\z, \\Z and $ (end or before a final line terminator
    unless (?m)), . (no line terminator unless (?s)/(?d)), \\x{..} \\0ooo \\e, surrogate pairs, \\Q..\\E,
    nested classes and && (V1 sets), Java-only flags d U c. The rest means the same in both dialects."""
    flags = set("".join(m.group(1) for m in _FLAG_GROUP.finditer(java)))
    ascii_classes, java_dot, java_end = "U" not in flags, not flags & {"s", "d"}, "m" not in flags
    out, depth, v1, i, n = [], 0, False, 0, len(java)
    while i < n:
        c = java[i]
        if c == "\\" and i + 1 < n:
            piece, i, is_set, nested = _escape(java, i, depth > 0, ascii_classes)
            v1 |= nested
            if is_set and depth and out and out[-1] == "-":
                out[-1] = "\\-"  # [_-\w]: Java reads a hyphen next to a class escape literally
            out.append(piece)
            if is_set and depth and java.startswith("-", i):
                out.append("\\-")
                i += 1
            continue
        if depth:
            if c == "[":
                depth, v1 = depth + 1, True
            elif c == "]":
                depth -= 1
            elif java.startswith("&&", i):
                v1, c, i = True, "&&", i + 1
            elif c in "|~":
                c = "\\" + c  # literal in Java, set operators in V1
        elif c == "[":
            depth = 1
        elif c == "." and java_dot:
            c = _JAVA_DOT
        elif c == "$" and java_end:
            c = _JAVA_END
        elif c == "(" and (m := _FLAG_GROUP.match(java, i)) and set(m.group(1)) <= set("idmsuxUc-"):
            on, _, off = "".join(f for f in m.group(1) if f not in "dUc").partition("-")
            kept = on + ("-" + off if off else "")
            c = f"(?{kept}{m.group(2)}" if kept else "(?:" if m.group(2) == ":" else ""
            i = m.end() - 1
        out.append(c)
        i += 1
    return "".join(out), regex.V1 if v1 else regex.V0


def _escape(java: str, i: int, in_class: bool, ascii_classes: bool) -> tuple[str, int, bool, bool]:
    """One escape at java[i] -> (text, next index, is a set, needs V1)."""
    e, j = java[i + 1], i + 2
    if e in "pP":
        end = java.index("}", j) if java.startswith("{", j) else j
        name, j, negate = java[j + 1:end] if end > j else java[j], end + 1, e == "P"
        sets = _ALWAYS_SETS.get(name) or (_ASCII_SETS.get(name) if ascii_classes else None)
        body = _ranges(sets, negate) if sets else _PROPERTY_BODIES.get(name)
        if body is None and name.startswith("Is") and name[2:] in _CATEGORIES:
            body = f"\\p{{{name[2:]}}}"
        if body is None:
            return f"\\{e}{{{name}}}", j, True, False
        if negate and not sets:
            return f"[^{body}]", j, True, in_class
        return (body if in_class else f"[{body}]"), j, True, False
    if e.lower() in _ESCAPE_SETS and (ascii_classes or e.lower() in "hv"):
        body = _ranges(_ESCAPE_SETS[e.lower()], e.isupper())
        return (body if in_class else f"[{body}]"), j, True, False
    if e == "u" and regex.fullmatch(r"[0-9a-fA-F]{4}", java[j:j + 4]):
        cp, low = int(java[j:j + 4], 16), java[j + 6:j + 10] if java.startswith("\\u", j + 4) else ""
        if 0xD800 <= cp <= 0xDBFF and regex.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", low):
            return _char(0x10000 + ((cp - 0xD800) << 10) + (int(low, 16) - 0xDC00)), j + 10, False, False
        return _char(cp), j + 4, False, False
    if e == "x" and java.startswith("{", j):
        end = java.index("}", j)
        return _char(int(java[j + 1:end], 16)), end + 1, False, False
    if e == "0" and (m := regex.match(r"[0-3][0-7]{2}|[0-7]{1,2}", java[j:j + 3])):
        return _char(int(m.group(), 8)), j + len(m.group()), False, False
    if e == "Q":
        end = java.find("\\E", j)
        end = len(java) if end < 0 else end
        return regex.escape(java[j:end], special_only=False), end + 2, False, False
    simple = {"z": "\\Z", "Z": _JAVA_END, "R": _LINEBREAK, "e": "\\x1b", "a": "\\x07"}
    return simple.get(e, "\\" + e), j, False, False


def compile_pattern(java: str) -> Any:
    """The compiled translation of a model pattern (cached by pattern text), or None if it is uncheckable."""
    found = _COMPILED.get(java)
    if found is None:
        try:
            text, flags = translate_pattern(java)
            found = regex.compile(text, flags)
        except Exception:  # any failure makes the pattern uncheckable, never a crash
            found = False
        _COMPILED[java] = found
    return found or None


# --- the model walk -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    service: str
    operation: str
    path: str  # botocore-style: HealthCheckConfig.Type, Tags[0].Key, Environment.Variables (key: 1BAD)
    constraint: str  # max, min, enum, pattern
    message: str  # AWS's wording, e.g. "Value 'x' at 'tags.1.member.key' failed to satisfy constraint: ..."

    def to_json(self) -> dict[str, str]:
        return asdict(self)


_STR, _BLOB, _LIST, _MAP, _NUM, _STRUCT = range(6)
_KINDS = {"string": _STR, "blob": _BLOB, "list": _LIST, "map": _MAP, "structure": _STRUCT,
          "integer": _NUM, "long": _NUM, "float": _NUM, "double": _NUM}
_TYPES = {_STR: str, _BLOB: (bytes, bytearray), _LIST: (list, tuple), _MAP: dict, _NUM: (int, float)}
_BOTOCORE_MIN = (_STR, _LIST, _NUM)  # botocore's own range_check covers these (not blobs, not maps)
_SECRET_NAME = re.compile(r"secret|passw|passphrase|privatekey|credential|zipfile|apikey|assertion|token$", re.I)
_PUBLIC_TOKEN = re.compile(r"(next|pagination|idempotency|client|continuation|callback|checkpoint)token$", re.I)


class _Node:
    __slots__ = ("kind", "min", "max", "enum", "enum_text", "pattern", "pattern_text", "sensitive", "members",
                 "member", "key", "value", "active")


class _Planner:
    """Per-shape check plans: pure model data, built once per (service, version, shape name), shared by threads."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[str, str, str], _Node | None] = {}
        self._lock = threading.Lock()
        self.uncheckable: set[str] = set()

    def root(self, operation_model: Any) -> _Node | None:
        shape, service = operation_model.input_shape, operation_model.service_model
        if shape is None:
            return None
        key = (service.service_name, service.api_version, shape.name)
        node = self._nodes.get(key, False)
        if node is False:
            with self._lock:
                local: dict[tuple[str, str, str], _Node | None] = {}
                node = self._build(shape, key[:2], local)
                self._nodes.update(local)  # published only when complete
        return node

    def _build(self, shape: Any, service: tuple[str, str], local: dict) -> _Node | None:
        key = (*service, shape.name)
        for known in (self._nodes, local):
            if key in known:
                return known[key]
        kind = _KINDS.get(shape.type_name)
        if kind is None or (kind == _STRUCT and shape.is_document_type):  # timestamps, booleans, documents
            return local.setdefault(key, None)
        node = local[key] = _Node()
        meta = shape.metadata
        node.kind, node.min, node.max = kind, meta.get("min"), meta.get("max")
        node.sensitive = bool(meta.get("sensitive"))  # (blob contents are never shown either)
        enum = meta.get("enum") if kind == _STR else None
        node.enum, node.enum_text = (frozenset(enum), ", ".join(enum)) if enum else (None, "")
        node.pattern_text = meta.get("pattern") if kind == _STR else None
        node.pattern = compile_pattern(node.pattern_text) if node.pattern_text else None
        if node.pattern_text and node.pattern is None:
            self.uncheckable.add(node.pattern_text)
        node.active = True  # while being built, so that a recursive reference keeps its branch

        def live(shape: Any) -> _Node | None:  # only branches with a constraint somewhere below are walked
            child = self._build(shape, service, local)
            return child if child is not None and child.active else None

        node.members, node.member, node.key, node.value = {}, None, None, None
        if kind == _STRUCT:
            secret = {n: bool(_SECRET_NAME.search(n)) and not _PUBLIC_TOKEN.search(n) for n in shape.members}
            node.members = {name: (child, secret[name]) for name, member in shape.members.items()
                            if not member.serialization.get("jsonvalue") and (child := live(member)) is not None}
        elif kind == _LIST:
            node.member = live(shape.member)
        elif kind == _MAP:
            node.key, node.value = live(shape.key), live(shape.value)
        node.active = (node.min is not None or node.max is not None or bool(enum) or node.pattern is not None
                       or bool(node.members) or any(c is not None for c in (node.member, node.key, node.value)))
        return node


def _walk(node: _Node, value: Any, segs: list, secret: bool, out: list, skip_min: bool) -> None:
    kind, secret = node.kind, secret or node.sensitive
    if kind == _STRUCT:
        if isinstance(value, dict):
            for name, item in value.items():
                if (member := node.members.get(name)) is not None:
                    _at(name, member[0], item, segs, secret or member[1], out, skip_min)
        return
    if kind == _BLOB and isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, _TYPES[kind]) or isinstance(value, bool):
        return  # wrong types are botocore's to report; file-like blobs are not measured
    size, noun = (value, "value") if kind == _NUM else (len(value), "length")
    shown = None if secret or kind not in (_STR, _NUM) else str(value)
    if node.max is not None and size > node.max:
        out.append((tuple(segs), "max", f"Member must have {noun} less than or equal to {node.max}", shown))
    if node.min is not None and size < node.min and not (skip_min and kind in _BOTOCORE_MIN):
        out.append((tuple(segs), "min", f"Member must have {noun} greater than or equal to {node.min}", shown))
    if kind == _STR:
        if node.enum is not None and value not in node.enum:
            out.append((tuple(segs), "enum", f"Member must satisfy enum value set: [{node.enum_text}]", shown))
        if node.pattern is not None and node.pattern.fullmatch(value) is None:
            text = f"Member must satisfy regular expression pattern: {node.pattern_text}"
            out.append((tuple(segs), "pattern", text, shown))
    elif kind == _LIST and node.member is not None:
        for index, item in enumerate(value):
            _at(index, node.member, item, segs, secret, out, skip_min)
    elif kind == _MAP:
        for key, item in value.items():
            if node.key is not None:
                _at(("k", key), node.key, key, segs, False, out, skip_min)
            if node.value is not None:
                _at(("v", key), node.value, item, segs, secret, out, skip_min)


def _at(seg: Any, node: _Node, value: Any, segs: list, secret: bool, out: list, skip_min: bool) -> None:
    segs.append(seg)
    _walk(node, value, segs, secret, out, skip_min)
    segs.pop()


def _short(value: Any) -> str:
    return str(value) if len(str(value)) <= MAX_SHOWN else str(value)[:MAX_SHOWN - 3] + "..."


def _violation(service: str, operation: str, segs: tuple, constraint: str, text: str, shown: str | None) -> Violation:
    path, aws = "", []
    for index, seg in enumerate(segs):
        last = index == len(segs) - 1
        if isinstance(seg, str):
            path = f"{path}.{seg}" if path else seg
            aws.append(seg[:1].lower() + seg[1:])
        elif isinstance(seg, int):
            path += f"[{seg}]"
            aws.append(f"{seg + 1}.member")
        else:  # a map's key or value: AWS names the map and says which part failed
            key, is_key = _short(seg[1]), seg[0] == "k"
            path += f" (key: {key})" if is_key else f".{key}"
            if last:
                text = f"Map {'keys' if is_key else 'value'} must satisfy constraint: [{text}]"
            elif not is_key:
                aws.append(key)
    value = "" if shown is None else f" '{_short(shown)}'"
    message = f"Value{value} at '{'.'.join(aws)}' failed to satisfy constraint: {text}"
    return Violation(service, operation, path, constraint, message)


def _check(planner: _Planner, operation_model: Any, params: Any, botocore_validates: bool) -> list[Violation]:
    root = planner.root(operation_model)
    if root is None or not isinstance(params, dict):
        return []
    found: list = []
    _walk(root, params, [], False, found, botocore_validates)
    service, operation = operation_model.service_model.service_name, operation_model.name
    return [_violation(service, operation, *item) for item in found]


_DEFAULT_PLANNER = _Planner()


def check(operation_model: Any, params: Any, *, botocore_validates: bool = True) -> list[Violation]:
    """The violations of `params` (the caller's input); botocore_validates leaves botocore's own min checks to it."""
    return _check(_DEFAULT_PLANNER, operation_model, params, botocore_validates)


class ContractChecker:
    """The botocore hook: checks every call, records its violations, refuses the call as AWS would."""

    def __init__(self, log_path: str | Path | None = None) -> None:
        self.log_path = Path(log_path) if log_path is not None else None
        self.violations: list[Violation] = []
        self._planner, self._lock, self._requests = _Planner(), threading.Lock(), 0

    @property
    def uncheckable_patterns(self) -> set[str]:  # met in this checker's plans, could not compile: skipped
        return set(self._planner.uncheckable)

    def check(self, operation_model: Any, params: Any, *, botocore_validates: bool = True) -> list[Violation]:
        with self._lock:
            self._requests += 1
        return _check(self._planner, operation_model, params, botocore_validates)

    def prepare(self, service_model: Any) -> None:  # builds every operation's plan now, not at its first call
        for name in service_model.operation_names:
            self._planner.root(service_model.operation_model(name))

    def register(self, events: Any) -> None:
        """Hooks the checker into an event emitter (a client's meta.events, or a session's, for the clients it
        makes later). Given a client itself, refusals raise its modeled class (client.exceptions.InvalidInput)."""
        exceptions = None
        if hasattr(events, "meta"):
            events, exceptions = events.meta.events, events.exceptions

        def handler(**kwargs: Any) -> None:
            self.before_parameter_build(exceptions=exceptions, **kwargs)

        register = getattr(events, "register_last", None) or events.register  # after botocore's own param hooks
        register("before-parameter-build", handler, unique_id=f"fidelity-contract-{id(self)}")

    def before_parameter_build(self, params: Any = None, model: Any = None, context: Any = None,
                               exceptions: Any = None, **_: Any) -> None:
        """The botocore handler: records the call's violations (and logs them) and raises AWS's refusal. It assumes
        botocore's parameter_validation (the default): with it off, the min checks botocore makes are not made."""
        found = self.check(model, params)
        if not found:
            return
        with self._lock:
            self.violations.extend(found)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write("".join(json.dumps(v.to_json()) + "\n" for v in found))
        raise self.error(model, found, exceptions)

    @staticmethod
    def error(model: Any, found: list[Violation], exceptions: Any = None) -> ClientError:
        """AWS's 400 answer to a request with these violations (the modeled class if `exceptions` has one)."""
        code = ERROR_CODES.get(model.service_model.service_name, DEFAULT_ERROR_CODE)
        count = len(found)
        message = f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(v.message for v in found)
        meta = {"HTTPStatusCode": 400, "RequestId": str(uuid.uuid4()), "HTTPHeaders": {}, "RetryAttempts": 0}
        response = {"Error": {"Code": code, "Message": message, "Type": "Sender"}, "message": message,
                    "ResponseMetadata": meta}
        return (exceptions.from_code(code) if exceptions is not None else ClientError)(response, model.name)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"requests_checked": self._requests, "violations": len(self.violations),
                    "uncheckable_patterns": len(self._planner.uncheckable)}
