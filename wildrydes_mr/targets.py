"""Targets: real AWS or the local cloud. A target says where AWS calls go and how the data plane is reached.

No boto3 here (the CLI decides on a target before it needs an SDK).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The local cloud's fixed, fake credentials: moto accepts any, and the local gateway verifies signatures
# made with them. They grant nothing anywhere else.
LOCAL_ACCESS_KEY_ID = "AKIAWILDRYDESLOCAL01"
LOCAL_SECRET_ACCESS_KEY = "wildrydes-local-cloud-fake-secret"
# The IAM user those keys belong to in the local cloud (as an operator's keys would on AWS). The tool writes its
# policy: what an operator needs, invoking this deployment's APIs (the demo, the game day).
LOCAL_OPERATOR_USER = "wildrydes-operator"


@dataclass(frozen=True)
class Endpoint:
    """Where AWS calls go: url None means the standard chain (real AWS, or AWS_ENDPOINT_URL)."""

    url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


@dataclass(frozen=True)
class Target:
    """Real AWS: the standard credential chain, public execute-api URLs."""

    name: str = "aws"
    endpoint: Endpoint = field(default_factory=Endpoint)

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    sign_in = "facebook"
    facebook_stand_in = ""  # real Facebook Login: no stand-in

    def api_url(self, region: str, api_id: str, stage: str) -> str:
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"https://{api_id}.execute-api.{region}.{suffix}/{stage}/"

    def site_url(self, bucket: str, public_url: str) -> str:
        """Where a person opens the site: CloudFront's or the S3 website's URL on AWS."""
        return public_url

    def cognito_endpoint(self, region: str) -> str:
        return f"https://cognito-identity.{region}.amazonaws.com/"

    def failover_url(self, domain: str) -> str:
        """The public failover name of the API."""
        return f"https://api.{domain}/"

    def regional_url(self, region: str, name: str) -> str:
        return f"https://{name}/"


@dataclass(frozen=True)
class LocalTarget(Target):
    """The local cloud: moto for the control plane, the local gateway per region for the data plane."""

    name: str = "local"
    gateways: dict[str, str] = field(default_factory=dict)
    site_root: str = ""
    dns_urls: dict[str, str] = field(default_factory=dict)  # "failover" and each region -> local URL
    sign_in = "local"

    def api_url(self, region: str, api_id: str, stage: str) -> str:
        gateway = self.gateways.get(region)
        if gateway is None:
            return f"(no local gateway for {region})"
        return f"{gateway}/{api_id}/{stage}/"

    def site_url(self, bucket: str, public_url: str) -> str:
        """The local site server serves the bucket from moto in place of CloudFront."""
        return f"{self.site_root}/{bucket}/"

    def cognito_endpoint(self, region: str) -> str:
        """The local stand-in for the region's Cognito Identity endpoint (see local/site/)."""
        return f"{self.site_root}/_cognito/{region}/"

    @property
    def facebook_stand_in(self) -> str:
        """The local stand-in for Facebook Login (see local/facebook.py): `POST {this}login` {"name"}."""
        return f"{self.site_root}/_facebook/"

    def failover_url(self, domain: str) -> str:
        """The local failover router, which answers as Route 53 would for api.<domain> (see local/dns/)."""
        return self.dns_urls.get("failover", "")

    def regional_url(self, region: str, name: str) -> str:
        return self.dns_urls.get(region, "")


def local_target(aws_endpoint: str, gateways: dict[str, str], site_root: str = "",
                 dns_urls: dict[str, str] | None = None) -> LocalTarget:
    return LocalTarget(endpoint=Endpoint(aws_endpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY),
                       gateways=dict(gateways), site_root=site_root, dns_urls=dict(dns_urls or {}))
