"""Literal redaction of the secret values supbot knows from its configuration (Slack tokens and
signing secret, node passwords, API tokens, secret job/command env values): found bare, broken
over line breaks, or inside base64 — where no pattern could recognise them.

Everything here is plain substring search (`in`, `str.find`), so the cost stays linear in the
text and small per known value; regexes run only on text that already holds a hit.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Iterable

REDACTED = "[REDACTED]"
MIN_LENGTH = 6  # a shorter value would hide ordinary words everywhere it appears
_MIN_CORE = 6  # base64 characters a needle needs to be meaningful
_MIN_PREFIX = 4  # a line ending in this much of a known value may continue on the next one
_URLSAFE = str.maketrans("+/", "-_")
_B64 = frozenset(string.ascii_letters + string.digits + "+/_-")
# Encoded forms worth a lookup even when the value is unknown: base64 of "password=…" etc.
_MARKERS = ("password=", "Password=", "PASSWORD=", "passwd=", 'password":', "password: ")


def base64_cores(raw: bytes) -> set[str]:
    """The base64 characters that encode `raw` wherever it sits in the encoded data: one core per
    byte alignment (3), in the standard and URL-safe alphabets; cores too short to mean much
    are left out."""
    cores = set()
    for k in range(3):
        encoded = base64.b64encode(bytes(k) + raw).decode()
        first = -(-8 * k // 6)  # the first character whose 6 bits all come from `raw`
        last = 8 * (k + len(raw)) // 6  # ... and one past the last
        core = encoded[first:last]
        if len(core) >= _MIN_CORE:
            cores |= {core, core.translate(_URLSAFE)}
    return cores


def _each_run_redacted(m: re.Match[str]) -> str:
    """A value broken over lines: each piece becomes [REDACTED] and the line breaks stay."""
    return re.sub(r"[^\r\n]+", REDACTED, m.group())


class Literals:
    """The known secret values, frozen at start-up; `redact` hides every form of them."""

    def __init__(self, values: Iterable[str]) -> None:
        kept = sorted({v for v in values if len(v) >= MIN_LENGTH}, key=len, reverse=True)
        self.values: tuple[str, ...] = tuple(kept)
        # One optional line break between any two characters: "abc\r\ndef" is "abcdef" cut.
        self._split = {v: re.compile("(?:\r?\n)?".join(map(re.escape, v))) for v in kept}
        cores = {c for v in kept for c in base64_cores(v.encode())}
        cores |= {c for m in _MARKERS for c in base64_cores(m.encode())}
        self._cores = tuple(sorted(cores, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        if "\n" in text and self.values:
            text = self._split_values(text)
        return self._encoded(text)

    def may_continue(self, line: str) -> bool:
        """True when `line` ends with the start of a known value (it may go on in the next line)."""
        tail = line.rstrip("\r")
        for value in self.values:
            for size in range(len(value) - 1, _MIN_PREFIX - 1, -1):
                if tail.endswith(value[:size]):
                    return True
        return False

    def _split_values(self, text: str) -> str:
        flat = text.replace("\r", "").replace("\n", "")  # bare hits are gone: what is left is cut
        for value in self.values:
            if value in flat:
                text = self._split[value].sub(_each_run_redacted, text)
        return text

    def _encoded(self, text: str) -> str:
        """Base64 runs that encode a known value or a `password=`: the whole run goes."""
        for core in self._cores:
            at = text.find(core)
            while at >= 0:
                start, end = _run(text, at, at + len(core))
                text = text[:start] + REDACTED + text[end:]
                at = text.find(core, start + len(REDACTED))
        return text


def _run(text: str, start: int, end: int) -> tuple[int, int]:
    """The base64 run around text[start:end], with its '=' padding."""
    while start > 0 and text[start - 1] in _B64:
        start -= 1
    while end < len(text) and text[end] in _B64:
        end += 1
    for _ in range(2):
        if text[end : end + 1] == "=":
            end += 1
    return start, end
