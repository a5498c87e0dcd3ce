"""Reload = `supervisorctl reread` (a dry run showing the diff) + `update` (applying it).

Apply re-reads the diff first and refuses when it is not the one that was shown.

A reload re-reads a node's whole configuration, so it is allowed only to admins over every
program of every node they reach — the programs it has now and those the reload would add,
change or remove. An admin scoped to some programs of a node may not reload it.
"""

from __future__ import annotations

import time

from bot import errors
from bot.audit import AuditLog
from bot.auth import Access, Actor, Grant, refusal
from bot.config import Settings
from bot.domain import ProcessInfo, ReloadDiff, ReloadResult
from bot.supervisor.fleet import Fleet

SHOWN_NAMES = 5


class ReloadService:
    def __init__(self, fleet: Fleet, audit: AuditLog, settings: Settings) -> None:
        self.fleet, self.audit, self.settings = fleet, audit, settings

    def nodes_for(self, access: Access) -> list[str]:
        """Nodes an admin grant reaches (a glob with @node limits it to those nodes)."""
        return [node for node in self.fleet.clients if access.admin_reaches(node)]

    def preview(self, access: Access) -> list[ReloadDiff]:
        """What `update` would add, change and remove on each node; changes nothing."""
        return self._allowed(access)

    def apply(self, access: Access, fingerprints: list[str]) -> list[ReloadResult]:
        """Apply the diffs shown (identified by fingerprint) if they are still current."""
        current = self._allowed(access)  # the clicker's rights, over the diff as it is now
        shown = sorted(fingerprints)
        if sorted(d.fingerprint for d in current if not d.empty) != shown:
            self._audit(access, "changed", 0.0, "configuration changed since the preview")
            raise errors.ReloadChanged(
                "The configuration changed since the preview; run `reload` again to see the new diff."
            )
        changed = [d for d in current if not d.empty]
        a = access.actor
        # On record before any node is touched: no record, no reload (AuditUnavailable).
        fingerprints = [d.fingerprint for d in changed]
        attempts = self.audit.begin(a.id, a.surface, "reload", fingerprints, a.channel)
        results = []
        for diff, attempt in zip(changed, attempts, strict=True):
            started = time.monotonic()
            try:
                lines = self.fleet.client(diff.node).apply_reload(diff)
                results.append(ReloadResult(diff, True, tuple(lines)))
                self.audit.finish(attempt, "ok", time.monotonic() - started)
            except errors.SupbotError as exc:
                results.append(ReloadResult(diff, False, (str(exc),)))
                self.audit.finish(attempt, "failed", time.monotonic() - started, str(exc))
            except BaseException:  # a bug: the row still gets an outcome
                self.audit.finish(attempt, "failed", time.monotonic() - started, "supbot failed")
                raise
            finally:
                self.fleet.invalidate(diff.node)
        return results

    def _allowed(self, access: Access) -> list[ReloadDiff]:
        """The current diff of every node reached, once the access covers each whole node."""
        nodes = self.nodes_for(access)
        if not nodes:
            self._audit(access, "refused", 0.0, "needs admin")
            raise errors.Forbidden(refusal(access.actor, "reload"))
        diffs = [self.fleet.client(n).reload_diff() for n in nodes]
        programs = {d.node: self.programs(d) for d in diffs}
        blocked = {n: access.not_admin_over(ps) for n, ps in programs.items()}
        blocked = {n: missed for n, missed in blocked.items() if missed}
        if blocked:
            message = " ".join(
                self._refusal(access, n, missed, programs[n]) for n, missed in blocked.items()
            )
            self._audit(access, "refused", 0.0, message)
            raise errors.Forbidden(message)
        return diffs

    def programs(self, diff: ReloadDiff) -> list[ProcessInfo]:
        """Every program the reload of this node touches or could: its processes now, and each
        group it would add, change or remove (a changed group may get more processes)."""
        now = list(self.fleet.client(diff.node).all_processes())
        groups = (*diff.added, *diff.changed, *diff.removed)
        return now + [ProcessInfo(diff.node, g, g, "", 0, 0, 0, 0, 0, None, "", "") for g in groups]

    def _refusal(
        self, access: Access, node: str, missed: list[ProcessInfo], programs: list[ProcessInfo]
    ) -> str:
        """Which programs are not covered, and who may reload this node instead."""
        names = list(dict.fromkeys(p.display_name for p in missed))
        shown = ", ".join(f"`{n}`" for n in names[:SHOWN_NAMES])
        if len(names) > SHOWN_NAMES:
            shown += f" and {len(names) - SHOWN_NAMES} more"
        actor = access.actor
        why = "a reload changes every program on that node, so it needs the admin role over all of them"
        if actor.surface == "api":
            who = f"Token `{actor.id.removeprefix('api:')}` may not reload `{node}`"
            lacks = f"its programs do not cover {shown}"
            kind, can = "token", self._tokens_that_may(node, programs)
        else:
            where, whose = (
                ("here", "this binding")
                if actor.channel
                else ("from this surface", "your bindings")
            )
            who = f"You may not reload `{node}` {where}"
            lacks = f"the admins of {whose} do not cover {shown}"
            kind, can = "binding", self._bindings_that_may(node, programs)
        fix = f'programs = ["*@{node}"] or ["*"]'
        if not can:
            return f"{who}: {why}; {lacks}. No {kind} may reload `{node}` yet: give one {fix} and the admin role."
        return f"{who}: {why}; {lacks}. {kind.capitalize()}s that may reload `{node}`: {', '.join(can)} (or any with {fix})."

    def _bindings_that_may(self, node: str, programs: list[ProcessInfo]) -> list[str]:
        return [
            f"channel `{b.id}`"
            for b in self.settings.channels
            if b.admins and _covers(b.programs, node, programs)
        ]

    def _tokens_that_may(self, node: str, programs: list[ProcessInfo]) -> list[str]:
        return [
            f"`{t.name}`"
            for t in self.settings.api_tokens
            if t.role == "admin" and _covers(t.programs, node, programs)
        ]

    def _audit(
        self,
        access: Access,
        outcome: str,
        seconds: float,
        error: str,
        diff: ReloadDiff | None = None,
    ) -> None:
        a = access.actor
        target = diff.fingerprint if diff else "*"
        self.audit.record(a.id, a.surface, "reload", target, outcome, a.channel, seconds, error)


def _covers(globs: tuple[str, ...], node: str, programs: list[ProcessInfo]) -> bool:
    """Would a binding (or token) with these program globs and admins may reload `node`?"""
    return Access(Actor("", ""), (Grant("admin", globs),)).may_reload(node, programs)
