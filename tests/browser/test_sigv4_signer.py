"""The vendored aws4fetch signs exactly like botocore: same Authorization header for the same request.

aws4fetch runs in chromium (WebCrypto, as in the app), loaded from web/vendor/ over a local http.server; botocore's
SigV4Auth.add_auth signs the same request in Python at the same instant (the X-Amz-Date is fixed on both sides:
aws4fetch's `datetime` option, botocore's clock patched).

aws4fetch never signs Content-Type (nor Content-Length, User-Agent...); API Gateway accepts any signed-header
set that includes host, so the app's requests sign host;x-amz-date;x-amz-security-token. botocore signs every
header it is given, so it gets the headers aws4fetch signs; the `allHeaders` cases give both Content-Type.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from browser_support import WEB_ROOT

SIGNED_AT = dt.datetime(2026, 11, 30, 3, 15, 42)
AMZ_DATE = SIGNED_AT.strftime("%Y%m%dT%H%M%SZ")
KEYS = {
    "accessKeyId": "ASIAEXAMPLE7WILDRYDES",
    "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+unicorn",
    "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+token=",
}
API = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/"
BODY = json.dumps({"description": "My unicorn lost a horseshoe — über weird ✓", "assigned": "Support", "priority":
                   "high", "status": "open"})

CASES = {
    "get-list-first-page": ("GET", API + "ticket?limit=10", None, {}, "eu-west-1", {}),
    "get-list-next-page": (
        "GET",
        API + "ticket?limit=10&next=eyJpZCI6ICJhYmMiLCAiY3JlYXRlZE9uIjogIjIwMjYtMTEtMzAifQ%3D%3D",
        None,
        {},
        "ap-southeast-1",
        {},
    ),
    "get-query-needs-encoding": ("GET", API + "ticket?z=%E2%9C%93&a=b%20c&a=a&limit=5", None, {}, "eu-west-1", {}),
    "get-local-port": ("GET", "http://127.0.0.1:4567/prod/ticket?limit=3", None, {}, "eu-west-1", {}),
    "post-json": ("POST", API + "ticket", BODY, {"Content-Type": "application/json"}, "eu-west-1", {}),
    "post-json-other-region": ("POST", API + "ticket", BODY, {"Content-Type": "application/json"},
                               "ap-southeast-1", {}),
    "post-json-all-headers": ("POST", API + "ticket", BODY, {"Content-Type": "application/json"}, "eu-west-1",
                              {"allHeaders": True}),
    "get-without-session-token": ("GET", API + "ticket?limit=1", None, {}, "eu-west-1", {"noToken": True}),
}

SIGN_IN_BROWSER = """
async ({method, url, headers, body, region, keys, datetime, options}) => {
  const { AwsV4Signer } = await import("/vendor/aws4fetch.esm.js");
  const signer = new AwsV4Signer({
    method, url, headers, body: body === null ? undefined : body, region, datetime,
    service: "execute-api",
    accessKeyId: keys.accessKeyId,
    secretAccessKey: keys.secretAccessKey,
    sessionToken: options.noToken ? undefined : keys.sessionToken,
    allHeaders: Boolean(options.allHeaders),
  });
  const signed = await signer.sign();
  return Object.fromEntries(signed.headers.entries());
}
"""


@pytest.fixture
def signer_page(page, static_site):
    # A blank page on the static site's origin (a secure context: WebCrypto); the module comes from web/vendor.
    blank = f"{static_site}/__signer__.html"
    page.route(blank, lambda route: route.fulfill(content_type="text/html", body="<!doctype html><title>-</title>"))
    page.goto(blank)
    return page


def botocore_sign(monkeypatch, method, url, body, headers, region, with_token) -> dict[str, str]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: SIGNED_AT)
    request = AWSRequest(method=method, url=url, data=(body or "").encode(), headers=dict(headers))
    credentials = Credentials(KEYS["accessKeyId"], KEYS["secretAccessKey"], KEYS["sessionToken"] if with_token
                              else None)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_aws4fetch_signature_equals_botocore(case, signer_page, monkeypatch):
    method, url, body, headers, region, options = CASES[case]
    browser_headers = signer_page.evaluate(
        SIGN_IN_BROWSER,
        {"method": method, "url": url, "headers": headers, "body": body, "region": region, "keys": KEYS,
         "datetime": AMZ_DATE, "options": options},
    )
    signed_by_aws4fetch = browser_headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    # botocore gets exactly the headers aws4fetch signed (it adds X-Amz-Date and the token itself).
    given = {name: value for name, value in headers.items() if name.lower() in signed_by_aws4fetch}
    expected = botocore_sign(monkeypatch, method, url, body, given, region, not options.get("noToken"))

    assert browser_headers["authorization"] == expected["authorization"]
    assert browser_headers["x-amz-date"] == expected["x-amz-date"] == AMZ_DATE
    if options.get("noToken"):
        assert "x-amz-security-token" not in browser_headers
    else:
        assert browser_headers["x-amz-security-token"] == expected["x-amz-security-token"] == KEYS["sessionToken"]
    scope = f"Credential={KEYS['accessKeyId']}/{AMZ_DATE[:8]}/{region}/execute-api/aws4_request"
    assert scope in browser_headers["authorization"]
    if options.get("allHeaders"):
        assert "content-type" in signed_by_aws4fetch
    else:
        assert signed_by_aws4fetch == ["host", "x-amz-date"] + ([] if options.get("noToken") else
                                                                ["x-amz-security-token"])


def test_a_changed_body_changes_the_signature(signer_page):
    def authorization(body: str) -> str:
        return signer_page.evaluate(
            SIGN_IN_BROWSER,
            {"method": "POST", "url": API + "ticket", "headers": {"Content-Type": "application/json"},
             "body": body, "region": "eu-west-1", "keys": KEYS, "datetime": AMZ_DATE, "options": {}},
        )["authorization"]

    assert authorization(BODY) != authorization(BODY.replace("high", "low"))


def test_vendored_aws4fetch_is_unmodified():
    """The header names the version and the sha256 of the npm dist file; the rest must still hash to it."""
    text = (WEB_ROOT / "vendor" / "aws4fetch.esm.js").read_text(encoding="utf-8")
    header = list(itertools.takewhile(lambda line: line.startswith("//"), text.splitlines(keepends=True)))
    assert "aws4fetch 1.0.20" in header[0]
    digest = next(line.rsplit(":", 1)[1].strip() for line in header if line.startswith("// sha256"))
    body = text[len("".join(header)):]
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == digest
    assert "MIT" in (WEB_ROOT / "vendor" / "aws4fetch.LICENSE").read_text(encoding="utf-8")
