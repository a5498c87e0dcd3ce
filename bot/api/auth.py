"""Bearer tokens from `[[api_tokens]]`, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from bot.auth import Access, Authorizer
from bot.config import ApiToken


class Unauthorized(Exception):
    """No token, a malformed header, or a token no `[[api_tokens]]` entry holds."""


def bearer(header: str | None) -> str:
    """The token in `Authorization: Bearer <token>`; Unauthorized when absent or malformed."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send `Authorization: Bearer <token>` with a token from [[api_tokens]].")
    return token


def token_for(tokens: Sequence[ApiToken], presented: str) -> ApiToken | None:
    """The configured token equal to `presented`. Every entry is compared, so the time taken
    does not tell which entry (or how much of one) matched."""
    given = presented.encode("utf-8", "surrogateescape")
    found = None
    for token in tokens:
        if hmac.compare_digest(token.token.encode(), given) and token.token and found is None:
            found = token
    return found


def authenticate(tokens: Sequence[ApiToken], header: str | None) -> Access:
    """The Access of the token in the Authorization header; Unauthorized otherwise."""
    token = token_for(tokens, bearer(header))
    if token is None:
        raise Unauthorized("The bearer token is not valid.")
    return Authorizer.for_token(token)
