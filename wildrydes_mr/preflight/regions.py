"""Whether each of the config's regions is enabled for the account.

AWS documents the Account Management API for this: "GetRegionOptStatus — Retrieves the opt-in status of a
particular Region", one of ENABLED | ENABLING | DISABLING | DISABLED | ENABLED_BY_DEFAULT (Account Management
API reference, GetRegionOptStatus; user guide, "Specify which AWS Regions your account can use": Regions
introduced after March 20, 2019 are disabled until enabled, and enabling one "takes a few minutes for most
accounts, but it can take several hours. You cannot use the Region until this process is complete").
The Account Management API is global: its endpoint is in us-east-1 for the aws partition.
"""

from __future__ import annotations

from wildrydes_mr.aws import Aws
from wildrydes_mr.preflight.checklist import READ_ERRORS, Item, cannot_check, failed, from_error, passed

GROUP = "regions"
ACCOUNT_API_REGION = "us-east-1"
USABLE = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})


def check_region(aws: Aws, region: str) -> Item:
    name = f"region {region} enabled"
    try:
        status = aws.client("account", ACCOUNT_API_REGION).get_region_opt_status(RegionName=region)[
            "RegionOptStatus"]
    except READ_ERRORS as exc:
        return from_error(GROUP, name, exc, "account GetRegionOptStatus", "account:GetRegionOptStatus",
                          aws.is_emulated("account", ACCOUNT_API_REGION))
    if status in USABLE:
        return passed(GROUP, name, f"{region} is {status}", status=status)
    if status == "ENABLING":
        return failed(GROUP, name, f"{region} is still being enabled (ENABLING)",
                      "wait until `aws account get-region-opt-status --region-name "
                      f"{region}` says ENABLED (minutes, sometimes hours)", status=status)
    if status in ("DISABLED", "DISABLING"):
        return failed(GROUP, name, f"{region} is {status} for this account",
                      f"`aws account enable-region --region-name {region}`, then wait until it is ENABLED, or "
                      "choose another region in regions.*", status=status)
    return cannot_check(GROUP, name, f"{region}: unknown opt-in status {status!r}", status=status)
