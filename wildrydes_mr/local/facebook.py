"""The local cloud's stand-in for Facebook Login: a person signs in with a name, and gets an access token and a
Facebook user id, as FB.login's authResponse would give them.

- `POST /_facebook/login` on the site server (same origin as the site: no CORS) with `{"name": "Rita"}` answers
  200 `{"accessToken": "local:Rita", "userID": "<15 digits>", "name": "Rita"}`; a body that is not that is a 400
  with Facebook's error shape (`{"error": {"message", "type": "OAuthException", "code": 100}}`).
- `user_id(name)`: Facebook issues app-scoped user ids (digit strings), one per person and app, whichever Cognito
  pool the token is then given to. Here the id is a function of the name (15 digits from its SHA-256, the first
  not 0), so the same name is the same user in both regions and across sign-ins, and different names differ.
- `name_of(token)`: the name a `local:<name>` token stands for (None if it is not one); the Cognito stand-in
  derives the token's `sub` claim from it with `user_id`.
Facebook is global: a local outage never affects it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

__all__ = ["LOGIN_PATH", "TOKEN_PREFIX", "access_token", "login", "name_of", "user_id"]

LOGIN_PATH = "/_facebook/login"
TOKEN_PREFIX = "local:"
NAME = re.compile(r"^[\w .@-]{1,64}$")
USER_ID_DIGITS = 15


def user_id(name: str) -> str:
    """The stand-in's Facebook user id for `name`: 15 decimal digits, the first not 0."""
    digest = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest(), "big")
    low = 10 ** (USER_ID_DIGITS - 1)
    return str(low + digest % (9 * low))


def access_token(name: str) -> str:
    return TOKEN_PREFIX + name


def name_of(token: object) -> str | None:
    """The name of a well-formed `local:<name>` token, else None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return None
    name = token[len(TOKEN_PREFIX):]
    return name if NAME.match(name) else None


def login(raw: bytes) -> tuple[int, dict[str, Any]]:
    """The answer to `POST /_facebook/login`: (HTTP status, JSON body)."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not NAME.match(name) or set(body) != {"name"}:
        return 400, {"error": {"message": 'the body must be {"name": NAME}: 1-64 letters, digits, spaces or . @ _ -',
                               "type": "OAuthException", "code": 100}}
    return 200, {"accessToken": access_token(name), "userID": user_id(name), "name": name}
