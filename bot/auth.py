"""Channel-based authorization. Deny by default; roles are cumulative.

A channel bound by `[[channels]]` grants its members a role over the programs, jobs and commands
its globs name. Surfaces without a channel (App Home, DMs, the console without a channel) use
only bindings that name the user explicitly — `"*"` grants nothing there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from bot import errors
from bot.config import ApiToken, ChannelBinding, Settings
from bot.domain import ProcessInfo
from bot.names import matches_all_names, matches_any, split_node
from bot.usertext import quote

RANK = {"viewer": 1, "operator": 2, "admin": 3}
_ROLE_NAMES = {rank: role for role, rank in RANK.items()}

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
    "ack": "operator",  # ack, unack, resolve an incident
    "silence": "operator",  # silence, unsilence
    "deploy": "operator",  # record a deploy
    "reload": "admin",
}


@dataclass(frozen=True)
class Membership:
    """A user group's members as last read from Slack.

    `error` is empty when they were confirmed within the TTL; otherwise it says why Slack could
    not be asked, and `members` is the last known list (empty when never read).
    """

    members: frozenset[str]
    error: str = ""
    ever_read: bool = True


GroupMembers = Callable[[str], Membership]


def no_groups(_group: str) -> Membership:
    return Membership(frozenset())


@dataclass(frozen=True)
class Actor:
    """Who asks, from where: `id` is a Slack user ID, `cli:<login>` or `api:<token name>`."""

    id: str
    surface: str  # slash | button | home | console | cli | api
    channel: str = ""
    name: str = ""
    # (group ID, Slack's error) for user groups that would give this actor a role for actions
    # but whose membership could not be confirmed within its TTL: refusals say so.
    unconfirmed: tuple[tuple[str, str], ...] = ()

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

    def admin_reaches(self, node: str) -> bool:
        """An admin grant names programs on `node` (a glob without @node names every node)."""
        return any(
            fnmatchcase(node, split_node(p)[1] or "*")
            for g in self.grants
            if g.role == "admin"
            for p in g.programs
        )

    def not_admin_over(self, processes: Iterable[ProcessInfo]) -> list[ProcessInfo]:
        """The processes no admin grant covers: a reload of their node must be refused."""
        admin = [g for g in self.grants if g.role == "admin"]
        return [p for p in processes if not any(matches_any(p, g.programs) for g in admin)]

    def may_reload(self, node: str, programs: Iterable[ProcessInfo]) -> bool:
        """Reload changes a whole node: admin over every program it has or would have."""
        return self.admin_reaches(node) and not self.not_admin_over(programs)

    def require_role(self, action: str) -> None:
        if self.max_role() < RANK[ACTION_ROLE[action]]:
            raise errors.Forbidden(refusal(self.actor, action))


def refusal(actor: Actor, action: str, target: str = "") -> str:
    role = ACTION_ROLE.get(action, "operator")
    where = "here" if actor.channel else "from this surface"
    what = f"{action} {quote(target, 100)}" if target else action
    if actor.surface == "api":
        return f"Token `{actor.id.removeprefix('api:')}` may not {what}: it needs the {role} role over it in its [[api_tokens]] entry."
    if actor.unconfirmed and RANK[role] >= RANK["operator"]:
        groups = ", ".join(f"@{g}" for g, _ in actor.unconfirmed)
        why = "; ".join(dict.fromkeys(e for _, e in actor.unconfirmed))
        return (
            f"You may not {what} {where}: can't confirm your membership of {groups} right now "
            f"(Slack: {why}) — actions need it; try again shortly."
        )
    return f"You may not {what} {where}: it needs the {role} role in this channel's binding."


@dataclass(frozen=True)
class BindingRole:
    """A user's role in one binding, and the unconfirmed groups that would have given more."""

    role: str | None
    unconfirmed: tuple[tuple[str, str], ...] = ()


class Authorizer:
    def __init__(self, settings: Settings, group_members: GroupMembers = no_groups) -> None:
        self.settings = settings
        self.group_members = group_members

    def role_in(self, binding: ChannelBinding, user: str, explicit_only: bool) -> BindingRole:
        """Fail closed for actions: a user group whose membership Slack cannot confirm within
        its TTL counts for viewing only (its last known members), never for operator/admin."""
        confirmed = 0
        stale_member = False
        unconfirmed: list[tuple[str, str, int]] = []
        for role, members in (
            ("admin", binding.admins),
            ("operator", binding.operators),
            ("viewer", binding.viewers),
        ):
            for m in members:
                if m == user or (m == "*" and not explicit_only):
                    confirmed = max(confirmed, RANK[role])
                elif m.startswith("S"):
                    group = self.group_members(m)
                    member = user in group.members
                    if not group.error:
                        confirmed = max(confirmed, RANK[role] if member else 0)
                    elif member or not group.ever_read:
                        stale_member = stale_member or member
                        unconfirmed.append((m, group.error, RANK[role]))
        rank = max(confirmed, RANK["viewer"] if stale_member else 0)
        notes = tuple((g, e) for g, e, r in unconfirmed if r > rank and r >= RANK["operator"])
        return BindingRole(_ROLE_NAMES.get(rank), notes)

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
        found = self.role_in(binding, user, explicit_only=False)
        grants = (self._grant(binding, found.role),) if found.role else ()
        return Access(replace(actor, unconfirmed=found.unconfirmed), grants)

    def explicit(self, user: str, surface: str, channel: str = "") -> Access:
        """App Home / DM / console: every binding naming the user (ID or user group)."""
        grants, unconfirmed = [], []
        for binding in self.settings.channels:
            found = self.role_in(binding, user, explicit_only=True)
            if found.role:
                grants.append(self._grant(binding, found.role))
            unconfirmed += [u for u in found.unconfirmed if u not in unconfirmed]
        actor = Actor(user, surface, channel, unconfirmed=tuple(unconfirmed))
        return Access(actor, tuple(grants))

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
