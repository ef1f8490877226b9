"""CloudFront behaviours moto does not have: distributions that take minutes to deploy; response-headers
policies — an API moto lacks altogether, stood in for here (stored and answered as CloudFront does: unique
names, ETags, refused when in use or when a distribution names one that does not exist); and distribution
configs kept as sent (an origin group as a cache behaviour's target, which moto refuses, and the origins' access
control, which moto drops), with origin groups checked as CloudFront checks them."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from fidelity.layer import Call, Response, Rule

_POLICY_OPERATIONS = ("CreateResponseHeadersPolicy", "GetResponseHeadersPolicy", "ListResponseHeadersPolicies",
                      "UpdateResponseHeadersPolicy", "DeleteResponseHeadersPolicy")


class DistributionDeploying(Rule):
    name = "cloudfront-deploying"
    summary = "a new or updated distribution is InProgress for minutes before it is Deployed"
    source = "CloudFront developer guide, 'Values that CloudFront displays' (Status InProgress / Deployed)"
    operations = frozenset({"cloudfront:CreateDistribution", "cloudfront:CreateDistributionWithTags",
                            "cloudfront:UpdateDistribution", "cloudfront:GetDistribution"})
    duration = 240.0

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        distribution = parsed.get("Distribution", {})
        if call.operation != "GetDistribution":
            distribution_id, at = distribution.get("Id"), call.now
            if distribution_id:
                call.layer.memory(self, lambda memory: memory.__setitem__(distribution_id, at))
                distribution["Status"] = "InProgress"
            return
        changed = call.layer.recall(self).get(distribution.get("Id", ""))
        if changed is None:
            return
        if call.now - changed < self.duration:
            call.layer.fired(self)
            distribution["Status"] = "InProgress"
        else:
            distribution["Status"] = "Deployed"


class ResponseHeadersPolicies(Rule):
    name = "cloudfront-response-headers-policies"
    summary = "response-headers policies (moto lacks the API): unique names, ETags, in-use policies cannot be " \
              "deleted, a distribution may only name an existing one"
    source = "CloudFront API reference: CreateResponseHeadersPolicy (ResponseHeadersPolicyAlreadyExists), " \
             "DeleteResponseHeadersPolicy (ResponseHeadersPolicyInUse, PreconditionFailed), CreateDistribution " \
             "(NoSuchResponseHeadersPolicy)"
    operations = frozenset({*(f"cloudfront:{op}" for op in _POLICY_OPERATIONS), "cloudfront:CreateDistribution",
                            "cloudfront:CreateDistributionWithTags", "cloudfront:UpdateDistribution"})

    def before(self, call: Call) -> Response | None:
        if call.operation not in _POLICY_OPERATIONS:
            return self._check_reference(call)
        call.layer.fired(self)
        policies = call.layer.recall(self)
        if call.operation == "ListResponseHeadersPolicies":
            items = [{"Type": "custom", "ResponseHeadersPolicy": _shape(p)} for p in policies.values()]
            return call.answer({"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": len(items),
                                                              "Items": items}})
        if call.operation == "CreateResponseHeadersPolicy":
            config = call.params["ResponseHeadersPolicyConfig"]
            if any(p["config"]["Name"] == config["Name"] for p in policies.values()):
                return call.error("ResponseHeadersPolicyAlreadyExists", "A response headers policy with this "
                                  "name already exists.", status=409)
            policy = {"id": str(uuid.uuid4()), "etag": uuid.uuid4().hex[:14].upper(), "config": config,
                      "modified": dt.datetime.now(dt.UTC).isoformat()}
            call.layer.memory(self, lambda memory: memory.__setitem__(policy["id"], policy))
            return call.answer({"ResponseHeadersPolicy": _shape(policy), "ETag": policy["etag"],
                                "Location": f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/"
                                            f"{policy['id']}"})
        policy = policies.get(call.params.get("Id", ""))
        if policy is None:
            return call.error("NoSuchResponseHeadersPolicy", "The response headers policy does not exist.", 404)
        if call.operation == "GetResponseHeadersPolicy":
            return call.answer({"ResponseHeadersPolicy": _shape(policy), "ETag": policy["etag"]})
        if call.params.get("IfMatch") != policy["etag"]:
            return call.error("PreconditionFailed", "The If-Match version is missing or not valid.", 412)
        if call.operation == "UpdateResponseHeadersPolicy":
            updated = {**policy, "config": call.params["ResponseHeadersPolicyConfig"],
                       "etag": uuid.uuid4().hex[:14].upper(), "modified": dt.datetime.now(dt.UTC).isoformat()}
            call.layer.memory(self, lambda memory: memory.__setitem__(policy["id"], updated))
            return call.answer({"ResponseHeadersPolicy": _shape(updated), "ETag": updated["etag"]})
        if policy["id"] in _referenced(call):
            return call.error("ResponseHeadersPolicyInUse", "Cannot delete the response headers policy because "
                              "it is attached to one or more cache behaviors.", status=409)
        call.layer.memory(self, lambda memory: memory.pop(policy["id"], None))
        return call.answer({})

    def _check_reference(self, call: Call) -> Response | None:
        """CreateDistribution / UpdateDistribution naming a policy that does not exist: CloudFront refuses."""
        config = call.params.get("DistributionConfig") or call.params.get("DistributionConfigWithTags", {}).get(
            "DistributionConfig", {})
        wanted = config.get("DefaultCacheBehavior", {}).get("ResponseHeadersPolicyId")
        if wanted and wanted not in call.layer.recall(self):
            call.layer.fired(self)
            return call.error("NoSuchResponseHeadersPolicy", "The response headers policy does not exist.", 404)
        return None


def _shape(policy: dict[str, Any]) -> dict[str, Any]:
    return {"Id": policy["id"], "LastModifiedTime": dt.datetime.fromisoformat(policy["modified"]),
            "ResponseHeadersPolicyConfig": policy["config"]}


def _referenced(call: Call) -> set[str]:
    """The response-headers policies the account's distributions use (read from moto directly)."""
    listed = call.layer.raw_call(call, "cloudfront", "ListDistributions", "us-east-1")["DistributionList"]
    used = set()
    for item in listed.get("Items", []) or []:
        config = call.layer.raw_call(call, "cloudfront", "GetDistributionConfig", "us-east-1", Id=item["Id"])
        used.add(config["DistributionConfig"].get("DefaultCacheBehavior", {}).get("ResponseHeadersPolicyId"))
    return used


# Failover status codes CloudFront accepts for an origin group (developer guide, "Optimize high availability
# with CloudFront origin failover"; the console also offers 400 and 416).
_FAILOVER_CODES = {400, 403, 404, 416, 500, 502, 503, 504}
_CONFIG_WRITES = ("CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution")


class DistributionConfigs(Rule):
    name = "cloudfront-distribution-configs"
    summary = "a distribution keeps its config as sent: an origin group may be a cache behaviour's target (moto " \
              "refuses it: NoSuchOrigin) and OriginAccessControlId is kept (moto drops it); origin groups are " \
              "checked as CloudFront checks them"
    source = "CloudFront API reference: DistributionConfig, OriginGroup (exactly two members), OriginGroupFailover" \
             "Criteria, CacheBehavior.AllowedMethods ('cannot include POST, PUT, PATCH, or DELETE for a cached " \
             "behavior associated with an origin group'); developer guide, origin failover"
    operations = frozenset(f"cloudfront:{op}" for op in (*_CONFIG_WRITES, "GetDistribution", "GetDistributionConfig",
                                                         "DeleteDistribution"))

    def before(self, call: Call) -> Response | None:
        if call.operation not in _CONFIG_WRITES:
            return None
        config = _sent_config(call.params)
        problem = _origin_group_problem(config)
        if problem is not None:
            call.layer.fired(self)
            return call.error(*problem)
        groups = {g["Id"]: g for g in (config.get("OriginGroups") or {}).get("Items", []) or []}
        target = config.get("DefaultCacheBehavior", {}).get("TargetOriginId")
        if target not in groups:
            return None  # moto takes it as it is (after() still keeps what it drops)
        call.layer.fired(self)
        # moto accepts only an origin as the target: give it the group's first member; after() puts the group back.
        first = groups[target]["Members"]["Items"][0]["OriginId"]
        reshaped = copy.deepcopy(call.params)
        _sent_config(reshaped)["DefaultCacheBehavior"]["TargetOriginId"] = first
        return call.forward(**reshaped)

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation in _CONFIG_WRITES:
            distribution = parsed.get("Distribution", {})
            sent = _sent_config(call.params)
            if distribution.get("Id"):
                call.layer.memory(self, lambda memory: memory.__setitem__(distribution["Id"], sent))
                distribution["DistributionConfig"] = copy.deepcopy(sent)
            return
        distribution_id = call.params.get("Id", "")
        if call.operation == "DeleteDistribution":
            call.layer.memory(self, lambda memory: memory.pop(distribution_id, None))
            return
        kept = call.layer.recall(self).get(distribution_id)
        if kept is None:
            return
        if call.operation == "GetDistribution":
            parsed.get("Distribution", {})["DistributionConfig"] = copy.deepcopy(kept)
        else:
            parsed["DistributionConfig"] = copy.deepcopy(kept)


def _sent_config(params: dict[str, Any]) -> dict[str, Any]:
    if "DistributionConfigWithTags" in params:
        return params["DistributionConfigWithTags"]["DistributionConfig"]
    return params.get("DistributionConfig", {})


def _origin_group_problem(config: dict[str, Any]) -> tuple[str, str, int] | None:
    """CloudFront's refusal of a config's origin groups and targets, or None."""
    origins = {o["Id"] for o in (config.get("Origins") or {}).get("Items", []) or []}
    groups = (config.get("OriginGroups") or {}).get("Items", []) or []
    for group in groups:
        members = [m.get("OriginId") for m in group.get("Members", {}).get("Items", []) or []]
        if len(members) != 2 or len(set(members)) != 2:
            return "InvalidArgument", f"Origin group {group.get('Id')} must have exactly two different members.", 400
        if not set(members) <= origins:
            return "NoSuchOrigin", "One or more of your origins or origin groups do not exist.", 404
        codes = group.get("FailoverCriteria", {}).get("StatusCodes", {}).get("Items", []) or []
        if not codes or not set(codes) <= _FAILOVER_CODES:
            return "InvalidArgument", f"Origin group {group.get('Id')}: failover status codes must be among " \
                                      f"{sorted(_FAILOVER_CODES)}.", 400
    group_ids = {g.get("Id") for g in groups}
    behaviours = [config.get("DefaultCacheBehavior", {}), *((config.get("CacheBehaviors") or {}).get("Items") or [])]
    for behaviour in behaviours:
        target = behaviour.get("TargetOriginId")
        if target not in origins | group_ids:
            return "NoSuchOrigin", "One or more of your origins or origin groups do not exist.", 404
        methods = set(behaviour.get("AllowedMethods", {}).get("Items", []) or [])
        if target in group_ids and methods & {"POST", "PUT", "PATCH", "DELETE"}:
            return "InvalidArgument", "The parameter AllowedMethods cannot include POST, PUT, PATCH, or DELETE " \
                                      "for a cached behavior associated with an origin group.", 400
    return None
