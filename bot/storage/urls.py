"""Database URLs as the configuration gives them, checked and shown without their password.

No SQLAlchemy here: the configuration (which every `supbot` command reads) checks URLs with
this module alone, so `supbot status` never pays for importing the database stack.
"""

from __future__ import annotations

from urllib.parse import SplitResult, quote, unquote, urlsplit

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
MASK = "***"


def problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL URL (in words a user can act on), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in SCHEMES:
        got = f"{parts.scheme!r}" if parts.scheme else "none"
        return f"unsupported scheme {got} (use postgresql://user@host/database)"
    if not parts.path.strip("/"):
        return "names no database (use postgresql://user@host/database)"
    return None


def with_password(url: str, password: str | None) -> str:
    """`url` with `password` in it (quoted), the way the driver wants it."""
    if not password:
        return url
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(unquote(user), safe='')}:{quote(password, safe='')}@{host}"
    return parts._replace(netloc=netloc).geturl()


def display_url(url: str) -> str:
    """`url` with its password, if any, replaced by ***: what logs, errors and output show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_text(url)
    if parts.password is None:
        return url
    return _masked(parts).geturl()


def _masked(parts: SplitResult) -> SplitResult:
    user, _, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{user.partition(':')[0]}:{MASK}@{host}")


def _mask_text(text: str) -> str:
    """A string that does not even parse: hide whatever sits between ':' and '@'."""
    head, at, tail = text.rpartition("@")
    if not at:
        return text
    scheme, sep, rest = head.partition("://")
    user = rest.partition(":")[0] if sep else head.partition(":")[0]
    return f"{scheme}{sep}{user}:{MASK}@{tail}" if sep else f"{user}:{MASK}@{tail}"


def hide(text: str, secret: str | None) -> str:
    """`text` (an error message) with every occurrence of `secret` masked."""
    if not secret:
        return text
    for form in {secret, quote(secret, safe="")}:
        text = text.replace(form, MASK)
    return text


def libpq(url: str) -> str:
    """`url` as libpq (psycopg's own connect) takes it: the plain postgresql:// scheme."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme in SCHEMES else url
