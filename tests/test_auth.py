"""Authorization, table-driven: channel bindings × users × actions, outcomes written out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot import errors
from bot.auth import Access, Authorizer, Membership, refusal
from bot.config import ApiToken, Settings
from bot.config_load import parse_settings
from bot.domain import ProcessInfo

CONFIG = """
[[nodes]]
name = "local"
url = "unix:///tmp/none.sock"

[[nodes]]
name = "node2"
url = "unix:///tmp/none2.sock"

[[channels]]
id = "C0OPS"
programs = ["*", "*@*"]
jobs = ["*"]
commands = ["cache-*"]
critical = ["web"]
viewers = ["*"]
operators = ["U0OPER", "S0ONCALL"]
admins = ["U0ADMIN"]

[[channels]]
id = "C0WEB"
programs = ["web"]
jobs = ["web-*"]
viewers = ["*"]
operators = ["U0WEBOP"]

[[channels]]
id = "C0N2"
programs = ["*@node2"]
viewers = ["U0N2"]
admins = ["U0N2ADM"]

[[channels]]
id = "C0QUIET"
programs = ["worker:*"]
operators = ["U0OPER"]
"""

GROUPS = {"S0ONCALL": frozenset({"U0PAGER"})}


def settings(extra: str = "") -> Settings:
    text = CONFIG + extra
    return parse_settings(tomllib.loads(text), Path("/tmp/supbot.toml"), {})


def proc(full: str, node: str = "local") -> ProcessInfo:
    group, name = full.split(":")
    return ProcessInfo(node, group, name, "RUNNING", 1, 0, 0, 0, 0, None, "", "")


WEB, WORKER, WEB2, CRON2 = (
    proc("web:web"),
    proc("worker:worker_00"),
    proc("web:web", "node2"),
    proc("cron:cron", "node2"),
)

AUTH = Authorizer(settings(), lambda group: Membership(GROUPS.get(group, frozenset())))

# channel, user, action, process, allowed
TABLE = [
    # C0OPS: everyone views, U0OPER / S0ONCALL operate, U0ADMIN administers, everywhere.
    ("C0OPS", "U0ANYONE", "status", WEB, True),
    ("C0OPS", "U0ANYONE", "tail", WORKER, True),
    ("C0OPS", "U0ANYONE", "info", WEB2, True),
    ("C0OPS", "U0ANYONE", "restart", WEB, False),
    ("C0OPS", "U0ANYONE", "clear", WORKER, False),
    ("C0OPS", "U0ANYONE", "reload", WEB, False),
    ("C0OPS", "U0OPER", "restart", WEB, True),
    ("C0OPS", "U0OPER", "stop", WORKER, True),
    ("C0OPS", "U0OPER", "signal", WEB2, True),
    ("C0OPS", "U0OPER", "clear", WORKER, True),
    ("C0OPS", "U0OPER", "reload", WEB, False),
    ("C0OPS", "U0PAGER", "start", WORKER, True),  # via the S0ONCALL user group
    ("C0OPS", "U0PAGER", "reload", WORKER, False),
    ("C0OPS", "U0ADMIN", "reload", WEB, True),
    ("C0OPS", "U0ADMIN", "restart", CRON2, True),
    ("C0OPS", "U0ADMIN", "status", CRON2, True),
    # C0WEB: only `web` (on any node), U0WEBOP operates it.
    ("C0WEB", "U0ANYONE", "status", WEB, True),
    ("C0WEB", "U0ANYONE", "status", WEB2, True),
    ("C0WEB", "U0ANYONE", "status", WORKER, False),
    ("C0WEB", "U0ANYONE", "restart", WEB, False),
    ("C0WEB", "U0WEBOP", "restart", WEB, True),
    ("C0WEB", "U0WEBOP", "restart", WORKER, False),
    ("C0WEB", "U0WEBOP", "tail", WORKER, False),
    ("C0WEB", "U0WEBOP", "reload", WEB, False),
    ("C0WEB", "U0OPER", "restart", WEB, False),  # operator elsewhere, viewer here
    ("C0WEB", "U0ADMIN", "reload", WEB, False),
    # C0N2: node2 only; viewers are named, not "*".
    ("C0N2", "U0N2", "status", CRON2, True),
    ("C0N2", "U0N2", "status", WEB, False),
    ("C0N2", "U0N2", "restart", CRON2, False),
    ("C0N2", "U0N2ADM", "restart", WEB2, True),
    ("C0N2", "U0N2ADM", "reload", CRON2, True),
    ("C0N2", "U0N2ADM", "status", WORKER, False),
    ("C0N2", "U0ANYONE", "status", CRON2, False),
    # C0QUIET: operators but no viewers: roles are cumulative, operators can view.
    ("C0QUIET", "U0OPER", "status", WORKER, True),
    ("C0QUIET", "U0OPER", "restart", WORKER, True),
    ("C0QUIET", "U0OPER", "status", WEB, False),
    ("C0QUIET", "U0ANYONE", "status", WORKER, False),
]


@pytest.mark.parametrize(("channel", "user", "action", "process", "allowed"), TABLE)
def test_channel_binding_decides(
    channel: str, user: str, action: str, process: ProcessInfo, allowed: bool
) -> None:
    access = AUTH.for_channel(user, channel, "slash")
    assert access.allows(action, process) is allowed


def test_visible_lists_only_what_the_channel_binds() -> None:
    access = AUTH.for_channel("U0ANYONE", "C0WEB", "slash")
    assert access.visible([WEB, WORKER, WEB2, CRON2]) == [WEB, WEB2]


def test_unbound_channel_is_not_configured_with_the_fix() -> None:
    with pytest.raises(errors.NotConfigured, match='id = "C0OTHER"'):
        AUTH.for_channel("U0ADMIN", "C0OTHER", "slash")


def test_direct_messages_are_refused_unless_allowed() -> None:
    with pytest.raises(errors.NotConfigured, match="allow_dm"):
        AUTH.for_channel("U0ADMIN", "D0DM", "slash")
    allowing = Authorizer(settings("[slack]\nallow_dm = true\n"))
    access = allowing.for_channel("U0ADMIN", "D0DM", "slash")
    assert access.allows("reload", WEB)
    assert not allowing.for_channel("U0ANYONE", "D0DM", "slash").allows("status", WEB)


# surface without a channel: only bindings naming the user explicitly; "*" grants nothing
EXPLICIT = [
    ("U0ANYONE", "status", WEB, False),
    ("U0OPER", "restart", WEB, True),  # operator in C0OPS
    ("U0OPER", "restart", WEB2, True),
    ("U0PAGER", "restart", WORKER, True),  # via a user group
    ("U0WEBOP", "restart", WEB, True),
    ("U0WEBOP", "status", WORKER, False),
    ("U0N2", "status", CRON2, True),
    ("U0N2", "status", WEB, False),
    ("U0ADMIN", "reload", CRON2, True),
]


@pytest.mark.parametrize(("user", "action", "process", "allowed"), EXPLICIT)
def test_app_home_uses_only_explicit_grants(
    user: str, action: str, process: ProcessInfo, allowed: bool
) -> None:
    assert AUTH.explicit(user, "home").allows(action, process) is allowed


def test_role_is_the_highest_of_the_grants() -> None:
    access = AUTH.explicit("U0OPER", "home")
    assert {g.source for g in access.grants} == {"C0OPS", "C0QUIET"}
    assert access.max_role() == 2


@pytest.mark.parametrize(
    ("channel", "user", "kind", "name", "action", "allowed"),
    [
        ("C0OPS", "U0ANYONE", "jobs", "backup", "jobs", True),
        ("C0OPS", "U0ANYONE", "jobs", "backup", "job_run", False),
        ("C0OPS", "U0OPER", "jobs", "backup", "job_run", True),
        ("C0OPS", "U0OPER", "commands", "cache-clear", "run", True),
        ("C0OPS", "U0OPER", "commands", "deploy", "run", False),
        ("C0WEB", "U0WEBOP", "jobs", "web-warmup", "job_run", True),
        ("C0WEB", "U0WEBOP", "jobs", "backup", "job_run", False),
        ("C0WEB", "U0WEBOP", "commands", "cache-clear", "run", False),  # no commands bound
        ("C0N2", "U0N2ADM", "jobs", "backup", "jobs", False),  # jobs default to none
    ],
)
def test_jobs_and_commands_by_name(
    channel: str, user: str, kind: str, name: str, action: str, allowed: bool
) -> None:
    access = AUTH.for_channel(user, channel, "slash")
    assert access.allows_named(action, kind, name) is allowed


def test_require_role_refuses_with_the_role_needed() -> None:
    access = AUTH.for_channel("U0ANYONE", "C0OPS", "slash")
    access.require_role("status")
    with pytest.raises(errors.Forbidden) as exc:
        access.require_role("reload")
    assert str(exc.value) == (
        "You may not reload here: it needs the admin role in this channel's binding."
    )


def test_critical_processes_are_those_the_binding_marks() -> None:
    access = AUTH.for_channel("U0OPER", "C0OPS", "slash")
    assert access.is_critical(WEB) and access.is_critical(WEB2)
    assert not access.is_critical(WORKER)
    assert not AUTH.for_channel("U0WEBOP", "C0WEB", "slash").is_critical(WEB)


def test_console_acts_as_the_configured_user_in_its_channel() -> None:
    console = Authorizer(settings('[console]\nuser = "U0WEBOP"\nchannel = "C0WEB"\n'))
    access = console.for_console()
    assert access.actor.surface == "console" and access.actor.channel == "C0WEB"
    assert access.allows("restart", WEB) and not access.allows("status", WORKER)
    with pytest.raises(errors.NotConfigured, match=r"\[console\] user"):
        AUTH.for_console()
    no_channel = Authorizer(settings('[console]\nuser = "U0ANYONE"\n'))
    assert not no_channel.for_console().allows("status", WEB)


def test_cli_is_a_local_admin_everywhere() -> None:
    access: Access = Authorizer.local_admin("alice")
    assert access.actor.id == "cli:alice"
    assert all(access.allows("reload", p) for p in (WEB, WORKER, WEB2, CRON2))


def test_api_token_gets_exactly_its_role_and_globs() -> None:
    token = ApiToken("deploy", "t", "operator", ("worker:*",), ("nightly",), ())
    access = Authorizer.for_token(token)
    assert access.actor.id == "api:deploy"
    assert access.allows("restart", WORKER) and not access.allows("status", WEB)
    assert not access.allows("reload", WORKER)
    assert access.allows_named("job_run", "jobs", "nightly")
    assert not access.allows_named("run", "commands", "cache-clear")


# Slack could not confirm S0ONCALL's membership within its TTL: the last known list is kept.
STALE = Authorizer(
    settings(), lambda group: Membership(GROUPS.get(group, frozenset()), "internal_error")
)
UNREAD = Authorizer(settings(), lambda group: Membership(frozenset(), "ratelimited", False))


def test_unconfirmed_group_membership_allows_viewing_but_not_actions() -> None:
    access = STALE.explicit("U0PAGER", "home")
    assert access.allows("status", WORKER)
    assert not access.allows("start", WORKER)
    with pytest.raises(errors.Forbidden) as exc:
        access.require_role("start")
    assert str(exc.value) == (
        "You may not start from this surface: can't confirm your membership of @S0ONCALL right "
        "now (Slack: internal_error) — actions need it; try again shortly."
    )


def test_a_group_never_read_grants_nothing_and_says_why() -> None:
    access = UNREAD.for_channel("U0PAGER", "C0OPS", "slash")
    assert access.allows("status", WORKER)  # viewers = ["*"]
    assert not access.allows("start", WORKER)
    assert "@S0ONCALL right now (Slack: ratelimited)" in refusal(access.actor, "start", "worker")


def test_roles_named_directly_still_act_while_groups_are_unconfirmed() -> None:
    access = STALE.for_channel("U0OPER", "C0OPS", "slash")
    assert access.allows("restart", WEB) and access.actor.unconfirmed == ()
    assert STALE.for_channel("U0ANYONE", "C0OPS", "slash").actor.unconfirmed == ()


# Reload changes a whole node: the admin grants must cover every program on it, including
# those the reload would add. Nodes: local runs web + worker, node2 runs web + cron; the
# reload would add `api` to local.
NODE_PROGRAMS = {"local": [WEB, WORKER, proc("api:api")], "node2": [WEB2, CRON2]}

# channel or "home", user, node, may reload
RELOAD_TABLE = [
    ("C0OPS", "U0ADMIN", "local", True),  # programs = ["*", "*@*"]
    ("C0OPS", "U0ADMIN", "node2", True),
    ("C0OPS", "U0OPER", "local", False),  # operator, not admin
    ("C0OPS", "U0ANYONE", "node2", False),
    ("C0N2", "U0N2ADM", "node2", True),  # programs = ["*@node2"]
    ("C0N2", "U0N2ADM", "local", False),  # does not reach local at all
    ("C0WEB", "U0WEBOP", "local", False),
    ("C0WEBADM", "U0WEBADM", "local", False),  # admin over `web` only: not the whole node
    ("C0WEBADM", "U0WEBADM", "node2", False),
    ("C0LOCALAPPS", "U0APPADM", "local", False),  # web + worker, but not the added `api`
    ("home", "U0ADMIN", "node2", True),
    ("home", "U0N2ADM", "node2", True),
    ("home", "U0WEBADM", "local", False),
]

RELOAD_CONFIG = """
[[channels]]
id = "C0WEBADM"
programs = ["web"]
admins = ["U0WEBADM"]

[[channels]]
id = "C0LOCALAPPS"
programs = ["web@local", "worker:*@local"]
admins = ["U0APPADM"]
"""
RELOAD_AUTH = Authorizer(settings(RELOAD_CONFIG))


@pytest.mark.parametrize(("channel", "user", "node", "allowed"), RELOAD_TABLE)
def test_reload_needs_admin_over_every_program_of_the_node(
    channel: str, user: str, node: str, allowed: bool
) -> None:
    if channel == "home":
        access = RELOAD_AUTH.explicit(user, "home")
    else:
        access = RELOAD_AUTH.for_channel(user, channel, "slash")
    assert access.may_reload(node, NODE_PROGRAMS[node]) is allowed
