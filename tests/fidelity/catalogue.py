"""Every AWS behaviour rule, in one list: what `BehaviourLayer` is built from, and what docs/aws-behaviour.md
and the lifecycle test enumerate. Durations are AWS's (or realistic) by default; the clock is simulated, so
waiting them out costs polls, not time."""

from __future__ import annotations

from typing import Any

from fidelity.layer import BehaviourLayer, Rule
from fidelity.rules_account import RegionOptStatus
from fidelity.rules_acm import (
    CommonNameLimit,
    HeldByDeletedDomain,
    IdempotencyTokenReuse,
    NotYetDescribable,
    ValidationNeedsRecords,
    ValidationRecordsLater,
)
from fidelity.rules_apigateway import ControlPlaneRateLimits
from fidelity.rules_cloudfront import DistributionConfigs, DistributionDeploying, ResponseHeadersPolicies
from fidelity.rules_cognito import PoolMappings
from fidelity.rules_dynamodb import GlobalTableReplicas, PitrUnavailableAfterCreate
from fidelity.rules_fis import FisExperiments
from fidelity.rules_iam import PolicySimulation
from fidelity.rules_lambda import FunctionNotReady, RoleNotYetAssumable
from fidelity.rules_quotas import LambdaAccountSettings, ServiceQuotaDefaults
from fidelity.rules_route53 import ChangePropagation, CnameExclusive, HealthCheckNegativeCache


def all_rules() -> list[Rule]:
    pitr = PitrUnavailableAfterCreate()
    replicas = GlobalTableReplicas(pitr)
    propagation = ChangePropagation()
    quotas = ServiceQuotaDefaults()
    return [
        CommonNameLimit(), IdempotencyTokenReuse(), NotYetDescribable(), ValidationRecordsLater(),
        ValidationNeedsRecords(), HeldByDeletedDomain(),
        ControlPlaneRateLimits(),
        pitr, replicas, FisExperiments(replicas),
        FunctionNotReady(), RoleNotYetAssumable(),
        propagation, CnameExclusive(), HealthCheckNegativeCache(propagation),
        DistributionDeploying(), ResponseHeadersPolicies(), DistributionConfigs(),
        PoolMappings(),
        RegionOptStatus(), PolicySimulation(), quotas, LambdaAccountSettings(quotas),
    ]


def rule_names() -> list[str]:
    return [rule.name for rule in all_rules()]


def build_layer(store: Any, clock: Any, durations: dict[str, float] | None = None,
                only: set[str] | None = None) -> BehaviourLayer:
    """A layer with every rule (or those named in `only`)."""
    rules = [rule for rule in all_rules() if only is None or rule.name in only]
    return BehaviourLayer(rules, store, clock, dict(durations or {}))


def rule(layer: BehaviourLayer, name: str) -> Rule:
    return next(r for r in layer.rules if r.name == name)
