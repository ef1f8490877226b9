"""The site bucket: private behind CloudFront (public access blocked) or, with site.https false, an S3 static
website; its bucket policy; and the site files, uploaded only when their content changed.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from typing import Any

from wildrydes_mr.aws import ClientError, error_code, is_not_found
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.errors import WildrydesError

BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
# A static website must be readable by anyone; ACLs stay blocked, only the bucket policy grants reads.
WEBSITE_ACCESS = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                  "RestrictPublicBuckets": False}
NEVER_CACHE = "no-store, max-age=0"
REVALIDATE = "no-cache"
SHORT_CACHE = "public, max-age=300"


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


def website_url(bucket: str, region: str) -> str:
    # Older regions use "s3-website-<region>", newer ones "s3-website.<region>"; the dash form works in the
    # regions that had it and AWS documents the dot form for all others.
    dash_regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                    "ap-northeast-1", "sa-east-1", "us-gov-west-1"}
    separator = "-" if region in dash_regions else "."
    return f"http://{bucket}.s3-website{separator}{region}.amazonaws.com/"


class Bucket(Resource):
    kind = "s3-bucket"

    def __init__(self, region: str, name: str, website: bool):
        super().__init__(region, name)
        self.website = website

    @property
    def access(self) -> dict[str, bool]:
        return WEBSITE_ACCESS if self.website else BLOCK_ALL

    def find(self, ctx: Context) -> dict[str, Any] | None:
        s3 = ctx.aws.client("s3", self.region)
        try:
            s3.head_bucket(Bucket=self.name)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
                return None
            if error_code(exc) in {"403", "AccessDenied"}:
                raise WildrydesError(f"bucket name {self.name} is taken by another account",
                                     hint="change `deployment` in the config") from None
            raise
        live: dict[str, Any] = {"access": None, "tags": {}, "website": False}
        try:
            live["access"] = s3.get_public_access_block(Bucket=self.name)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
        try:
            live["tags"] = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=self.name)["TagSet"]}
        except ClientError as exc:
            if error_code(exc) != "NoSuchTagSet":
                raise
        try:
            s3.get_bucket_website(Bucket=self.name)
            live["website"] = True
        except ClientError as exc:
            if error_code(exc) != "NoSuchWebsiteConfiguration":
                raise
        return live

    def owner_tags(self, ctx: Context, live: dict[str, Any]) -> dict[str, str]:
        # S3 tags a bucket only after CreateBucket, so a run that died in between leaves it untagged; the name
        # holds the deployment and account, so an untagged bucket of exactly this name is ours.
        return live["tags"] if live["tags"] else dict(ctx.config.tag)

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        changes = []
        if live["access"] != self.access:
            changes.append("public access block")
        if any(live["tags"].get(k) != v for k, v in ctx.config.tag.items()):
            changes.append("tags")
        if live["website"] != self.website:
            changes.append("website hosting" if self.website else "no website hosting")
        return changes

    def create(self, ctx: Context) -> dict[str, Any]:
        s3 = ctx.aws.client("s3", self.region)
        kwargs: dict[str, Any] = {}
        if self.region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(Bucket=self.name, **kwargs)
        ctx.record(self)
        return self.update(ctx, {"access": None, "tags": {}, "website": False},
                           ["public access block", "tags"] + (["website hosting"] if self.website else []))

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        s3 = ctx.aws.client("s3", self.region)
        if "public access block" in changes:
            s3.put_public_access_block(Bucket=self.name, PublicAccessBlockConfiguration=self.access)
        if "tags" in changes:
            s3.put_bucket_tagging(Bucket=self.name, Tagging={
                "TagSet": [{"Key": k, "Value": v} for k, v in ctx.config.tag.items()]})
        if "website hosting" in changes:
            s3.put_bucket_website(Bucket=self.name, WebsiteConfiguration={
                "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}})
        if "no website hosting" in changes:
            s3.delete_bucket_website(Bucket=self.name)
        return {}


def delete_bucket(ctx: Context, record: dict[str, Any]) -> None:
    """Deletes every object version and delete marker, then the bucket."""
    s3 = ctx.aws.client("s3", record["region"])
    bucket = record["name"]
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start:start + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


class BucketPolicy(Resource):
    """Who may read the site's objects: only this CloudFront distribution, or anyone (static website)."""

    kind = "s3-bucket-policy"

    def __init__(self, region: str, bucket: str, policy: dict[str, Any]):
        super().__init__(region, bucket)
        self.policy = policy

    def find(self, ctx: Context) -> dict[str, Any] | None:
        try:
            return json.loads(ctx.aws.client("s3", self.region).get_bucket_policy(Bucket=self.name)["Policy"])
        except ClientError as exc:
            if error_code(exc) in {"NoSuchBucketPolicy", "NoSuchBucket"}:
                return None
            raise

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        return [] if live == self.policy else ["policy"]

    def create(self, ctx: Context) -> dict[str, Any]:
        # Built as a dict and dumped: hand-written policy JSON is how buckets end up unusable.
        ctx.aws.client("s3", self.region).put_bucket_policy(Bucket=self.name, Policy=json.dumps(self.policy))
        return {}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)


def delete_bucket_policy(ctx: Context, record: dict[str, Any]) -> None:
    try:
        ctx.aws.client("s3", record["region"]).delete_bucket_policy(Bucket=record["name"])
    except ClientError as exc:
        if not (is_not_found(exc) or error_code(exc) == "NoSuchBucketPolicy"):
            raise


def cloudfront_read_policy(bucket: str, distribution_arn: str, partition: str = "aws") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "CloudFrontReadsSite", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": f"{bucket_arn(bucket, partition)}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}}]}


def public_read_policy(bucket: str, partition: str = "aws") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicReadsSiteObjects", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"{bucket_arn(bucket, partition)}/*"}]}


@dataclass(frozen=True)
class SiteFile:
    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def etag(self) -> str:
        # A single-part upload's ETag is the MD5 of its bytes (not used for security).
        return '"' + hashlib.md5(self.body, usedforsecurity=False).hexdigest() + '"'


def site_file(key: str, body: bytes) -> SiteFile:
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in {"application/javascript", "image/svg+xml",
                                                              "application/json"}:
        content_type += "; charset=utf-8"
    if key == "config.js":
        cache = NEVER_CACHE  # the runtime config changes with every deploy
    elif key.endswith(".html"):
        cache = REVALIDATE
    else:
        cache = SHORT_CACHE
    return SiteFile(key, body, content_type, cache)


class SiteFiles(Resource):
    """The site's objects: uploads changed files, deletes stale ones, reports the changed paths."""

    kind = "site-files"

    def __init__(self, region: str, bucket: str, files: list[SiteFile], on_changed=None):
        super().__init__(region, bucket)
        self.files = {f.key: f for f in files}
        self.on_changed = on_changed

    def find(self, ctx: Context) -> dict[str, str] | None:
        s3 = ctx.aws.client("s3", self.region)
        live: dict[str, str] = {}
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.name):
                live.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                return None
            raise
        return live if live else None

    def changes(self, ctx: Context, live: dict[str, str]) -> list[str]:
        changed = [f"upload {key}" for key, f in sorted(self.files.items()) if live.get(key) != f.etag]
        return changed + [f"delete {key}" for key in sorted(live) if key not in self.files]

    def create(self, ctx: Context) -> dict[str, Any]:
        return self.update(ctx, {}, [f"upload {key}" for key in sorted(self.files)])

    def update(self, ctx: Context, live: dict[str, str], changes: list[str]) -> dict[str, Any]:
        s3 = ctx.aws.client("s3", self.region)
        paths = []
        for change in changes:
            verb, key = change.split(" ", 1)
            if verb == "upload":
                f = self.files[key]
                s3.put_object(Bucket=self.name, Key=key, Body=f.body, ContentType=f.content_type,
                              CacheControl=f.cache_control)
            else:
                s3.delete_object(Bucket=self.name, Key=key)
            paths.append("/" + key)
        if paths and self.on_changed is not None:
            self.on_changed(ctx, paths)
        return self.attributes(ctx, live)

    def attributes(self, ctx: Context, live: Any) -> dict[str, Any]:
        return {"files": len(self.files)}


def delete_site_files(ctx: Context, record: dict[str, Any]) -> None:
    """Objects go with the bucket (delete_bucket empties every version first)."""
