"""Channel-based authorization. Deny by default; roles are cumulative.

A channel bound by `[[channels]]` grants its members a role over the programs, jobs and commands
its globs name. Surfaces without a channel (App Home, DMs, the console without a channel) use
only bindings that name the user explicitly — `"*"` grants nothing there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bot import errors
from bot.config import ApiToken, ChannelBinding, Settings
from bot.domain import ProcessInfo
from bot.names import matches_all_names, matches_any
from bot.usertext import quote

RANK = {"viewer": 1, "operator": 2, "admin": 3}

# The least role each action needs.
ACTION_ROLE = {
    "status": "viewer",
    "info": "viewer",
    "tail": "viewer",
    "jobs": "viewer",
    "commands": "viewer",
    "history": "viewer",
    "start": "operator",
    "stop": "operator",
    "restart": "operator",
    "signal": "operator",
    "clear": "operator",
    "run": "operator",
    "job_run": "operator",
    "schedule_run": "operator",
    "snooze": "operator",
    "reload": "admin",
}

GroupMembers = Callable[[str], frozenset[str]]


def no_groups(_group: str) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True)
class Actor:
    """Who asks, from where: `id` is a Slack user ID, `cli:<login>` or `api:<token name>`."""

    id: str
    surface: str  # slash | button | home | console | cli | api
    channel: str = ""
    name: str = ""

    @property
    def mention(self) -> str:
        return f"<@{self.id}>" if self.id.startswith(("U", "W")) else self.id


@dataclass(frozen=True)
class Grant:
    role: str
    programs: tuple[str, ...]
    jobs: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    critical: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Access:
    """What one actor may do on one surface: the union of its grants."""

    actor: Actor
    grants: tuple[Grant, ...]

    def role_for(self, process: ProcessInfo) -> int:
        return max(
            (RANK[g.role] for g in self.grants if matches_any(process, g.programs)), default=0
        )

    def can_see(self, process: ProcessInfo) -> bool:
        return self.role_for(process) >= RANK["viewer"]

    def visible(self, processes: Iterable[ProcessInfo]) -> list[ProcessInfo]:
        seeing = [g for g in self.grants if RANK[g.role] >= RANK["viewer"]]
        if any(matches_all_names(pattern) for g in seeing for pattern in g.programs):
            return list(processes)  # `programs = ["*"]`: no need to match 500 names
        return [p for p in processes if self.can_see(p)]

    def allows(self, action: str, process: ProcessInfo) -> bool:
        return self.role_for(process) >= RANK[ACTION_ROLE[action]]

    def is_critical(self, process: ProcessInfo) -> bool:
        return any(matches_any(process, g.critical) for g in self.grants)

    def max_role(self) -> int:
        return max((RANK[g.role] for g in self.grants), default=0)

    def allows_named(self, action: str, kind: str, name: str) -> bool:
        """Jobs and commands: `kind` is 'jobs' or 'commands'."""
        need = RANK[ACTION_ROLE[action]]
        return any(
            RANK[g.role] >= need and any(fnmatchcase(name, glob) for glob in getattr(g, kind))
            for g in self.grants
        )

    def require_role(self, action: str) -> None:
        if self.max_role() < RANK[ACTION_ROLE[action]]:
            raise errors.Forbidden(refusal(self.actor, action))


def refusal(actor: Actor, action: str, target: str = "") -> str:
    role = ACTION_ROLE.get(action, "operator")
    where = "here" if actor.channel else "from this surface"
    what = f"{action} {quote(target, 100)}" if target else action
    if actor.surface == "api":
        return f"Token `{actor.id.removeprefix('api:')}` may not {what}: it needs the {role} role over it in its [[api_tokens]] entry."
    return f"You may not {what} {where}: it needs the {role} role in this channel's binding."


class Authorizer:
    def __init__(self, settings: Settings, group_members: GroupMembers = no_groups) -> None:
        self.settings = settings
        self.group_members = group_members

    def role_in(self, binding: ChannelBinding, user: str, explicit_only: bool) -> str | None:
        for role, members in (
            ("admin", binding.admins),
            ("operator", binding.operators),
            ("viewer", binding.viewers),
        ):
            if self._member(user, members, explicit_only):
                return role
        return None

    def _member(self, user: str, members: tuple[str, ...], explicit_only: bool) -> bool:
        for m in members:
            if m == user or (m == "*" and not explicit_only):
                return True
            if m.startswith("S") and user in self.group_members(m):
                return True
        return False

    def _grant(self, binding: ChannelBinding, role: str) -> Grant:
        return Grant(
            role, binding.programs, binding.jobs, binding.commands, binding.critical, binding.id
        )

    def for_channel(self, user: str, channel: str, surface: str) -> Access:
        """Access in a bound channel; NotConfigured when the channel has no binding."""
        actor = Actor(user, surface, channel)
        binding = self.settings.binding(channel)
        if binding is None:
            if channel.startswith("D"):
                if not self.settings.allow_dm:
                    raise errors.NotConfigured(
                        "supbot does not answer in direct messages; use a bound channel "
                        "(or set [slack] allow_dm = true)."
                    )
                return self.explicit(user, surface, channel)
            raise errors.NotConfigured(
                "This channel is not set up for supbot. Add a [[channels]] binding with "
                f'id = "{channel}" to {self.settings.source.name} and reload.'
            )
        role = self.role_in(binding, user, explicit_only=False)
        grants = (self._grant(binding, role),) if role else ()
        return Access(actor, grants)

    def explicit(self, user: str, surface: str, channel: str = "") -> Access:
        """App Home / DM / console: every binding naming the user (ID or user group)."""
        grants = []
        for binding in self.settings.channels:
            role = self.role_in(binding, user, explicit_only=True)
            if role:
                grants.append(self._grant(binding, role))
        return Access(Actor(user, surface, channel), tuple(grants))

    def for_console(self) -> Access:
        user = self.settings.console_user or ""
        if not user:
            raise errors.NotConfigured(
                "Set [console] user (a Slack user ID) so the console knows whose rights to use."
            )
        if self.settings.console_channel:
            return self.for_channel(user, self.settings.console_channel, "console")
        return self.explicit(user, "console")

    @staticmethod
    def local_admin(login: str) -> Access:
        """The CLI: whoever can run it can already run supervisorctl."""
        grant = Grant("admin", ("*", "*@*"), ("*",), ("*",), (), "cli")
        return Access(Actor(f"cli:{login}", "cli"), (grant,))

    @staticmethod
    def for_token(token: ApiToken) -> Access:
        grant = Grant(token.role, token.programs, token.jobs, token.commands, (), token.name)
        return Access(Actor(f"api:{token.name}", "api"), (grant,))
