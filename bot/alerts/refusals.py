"""Slack refusals that no retry can fix (a bad token, a wrong channel), and what to do about
each, in one line: `supbot alerts deliver` stops on them; serve holds the rows and says so once."""

from __future__ import annotations

from dataclasses import dataclass

HOLD = 900.0  # a held row is tried again after this (sooner after a restart or reload)

_TOKEN = (
    "SLACK_BOT_TOKEN was refused ({error}): set it to the app's current Bot User OAuth Token "
    "(xoxb-…, OAuth & Permissions), then restart or reload supbot"
)
_SCOPE = (
    "the bot token may not post ({error}): add the chat:write scope under OAuth & "
    "Permissions and reinstall the app"
)
TOKEN_ERRORS = {
    "not_authed": _TOKEN,
    "invalid_auth": _TOKEN,
    "account_inactive": _TOKEN,
    "token_revoked": _TOKEN,
    "token_expired": _TOKEN,
    "not_allowed_token_type": _TOKEN,
    "missing_scope": _SCOPE,
    "no_permission": _SCOPE,
    "ekm_access_denied": _SCOPE,
}
CHANNEL_ERRORS = {
    "channel_not_found": (
        "channel {channel} does not exist for this bot ({error}): check the channel id in "
        "supbot.toml ([alerts] channel, a binding's alerts_channel, [audit] channel)"
    ),
    "not_in_channel": (
        "the bot is not a member of {channel} ({error}): /invite it there (or add the "
        "chat:write.public scope for a public channel)"
    ),
    "is_archived": (
        "channel {channel} is archived ({error}): unarchive it or name another channel in "
        "supbot.toml"
    ),
    "restricted_action": (
        "posting in {channel} is restricted by the workspace ({error}): allow the app to post "
        "there or name another channel in supbot.toml"
    ),
}


@dataclass(frozen=True)
class Problem:
    scope: str  # "token" (every channel) or the channel id
    error: str
    hint: str


def problem_for(error: str, channel: str) -> Problem | None:
    """The Problem behind a permanent Slack error; None when a retry may succeed."""
    if error in TOKEN_ERRORS:
        return Problem("token", error, TOKEN_ERRORS[error].format(error=error))
    base = error if error in CHANNEL_ERRORS else ""
    if not base and error.startswith("restricted_action"):
        base = "restricted_action"
    if base:
        return Problem(channel, error, CHANNEL_ERRORS[base].format(error=error, channel=channel))
    return None
