"""Paging through the real path: a real supervisord, the dispatcher, then the renderer."""

from __future__ import annotations

from bot.render.blocks import RenderContext, render_blocks
from bot.replies import StatusReply
from bot.services import Services
from tests.render.limits import buttons, check_message


def test_show_more_button_runs_as_a_command_and_renders_the_next_page(services: Services) -> None:
    access = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    ctx = RenderContext(page_size=2)  # the fixture has 5 processes: 3 pages of 2
    seen: list[str] = []
    text = "status --fresh"
    for _ in range(3):
        reply = services.dispatcher.run_text(access, text)
        assert isinstance(reply, StatusReply)
        dicts = check_message(render_blocks(reply, ctx))
        values = [b["value"] for b in buttons(dicts)]
        seen += [v.split()[1] for v in values if v.startswith("tail ")]
        more = [b["value"] for b in buttons(dicts) if b["text"]["text"].startswith("Show more")]
        if not more:
            break
        text = more[0]
    assert text == "status --page 3"
    assert sorted(seen) == sorted(
        f"{name}@local"
        for name in ("web", "worker:worker_00", "worker:worker_01", "broken", "idle")
    )


def test_a_bad_page_number_is_one_clear_sentence(services: Services) -> None:
    access = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    reply = services.dispatcher.run_text(access, "status --page zero")
    assert getattr(reply, "text", "") == "`zero` is not a page number; use e.g. `--page 2`."
