"""`tail --follow` in Slack: a regular channel message (ephemeral ones can be edited only 5 times
through response_url) that chat.update refreshes every 10 s for up to 5 minutes, with a Stop
button.

The process that started a follow refreshes it; the follow itself is in the shared state
(bot/storage/follows.py), so a Stop click taken by any worker or replica stops it within
STOP_POLL, and the limit on follows counts those of every process. When the refreshing process
dies the message simply stops changing, and its Stop button says so."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace

from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock, Block

from bot import errors
from bot.auth import Access
from bot.domain import LogTail, ProcessInfo
from bot.durations import format_duration
from bot.grammar import Command, quote
from bot.redact_follow import FollowRedactor
from bot.render.blocks import action_blocks, context, render_blocks
from bot.replies import Choice, TailReply
from bot.services import Services
from bot.slack.webapi import Payload, update
from bot.state import Store

log = logging.getLogger("supbot.slack")

STOP_POLL = 1.0  # seconds between looks for a Stop clicked in another process


@dataclass
class Follow:
    id: str
    channel: str
    ts: str
    process: ProcessInfo
    tail: LogTail
    lines: deque[str]
    offset: int
    by: str
    until: float
    redaction: FollowRedactor
    stop: threading.Event = field(default_factory=threading.Event)
    ended: str = ""


class FollowManager:
    def __init__(
        self,
        client: WebClient,
        interval: float = 10.0,
        duration: float = 300.0,
        max_follows: int = 20,
    ) -> None:
        self.client, self.interval, self.duration = client, interval, duration
        self.max_follows = max_follows
        self._follows: dict[str, Follow] = {}
        self._lock = threading.Lock()

    def start(self, services: Services, access: Access, command: Command, channel: str) -> str:
        """Post the message and start refreshing it; returns the follow id."""
        stream = "stderr" if command.flag("--stderr") else "stdout"
        tail = services.processes.tail(access, command.args[0], command.lines, stream)
        process = services.processes.find_one(access, f"{tail.process}@{tail.node}", "tail")
        follow_id = uuid.uuid4().hex[:10]
        self._register(services.store, follow_id)
        lines = deque(tail.lines, maxlen=max(1, tail.requested))
        follow = Follow(
            follow_id,
            channel,
            "",
            process,
            tail,
            lines,
            tail.offset,
            access.actor.mention,
            time.time() + self.duration,
            services.processes.follower(process, tail),
        )
        try:
            response = self.client.chat_postMessage(channel=channel, **self.payload(follow))
        except Exception as exc:  # SlackApiError: the bot is probably not in the channel
            log.warning("cannot post a followed log in %s: %s", channel, exc)
            self._forget(services.store, follow_id)
            raise errors.NotConfigured(
                "I cannot post in this channel; invite me (`/invite @supbot`) to follow logs."
            ) from exc
        follow.ts = str(response["ts"])
        with self._lock:
            self._follows[follow_id] = follow
        threading.Thread(
            target=self._run, args=(services, follow), name=f"follow-{follow_id}", daemon=True
        ).start()
        return follow_id

    def stop(self, services: Services, follow_id: str, access: Access) -> str:
        """Stop a follow started by any process (Stop button); returns a notice when there is
        nothing to stop."""
        from bot.storage import follows

        access.require_role("tail")
        by, store = access.actor.mention, services.store
        with store.transaction() as db:
            asked = follows.ask_stop(db, follow_id, by, store.now(db))
        if not asked:
            return "That log is no longer being followed."
        with self._lock:
            follow = self._follows.get(follow_id)
        if follow is not None:  # ours: at once (another process's sees it within STOP_POLL)
            follow.ended = f"stopped by {by}"
            follow.stop.set()
        return ""

    def close(self) -> None:
        """Shutting down: each follower marks its message stopped."""
        with self._lock:
            follows = list(self._follows.values())
        for follow in follows:
            follow.ended = "stopped: supbot is restarting"
            follow.stop.set()

    def _register(self, store: Store, follow_id: str) -> None:
        """Record the follow for every process, within the limit counted over all of them."""
        from bot.storage import follows

        with store.transaction() as db:
            now = store.now(db)
            if follows.active(db, now) >= self.max_follows:
                raise errors.UsageError(
                    f"{self.max_follows} logs are being followed already; stop one first."
                )
            follows.begin(db, follow_id, now + self.duration)

    def _forget(self, store: Store, follow_id: str) -> None:
        from bot.storage import follows

        try:
            with store.transaction() as db:
                follows.end(db, follow_id)
        except errors.StateUnavailable:  # the row expires by itself
            pass

    def _stopped_elsewhere(self, store: Store, follow: Follow) -> bool:
        from bot.storage import follows

        try:
            with store.connect() as db:
                by = follows.stopped_by(db, follow.id)
        except errors.StateUnavailable:  # no Stop could be recorded either: go on
            return False
        if by:
            follow.ended = f"stopped by {by}"
        return bool(by)

    def _run(self, services: Services, follow: Follow) -> None:
        try:
            self._refresh_until_stopped(services, follow)
        finally:
            with self._lock:
                self._follows.pop(follow.id, None)
            self._forget(services.store, follow.id)
            follow.lines.extend(follow.redaction.finish())  # a held partial line, redacted
            update(self.client, follow.channel, follow.ts, self.payload(follow))

    def _refresh_until_stopped(self, services: Services, follow: Follow) -> None:
        """Refresh every `interval`, looking for a Stop from elsewhere every STOP_POLL."""
        next_refresh = time.monotonic() + self.interval
        while True:
            left = follow.until - time.time()
            if left <= 0:
                follow.ended = f"stopped after {format_duration(self.duration)}"
                return
            pause = min(STOP_POLL, left, next_refresh - time.monotonic())
            if follow.stop.wait(max(0.0, pause)):
                return
            if self._stopped_elsewhere(services.store, follow):
                return
            if time.monotonic() >= next_refresh:
                next_refresh += self.interval
                if not self._refresh(services, follow):
                    return

    def _refresh(self, services: Services, follow: Follow) -> bool:
        """New lines into the message; False once the log cannot be read any more."""
        try:
            new, follow.offset = services.processes.follow(
                follow.process, follow.offset, follow.tail.stream, follow.redaction
            )
        except errors.SupbotError as exc:
            follow.ended = f"stopped: {exc}"
            return False
        if new:
            follow.lines.extend(new)
            update(self.client, follow.channel, follow.ts, self.payload(follow))
        return True

    def payload(self, follow: Follow) -> Payload:
        tail = replace(follow.tail, lines=tuple(follow.lines), offset=follow.offset)
        reply = TailReply(tail, follow=True)
        blocks: list[Block] = [b for b in render_blocks(reply) if not isinstance(b, ActionsBlock)][
            :46
        ]
        name = f"{tail.process}@{tail.node}"
        if follow.ended:
            blocks.append(context(f"Followed by {follow.by}; {follow.ended}."))
        else:
            every = format_duration(self.interval)
            blocks.append(
                context(
                    f"Following `{name}` for {follow.by}: updated every {every} "
                    f"until <!date^{int(follow.until)}^{{time}}|{time.strftime('%H:%M', time.gmtime(follow.until))} UTC>."
                )
            )
            stop = Choice("Stop", quote("cancel", "follow", follow.id), "danger")
            blocks += action_blocks([stop], block_prefix="follow")
        return {
            "text": f"Following the {tail.stream} log of {name}",
            "blocks": [b.to_dict() for b in blocks],
        }
