"""The local site server's origin failover, over the control-plane front (moto in-process): a site bucket that is
the primary member of a CloudFront origin group (in a distribution held by moto) is served from the group's
secondary bucket when it is unavailable — its region out (a local outage: 503) or the object missing — if the
group's failover status codes include that status, as CloudFront fails over; with the same security headers.
A bucket in no group answers 503 during its region's outage."""

from __future__ import annotations

import uuid

import pytest
from local_world import PRIMARY, SECONDARY, LocalWorld

from wildrydes_mr.local.credentials import LocalCredential
from wildrydes_mr.site_headers import security_headers

ADMIN = LocalCredential("AKIASITEFAILOVER0001", "site-failover-test-admin-secret",
                        principal_arn="arn:aws:iam::123456789012:user/site-failover-operator")
SUFFIX = uuid.uuid4().hex[:8]
BUCKETS = {  # role -> (bucket, region)
    "primary": (f"site-primary-{SUFFIX}", PRIMARY),
    "secondary": (f"site-secondary-{SUFFIX}", SECONDARY),
    "fivexx": (f"site-fivexx-{SUFFIX}", PRIMARY),  # a group failing over on 5xx only
    "disabled": (f"site-disabled-{SUFFIX}", PRIMARY),  # its group's distribution is disabled
    "lone": (f"site-lone-{SUFFIX}", PRIMARY),  # in no group
}
ALL_FAILURES = [403, 404, 500, 502, 503, 504]
SECURITY_HEADERS = [name for name, _ in security_headers("")]


def _origin(origin_id: str, role: str, legacy_global_name: bool = False) -> dict:
    bucket, region = BUCKETS[role]
    domain = f"{bucket}.s3.amazonaws.com" if legacy_global_name else f"{bucket}.s3.{region}.amazonaws.com"
    return {"Id": origin_id, "DomainName": domain, "S3OriginConfig": {"OriginAccessIdentity": ""}}


def _distribution(world: LocalWorld, primary_role: str, codes: list[int], enabled: bool = True) -> None:
    # moto refuses an origin group as the DefaultCacheBehavior's target (CloudFront accepts it), so the behavior
    # targets the primary origin, as the tool's does on moto; the group is stored verbatim.
    world.client("cloudfront", "us-east-1").create_distribution(DistributionConfig={
        "CallerReference": f"{primary_role}-{SUFFIX}", "Comment": "", "Enabled": enabled,
        "Origins": {"Quantity": 2, "Items": [_origin("primary", primary_role, primary_role == "fivexx"),
                                             _origin("secondary", "secondary")]},
        "OriginGroups": {"Quantity": 1, "Items": [{
            "Id": "site-group", "FailoverCriteria": {"StatusCodes": {"Quantity": len(codes), "Items": codes}},
            "Members": {"Quantity": 2, "Items": [{"OriginId": "primary"}, {"OriginId": "secondary"}]}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "primary", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = LocalWorld(ADMIN, tmp_path_factory.mktemp("lambda_src"))
    try:
        for role, (bucket, region) in BUCKETS.items():
            s3 = world.client("s3", region)
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
            s3.put_object(Bucket=bucket, Key="index.html", Body=f"<html>{role}</html>".encode(),
                          ContentType="text/html", CacheControl="no-cache")
        world.client("s3", SECONDARY).put_object(Bucket=BUCKETS["secondary"][0], Key="only-secondary.js",
                                                 Body=b"// secondary", ContentType="text/javascript")
        _distribution(world, "primary", ALL_FAILURES)
        _distribution(world, "fivexx", [500, 502, 503, 504])
        _distribution(world, "disabled", ALL_FAILURES, enabled=False)
        world.start_site(cache_ttl=0.2)
        yield world
    finally:
        world.stop()


@pytest.fixture(autouse=True)
def _no_outage_left(world):
    yield
    world.outage.end()


def get(world: LocalWorld, role: str, key: str = "", method: str = "GET"):
    return world.http.request(method, f"{world.site.url}/{BUCKETS[role][0]}/{key}", timeout=30,
                              allow_redirects=False)


def test_each_bucket_serves_its_own_objects_while_its_region_is_up(world):
    for role in BUCKETS:
        answer = get(world, role)
        assert answer.status_code == 200 and answer.text == f"<html>{role}</html>", role
        assert answer.headers["Content-Type"] == "text/html" and answer.headers["Cache-Control"] == "no-cache"
    assert get(world, "primary", method="HEAD").status_code == 200


def test_the_primary_region_out_is_served_from_the_groups_secondary_with_the_same_headers(world):
    before = get(world, "primary")
    world.outage.begin(PRIMARY)
    answer = get(world, "primary")
    assert answer.status_code == 200 and answer.text == "<html>secondary</html>"
    assert {name: answer.headers[name] for name in SECURITY_HEADERS} == {
        name: before.headers[name] for name in SECURITY_HEADERS}
    assert get(world, "primary", "only-secondary.js").text == "// secondary"
    assert get(world, "primary", method="HEAD").status_code == 200
    # The site URL stays the primary's: the bare prefix still redirects to it.
    redirect = world.http.get(f"{world.site.url}/{BUCKETS['primary'][0]}", timeout=10, allow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["Location"] == f"/{BUCKETS['primary'][0]}/"
    world.outage.end()
    assert get(world, "primary").text == "<html>primary</html>"


def test_a_missing_object_is_served_from_the_secondary_and_missing_everywhere_is_its_404(world):
    answer = get(world, "primary", "only-secondary.js")
    assert answer.status_code == 200 and answer.text == "// secondary"
    missing = get(world, "primary", "nowhere.js")
    assert missing.status_code == 404
    assert all(name in missing.headers for name in SECURITY_HEADERS)


def test_without_a_group_the_bucket_is_503_during_its_regions_outage(world):
    world.outage.begin(PRIMARY)
    answer = get(world, "lone")
    assert answer.status_code == 503
    assert answer.json() == {"message": f"Service Unavailable (local outage of {PRIMARY})"}
    assert all(name in answer.headers for name in SECURITY_HEADERS)
    # A disabled distribution serves nothing: its group does not fail over.
    assert get(world, "disabled").status_code == 503
    # The secondary region is up: its bucket serves.
    assert get(world, "secondary").text == "<html>secondary</html>"


def test_the_failover_criteria_decide_which_statuses_fail_over(world):
    # A group failing over on 5xx only: a missing object (404) is the primary's answer ...
    assert get(world, "fivexx", "only-secondary.js").status_code == 404
    # ... while an outage (503) fails over (the group names the primary by the bucket's global S3 name).
    world.outage.begin(PRIMARY)
    assert get(world, "fivexx").text == "<html>secondary</html>"


def test_when_the_secondary_region_is_out_the_failover_answer_is_the_secondarys(world):
    world.outage.begin(SECONDARY)
    assert get(world, "primary").text == "<html>primary</html>"
    failed_over = get(world, "primary", "only-secondary.js")
    assert failed_over.status_code == 503 and SECONDARY in failed_over.json()["message"]
