"""Silences: crashes of what a silence names (a program, glob or @node) are recorded and
counted, not posted, until it ends; then one summary per target that crashed meanwhile
(bot/alerts/silence_summary.py). `/sup silence <match> 30m [reason…]`, `/sup silences`,
`/sup unsilence <id>`; the API and the CLI use the same service. Every set and unset is
audited first; times are the database's clock, so every host agrees on the end.
"""

from __future__ import annotations

import time

from bot import errors
from bot.alerts.silence_match import covers
from bot.alerts.silence_records import Silence
from bot.audit import AuditLog
from bot.auth import Access
from bot.dispatch import Handler
from bot.durations import DurationError, format_duration, parse_duration
from bot.grammar import Command, quote
from bot.processes import ProcessService
from bot.replies import Choice, MessageReply, Reply
from bot.state import Store
from bot.usertext import quote as typed

SHORTEST, LONGEST = 60.0, 7 * 86400.0
TEXT_MAX = 200
MAX_ID = 2**63 - 1


class UnknownSilence(errors.SupbotError):
    """No silence has that number (the API answers 404)."""


def check_duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except DurationError:
        raise errors.UsageError(
            f"{typed(text, 20)} is not a duration; use e.g. `30m` or `2h`."
        ) from None
    if not SHORTEST <= seconds <= LONGEST:
        raise errors.UsageError("Silence for between 1 minute and 7 days, e.g. `30m` or `2h`.")
    return seconds


def _check_text(name: str, value: str, example: str) -> str:
    value = value.strip()
    if len(value) > TEXT_MAX or (name == "match" and not value):
        raise errors.UsageError(f"`{name}` must be 1 to {TEXT_MAX} characters, like {example}.")
    return value


class SilenceService:
    def __init__(self, store: Store, processes: ProcessService, audit: AuditLog) -> None:
        self.store, self.processes, self.audit = store, processes, audit

    def silence(self, access: Access, match: str, seconds: float, reason: str = "") -> Silence:
        """Silence what `match` names for `seconds` (operator of every program it names)."""
        match = _check_text("match", match, "`web*` or `@app1`")
        reason = _check_text("reason", reason, "`deploy 1.4.2`")
        self.processes.find(access, match, "silence")  # refuses when the role is too low
        a = access.actor
        target = f"{match} for {format_duration(seconds)}" + (f" ({reason})" if reason else "")
        # On record before the change: no record, no silence (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, "silence", [target], a.channel)
        from bot.storage import silences as q

        with self.audit.finishing(attempts), self.store.transaction() as db:
            now = self.store.now(db)
            return q.add(db, match, reason, a.id, now, now + seconds)

    def unsilence(self, access: Access, silence_id: int) -> Silence:
        """End a silence now; its summaries follow as at a natural end."""
        found = self.get(silence_id)
        a = access.actor
        try:
            self.processes.find(access, found.match, "silence")
        except errors.Forbidden as exc:  # a refused unsilence is on record too
            target = f"#{found.id} {found.match}"
            self.audit.record(
                a.id, a.surface, "unsilence", target, "refused", a.channel, 0.0, str(exc)
            )
            raise
        from bot.storage import silences as q

        attempts = self.audit.begin(
            a.id, a.surface, "unsilence", [f"#{found.id} {found.match}"], a.channel
        )
        with self.audit.finishing(attempts), self.store.transaction() as db:
            now = self.store.now(db)
            if found.until <= now:
                raise errors.UsageError(f"Silence {found.id} ({found.match}) has already ended.")
            q.end(db, found.id, a.id, now)
        return self.get(found.id)

    def get(self, silence_id: int) -> Silence:
        from bot.storage import silences as q

        found = None
        if 0 < silence_id <= MAX_ID:
            with self.store.connect() as db:
                found = q.get(db, silence_id)
        if found is None:
            raise UnknownSilence(f"There is no silence {silence_id}; `silences` lists them.")
        return found

    def active(self, access: Access) -> list[tuple[Silence, int]]:
        """Silences in force that name something the asker can see, with crashes held back."""
        from bot.storage import silences as q

        visible = [(p.node, p.full_name) for p in self.processes.visible_processes(access)]
        with self.store.connect() as db:
            found = q.active(db, self.store.now(db))
            held = {s.id: sum(h.crashes for h in q.hits(db, s.id)) for s in found}
        return [(s, held[s.id]) for s in found if any(covers(s.match, n, p) for n, p in visible)]

    # --- /sup verbs ----------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        """The verbs this feature adds to `/sup` (bot/wiring.py plugs them in)."""
        return {
            "silence": self.handle_silence,
            "silences": self.handle_silences,
            "unsilence": self.handle_unsilence,
        }

    def handle_silence(self, access: Access, command: Command) -> Reply:
        seconds = check_duration(command.args[1])
        found = self.silence(access, command.args[0], seconds, " ".join(command.args[2:]))
        return MessageReply(
            f"🔕 Silence {found.id}: crashes of {found.match} are counted, not posted, for "
            f"{format_duration(seconds)} (until {_clock(found.until)}); a summary follows.",
            choices=(Choice(f"Unsilence {found.id}", quote("unsilence", str(found.id))),),
        )

    def handle_silences(self, access: Access, command: Command) -> Reply:
        rows = self.active(access)
        if not rows:
            return MessageReply("No silences in force. Set one with `silence web* 30m deploy`.")
        lines = [silence_line(s, n) for s, n in rows[:50]]
        choices = tuple(Choice(f"Unsilence {s.id}", quote("unsilence", str(s.id))) for s, _ in rows)
        return MessageReply("Silences in force:\n" + "\n".join(lines), choices=choices[:10])

    def handle_unsilence(self, access: Access, command: Command) -> Reply:
        ended = self.unsilence(access, silence_number(command.args[0]))
        return MessageReply(f"🔔 Silence {ended.id} ({ended.match}) ended; its summary follows.")


def silence_line(s: Silence, held: int) -> str:
    why = f" — {s.reason}" if s.reason else ""
    by = "a [[silences]] window" if s.by == "config" else s.by
    crashes = f", {held} crash{'es' if held != 1 else ''} held back" if held else ""
    return f"#{s.id} {s.match} until {_clock(s.until)} by {by}{why}{crashes}"


def silence_number(text: str) -> int:
    digits = text.removeprefix("#")
    if not digits.isdigit():
        raise errors.UsageError(
            f"{typed(text, 20)} is not a silence number; `silences` lists them (e.g. `unsilence 3`)."
        )
    return int(digits)


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))
