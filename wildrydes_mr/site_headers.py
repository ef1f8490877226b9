"""The security headers every answer of the site carries — on AWS through CloudFront's response-headers policy,
on the local cloud from its site server — and the Content-Security-Policy that names exactly the origins the
web app talks to (its API, Cognito, and on AWS Facebook's SDK), generated from the deployment, never `*`."""

from __future__ import annotations

from collections.abc import Iterable

HSTS_MAX_AGE_SECONDS = 63072000  # two years, what hstspreload.org asks for
FRAME_OPTION = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# What the Facebook JS SDK (sign-in on AWS) loads from, talks to and frames.
FACEBOOK_SCRIPTS = ("https://connect.facebook.net",)
FACEBOOK_CONNECT = ("https://graph.facebook.com", "https://*.facebook.com")
FACEBOOK_FRAMES = ("https://*.facebook.com",)


def content_security_policy(connect: Iterable[str], scripts: Iterable[str] = (), frames: Iterable[str] = ()) -> str:
    """A CSP allowing the site's own files, plus exactly these origins to talk to, load scripts from, frame."""
    def sources(extra: Iterable[str]) -> str:
        return " ".join(["'self'", *sorted(set(extra))])
    frame_sources = " ".join(sorted(set(frames))) or "'none'"
    return (f"default-src 'self'; script-src {sources(scripts)}; style-src 'self'; img-src 'self' data:; "
            f"connect-src {sources(connect)}; frame-src {frame_sources}; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'; object-src 'none'")


def security_headers(policy: str) -> list[tuple[str, str]]:
    """The headers with `policy` as the CSP, as the local site server sends them."""
    return [("Content-Security-Policy", policy), ("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE_SECONDS}"),
            ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", FRAME_OPTION),
            ("Referrer-Policy", REFERRER_POLICY)]
