"""Redaction of a log that arrives in pieces (`tail --follow` in Slack, the CLI and the console).

Each poll brings whatever was appended, cut anywhere: half a line, half a secret, the first lines
of a private key. Redacting each piece alone would let both halves through. So only complete lines
are redacted and shown; the partial last line — and a complete line that ends with the start of
a known secret — wait for the next piece, and a private-key block opened in one piece keeps
hiding its lines in the next ones until its END line.
"""

from __future__ import annotations

import re

from bot.redact import REDACTED, Redactor

HOLD_SECONDS = 15.0  # a held partial line is shown (redacted) after this: a prompt, a progress bar
MAX_HELD = 64 * 1024  # ... or once this much is held without a line break
_KIND = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?"
_BEGIN = re.compile(rf"-{{4,5}} ?BEGIN {_KIND} ?-{{4,5}}")
_END = re.compile(rf"-{{4,5}} ?END {_KIND} ?-{{4,5}}")
# What a key block holds between its BEGIN and END lines: base64, PEM headers, blank lines.
_BODY = re.compile(r"[ \t]*(?:[A-Za-z0-9+/=]+|(?:Proc-Type|DEK-Info|Comment):.*)?[ \t]*\r?")


class FollowRedactor:
    """One per follow: `feed` each new piece of the log, `finish` when the follow ends."""

    def __init__(self, redactor: Redactor, hold: float = HOLD_SECONDS) -> None:
        self.redactor, self.hold = redactor, hold
        self._held = ""  # text not shown yet
        self._since = 0.0  # when the held text began to wait
        self._in_key = False  # inside a private-key block whose END has not come yet

    def feed(self, text: str, now: float) -> list[str]:
        """The complete lines shown now (redacted): what was held plus `text`, minus what waits."""
        if text and not self._held:
            self._since = now
        self._held += text
        if self._held and (now - self._since >= self.hold or len(self._held) > MAX_HELD):
            return self.finish()
        *complete, partial = self._held.split("\n")
        waiting = [partial]
        if complete and not partial and self.redactor.may_continue(complete[-1]):
            waiting = [complete.pop(), ""]  # the rest of a known secret may be on the next line
        self._held = "\n".join(waiting)
        if complete:
            self._since = now
        return self._show(complete)

    def finish(self) -> list[str]:
        """Everything still held, redacted (the follow ended, or it waited long enough)."""
        lines = self._held.split("\n")
        self._held = ""
        return self._show(lines[:-1] if lines[-1] == "" else lines)

    def restart(self) -> list[str]:
        """The log was cleared, rotated or skipped ahead: what is held belongs to the old text."""
        shown = self.finish()
        self._in_key = False
        return shown

    def _show(self, lines: list[str]) -> list[str]:
        if self._in_key or any("PRIVATE KEY" in line for line in lines):
            lines = self._outside_keys(lines)
        return [line.rstrip("\r") for line in self.redactor.redact_lines(lines)]

    def _outside_keys(self, lines: list[str]) -> list[str]:
        """Lines with each key block, even one spread over pieces, as one [REDACTED] line."""
        kept: list[str] = []
        for line in lines:
            if self._in_key:
                end = _END.search(line)
                if end:  # the block is over; what follows its END line is ordinary text
                    self._in_key, line = False, line[end.end() :]
                    if not line.strip():
                        continue
                elif _BODY.fullmatch(line):
                    continue  # hidden: the block's [REDACTED] line was shown when it began
                else:
                    self._in_key = False  # a block cut short: this line is ordinary text
            else:
                begin = _BEGIN.search(line)
                if begin and not _END.search(line, begin.end()):
                    self._in_key, line = True, line[: begin.start()] + REDACTED
            kept.append(line)
        return kept
