"""Sending the outbox's pager calls (kind `page`): PagerDuty or Opsgenie, as configured now.

A 2xx is done; 429, 5xx and network errors are retried with backoff (the row stays at the
head of its pager's channel, so an acknowledge or resolve never overtakes its trigger); any
other answer is a request no retry can fix: logged with the pager's message, the row failed.
Every call is audited as `pager:<provider>` (the attempt first, like every action).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

from bot.alerts.oncall import label
from bot.alerts.pager_calls import PagerRequest, request_for
from bot.alerts.pagers import pager_settings
from bot.alerts.records import OutboxRow
from bot.audit import AuditLog, AuditUnavailable
from bot.config import Settings
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.alerts")

TIMEOUT = 10.0
MAX_BACKOFF = 300.0


class PagerSender:
    def __init__(self, alerts: AlertStore, settings: Settings, audit: AuditLog) -> None:
        self.alerts, self.settings, self.audit = alerts, settings, audit

    def deliver(self, row: OutboxRow) -> None:
        provider, target, action = (row.payload[k] for k in ("provider", "target", "action"))
        inc = self.alerts.incident(row.ref)
        what = f"#{inc.id} {label(inc)}"
        actor = f"pager:{provider}"
        config = pager_settings(self.settings, provider, target)
        if config is None:
            log.error("%s call for %s dropped: that pager is no longer configured", provider, what)
            self.audit.record(actor, "alerts", action, what, "failed", error="not configured")
            self.alerts.fail(row.id, "pager no longer configured")
            return
        try:
            attempts = self.audit.begin(actor, "alerts", action, [what])
        except AuditUnavailable:  # no record, no call: try again later
            self.alerts.retry(row.id, self._backoff(row), "audit unavailable")
            return
        started = time.monotonic()
        status, said = post(request_for(config, inc, action))
        took = time.monotonic() - started
        if 200 <= status < 300:
            self.alerts.sent(row.id)
            self.audit.finish(attempts[0], "ok", took)
        elif status == 0 or status == 429 or status >= 500:
            delay = self._backoff(row)
            log.warning("%s answered %s; retrying in %.0fs", provider, said, delay)
            self.alerts.retry(row.id, delay, said)
            self.audit.finish(attempts[0], "failed", took, f"{said}; retrying in {delay:.0f}s")
        else:
            log.error("%s refused the %s of %s: %s", provider, action, what, said)
            self.alerts.fail(row.id, said)
            self.audit.finish(attempts[0], "failed", took, said)

    def _backoff(self, row: OutboxRow) -> float:
        return min(MAX_BACKOFF, 2.0 ** min(row.attempts, 8))


def post(request: PagerRequest) -> tuple[int, str]:
    """(HTTP status, a short account of the answer); status 0: no answer at all."""
    data = json.dumps(request.body).encode()
    headers = {"Content-Type": "application/json", **request.headers}
    req = urllib.request.Request(request.url, data, headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:  # noqa: S310 - config URL
            return int(response.status), f"{response.status} {_said(response.read())}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"{exc.code} {_said(exc.read())}"
    except (urllib.error.URLError, OSError) as exc:
        return 0, f"no answer ({getattr(exc, 'reason', exc)})"


def _said(raw: bytes) -> str:
    """The pager's own words: PagerDuty's `message`/`errors`, Opsgenie's `message`/`result`."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return raw[:200].decode(errors="replace").strip()
    if not isinstance(answer, dict):
        return str(answer)[:200]
    parts = [str(answer.get(k)) for k in ("message", "result", "errors") if answer.get(k)]
    return "; ".join(parts)[:300]
