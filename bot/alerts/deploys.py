"""Deploy records: `POST /api/v1/deploys` (or `supbot deploy`) says what went out; the next
incidents of matching programs show it ("crashed 2m after deploy 1.4.2"), and so does the
digest. Recording one is audited like any action."""

from __future__ import annotations

from bot import errors
from bot.alerts.records import Incident
from bot.alerts.silence_match import covers
from bot.alerts.silence_records import Deploy
from bot.audit import AuditLog
from bot.auth import Access
from bot.processes import ProcessService
from bot.state import Store

SHOWN_FOR = 86400.0  # an incident this long after a deploy still shows it
FIELD_MAX = 200


class DeployService:
    def __init__(self, store: Store, processes: ProcessService, audit: AuditLog) -> None:
        self.store, self.processes, self.audit = store, processes, audit

    def record(self, access: Access, what: str, version: str, by: str = "") -> Deploy:
        """Record a deploy of what `what` names (operator of at least one of those programs)."""
        what, version, by = what.strip(), version.strip(), by.strip()
        for name, value in (("what", what), ("version", version)):
            if not value or len(value) > FIELD_MAX:
                raise errors.UsageError(
                    f"`{name}` must be 1 to {FIELD_MAX} characters, e.g. "
                    '{"what": "web", "version": "1.4.2"}.'
                )
        if len(by) > FIELD_MAX:
            raise errors.UsageError(f"`by` must be at most {FIELD_MAX} characters.")
        self.processes.find(access, what, "deploy")  # refuses a name outside the token's globs
        a = access.actor
        target = f"{what} {version}"
        attempts = self.audit.begin(a.id, a.surface, "deploy", [target], a.channel)
        from bot.storage import silences as q

        with self.audit.finishing(attempts), self.store.transaction() as db:
            return q.add_deploy(db, what, version, by, a.id, self.store.now(db))


def deploy_before(store: Store, inc: Incident) -> Deploy | None:
    """The latest deploy of the incident's program made before it opened (within a day)."""
    from bot.storage import silences as q

    with store.connect() as db:
        recent = q.deploys_between(db, inc.opened - SHOWN_FOR, inc.opened)
    return next((d for d in recent if covers(d.what, inc.node, inc.process)), None)


def deploys_for(store: Store, since: float, until: float) -> list[Deploy]:
    """Every deploy recorded in [since, until], the newest first (the digest)."""
    from bot.storage import silences as q

    with store.connect() as db:
        return q.deploys_between(db, since, until)
