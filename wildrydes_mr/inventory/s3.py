"""S3 (global listing): the site bucket and its bucket policy.

- s3-bucket: ListBuckets named `<deployment>-...` + GetBucketLocation + GetBucketTagging; tagged, or exactly the
  site bucket's name `<deployment>-site-<account>-<region>` (found_by "name").
- s3-bucket-policy: GetBucketPolicy of each bucket found.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, error_code
from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, gone, record, unless_gone
from wildrydes_mr.resources import s3
from wildrydes_mr.workflows import build_ui


def find_buckets(scan: Scan) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("s3", "us-east-1")
    found = []
    for page in client.get_paginator("list_buckets").paginate():
        for bucket in page.get("Buckets", []):
            name = bucket["Name"]
            if not name.startswith(scan.prefix):
                continue
            location = unless_gone(lambda n=name: client.get_bucket_location(Bucket=n), None)
            if location is None:
                continue
            # LocationConstraint is None in us-east-1 and the legacy "EU" for eu-west-1.
            region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
                location.get("LocationConstraint"), location.get("LocationConstraint"))
            regional = scan.ctx.aws.client("s3", region)
            try:
                tags = regional.get_bucket_tagging(Bucket=name)["TagSet"]
            except ClientError as exc:
                if error_code(exc) in {"NoSuchTagSet", "NoSuchTagSetError"}:
                    tags = []
                elif gone(exc):
                    continue
                else:
                    raise
            if scan.ours(tags):
                found_by = BY_TAG
            elif name == build_ui.bucket_name(scan.ctx, region):
                # Bucket.create tags the bucket only after creating it: a crash in between leaves an untagged
                # bucket whose name (deployment, account and region) only this deployment can have.
                found_by = BY_NAME
            else:
                continue
            found.append(record(s3.Bucket.kind, region, name, found_by))
            policy = unless_gone(lambda c=regional, n=name: c.get_bucket_policy(Bucket=n)["Policy"], None)
            if policy:
                found.append(record(s3.BucketPolicy.kind, region, name, BY_NAME))
    return found
