"""SigV4 verification for the local API gateway (methods with authorizationType AWS_IAM).

This module owns one question: "is this HTTP request signed, for service execute-api in this region, by a key
the local cloud issued?". It does not re-implement SigV4: it rebuilds the received request as a botocore
`AWSRequest` and lets botocore's own `SigV4Auth` compute the canonical request, the string to sign and the
signature, with the request's X-Amz-Date as timestamp, then compares with `hmac.compare_digest`.

Rejections carry the status, message and `x-amzn-ErrorType` API Gateway answers with, so the local cloud fails
the way AWS does. `sign_request` is the client side (botocore's signer), for tests and local probes.

Not supported (API Gateway would accept them): query-string (presigned) signatures and the `Date` header
instead of X-Amz-Date; such requests are answered as unsigned/incomplete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import EMPTY_SHA256_HASH, SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from .credentials import CredentialStore, LocalCredential

__all__ = ["SigV4Error", "sign_request", "verify_request", "MAX_CLOCK_SKEW"]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)

# API Gateway's own wording; clients (and people) grep for these.
MSG_MISSING_TOKEN = "Missing Authentication Token"
MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class SigV4Error(Exception):
    """A rejected request: API Gateway answers `status` with {"message": message} and x-amzn-ErrorType."""

    def __init__(self, message: str, error_type: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.status = status


def _missing_token() -> SigV4Error:
    return SigV4Error(MSG_MISSING_TOKEN, "MissingAuthenticationTokenException")


def _invalid_token() -> SigV4Error:
    return SigV4Error(MSG_INVALID_TOKEN, "UnrecognizedClientException")


def _expired_token() -> SigV4Error:
    # What API Gateway answers to temporary credentials (e.g. Cognito's) after their Expiration.
    return SigV4Error("The security token included in the request is expired", "ExpiredTokenException")


def _incomplete(message: str) -> SigV4Error:
    return SigV4Error(message, "IncompleteSignatureException")


def _invalid_signature(message: str) -> SigV4Error:
    return SigV4Error(message, "InvalidSignatureException")


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    scope_date: str
    scope_region: str
    scope_service: str
    scope_terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def _parse_authorization(value: str) -> _Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if eq:
            params[key.strip()] = val.strip()
    if algorithm != ALGORITHM:
        # API Gateway treats any other scheme (e.g. "Bearer x") as an unparseable SigV4 header.
        raise _incomplete(
            f"Authorization header requires '{ALGORITHM}' signatures with 'Credential', 'Signature' and "
            "'SignedHeaders' parameters."
        )
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not params.get(name)]
    if missing:
        raise _incomplete(" ".join(f"Authorization header requires '{name}' parameter." for name in missing))
    credential = params["Credential"].split("/")
    if len(credential) != 5 or not credential[0]:
        raise _incomplete(
            "Credential should be of the form <access key>/<date>/<region>/<service>/aws4_request."
        )
    signed = tuple(h.strip().lower() for h in params["SignedHeaders"].split(";") if h.strip())
    return _Authorization(
        access_key_id=credential[0],
        scope_date=credential[1],
        scope_region=credential[2],
        scope_service=credential[3],
        scope_terminator=credential[4],
        signed_headers=signed,
        signature=params["Signature"],
    )


class _ReceivedRequestSigV4(SigV4Auth):
    """botocore's SigV4Auth, told which headers the client signed instead of choosing them itself.

    botocore's own choice (every header but a blacklist) is right for a client; a verifier must use exactly
    the client's SignedHeaders list: HTTP stacks and proxies add headers (Content-Length, Accept-Encoding).
    """

    def __init__(self, credentials: Credentials, service: str, region: str, signed: tuple[str, ...]) -> None:
        super().__init__(credentials, service, region)
        self._signed = frozenset(signed)

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self._signed:
                header_map[name.lower()] = value
        return header_map


def _reencode(component: str) -> str:
    return quote(unquote(component), safe="-_.~")


def _canonical_query(query: str) -> str:
    """Normalise the raw query to RFC 3986 encoding (what SigV4 signs), whatever encoding the client sent."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append(f"{_reencode(key)}={_reencode(value)}")
    return "&".join(pairs)


def _header_values(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    for key, value in pairs:
        if key.lower() == lname:
            return value
    return None


def _fmt(ts: dt.datetime) -> str:
    return ts.strftime(SIGV4_TIMESTAMP)


def verify_request(
    *,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]] | Mapping[str, str],
    body: bytes,
    region: str,
    credentials: CredentialStore,
    service: str = "execute-api",
    now: dt.datetime | None = None,
    max_skew: dt.timedelta = MAX_CLOCK_SKEW,
) -> LocalCredential:
    """Verify a received request's SigV4 Authorization header; return the signer's credential or raise.

    `path` and `query` are exactly as received on the request line (still percent-encoded, no '?'); `headers`
    are the received headers, duplicates allowed; `body` the raw body bytes.
    """
    pairs = _header_values(headers)
    authorization = _first(pairs, "authorization")
    if not authorization:
        raise _missing_token()
    auth = _parse_authorization(authorization)
    if "host" not in auth.signed_headers:
        raise _incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")

    amz_date = _first(pairs, "x-amz-date")
    if not amz_date:
        raise _incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    try:
        signed_at = dt.datetime.strptime(amz_date.strip(), SIGV4_TIMESTAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    timestamp = amz_date.strip()

    # Credential scope: these are the checks AWS makes before looking at the signature itself.
    if auth.scope_terminator != "aws4_request":
        raise _invalid_signature("Credential should be scoped with a valid terminator: 'aws4_request'. ")
    if auth.scope_service != service:
        raise _invalid_signature(f"Credential should be scoped to correct service: '{service}'. ")
    if auth.scope_region != region:
        raise _invalid_signature(
            f"Credential should be scoped to a valid region, not '{auth.scope_region}'. "
        )
    if auth.scope_date != timestamp[:8]:
        raise _invalid_signature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.scope_date}' != '{timestamp[:8]}', from '{timestamp}'."
        )

    cred = credentials.lookup(auth.access_key_id)
    if cred is None:
        raise _expired_token() if credentials.expired(auth.access_key_id) else _invalid_token()
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    if cred.expires_at is not None and now.timestamp() >= cred.expires_at:
        raise _expired_token()
    sent_token = _first(pairs, "x-amz-security-token")
    if cred.session_token is not None:
        if sent_token is None or not hmac.compare_digest(sent_token.encode(), cred.session_token.encode()):
            raise _invalid_token()
    elif sent_token is not None:
        # A token the local cloud never issued for this key: STS would not recognise it either.
        raise _invalid_token()

    if signed_at < now - max_skew:
        raise _invalid_signature(
            f"Signature expired: {timestamp} is now earlier than {_fmt(now - max_skew)} "
            f"({_fmt(now)} - 5 min.)"
        )
    if signed_at > now + max_skew:
        raise _invalid_signature(
            f"Signature not yet current: {timestamp} is still later than {_fmt(now + max_skew)} "
            f"({_fmt(now)} + 5 min.)"
        )

    host = _first(pairs, "host") or ""
    if not _HOST.match(host):
        # The Host is put into the URL rebuilt for signing: a '#', '?' or '/' in it would change that URL.
        raise _invalid_signature("Host header is not a valid host name")
    rebuilt = HTTPHeaders()
    for name, value in pairs:
        if name.lower() in auth.signed_headers:
            rebuilt[name] = value
    signer = _ReceivedRequestSigV4(
        Credentials(cred.access_key_id, cred.secret_access_key, cred.session_token),
        service,
        region,
        auth.signed_headers,
    )
    # botocore trusts a signed X-Amz-Content-SHA256 header as the body hash; a verifier must not, or the body
    # could be swapped under a valid signature. It has to be the hash of the body actually received.
    claimed = rebuilt.get("X-Amz-Content-SHA256")
    body_ok = claimed is None or claimed == (hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256_HASH)
    # The query as SigV4 defines it (every name and value RFC 3986-encoded) first; then the query exactly as
    # received, which is what botocore signs when the caller put an already-encoded query in the URL (e.g.
    # urlencode's '+' for a space).
    queries = [_canonical_query(query)]
    if query and query != queries[0]:
        queries.append(query)
    first: tuple[str, str] | None = None
    for candidate in queries:
        url = f"http://{host}{path}" + (f"?{candidate}" if candidate else "")
        request = AWSRequest(method=method.upper(), url=url, headers=rebuilt, data=body or b"")
        request.context["timestamp"] = timestamp
        canonical_request = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical_request)
        expected = signer.signature(string_to_sign, request)
        if body_ok and hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "replace")):
            return cred
        first = first or (canonical_request, string_to_sign)
    assert first is not None
    raise _invalid_signature(
        f"{MSG_SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n"
        f"'{first[0]}'\n\nThe String-to-Sign should have been\n'{first[1]}'\n"
    )


def sign_request(
    method: str,
    url: str,
    *,
    credential: LocalCredential,
    region: str,
    body: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
    service: str = "execute-api",
    timestamp: dt.datetime | None = None,
) -> dict[str, str]:
    """Sign like a client would (botocore's SigV4Auth); return the headers to send, Authorization included.

    With `timestamp` the signature is made for that instant (to test clock skew); without, botocore's
    `add_auth` signs for now, exactly as boto3 does.
    """
    data = body.encode() if isinstance(body, str) else body
    request = AWSRequest(method=method.upper(), url=url, headers=dict(headers or {}), data=data)
    creds = Credentials(credential.access_key_id, credential.secret_access_key, credential.session_token)
    signer = SigV4Auth(creds, service, region)
    if timestamp is None:
        signer.add_auth(request)
    else:
        if timestamp.tzinfo is not None:
            timestamp = timestamp.astimezone(dt.UTC).replace(tzinfo=None)
        request.context["timestamp"] = _fmt(timestamp)
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        if credential.session_token:
            request.headers["X-Amz-Security-Token"] = credential.session_token
        canonical_request = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical_request)
        signature = signer.signature(string_to_sign, request)
        signed = signer.signed_headers(signer.headers_to_sign(request))
        request.headers["Authorization"] = (
            f"{ALGORITHM} Credential={signer.scope(request)}, SignedHeaders={signed}, Signature={signature}"
        )
    return {name: value for name, value in request.headers.items()}


def split_target(target: str) -> tuple[str, str]:
    """Split an HTTP request target into (raw path, raw query), accepting the absolute form too."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path or "/", query
