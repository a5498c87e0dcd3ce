"""Failed, missed and interrupted runs reach people through the alerts outbox.

A run whose `notify` rule asks for a message is stored with `notify_pending = 1`. `flush()`
moves every pending run into the alerts outbox (`bot.storage.alerts`; kind `job`, a one-off
post with its own text and blocks) for the job's channel (bot/alerts/routing.py), in the same transaction that clears
the flag, so each run is announced once whichever process flushes. Without an alerts channel (or without the alerts
package) the flag stays set and the run waits in the state for the daily digest.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

from bot.config import Settings
from bot.render.blocks import button, context, preformatted, section
from bot.replies import Choice
from bot.storage.job_records import JobRun
from bot.storage.jobs import History

log = logging.getLogger("supbot.scheduler")
OUTPUT_CHARS = 1500


def _alerts() -> ModuleType | None:
    try:
        return importlib.import_module("bot.storage.alerts.store")
    except ModuleNotFoundError:
        return None


def message(run: JobRun, tz: str, output: str) -> dict[str, Any]:
    """The alert: what happened, the output tail, and a Run again button."""
    from slack_sdk.models.blocks import ActionsBlock, Block

    from bot.scheduler.render import run_summary
    from bot.scheduler.render_slack import run_line

    text = f"Job {run.job}: {run_summary(run)}"
    blocks: list[Block] = [section(f"*Job `{run.job}`*\n{run_line(run, tz)}", "job_alert")]
    if output:
        blocks.append(section(preformatted(output, OUTPUT_CHARS), "job_alert_output"))
    again = Choice("Run again", f"job run {run.job}", "primary", f"Run {run.job} again?")
    history = Choice("History", f"job history {run.job}")
    blocks.append(
        ActionsBlock(
            block_id="job_alert_act",
            elements=[button(again, "job_alert_0"), button(history, "job_alert_1")],
        )
    )
    if run.status == "missed":
        blocks.insert(1, context("The scheduler was not running at that time."))
    return {"text": text[:300], "blocks": [b.to_dict() for b in blocks]}


def flush(settings: Settings, history: History) -> int:
    """Hand every pending notification to the outbox; returns how many were queued. A run
    whose channel does not post its kind (`alert_on`) is marked done without a message."""
    storage = _alerts() if settings.alerts.channel or _bound(settings) else None
    if storage is None:
        return 0
    from bot.alerts.routing import job_channel

    alerts = storage.AlertStore(history.store)
    zones = {j.name: j.timezone for j in settings.jobs}
    sent = 0
    with history.store.transaction() as db:
        for run, output in history.notifications():  # joins this block
            kind = "missed" if run.status == "missed" else "job_failed"
            channel = job_channel(settings, run.job, kind)
            if channel is not None:
                payload = message(run, zones.get(run.job, settings.timezone), output)
                alerts.within(db).enqueue(channel, "job", run.id, payload)
                sent += 1
            history.mark_notified(run.id)
    if sent:
        log.info("queued %d job alert(s)", sent)
    return sent


def _bound(settings: Settings) -> bool:
    """Some binding takes job alerts in its own channel."""
    return any(b.alerts_channel and b.jobs for b in settings.channels)
