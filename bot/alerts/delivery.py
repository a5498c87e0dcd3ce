"""Sending outbox rows to Slack: post once, then only chat.update; honour 429 Retry-After;
back off while Slack is down. The ts is stored in the same transaction that marks the row
sent, so a restart never posts a message whose ts is known."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts import render
from bot.alerts.deploys import deploy_before
from bot.alerts.outbox import Outbox
from bot.alerts.pager_send import PagerSender
from bot.alerts.pagers import KIND as PAGE
from bot.alerts.records import OutboxRow
from bot.alerts.refusals import HOLD, Problem, problem_for
from bot.alerts.routing import mention_for
from bot.config import Settings
from bot.slack import api_errors
from bot.storage.alerts.store import LOG_EDIT, AlertStore

log = logging.getLogger("supbot.alerts")

# Slack answers these when the fault is (probably) not in the message: keep retrying.
RETRYABLE = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
MAX_BACKOFF = 300.0

LogFetcher = Callable[[str, str], tuple[list[str], int | None]]


def web_client(settings: Settings) -> WebClient:
    """No SDK retry handlers: the outbox sees every 429 and 5xx itself."""
    return WebClient(
        token=settings.secrets.bot_token,
        base_url=settings.secrets.api_url,
        timeout=10,
        retry_handlers=[],
    )


class Deliverer:
    def __init__(
        self,
        alerts: AlertStore,
        client: WebClient,
        settings: Settings,
        fetch_log: LogFetcher,
        pagers: PagerSender,
    ) -> None:
        self.alerts, self.client, self.settings, self.pagers = alerts, client, settings, pagers
        self.outbox = Outbox(alerts)
        self.fetch_log = fetch_log
        # What Slack refused for good, by scope ("token" or a channel): logged once, its rows
        # held until a restart or a reload (which may have fixed it) or HOLD passes.
        self.problems: dict[str, Problem] = {}
        # Rows held for a refusal get another try after a (re)start: at the first pass, not
        # here, so a process starts while the state database is down.
        self._released = False

    def deliver_ready(self) -> float:
        """Send what may go now; returns how long the caller may sleep."""
        if not self._released:
            self.alerts.release_held()
            self._released = True
        rows, wait = self.outbox.claim()
        for row in rows:
            self.deliver(row)
        return 0.0 if rows else wait

    def deliver(self, row: OutboxRow) -> None:
        if row.kind == PAGE:  # not Slack: PagerDuty or Opsgenie, with their own errors
            self.pagers.deliver(row)
            return
        try:
            self._send(row)
            self._resolved(row.channel)
        except SlackApiError as exc:
            self._api_error(row, exc)
        except Exception as exc:  # connection refused, timeout, a 5xx page that is not JSON
            delay = min(MAX_BACKOFF, 2.0 ** min(row.attempts, 8))
            log.warning("Slack unreachable (%s); retrying in %.0fs", type(exc).__name__, delay)
            self.alerts.retry(row.id, delay, f"{type(exc).__name__}: {exc}")

    def _api_error(self, row: OutboxRow, exc: SlackApiError) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        if status == 429 or error == "ratelimited":
            retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
            log.info("Slack rate limit on %s: waiting %.0fs", row.channel, retry_after)
            self.alerts.rate_limited(row.channel, retry_after)
            self.alerts.retry(row.id, retry_after, "ratelimited", count=False)
            return
        problem = problem_for(error, row.channel)
        if problem is not None:
            self._hold(row, problem)
            return
        if status >= 500 or error in RETRYABLE:
            delay = min(MAX_BACKOFF, 2.0 ** min(row.attempts, 8))
            log.warning("Slack answered %s %s; retrying in %.0fs", status, error, delay)
            self.alerts.retry(row.id, delay, f"{status} {error}")
            return
        if error in ("message_not_found", "cant_update_message"):
            log.warning("alert message gone (%s); not posting it again", error)
            self.alerts.fail(row.id, error)
            return
        if not row.payload.get("plain") and error in (
            "invalid_blocks",
            "msg_too_long",
            "msg_blocks_too_long",
        ):
            log.error("Slack refused the alert blocks (%s); sending it as plain text", error)
            self.alerts.resend_plain(row.id, {**row.payload, "plain": True})
            return
        log.error("Slack refused an alert for %s: %s", row.channel, error)
        self.alerts.fail(row.id, f"{status} {error}")

    def _hold(self, row: OutboxRow, problem: Problem) -> None:
        """A refusal no retry can fix: say once what to fix; the rows wait (not spin)."""
        if problem.scope not in self.problems:
            log.error("Slack refused delivery: %s", problem.hint)
        self.problems[problem.scope] = problem
        self.alerts.retry(row.id, HOLD, f"held: {problem.error}", count=False)

    def _resolved(self, channel: str) -> None:
        for scope in ("token", channel):
            if self.problems.pop(scope, None) is not None:
                log.info("Slack accepts messages again (%s)", scope)

    # --- one row -----------------------------------------------------------------------

    def _send(self, row: OutboxRow) -> None:
        if row.kind in ("incident", LOG_EDIT):
            self._sync_incident(row)
        elif row.kind == "rollup":
            self._sync_rollup(row)
        elif row.kind == "thread":
            self._thread(row)
        elif row.kind == "escalate":
            self._escalate(row)
        else:  # digest, audit lines and other one-off posts carry their message
            text, blocks = row.payload["text"], row.payload.get("blocks", [])
            self._post(row, text, blocks, None)
            self.alerts.sent(row.id)

    def _sync_incident(self, row: OutboxRow) -> None:
        """Post or edit an incident's message. Its first post goes out before the log tail
        and exit status (reading them from a busy remote supervisord took tens to hundreds of
        ms): the post queues a LOG_EDIT row in the transaction that records it, and that row
        reads them and edits them in (first=True keeps the mention) — after a crash too."""
        inc = self.alerts.incident(row.ref)
        if row.kind == LOG_EDIT and inc.log is None:
            lines, exitstatus = self.fetch_log(inc.node, inc.process)
            self.alerts.save_log(inc.id, lines, exitstatus)
            inc = self.alerts.incident(row.ref)
        first = inc.ts is None or bool(row.payload.get("first"))
        snoozed = self.alerts.snooze(inc.node, inc.process)
        mention = mention_for(self.settings, inc.node, inc.process)
        deploy = deploy_before(self.alerts.store, inc) if inc.kind == "process" else None
        text, blocks = render.incident_message(inc, mention, first, snoozed, deploy)
        if inc.ts is None:
            ts = self._post(row, text, blocks, None)
            log_edit = inc.log is None and inc.kind == "process"
            self.alerts.posted(row.kind, row.ref, ts, row.id, log_edit=log_edit)
            return
        self._call("chat_update", row, channel=row.channel, ts=inc.ts, text=text, blocks=blocks)
        self.alerts.sent(row.id)

    def _sync_rollup(self, row: OutboxRow) -> None:
        rollup = self.alerts.rollup(row.ref)
        message = render.rollup_message(self.alerts.rollup_incidents(rollup.id))
        self._sync(row, rollup.ts, message)

    def _sync(self, row: OutboxRow, ts: str | None, message: render.Message) -> None:
        """Post the message the first time, edit it after."""
        text, blocks = message
        if ts is None:
            self.alerts.posted(row.kind, row.ref, self._post(row, text, blocks, None), row.id)
            return
        self._call("chat_update", row, channel=row.channel, ts=ts, text=text, blocks=blocks)
        self.alerts.sent(row.id)

    def _thread(self, row: OutboxRow) -> None:
        inc = self.alerts.incident(row.ref)
        text, blocks = render.thread_message(inc, row.payload)
        self._post(row, text, blocks, inc.ts)
        self.alerts.sent(row.id)

    def _escalate(self, row: OutboxRow) -> None:
        """Mention the next group in the thread, unless an Ack (or the end) came first."""
        inc = self.alerts.incident(row.ref)
        if inc.status == "open" and not inc.acked_by:
            to, after = row.payload["to"], row.payload["after"]
            message = render.escalation_message(inc, to, after, row.payload.get("level", 1))
            self._post(row, *message, inc.ts)
        self.alerts.sent(row.id)

    def _post(self, row: OutboxRow, text: str, blocks: list[Any], thread: str | None) -> str:
        kwargs: dict[str, Any] = {"channel": row.channel, "text": text}
        if blocks:  # audit lines are text only
            kwargs["blocks"] = blocks
        if thread:
            kwargs["thread_ts"] = thread
        response = self._call("chat_postMessage", row, **kwargs)
        return str(response["ts"])

    def _call(self, method: str, row: OutboxRow, **kwargs: Any) -> Any:
        if row.payload.get("plain"):
            kwargs.pop("blocks", None)
        try:
            return getattr(self.client, method)(**kwargs)
        except Exception as exc:  # counted for /metrics, handled by deliver()
            api_errors.count(api_errors.dotted(method), api_errors.error_of(exc))
            raise


def log_fetcher(fleet: Any, redactor: Any, lines: int = 20) -> LogFetcher:
    """The last `lines` lines of stderr (stdout when stderr is empty), redacted, and the last
    exit status (the listener's EXITED event does not carry it)."""

    def fetch(node: str, process: str) -> tuple[list[str], int | None]:
        try:
            client = fleet.client(node)
            exitstatus = client.process(process).exitstatus
            tail = client.tail(process, lines, "stderr").lines
            if not tail:
                tail = client.tail(process, lines, "stdout").lines
        except Exception as exc:  # the node may be the thing that is down
            return [f"(log unavailable: {exc})"], None
        return list(redactor.redact_lines(list(tail))), exitstatus

    return fetch
