"""Slack's surfaces, as in Slack's Bolt starter template: `commands/` (`/sup`), `actions/`
(buttons), `events/` (app_home_opened), `views/` (the Home tab). Each package's `register(app,
bot)` is called by bot/slack/app.py's `build_bot`; importing registers nothing.

Shared by them: `context.py` (SlackBot, Outlet), `flow.py` (one `/sup` text, after the ack),
`outlets.py` (where each surface's answer goes), `compose.py` (Slack payloads from replies),
`run_allowlisted.py` (`/sup run`, streamed).
"""
