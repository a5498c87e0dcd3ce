"""Slack's fast path: every shortcut supbot takes to ack in time and to answer many askers fast.

An incident brings 20 people typing `/sup status` at once into one process with one interpreter
lock; these are the places where supbot does less than the obvious code would.

1. **The early 200** (HTTP mode, `serve --http`). supbot's slash-command, button and event
   listeners always `ack()` with an empty body, so for those kinds (`acked_at_once`) the ASGI
   endpoint (bot/slack/web.py) answers 200 itself as soon as the signature checks out, and
   hands the request to Bolt on a worker pool (`dispatch_after_ack`): an ack never waits behind
   other users' work. Bolt runs with `process_before_response` in HTTP mode, so the listener
   runs in that pool's thread (one thread hop per request, not two). Anything else (URL
   verification) still gets Bolt's own response.
2. **Two signature checks.** The endpoint checks Slack's signature on the raw bytes
   (bot/slack/signature.py) before the early 200 — a forged request must never be acked, and
   slack-sdk's verifier raises on a non-UTF-8 body or timestamp. Bolt's RequestVerification
   checks it again (`request_verification_enabled` in bot/slack/app.py): kept so the Bolt app is
   never unverified, whatever serves it; it costs one HMAC of the body, a few µs.
3. **Status payloads, cached** (`status_payload`). What is cached: the Slack payload (text +
   blocks) of a status answer. Key: the *identity* of the fleet read and of the nodes tuple
   (`ProcessService.status` hands the very same tuples to everyone with the same grants asking
   about the same read), plus pattern, cache age in whole seconds, `--fresh`, page, command
   text, share button and note. How long: the last 16 keys; in practice as long as the fleet
   read behind it is served (`[slack] status_cache_ttl`, 5 s by default) — a new read is a new
   tuple, so an old entry is never hit again and ages out. Why: rendering 500 processes costs
   ~15 ms of CPU, which 20 askers would otherwise queue for on the interpreter lock. Payloads
   are shared: no caller may mutate one.
4. **Hand-spliced JSON** (`respond_shared`). What is cached: the JSON encoding of a shared
   payload (3.), keyed by the payload's identity, last 16. The response_url body is
   `{"response_type": …, ` spliced onto that cached JSON and posted with plain urllib (which
   honours HTTPS_PROXY and NO_PROXY), skipping the SDK's per-call set-up: ~1 ms of CPU per
   asker. Falls back to Bolt's `respond()` when a proxy or SSL context is configured on it.

5. **Status views, memoized** (bot/processes.py, its docstring says what, how long and why):
   `ProcessService.status` computes the visible processes and totals once per fleet read and
   set of grants, and hands out the very same tuples — what makes 3. hit.
6. **Status extras, once a second** (bot/dispatch.py, `EXTRAS_EVERY`). What is cached: what a
   status answer shows beside the processes — snoozes in force, memory/CPU sampled on remote
   hosts, the state database's health, asked while the nodes are read. Key: the current
   second.
   How long: at most a second, and only until another command runs in the process (a snooze
   set here shows at once; one set through another process or replica within a second) or the
   state database's condition (full, unreachable, fine) changes. Why: three
   state queries, ~2 ms of CPU, were a third of the bot's work per asker when 20 ask at once.

7. **Asked on arrival** (bot/asked.py). The early 200 notes when the request arrived
   (`RECEIVED_AT` in Bolt's context) and `/sup` answers as asked then: a `--fresh` read that
   was in flight at that moment (or began later) answers it, even if its handler only got
   the interpreter lock after that read ended — else those late handlers would each ask
   supervisord again.

Not here: `Fleet` (bot/supervisor/fleet.py) keeps its per-node status cache (`status_cache_ttl`)
and shares one in-flight `getAllProcessInfo` among concurrent askers of a node — also across
the processes of a host, e.g. `serve --workers` (bot/supervisor/shared_reads.py), and with the
alerts watcher's poll (`Fleet.read_now`); supbot's transport reads that answer ~5× faster than
xmlrpc.client (bot/supervisor/xmlrpc_rows.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest, Respond
from slack_bolt.request.payload_utils import is_block_actions, is_event, is_slash_command

from bot.memo import Memo, Same
from bot.replies import StatusReply
from bot.slack.webapi import Payload

log = logging.getLogger("supbot.slack")

RECEIVED_AT = "supbot_received_at"  # Bolt context key: epoch seconds the request arrived
_status_payloads: Memo[Payload] = Memo(16)
_encoded: Memo[bytes] = Memo(16)


def acked_at_once(body: dict[str, Any]) -> bool:
    """Slash commands, button clicks and events: supbot's listeners ack them with an empty
    200 (Bolt acks events itself)."""
    return is_slash_command(body) or is_block_actions(body) or is_event(body)


def dispatch_after_ack(app: App, workers: Executor, request: BoltRequest) -> None:
    """Run Bolt on `workers` while the caller answers 200; a bug there is logged."""
    future = asyncio.get_running_loop().run_in_executor(workers, app.dispatch, request)
    future.add_done_callback(_log_failure)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("dispatching a Slack request failed", exc_info=future.exception())


def status_payload(
    reply: StatusReply,
    command_text: str,
    share: bool,
    note: str,
    build: Callable[[], Payload],
) -> Payload:
    """The payload of a status answer, built once for everyone asking about the same read."""
    view = reply.view
    key = (
        Same(view.processes),  # the same read and grants give the very same tuple
        Same(view.nodes),
        reply.snoozed,  # what the state adds (bot/dispatch.py): a few small values
        reply.usage,
        reply.state_problem,
        view.pattern,
        round(view.cache_age),
        reply.fresh,
        reply.page,
        command_text,
        share,
        note,
    )
    return _status_payloads.get(key, build)


def respond_shared(respond: Respond, response_type: str, payload: Payload) -> None:
    """`respond(response_type=…, **payload)` for a payload many askers share: its JSON is
    encoded once and posted with plain urllib."""
    if respond.proxy or respond.ssl or not respond.response_url or not payload:
        respond(response_type=response_type, **payload)
        return
    body = _encoded.get(Same(payload), lambda: json.dumps(payload).encode())
    data = b'{"response_type": ' + json.dumps(response_type).encode() + b", " + body[1:]
    headers = {"Content-Type": "application/json;charset=utf-8"}
    request = urllib.request.Request(respond.response_url, data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except OSError as exc:  # HTTPError, URLError, timeouts: as respond() would, log and go on
        log.warning("posting to response_url failed: %s", type(exc).__name__)
