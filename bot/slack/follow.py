"""`tail --follow` in Slack: a regular channel message (ephemeral ones can be edited only 5 times
through response_url) that chat.update refreshes every 10 s for up to 5 minutes, with a Stop
button. Followers live in this process: after a restart the message simply stops changing."""

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

log = logging.getLogger("supbot.slack")


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
        with self._lock:
            if len(self._follows) >= self.max_follows:
                raise errors.UsageError(
                    f"{self.max_follows} logs are being followed already; stop one first."
                )
        stream = "stderr" if command.flag("--stderr") else "stdout"
        tail = services.processes.tail(access, command.args[0], command.lines, stream)
        process = services.processes.find_one(access, f"{tail.process}@{tail.node}", "tail")
        follow_id = uuid.uuid4().hex[:10]
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

    def stop(self, follow_id: str, access: Access) -> str:
        """Stop a follow (Stop button); returns a notice when there is nothing to stop."""
        access.require_role("tail")
        with self._lock:
            follow = self._follows.get(follow_id)
        if follow is None:
            return "That log is no longer being followed."
        follow.ended = f"stopped by {access.actor.mention}"
        follow.stop.set()
        return ""

    def close(self) -> None:
        """Shutting down: each follower marks its message stopped."""
        with self._lock:
            follows = list(self._follows.values())
        for follow in follows:
            follow.ended = "stopped: supbot is restarting"
            follow.stop.set()

    def _run(self, services: Services, follow: Follow) -> None:
        try:
            while not follow.stop.wait(max(0.0, min(self.interval, follow.until - time.time()))):
                if time.time() >= follow.until:
                    follow.ended = f"stopped after {format_duration(self.duration)}"
                    break
                try:
                    new, follow.offset = services.processes.follow(
                        follow.process, follow.offset, follow.tail.stream, follow.redaction
                    )
                except errors.SupbotError as exc:
                    follow.ended = f"stopped: {exc}"
                    break
                if new:
                    follow.lines.extend(new)
                    update(self.client, follow.channel, follow.ts, self.payload(follow))
        finally:
            with self._lock:
                self._follows.pop(follow.id, None)
            follow.lines.extend(follow.redaction.finish())  # a held partial line, redacted
            update(self.client, follow.channel, follow.ts, self.payload(follow))

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
