"""CloudFront behaviours moto does not have: distributions that take minutes to deploy, and response-headers
policies — an API moto lacks altogether, stood in for here (stored and answered as CloudFront does: unique
names, ETags, refused when in use or when a distribution names one that does not exist)."""

from __future__ import annotations

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
