"""SigV4 verification of the local API gateway (wildrydes_mr.local.sigv4_verify), against botocore's signer.

Every accepted request here was signed by botocore's own `SigV4Auth.add_auth`, as boto3, the project's api
client and the AWS SDKs sign; every rejection is checked for API Gateway's status, message and error type.
No server is needed: these are pure functions of the received request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
from wildrydes_mr.local.sigv4_verify import SigV4Error, sign_request, split_target, verify_request

REGION = "eu-west-1"
BASE = "http://127.0.0.1:5555/a1b2c3d4e5/prod"
ADMIN = LocalCredential("AKIAADMINLOCAL000001", "admin-secret")
USER = LocalCredential(
    "ASIAUSERLOCAL0000001",
    "user-secret",
    session_token="user-session-token",
    cognito_identity_id="eu-west-1:11111111-2222-3333-4444-555555555555",
)
MISMATCH = "The request signature we calculated does not match the signature you provided."


@pytest.fixture
def store() -> CredentialStore:
    return CredentialStore([ADMIN, USER])


def botocore_signed(
    method: str,
    url: str,
    body: bytes = b"",
    cred: LocalCredential = ADMIN,
    headers: dict[str, str] | None = None,
    region: str = REGION,
    service: str = "execute-api",
) -> dict:
    """Sign with botocore exactly as a client does; return what the server receives (plus unsigned extras)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(
        Credentials(cred.access_key_id, cred.secret_access_key, cred.session_token), service, region
    ).add_auth(request)
    parts = urlsplit(url)
    received = [("Host", parts.netloc), *request.headers.items()]
    # What an HTTP stack adds after signing; never signed, must not matter.
    received += [
        ("User-Agent", "python-requests/2"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Connection", "close"),
    ]
    if body:
        received.append(("Content-Length", str(len(body))))
    return {"method": method, "path": parts.path, "query": parts.query, "headers": received, "body": body}


def verify(received: dict, store: CredentialStore, **kwargs) -> LocalCredential:
    return verify_request(**received, region=REGION, credentials=store, **kwargs)


def rejected(received: dict, store: CredentialStore, **kwargs) -> SigV4Error:
    with pytest.raises(SigV4Error) as info:
        verify(received, store, **kwargs)
    assert info.value.status == 403
    return info.value


def replace_header(received: dict, name: str, value: str | None) -> dict:
    headers = [(k, v) for k, v in received["headers"] if k.lower() != name.lower()]
    if value is not None:
        headers.append((name, value))
    return {**received, "headers": headers}


# ------------------------------------------------------------------------------------------------- accepted


def test_signed_get_with_query_string_is_accepted(store):
    received = botocore_signed("GET", f"{BASE}/ticket?limit=5&next=abc")
    assert verify(received, store) == ADMIN


def test_signed_post_with_json_body_is_accepted(store):
    body = json.dumps({"title": "Flat tyre", "description": "Unicorn lost a shoe é"}).encode()
    received = botocore_signed("POST", f"{BASE}/ticket", body, headers={"Content-Type": "application/json"})
    assert verify(received, store) == ADMIN


def test_temporary_credentials_with_session_token_are_accepted(store):
    received = botocore_signed("GET", f"{BASE}/ticket", cred=USER)
    assert verify(received, store) == USER


def test_percent_encoded_path_repeated_keys_and_reserved_characters_are_accepted(store):
    url = f"{BASE}/items/a%20b%2Fc?b=2&a=1&a=0&q=x%2By%20z%3D&empty="
    assert verify(botocore_signed("GET", url), store) == ADMIN


def test_urlencoded_query_with_plus_for_space_is_accepted(store):
    # urllib.parse.urlencode writes a space as '+'; botocore then signs the query exactly as written.
    url = f"{BASE}/ticket?" + urlencode({"next": "a b/c+d=", "limit": 5})
    assert verify(botocore_signed("GET", url), store) == ADMIN


def test_clock_skew_under_five_minutes_is_accepted(store):
    received = botocore_signed("GET", f"{BASE}/ticket")
    now = dt.datetime.now(dt.UTC)
    assert verify(received, store, now=now + dt.timedelta(minutes=4)) == ADMIN
    assert verify(received, store, now=now - dt.timedelta(minutes=4)) == ADMIN


def test_signed_content_sha256_header_matching_the_body_is_accepted(store):
    body = b'{"a": 1}'
    received = botocore_signed(
        "POST", f"{BASE}/ticket", body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    )
    assert verify(received, store) == ADMIN


def test_sign_request_helper_signs_for_a_given_instant(store):
    instant = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    headers = sign_request("GET", f"{BASE}/ticket?limit=2", credential=USER, region=REGION, timestamp=instant)
    assert headers["X-Amz-Date"] == "20240301T120000Z"
    received = {
        "method": "GET",
        "path": "/a1b2c3d4e5/prod/ticket",
        "query": "limit=2",
        "headers": [("Host", "127.0.0.1:5555"), *headers.items()],
        "body": b"",
    }
    assert verify(received, store, now=instant + dt.timedelta(seconds=30)) == USER


# ------------------------------------------------------------------------------------------------- rejected


def test_no_authorization_header_is_missing_authentication_token(store):
    received = replace_header(botocore_signed("GET", f"{BASE}/ticket"), "Authorization", None)
    err = rejected(received, store)
    assert err.message == "Missing Authentication Token"
    assert err.error_type == "MissingAuthenticationTokenException"


def test_tampered_body_is_rejected(store):
    received = botocore_signed("POST", f"{BASE}/ticket", b'{"amount": 1}')
    err = rejected({**received, "body": b'{"amount": 9}'}, store)
    assert err.message.startswith(MISMATCH)
    assert err.error_type == "InvalidSignatureException"


def test_tampered_path_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket")
    err = rejected({**received, "path": "/a1b2c3d4e5/prod/admin"}, store)
    assert err.message.startswith(MISMATCH)
    assert "/a1b2c3d4e5/prod/admin" in err.message  # the canonical request is shown, as AWS does


def test_tampered_query_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket?limit=5")
    assert rejected({**received, "query": "limit=500"}, store).message.startswith(MISMATCH)


def test_tampered_method_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket")
    assert rejected({**received, "method": "DELETE"}, store).message.startswith(MISMATCH)


def test_other_host_is_rejected(store):
    received = replace_header(botocore_signed("GET", f"{BASE}/ticket"), "Host", "localhost:5555")
    assert rejected(received, store).message.startswith(MISMATCH)


def test_tampered_signed_header_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket", headers={"X-Wildrydes-Tenant": "a"})
    received = replace_header(received, "X-Wildrydes-Tenant", "b")
    assert rejected(received, store).message.startswith(MISMATCH)


def test_body_swapped_under_a_signed_content_sha256_header_is_rejected(store):
    # botocore's verifier-side shortcut would trust the header; the received body must hash to it.
    body = b'{"amount": 1}'
    received = botocore_signed(
        "POST", f"{BASE}/ticket", body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    )
    assert rejected({**received, "body": b'{"amount": 9}'}, store).message.startswith(MISMATCH)


def test_wrong_secret_is_rejected(store):
    impostor = LocalCredential(ADMIN.access_key_id, "not-the-secret")
    err = rejected(botocore_signed("GET", f"{BASE}/ticket", cred=impostor), store)
    assert err.message.startswith(MISMATCH)
    assert "not-the-secret" not in err.message and "admin-secret" not in err.message


def test_unknown_access_key_is_rejected(store):
    stranger = LocalCredential("AKIANOBODYKNOWSME001", "whatever")
    err = rejected(botocore_signed("GET", f"{BASE}/ticket", cred=stranger), store)
    assert err.message == "The security token included in the request is invalid."
    assert err.error_type == "UnrecognizedClientException"


def test_removed_credential_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket", cred=USER)
    store.remove(USER.access_key_id)
    assert rejected(received, store).error_type == "UnrecognizedClientException"


def test_a_credential_forgotten_because_it_expired_is_still_told_it_expired(store):
    """The Cognito stand-in prunes expired credentials; a request signed with one is refused as expired (as an
    STS token carries its own expiry on AWS), not as unknown."""
    received = botocore_signed("GET", f"{BASE}/ticket", cred=USER)
    store.remove(USER.access_key_id, expired=True)
    err = rejected(received, store)
    assert (err.message, err.error_type) == ("The security token included in the request is expired",
                                             "ExpiredTokenException")


def test_expired_signature_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket")
    err = rejected(received, store, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6))
    assert err.message.startswith("Signature expired:")
    assert err.message.endswith("- 5 min.)")
    assert err.error_type == "InvalidSignatureException"


def test_signature_from_the_future_is_rejected(store):
    instant = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    headers = sign_request("GET", f"{BASE}/ticket", credential=ADMIN, region=REGION, timestamp=instant)
    received = {
        "method": "GET",
        "path": "/a1b2c3d4e5/prod/ticket",
        "query": "",
        "headers": [("Host", "127.0.0.1:5555"), *headers.items()],
        "body": b"",
    }
    assert rejected(received, store).message.startswith("Signature not yet current:")


def test_wrong_region_in_credential_scope_is_rejected(store):
    err = rejected(botocore_signed("GET", f"{BASE}/ticket", region="ap-southeast-1"), store)
    assert err.message.startswith("Credential should be scoped to a valid region")
    assert err.error_type == "InvalidSignatureException"


def test_wrong_service_in_credential_scope_is_rejected(store):
    err = rejected(botocore_signed("GET", f"{BASE}/ticket", service="lambda"), store)
    assert err.message == "Credential should be scoped to correct service: 'execute-api'. "


def test_missing_session_token_is_rejected(store):
    received = replace_header(
        botocore_signed("GET", f"{BASE}/ticket", cred=USER), "X-Amz-Security-Token", None
    )
    assert rejected(received, store).message == "The security token included in the request is invalid."


def test_mismatched_session_token_is_rejected(store):
    forged = LocalCredential(USER.access_key_id, USER.secret_access_key, session_token="forged-token")
    err = rejected(botocore_signed("GET", f"{BASE}/ticket", cred=forged), store)
    assert err.error_type == "UnrecognizedClientException"


def test_session_token_on_a_long_term_key_is_rejected(store):
    with_token = LocalCredential(ADMIN.access_key_id, ADMIN.secret_access_key, session_token="made-up")
    assert rejected(botocore_signed("GET", f"{BASE}/ticket", cred=with_token), store).error_type == (
        "UnrecognizedClientException"
    )


def test_missing_x_amz_date_is_rejected(store):
    received = replace_header(botocore_signed("GET", f"{BASE}/ticket"), "X-Amz-Date", None)
    err = rejected(received, store)
    assert err.error_type == "IncompleteSignatureException"
    assert "X-Amz-Date" in err.message


def test_other_authorization_schemes_are_incomplete_signatures(store):
    received = replace_header(botocore_signed("GET", f"{BASE}/ticket"), "Authorization", "Bearer abc.def")
    assert rejected(received, store).error_type == "IncompleteSignatureException"


def test_authorization_without_signature_is_rejected(store):
    received = botocore_signed("GET", f"{BASE}/ticket")
    auth = dict(received["headers"])["Authorization"].split(", Signature=")[0]
    err = rejected(replace_header(received, "Authorization", auth), store)
    assert err.message == "Authorization header requires 'Signature' parameter."


def test_host_must_be_signed(store):
    instant = dt.datetime.now(dt.UTC)
    request = AWSRequest(method="GET", url=f"{BASE}/ticket")
    request.context["timestamp"] = instant.strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    signer = SigV4Auth(Credentials(ADMIN.access_key_id, ADMIN.secret_access_key), "execute-api", REGION)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    scope = signer.scope(request)
    auth = f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=x-amz-date, Signature={signature}"
    received = {
        "method": "GET",
        "path": "/a1b2c3d4e5/prod/ticket",
        "query": "",
        "headers": [
            ("Host", "127.0.0.1:5555"),
            ("X-Amz-Date", request.headers["X-Amz-Date"]),
            ("Authorization", auth),
        ],
        "body": b"",
    }
    assert rejected(received, store).error_type == "IncompleteSignatureException"


def test_split_target_accepts_origin_and_absolute_forms():
    assert split_target("/a/prod/ticket?limit=5") == ("/a/prod/ticket", "limit=5")
    assert split_target("http://127.0.0.1:1/a/prod/x?y=1") == ("/a/prod/x", "y=1")
    assert split_target("") == ("/", "")


def test_credential_repr_hides_secrets():
    text = repr(USER)
    assert USER.secret_access_key not in text and USER.session_token not in text
    assert USER.access_key_id in text
