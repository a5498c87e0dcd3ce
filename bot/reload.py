"""Reload = `supervisorctl reread` (a dry run showing the diff) + `update` (applying it).

Apply re-reads the diff first and refuses when it is not the one that was shown.
"""

from __future__ import annotations

import time
from fnmatch import fnmatchcase

from bot import errors
from bot.audit import AuditLog
from bot.auth import Access, refusal
from bot.domain import ReloadDiff, ReloadResult
from bot.names import split_node
from bot.supervisor.fleet import Fleet


class ReloadService:
    def __init__(self, fleet: Fleet, audit: AuditLog) -> None:
        self.fleet, self.audit = fleet, audit

    def nodes_for(self, access: Access) -> list[str]:
        """Nodes an admin grant covers (a glob with @node limits it to those nodes)."""
        out = []
        for node in self.fleet.clients:
            for grant in access.grants:
                if grant.role != "admin":
                    continue
                if any(fnmatchcase(node, split_node(p)[1] or "*") for p in grant.programs):
                    out.append(node)
                    break
        return out

    def preview(self, access: Access) -> list[ReloadDiff]:
        """What `update` would add, change and remove on each node; changes nothing."""
        nodes = self._allowed(access)
        return [self.fleet.client(n).reload_diff() for n in nodes]

    def apply(self, access: Access, fingerprints: list[str]) -> list[ReloadResult]:
        """Apply the diffs shown (identified by fingerprint) if they are still current."""
        nodes = self._allowed(access)
        current = [self.fleet.client(n).reload_diff() for n in nodes]
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

    def _allowed(self, access: Access) -> list[str]:
        nodes = self.nodes_for(access)
        if not nodes:
            self._audit(access, "refused", 0.0, "needs admin")
            raise errors.Forbidden(refusal(access.actor, "reload"))
        return nodes

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
