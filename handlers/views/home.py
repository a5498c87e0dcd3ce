"""The App Home tab (a view): the dashboard of every binding that names the user explicitly (ID or
user group), published on `app_home_opened` (handlers/events) and again after a click in it."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, DividerBlock

from bot import errors
from bot.auth import Access
from bot.grammar import Command
from bot.render.blocks import MAX_HOME_BLOCKS, section
from bot.render.home import render_home
from bot.replies import Reply
from bot.samples import SampleReader
from bot.services import Services
from bot.slack.webapi import Payload
from handlers import compose


def dashboard(services: Services, access: Access) -> list[Block]:
    """One part per binding that names the user (its processes, its role)."""
    try:
        sections = [
            (grant.source, services.processes.status(Access(access.actor, (grant,))))
            for grant in access.grants
        ]
    except errors.SupbotError as exc:
        return [section(f":warning: {exc}", "home_error")]
    shown = {(p.node, p.full_name) for _, view in sections for p in view.processes}
    history = SampleReader(services.store).recent(shown) if shown else {}
    return list(render_home(sections, history))


def home_view(services: Services, access: Access, notice: list[dict[str, Any]]) -> Payload:
    blocks = [b.to_dict() for b in dashboard(services, access)]
    if notice:
        # block_ids must be unique in a view: the notice may be a status like the dashboard.
        notice = [{**b, "block_id": f"n_{b['block_id']}"} if "block_id" in b else b for b in notice]
        notice = notice[:20] + [DividerBlock().to_dict()]
    return {"type": "home", "blocks": (notice + blocks)[:MAX_HOME_BLOCKS]}


class HomeOutlet:
    """A click on the Home tab: no channel, no response_url — the tab is published again."""

    channel = ""

    def __init__(self, client: WebClient, services: Services, access: Access) -> None:
        self.client, self.services, self.access = client, services, access

    def publish(self, notice: list[dict[str, Any]]) -> None:
        view = home_view(self.services, self.access, notice)
        self.client.views_publish(user_id=self.access.actor.id, view=view)

    def progress(self, payload: Payload) -> None:
        self.publish(list(payload["blocks"]))

    def reply(self, reply: Reply, command: Command | None, note: str = "") -> None:
        blocks = compose.message(reply, command, note=note)["blocks"]
        if reply.public:  # an outcome's buttons would be a stale second set beside the dashboard's
            blocks = [b for b in blocks if b.get("type") != "actions"]
        self.publish(blocks)
