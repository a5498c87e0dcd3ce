"""Secret redaction for everything that leaves the machine: log lines, command output, alerts.

Token shapes come from detect-secrets' maintained plugin regexes (their `denylist`), widened where
a fixed length or lazy tail would leave part of the token behind. Our own rules add what
detect-secrets cannot give a span for: key=value / JSON / YAML values, `Authorization` headers,
URL passwords and keys, cookies, command-line flags and whole private-key blocks. Key names stay
visible. The secret values supbot knows itself are hidden literally first (bot/redact_literal.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

from bot.redact_literal import REDACTED, Literals

_FRESH = r"(?!\[REDACTED\])"  # never redact a placeholder twice: redaction is idempotent


@dataclass(frozen=True)
class _Rule:
    """A regex whose first participating group in `groups` (else the whole match) is replaced."""

    regex: re.Pattern[str]
    groups: tuple[int | str, ...] = ()
    hints: tuple[str, ...] = ()  # every match contains one of these: skip the regex without them

    def sub(self, text: str) -> str:
        if self.hints and not any(hint in text for hint in self.hints):
            return text
        return self.regex.sub(self._replace, text)

    def _replace(self, m: re.Match[str]) -> str:
        whole = m.group()
        if not whole:  # a zero-width match (possible in config patterns) hides nothing
            return whole
        for group in self.groups:
            start, end = m.span(group)
            if start >= 0:
                return whole[: start - m.start()] + REDACTED + whole[end - m.start() :]
        return REDACTED


def _rule(pattern: str, *groups: int | str, flags: int = 0, hints: Sequence[str] = ()) -> _Rule:
    return _Rule(re.compile(pattern, flags), groups, tuple(hints))


def _anycase(*words: str) -> str:
    """Case-insensitive alternation that keeps re's fast first-character scan (re.I loses it)."""
    return "|".join(f"{w[0]}(?i:{w[1:]})|{w[0].upper()}(?i:{w[1:]})" for w in words)


def _ds(pattern: re.Pattern[str], tail: str = "", group: int = 0, hint: str = "") -> _Rule:
    """A detect-secrets denylist regex, optionally widened by `tail` to the end of the token."""
    regex = re.compile(f"(?:{pattern.pattern}){tail}", pattern.flags) if tail else pattern
    return _Rule(regex, (group,) if group else (), (hint,) if hint else ())


# -----BEGIN <kind> PRIVATE KEY----- ... -----END <kind> PRIVATE KEY-----, as one block. A block
# cut off by a tail window is redacted to the end of the text, or from its first base64 line.
_KEY_KIND = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?"
_KEY_BEGIN = rf"-{{4,5}} ?BEGIN {_KEY_KIND} ?-{{4,5}}"
_KEY_END = rf"-{{4,5}} ?END {_KEY_KIND} ?-{{4,5}}"
_PRIVATE_KEYS = [
    _rule(rf"{_KEY_BEGIN}.*?(?:{_KEY_END}|\Z)", flags=re.S, hints=["PRIVATE KEY"]),
    _rule(rf"(?:^[A-Za-z0-9+/=]+[ \t]*\r?\n)*{_KEY_END}", flags=re.M, hints=["PRIVATE KEY"]),
]

# Authorization (also Proxy-, HTTP_) headers in any notation: the scheme stays, the rest goes.
_HEADERS = [
    _rule(
        rf"""(?:{_anycase("authorization")})\\?["']?[ \t]*[:=][ \t]*\\?["']?"""
        r"""(?>(?:[A-Za-z][\w.-]*[ \t]+)?)"""  # scheme (Bearer, Basic, token, AWS4-HMAC-SHA256...)
        rf"""(?P<v>{_FRESH}[^\s"'\\][^\r\n"'\\]*)""",
        "v",
    ),
    _rule(rf"(?:{_anycase('bearer')})[ \t]+(?P<v>{_FRESH}[\w\-.~+/]{{16,}}=*)", "v"),
]

# scheme://user:password@host -> the user stays; the password may itself contain '@'.
# https://KEY@host (Sentry DSNs, git tokens): over HTTP a lone userinfo is a key; elsewhere
# (ssh://git@host) only when it is long enough to be one.
_URL_PASSWORDS = [
    _rule(rf"""://[^\s:/?#@"'<>]*:(?P<v>{_FRESH}[^\s/?#"'<>]+)(?=@)""", "v"),
    _rule(
        rf"""(?:{_anycase("https", "http", "wss", "ws")})://(?P<v>{_FRESH}[^\s:/?#@"'<>]+)@""",
        "v",
        hints=["://"],
    ),
    _rule(rf"""://(?P<v>{_FRESH}[\w.~%+-]{{16,}})@""", "v"),
    _ds(BasicAuthDetector.denylist[0], group=1),
]


class _CookieRule(_Rule):
    """`Cookie:` hides every value; `Set-Cookie:` its first one (the rest are attributes)."""

    def _replace(self, m: re.Match[str]) -> str:
        start, end = m.start("v") - m.start(), m.end("v") - m.start()
        is_set = m.string[max(0, m.start() - 5) : m.start() - 1].lower() == "set-"
        whole, pairs = m.group(), _FIRST_PAIR if is_set else _COOKIE_PAIR
        return whole[:start] + pairs.sub(rf"\1{REDACTED}", whole[start:end]) + whole[end:]


def _cookie(tail: str) -> _CookieRule:
    """Starts at "ookie" (the match keeps its C): a literal prefix is found fastest."""
    value = r"""\\?["']?[ \t]*:[ \t]*\\?["']?(?P<v>[^\r\n"'\\]+)"""
    return _CookieRule(re.compile(f"{tail}(?<=[Cc]{tail})" + value), hints=(tail,))


_COOKIE_PAIR = re.compile(rf"([^=;\s]+=){_FRESH}[^;\s]+")
_FIRST_PAIR = re.compile(rf"^([^=;\s]+=){_FRESH}[^;\s]+")
_COOKIES = [_cookie("ookie"), _cookie("OOKIE")]

_TOKENS = [
    _ds(SlackDetector.denylist[0], tail=r"[\w-]*"),  # xoxb-, xoxp-, xoxa-, xoxs-...
    _ds(SlackDetector.denylist[1], tail=r"[\w-]*"),  # webhook URLs
    _rule(r"xox[a-z]-\d[A-Za-z0-9-]{8,}"),  # refresh (xoxe-) and other token kinds
    _rule(r"xapp-\d-[A-Za-z0-9-]{8,}"),  # app-level tokens
    _ds(AWSKeyDetector.denylist[0]),  # AKIA.../ASIA... access key IDs
    _ds(AWSKeyDetector.denylist[1], group=1),  # aws ... key = "<40 chars>"
    _ds(GitHubTokenDetector.denylist[0], tail=r"\w*"),
    _rule(r"github_pat_\w{20,}"),
    *(_ds(p) for p in GitLabTokenDetector.denylist),
    _ds(StripeDetector.denylist[0], tail=r"[0-9a-zA-Z]*", hint="k_live_"),  # its match stops at 24
    _rule(r"[rs]k_test_[0-9a-zA-Z]{16,}", hints=["k_test_"]),
    _ds(JwtTokenDetector.denylist[0], tail=r"[\w\-+/=]*"),  # its lazy tail skips the signature
    _ds(SendGridDetector.denylist[0]),
    _ds(OpenAIDetector.denylist[0]),
    *(_ds(p) for p in PypiTokenDetector.denylist),
    _rule(r"AIza[0-9A-Za-z_-]{35}", hints=["AIza"]),  # Google API keys
]

# Keys whose value is a secret; any prefix is allowed (DB_PASSWORD, client_secret, apiKey,
# x-api-key, spring.datasource.password), but the key must end with one of these words.
_KEYWORDS = _anycase(
    "pass(?:word|wd|phrase)",
    "pwd",
    "secret",
    "token",
    "credentials?",
    *(f"{word}[_-]?key" for word in ("api", "access", "secret", "private")),
)
# An unquoted value ends at a space, quote or bracket; at & , ; ) only before another key=
# or the end of the value, so "password=a&b,c" is redacted whole but "token=x&limit=5" is not.
_HARD = r"""[^\s&,;)"'}\]]"""
_KEY_VALUES = [
    _rule(
        rf"""(?:{_KEYWORDS})"""
        r"""(?:\\?["'])?[ \t]*(?:=>|:=|[:=])[ \t]*"""  # = : => := with the key's closing quote
        rf"""{_FRESH}(?:\\"(?P<e>.+?)\\"|"(?P<d>(?:\\.|[^"\\\n])+)"|'(?P<s>[^'\n]+)'"""
        rf"""|(?P<b>(?:{_HARD}|[&,;)](?={_HARD})(?![\w.-]+[=:]))+))""",
        "e",
        "d",
        "s",
        "b",
    ),
    _rule(  # command-line flags: --db-password hunter2
        rf"""--(?<![\w-]--)[\w-]*?(?:{_KEYWORDS})[ \t]+{_FRESH}"""
        r"""(?:"(?P<d>[^"\n]+)"|'(?P<s>[^'\n]+)'|(?P<b>[^\s"'-]\S*))""",
        "d",
        "s",
        "b",
    ),
]

# Words that may follow "password" in prose; any other word there is taken for the password.
_PROSE = (
    "a|an|and|are|as|at|authentication|based|be|been|by|can|cannot|change|changed|check|could|did|"
    "does|expired|expires|failed|field|file|for|from|has|hash|have|incorrect|invalid|is|length|"
    "manager|mismatch|must|not|of|on|or|policy|prompt|protected|required|reset|rotation|set|"
    "should|so|that|the|to|too|updated|was|were|will|with|wrong"
)


def _bare_password(ass: str, words: str) -> _Rule:
    """ "passwd hunter2", "login with Password s3cret": the next word, unless it is prose. Starts
    at "ass" (or "ASS"): a literal prefix is found fastest."""
    return _rule(
        rf"""{ass}(?<=[Pp]{ass})(?<![\w-].{ass})(?:{words})[ \t]+{_FRESH}"""
        rf"""(?!(?i:{_PROSE})\b)(?P<v>[^\s"',;:=\-][^\s"',;]*)""",
        "v",
        hints=[ass],
    )


_BARE_VALUES = [
    _bare_password("ass", "wd|word|phrase"),
    _bare_password("ASS", "WD|WORD|PHRASE"),
    _rule(  # mysql -u root -pSECRET, and -p SECRET (not a port, a path or another flag)
        r"""-(?<!\S-)(?:u[ \t]*\S+[ \t]+-p(?P<a>(?!\[REDACTED\])[^\s"']+)"""
        rf"""|p[ \t]+{_FRESH}(?![-/.~]|\d+(?!\S))(?P<b>[^\s"']+))""",
        "a",
        "b",
        hints=["-p"],
    ),
]


class Redactor:
    """Replaces secrets with "[REDACTED]"; compiled once, safe to share between threads."""

    def __init__(self, extra_patterns: Sequence[str] = (), known: Iterable[str] = ()) -> None:
        """`extra_patterns` come from config `[redaction] patterns`: group 1 if any, else all.
        `known`: the secret values from config (bot/secret_values.py), hidden literally."""
        compiled = [re.compile(p, re.M) for p in extra_patterns]
        extra = [_Rule(regex, (1,) if regex.groups else ()) for regex in compiled]
        self.literals = Literals(known)
        self._rules: list[_Rule] = [
            *_PRIVATE_KEYS,
            *extra,
            *_HEADERS,
            *_COOKIES,
            *_URL_PASSWORDS,
            *_TOKENS,
            *_KEY_VALUES,
            *_BARE_VALUES,
        ]

    def redact(self, text: str) -> str:
        """`text` (any number of lines) with every secret found replaced."""
        text = self.literals.redact(text)
        for rule in self._rules:
            text = rule.sub(text)
        return text

    def may_continue(self, line: str) -> bool:
        """True when `line` ends with the start of a known secret that the next line may finish."""
        return self.literals.may_continue(line)

    def redact_lines(self, lines: Iterable[str]) -> list[str]:
        """Redacts lines together, so multi-line secrets are seen; a key block becomes one line."""
        items = list(lines)
        return self.redact("\n".join(items)).split("\n") if items else []
