"""What happens around silences in `supbot serve`'s housekeeping (every 10 s): the
[[silences]] windows that are due are opened (the incident engine opens them too, so the first
crash of a window is never posted), and each silence that ended gets one summary per target
that crashed meanwhile: "3 crashes of web@app1 during the silence "deploy 1.4.2", now RUNNING".

A summary is queued in the transaction that marks its silence summarized, so it is posted once
whichever process gets there first.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.alerts.routing import router
from bot.alerts.silence_match import NODE_LEVEL
from bot.alerts.silence_records import Silence, SilenceHit
from bot.alerts.silencing import open_due_windows
from bot.names import node_label
from bot.render.blocks import escape
from bot.storage.alerts.store import AlertStore


class SilenceSummaries:
    def __init__(self, services: Any, alerts: AlertStore) -> None:
        self.alerts, self.store, self.fleet = alerts, alerts.store, services.fleet
        self.settings = services.settings
        self.route = router(services.settings)
        self.tz = ZoneInfo(services.settings.timezone)

    def run(self) -> int:
        """Open due windows; queue the summaries of ended silences. Returns how many queued."""
        from bot.storage import silences as q

        with self.store.transaction() as db:
            now = self.store.now(db)
            if self.settings.silences:
                open_due_windows(db, self.settings.silences, self.tz, now)
            ended = [(s, q.hits(db, s.id)) for s in q.ended(db, now)]
        if not ended:
            return 0
        states = self._states()  # supervisord is asked outside any transaction
        queued = 0
        for silence, hits in ended:
            queued += self._summarize(silence, hits, states)
        return queued

    def _summarize(self, silence: Silence, hits: list[SilenceHit], states: dict[Any, str]) -> int:
        from bot.storage import silences as q

        queued = 0
        with self.alerts.transaction() as tx:
            again = q.get(tx.db, silence.id)
            if again is None or again.summarized:
                return 0  # another process summarized it meanwhile
            q.mark_summarized(tx.db, silence.id)
            for hit in hits:
                channel = self.route(hit.node, hit.process)
                if channel is None or not hit.crashes:
                    continue
                state = states.get((hit.node, hit.process), "in an unknown state")
                text = summary_text(silence, hit, state)
                block = SectionBlock(text=MarkdownTextObject(text=text)).to_dict()
                tx.enqueue(channel, "silence", silence.id, {"text": text, "blocks": [block]})
                queued += 1
        return queued

    def _states(self) -> dict[Any, str]:
        """(node, group:name) → "now RUNNING"; a node's own incidents → reachable or not."""
        found: dict[Any, str] = {}
        for status in self.fleet.status(fresh=True):
            reach = "unreachable" if status.error else "reachable"
            for process in NODE_LEVEL:
                found[(status.node, process)] = f"node {reach} now"
            for p in status.processes:
                found[(p.node, p.full_name)] = f"now {p.state}"
        return found

    def prune(self, cutoff: float) -> None:
        from bot.storage import silences as q

        with self.store.transaction() as db:
            q.prune(db, cutoff)


def summary_text(silence: Silence, hit: SilenceHit, state: str) -> str:
    """ "3 crashes of *web@app1* during the silence "deploy 1.4.2" (web*), now RUNNING"."""
    if hit.process in NODE_LEVEL:
        what = f"node *{escape(hit.node)}*"
        n = f"{hit.crashes} alert{'s' if hit.crashes != 1 else ''} for"
    else:
        what = f"*{escape(node_label(hit.node, hit.process))}*"
        n = f"{hit.crashes} crash{'es' if hit.crashes != 1 else ''} of"
    during = (
        f'the silence "{escape(silence.reason)}" ({escape(silence.match)})'
        if silence.reason
        else f"the silence of {escape(silence.match)}"
    )
    return f"🔔 {n} {what} during {during}, {state}"
