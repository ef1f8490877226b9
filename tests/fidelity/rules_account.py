"""Account Management GetRegionOptStatus, which moto lacks (its account service holds alternate contacts only),
answered as AWS does: a Region introduced before March 20, 2019 is ENABLED_BY_DEFAULT, a later one DISABLED until
the account enables it; a test may set a region's status (`set_status`), as an account that enabled one has."""

from __future__ import annotations

from fidelity.layer import BehaviourLayer, Call, Response, Rule

# The opt-in Regions (Account Management user guide, "Specify which AWS Regions your account can use").
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1",
    "me-south-1", "mx-central-1",
})


class RegionOptStatus(Rule):
    name = "account-region-opt-status"
    summary = "GetRegionOptStatus (moto lacks it): ENABLED_BY_DEFAULT for Regions that need no opt-in, DISABLED for " \
              "opt-in Regions the account has not enabled"
    source = "Account Management API reference: GetRegionOptStatus (ENABLED | ENABLING | DISABLING | DISABLED | " \
             "ENABLED_BY_DEFAULT); user guide, 'Specify which AWS Regions your account can use'"
    operations = frozenset({"account:GetRegionOptStatus"})

    def before(self, call: Call) -> Response | None:
        call.layer.fired(self)
        region = call.params["RegionName"]
        status = call.layer.recall(self).get(region) or ("DISABLED" if region in OPT_IN_REGIONS
                                                         else "ENABLED_BY_DEFAULT")
        return call.answer({"RegionName": region, "RegionOptStatus": status})

    def set_status(self, layer: BehaviourLayer, region: str, status: str) -> None:
        layer.memory(self, lambda memory: memory.__setitem__(region, status))
