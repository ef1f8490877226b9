"""The YAML config: parsed into validated frozen dataclasses, or one ConfigError naming file, line and key.

No boto3 here: a bad config must fail before any AWS client exists. The shape is in config/wildrydes.yaml;
every key has a default and unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wildrydes_mr.errors import ConfigError

# Regions where every service the app uses (DynamoDB global tables, Lambda, API Gateway, Cognito identity,
# ACM) is available. Opt-in regions are included; the account must have them enabled.
KNOWN_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "sa-east-1", "me-south-1", "af-south-1",
})
DEFAULT_CONFIG_PATH = Path("config/wildrydes.yaml")
DEPLOYMENT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$|^[a-z]$")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
HOSTED_ZONE_ID = re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$")
FACEBOOK_APP_ID = re.compile(r"^[0-9]{0,32}$")


@dataclass(frozen=True)
class Regions:
    primary: str = "eu-west-1"
    secondary: str = "ap-southeast-1"

    @property
    def both(self) -> tuple[str, str]:
        return (self.primary, self.secondary)


@dataclass(frozen=True)
class Api:
    table: str = "SXRTickets"
    stage: str = "prod"


@dataclass(frozen=True)
class Site:
    facebook_app_id: str = ""
    https: bool = True


@dataclass(frozen=True)
class HealthCheck:
    interval: int = 10
    failure_threshold: int = 3


@dataclass(frozen=True)
class Dns:
    domain: str = "wildrydes.example.com"
    hosted_zone_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ttl: int = 60
    health_check: HealthCheck = field(default_factory=HealthCheck)

    def label(self, region: str) -> str:
        """The regional DNS label of `region` (default: the region code itself)."""
        return self.labels.get(region, region)


@dataclass(frozen=True)
class Objectives:
    rto_seconds: int = 900
    rpo_seconds: int = 900


@dataclass(frozen=True)
class Local:
    time_scale: float = 1.0
    # Seconds the credentials of the local Cognito stand-in live (Cognito's: one hour), before time_scale.
    credential_lifetime: int = 3600
    # Milliseconds a write takes to reach the other region through the local global table, before time_scale.
    # DynamoDB's is "typically within a second" with no SLA; a few hundred ms is what a healthy table shows.
    replication_lag_ms: int = 300


@dataclass(frozen=True)
class Config:
    deployment: str = "wildrydes"
    target: str = "local"
    regions: Regions = field(default_factory=Regions)
    api: Api = field(default_factory=Api)
    site: Site = field(default_factory=Site)
    dns: Dns = field(default_factory=Dns)
    objectives: Objectives = field(default_factory=Objectives)
    local: Local = field(default_factory=Local)
    source: str = "<defaults>"

    @property
    def tag(self) -> dict[str, str]:
        """The tag every resource of this deployment carries."""
        return {"wildrydes:deployment": self.deployment}

    def with_target(self, target: str | None) -> Config:
        return self if target is None else dataclasses.replace(self, target=target)


# --- validation -------------------------------------------------------------------------------------------

def _is_null(node: yaml.Node) -> bool:
    """A YAML null (`~`, `null` or nothing after the colon)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class _Reader:
    """Walks the YAML node tree, turning each scalar into a typed value or a ConfigError with file:line."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, node: yaml.Node | None, key: str, expected: str) -> ConfigError:
        line = node.start_mark.line + 1 if node is not None else 1
        got = ""
        if isinstance(node, yaml.ScalarNode):
            got = f", got {node.value!r}" if node.value != "" else ", got an empty value"
        elif isinstance(node, yaml.MappingNode):
            got = ", got a mapping"
        elif isinstance(node, yaml.SequenceNode):
            got = ", got a list"
        return ConfigError(f"{self.source}:{line}: {key}: expected {expected}{got}")

    def scalar(self, node: yaml.Node, key: str, expected: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, key, expected)
        return yaml.safe_load(yaml.serialize(node)) if node.tag != "tag:yaml.org,2002:str" else node.value

    def string(self, pattern: re.Pattern[str], expected: str) -> Callable[[yaml.Node, str], str]:
        def read(node: yaml.Node, key: str) -> str:
            value = self.scalar(node, key, expected)
            if not isinstance(value, str) or not pattern.match(value):
                raise self.fail(node, key, expected)
            return value
        return read

    def integer(self, low: int, high: int) -> Callable[[yaml.Node, str], int]:
        expected = f"an integer from {low} to {high}"

        def read(node: yaml.Node, key: str) -> int:
            value = self.scalar(node, key, expected)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise self.fail(node, key, expected)
            return value
        return read

    def choice(self, *choices: Any) -> Callable[[yaml.Node, str], Any]:
        expected = " or ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)

        def read(node: yaml.Node, key: str) -> Any:
            value = self.scalar(node, key, expected)
            if isinstance(value, bool) != any(isinstance(c, bool) for c in choices) or value not in choices:
                raise self.fail(node, key, expected)
            return value
        return read

    def mapping(self, node: yaml.Node | None, key: str, fields: dict[str, Callable], cls: type) -> Any:
        """Reads a mapping with exactly the known `fields` (each optional) into dataclass `cls`."""
        if node is None or _is_null(node):
            return cls()
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key or "(top level)", "a mapping")
        values: dict[str, Any] = {}
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            path = f"{key}.{name}" if key else name
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise ConfigError(
                    f"{self.source}:{key_node.start_mark.line + 1}: {path}: unknown key (expected one of: {known})")
            if name in values:
                raise ConfigError(f"{self.source}:{key_node.start_mark.line + 1}: {path}: key given twice")
            values[name] = fields[name](value_node, path)
        return cls(**values)


def _region_reader(reader: _Reader) -> Callable[[yaml.Node, str], str]:
    def read(node: yaml.Node, key: str) -> str:
        value = reader.scalar(node, key, "an AWS region code")
        if value not in KNOWN_REGIONS:
            raise reader.fail(node, key, "an AWS region code such as eu-west-1")
        return value
    return read


# ACM limits a certificate's Common Name to 64 octets, and the Common Name is `api.<domain>`.
MAX_DOMAIN_LENGTH = 64 - len("api.")


def _domain_reader(reader: _Reader) -> Callable[[yaml.Node, str], str]:
    expected = "a DNS domain name such as wildrydes.example.com"

    def read(node: yaml.Node, key: str) -> str:
        value = reader.scalar(node, key, expected)
        if not isinstance(value, str) or "." not in value.strip("."):
            raise reader.fail(node, key, expected)
        if len(value.rstrip(".")) > MAX_DOMAIN_LENGTH:
            raise reader.fail(node, key, f"a domain of at most {MAX_DOMAIN_LENGTH} characters (ACM limits the "
                              f"certificate's Common Name, api.<domain>, to 64), not {len(value.rstrip('.'))}")
        if not all(DNS_LABEL.match(part) for part in value.lower().rstrip(".").split(".")):
            raise reader.fail(node, key, expected)
        return value.lower().rstrip(".")
    return read


def _facebook_reader(reader: _Reader) -> Callable[[yaml.Node, str], str]:
    expected = "a Facebook app id (digits) or \"\""

    def read(node: yaml.Node, key: str) -> str:
        value = reader.scalar(node, key, expected)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not FACEBOOK_APP_ID.match(value):
            raise reader.fail(node, key, expected)
        return value
    return read


def _time_scale_reader(reader: _Reader) -> Callable[[yaml.Node, str], float]:
    expected = "a number greater than 0 and at most 1"

    def read(node: yaml.Node, key: str) -> float:
        value = reader.scalar(node, key, expected)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise reader.fail(node, key, expected)
        return float(value)
    return read


def _labels_reader(reader: _Reader) -> Callable[[yaml.Node, str], dict[str, str]]:
    region = _region_reader(reader)
    label = reader.string(DNS_LABEL, "a DNS label (a-z, 0-9, '-', at most 63 characters)")

    def read(node: yaml.Node, key: str) -> dict[str, str]:
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise reader.fail(node, key, "a mapping of region to label")
        labels: dict[str, str] = {}
        for key_node, value_node in node.value:
            name = region(key_node, f"{key} (region)")
            labels[name] = label(value_node, f"{key}.{name}")
        return labels
    return read


def parse(text: str, source: str) -> Config:
    """Parses and validates config text; `source` names the file in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}:{line}: (YAML syntax): {problem}") from None
    r = _Reader(source)
    m = r.mapping
    health = lambda n, k: m(n, k, {  # noqa: E731
        "interval": r.choice(10, 30), "failure_threshold": r.integer(1, 10)}, HealthCheck)
    config = m(root, "", {
        "deployment": r.string(DEPLOYMENT_PATTERN,
                               "a name of 1-20 characters: lower-case letters, digits, '-', starting with a letter"),
        "target": r.choice("local", "aws"),
        "regions": lambda n, k: m(n, k, {"primary": _region_reader(r), "secondary": _region_reader(r)}, Regions),
        "api": lambda n, k: m(n, k, {
            "table": r.string(TABLE_NAME, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"),
            "stage": r.string(STAGE_NAME, "a stage name (1-128 of A-Z a-z 0-9 _)")}, Api),
        "site": lambda n, k: m(n, k, {"facebook_app_id": _facebook_reader(r), "https": r.choice(True, False)}, Site),
        "dns": lambda n, k: m(n, k, {
            "domain": _domain_reader(r),
            "hosted_zone_id": lambda n2, k2: None if _is_null(n2)
            else r.string(HOSTED_ZONE_ID, "null or a hosted zone id such as Z0123456789ABC")(n2, k2),
            "labels": _labels_reader(r),
            "ttl": r.integer(1, 86400),
            "health_check": health}, Dns),
        "objectives": lambda n, k: m(n, k, {
            "rto_seconds": r.integer(1, 86400), "rpo_seconds": r.integer(0, 86400)}, Objectives),
        "local": lambda n, k: m(n, k, {"time_scale": _time_scale_reader(r),
                                       "credential_lifetime": r.integer(1, 43200),
                                       "replication_lag_ms": r.integer(0, 600000)}, Local),
    }, Config)
    _check_relations(config, root, r)
    return dataclasses.replace(config, source=source)


def _node_line(root: yaml.Node | None, *path: str) -> int:
    """The 1-based line of the node at `path` (or of the closest existing parent)."""
    node, line = root, 1
    for name in path:
        if not isinstance(node, yaml.MappingNode):
            break
        match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name]
        if not match:
            break
        key_node, node = match[0]
        line = key_node.start_mark.line + 1
    return line


def _check_relations(config: Config, root: yaml.Node | None, reader: _Reader) -> None:
    """Rules between keys: distinct regions, labels only for configured regions and distinct."""
    if config.regions.primary == config.regions.secondary:
        line = _node_line(root, "regions", "secondary")
        raise ConfigError(f"{reader.source}:{line}: regions.secondary: expected a region other than the primary "
                          f"({config.regions.primary})")
    for region in config.dns.labels:
        if region not in config.regions.both:
            line = _node_line(root, "dns", "labels", region)
            raise ConfigError(f"{reader.source}:{line}: dns.labels.{region}: expected a label for a configured "
                              f"region ({', '.join(config.regions.both)})")
    labels = [config.dns.label(region) for region in config.regions.both]
    if labels[0] == labels[1]:
        line = _node_line(root, "dns", "labels")
        raise ConfigError(f"{reader.source}:{line}: dns.labels: expected a different label for each region")


def load(path: Path | str | None) -> Config:
    """Loads the config file at `path` (default: config/wildrydes.yaml if present, else the built-in defaults)."""
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return parse("", "<built-in defaults>")  # the same values as config/wildrydes.yaml
        path = DEFAULT_CONFIG_PATH
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}:1: (file): not found", hint="pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}:1: (file): cannot be read ({exc.__class__.__name__})") from None
    return parse(text, str(path))
