"""Settings from the environment / .env (secrets) and one TOML file (everything else).

Unknown keys are errors: a typo in `operators` must not silently leave a channel unauthorized.
Every problem is reported at once, with its key path; the values are bot/config.py's.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from croniter import croniter

from bot.alerts.oncall_config import KEYS as ONCALL_KEYS
from bot.alerts.oncall_config import read_oncall
from bot.alerts.routing_config import ROUTING_KEYS, read_alert_on, read_windows
from bot.checks.config import read_checks
from bot.config import (
    DEFAULT_SLACK_API_URL,
    ROLES,
    AlertSettings,
    ApiToken,
    ChannelBinding,
    CommandSettings,
    CommandSource,
    EscalationLevel,
    JobSettings,
    NodeSettings,
    Secrets,
    Settings,
)
from bot.config_reader import (
    ConfigError,
    Reader,
    argv,
    check_distinct_secrets,
    check_timezone,
    check_unique,
    env_string,
    string_map,
)
from bot.scheduler.sources_config import read_job_sources
from bot.sizes import read_size
from bot.storage.config_read import read_storage


def _read_nodes(top: Reader, env: Mapping[str, str]) -> tuple[NodeSettings, ...]:
    nodes: list[NodeSettings] = []
    known = {"name", "url", "username", "password_env", "timeout"}
    for path, table in top.table_list("nodes"):
        r = Reader(table, path, top.problems, known)
        name = r.text("name", "", required=True)
        url = r.text("url", "", required=True)
        scheme = urlparse(url).scheme if url else ""
        if url and scheme not in ("unix", "http", "https"):
            r.problem("url", f"unsupported scheme {scheme!r} (use unix://, http:// or https://)")
        timeout = r.duration("timeout", 5.0)
        if timeout is not None and timeout <= 0:
            r.problem("timeout", "must be more than 0")
        password = env_string(env, r, "password_env", required=False)
        if name and any(n.name == name for n in nodes):
            r.problem("name", f"duplicate node name {name!r}")
        nodes.append(NodeSettings(name, url, r.text("username"), password, timeout or 5.0))
    if not nodes:
        top.problems.append("nodes: at least one [[nodes]] table is required")
    return tuple(nodes)


def _read_channels(top: Reader, env: Mapping[str, str]) -> tuple[ChannelBinding, ...]:
    known = {"id", "programs", "jobs", "commands", "viewers", "operators", "admins"}
    known |= {"critical", "alerts_channel"} | ONCALL_KEYS | ROUTING_KEYS
    out = []
    for path, table in top.table_list("channels"):
        r = Reader(table, path, top.problems, known)
        cid = r.text("id", "", required=True)
        if cid and not re.fullmatch(r"[CGD][A-Z0-9]+", cid):
            r.problem("id", f"{cid!r} is not a Slack channel ID (like C0123ABCD)")
        members = {k: r.strings(k) for k in ("viewers", "operators", "admins")}
        for key, values in members.items():
            for v in values:
                if v != "*" and not re.fullmatch(r"[UWS][A-Z0-9]+", v):
                    r.problem(key, f"{v!r} is not a user ID (U…), user-group ID (S…) or '*'")
        oncall = read_oncall(r, env)
        if set(table) & ONCALL_KEYS and "alerts_channel" not in table:
            key = min(set(table) & ONCALL_KEYS)
            r.problem(key, "applies to the incidents of the binding's alerts_channel: set one")
        out.append(
            ChannelBinding(
                id=cid,
                programs=r.strings("programs"),
                jobs=r.strings("jobs"),
                commands=r.strings("commands"),
                critical=r.strings("critical"),
                alerts_channel=r.text("alerts_channel"),
                oncall=oncall,
                alerts_include=r.strings("alerts_include"),
                alerts_exclude=r.strings("alerts_exclude"),
                alert_on=read_alert_on(r),
                mention=r.text("mention"),
                **members,
            )
        )
    return tuple(out)


def _read_jobs(top: Reader, tz: str) -> tuple[JobSettings, ...]:
    known = {"name", "schedule", "command", "description", "timezone", "cwd", "env", "timeout"}
    known |= {"overlap", "notify", "grace", "nodes", "on"}
    out = []
    for path, table in top.table_list("jobs"):
        r = Reader(table, path, top.problems, known)
        schedule = r.text("schedule", "* * * * *", required=True)
        if not croniter.is_valid(schedule) or len(schedule.split()) not in (5, 6):
            r.problem("schedule", f"invalid cron expression {schedule!r}")
        job_tz = r.text("timezone", tz)
        check_timezone(r, "timezone", job_tz)
        out.append(
            JobSettings(
                name=r.text("name", "", required=True),
                schedule=schedule,
                command=argv(r, "command"),
                description=r.text("description", ""),
                timezone=job_tz,
                cwd=r.text("cwd"),
                env=string_map(r, "env"),
                timeout=r.duration("timeout", None),
                overlap=r.choice("overlap", ("skip", "allow"), "skip"),
                notify=r.choice("notify", ("failure", "always", "never"), "failure"),
                grace=r.duration("grace", 60.0),
                nodes=r.strings("nodes"),
                on=r.choice("on", ("one", "each"), "one"),
            )
        )
    return tuple(out)


def _read_commands(top: Reader) -> tuple[CommandSettings, ...]:
    known = {"name", "command", "description", "args", "timeout", "cwd", "env", "nodes"}
    out = []
    for path, table in top.table_list("commands"):
        r = Reader(table, path, top.problems, known)
        args = r.text("args")
        if args is not None:
            try:
                re.compile(args)
            except re.error as exc:
                r.problem("args", f"invalid regular expression: {exc}")
        out.append(
            CommandSettings(
                name=r.text("name", "", required=True),
                command=argv(r, "command"),
                description=r.text("description", ""),
                args=args,
                timeout=r.duration("timeout", 300.0),
                cwd=r.text("cwd"),
                env=string_map(r, "env"),
                nodes=r.strings("nodes"),
            )
        )
    return tuple(out)


def _read_sources(top: Reader) -> tuple[CommandSource, ...]:
    known = {"name", "command", "allow", "timeout", "cwd"}
    out = []
    for path, table in top.table_list("command_sources"):
        r = Reader(table, path, top.problems, known)
        out.append(
            CommandSource(
                name=r.text("name", "", required=True),
                command=argv(r, "command"),
                allow=r.strings("allow"),
                timeout=r.duration("timeout", 30.0),
                cwd=r.text("cwd"),
            )
        )
    return tuple(out)


def _read_tokens(top: Reader, env: Mapping[str, str]) -> tuple[ApiToken, ...]:
    known = {"name", "token_env", "role", "programs", "jobs", "commands"}
    out = []
    for path, table in top.table_list("api_tokens"):
        r = Reader(table, path, top.problems, known)
        token = env_string(env, r, "token_env", required=True) or ""
        out.append(
            ApiToken(
                name=r.text("name", "", required=True),
                token=token,
                role=r.choice("role", ROLES, "viewer"),
                programs=r.strings("programs"),
                jobs=r.strings("jobs"),
                commands=r.strings("commands"),
            )
        )
    return tuple(out)


_SECTIONS: dict[str, set[str]] = {
    "storage": {"dir", "retention", "url", "password_env", "auto_upgrade"},
    "alerts": {
        "channel",
        "mention",
        "digest",
        "node_down_after",
        "send_from_listener",
        "escalate_after",
        "escalate_to",
        *ONCALL_KEYS,
        "alert_on",
    },
    "api": {"listen"},
    "console": {"user", "channel"},
    "slack": {"allow_dm", "usergroup_ttl", "status_cache_ttl"},
    "audit": {"channel"},
    "redaction": {"patterns"},
    "scheduler": {"max_output"},
    "logs": {"search_bytes"},
}
_TOP = {"timezone", "nodes", "channels", "jobs", "commands", "command_sources", "api_tokens"}
_TOP |= {"job_sources", "checks", "silences"}


def _section(top: Reader, name: str) -> Reader:
    return Reader(top.sub(name), name, top.problems, _SECTIONS[name])


def parse_settings(data: Mapping[str, Any], source: Path, env: Mapping[str, str]) -> Settings:
    """Build Settings from parsed TOML; raise ConfigError listing every problem."""
    problems: list[str] = []
    top = Reader(data, "", problems, _TOP | set(_SECTIONS))
    tz = top.text("timezone", "UTC")
    check_timezone(top, "timezone", tz)
    storage = _section(top, "storage")
    alerts = _section(top, "alerts")
    digest = alerts.text("digest")
    if digest and not croniter.is_valid(digest):
        alerts.problem("digest", f"invalid cron expression {digest!r}")
    if ("escalate_after" in alerts.table) != ("escalate_to" in alerts.table):
        alerts.problem("escalate_after", "set escalate_after and escalate_to together")
    slack, console, api = _section(top, "slack"), _section(top, "console"), _section(top, "api")
    redaction = _section(top, "redaction")
    patterns = redaction.strings("patterns")
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            redaction.problem("patterns", f"invalid regular expression {p!r}: {exc}")
    nodes = _read_nodes(top, env)
    after, to = alerts.duration("escalate_after", 0.0) or None, alerts.text("escalate_to")
    one_level = EscalationLevel(after, to) if after and to else None
    settings = Settings(
        source=source,
        timezone=tz,
        storage=read_storage(storage, source, env),
        nodes=nodes,
        channels=_read_channels(top, env),
        alerts=AlertSettings(
            channel=alerts.text("channel"),
            mention=alerts.text("mention"),
            digest=digest,
            node_down_after=alerts.duration("node_down_after", 60.0),
            send_from_listener=alerts.get("send_from_listener", bool, False),
            escalate_after=after,
            escalate_to=to,
            oncall=read_oncall(alerts, env, one_level),
            alert_on=read_alert_on(alerts),
        ),
        jobs=_read_jobs(top, tz),
        commands=_read_commands(top),
        command_sources=_read_sources(top),
        job_sources=read_job_sources(top, {n.name for n in nodes}),
        api_tokens=_read_tokens(top, env),
        api_listen=api.text("listen"),
        console_user=console.text("user"),
        console_channel=console.text("channel"),
        allow_dm=slack.get("allow_dm", bool, False),
        usergroup_ttl=slack.duration("usergroup_ttl", 300.0),
        status_cache_ttl=slack.duration("status_cache_ttl", 5.0),
        audit_channel=_section(top, "audit").text("channel"),
        redaction_patterns=patterns,
        secrets=read_secrets(env),
        max_output=read_size(_section(top, "scheduler"), "max_output", 1024 * 1024, 64 * 1024),
        checks=read_checks(top),
        silences=read_windows(top),
        log_search_bytes=read_size(_section(top, "logs"), "search_bytes", 8 * 1024**2, 64 * 1024),
    )
    check_unique(problems, "jobs", [j.name for j in settings.jobs])
    check_unique(problems, "commands", [c.name for c in settings.commands])
    check_unique(problems, "channels", [c.id for c in settings.channels], "id")
    check_unique(problems, "command_sources", [c.name for c in settings.command_sources])
    check_unique(problems, "job_sources", [c.name for c in settings.job_sources])
    check_unique(problems, "api_tokens", [t.name for t in settings.api_tokens])
    check_unique(problems, "checks", [c.name for c in settings.checks])
    tokens = [t.token for t in settings.api_tokens]
    check_distinct_secrets(problems, "api_tokens", "token_env", tokens)
    if problems:
        raise ConfigError(str(source), problems)
    return settings


def read_secrets(env: Mapping[str, str]) -> Secrets:
    """Slack secrets from the environment; the API URL always ends with '/'."""
    url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    return Secrets(
        bot_token=env.get("SLACK_BOT_TOKEN", ""),
        signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        app_token=env.get("SLACK_APP_TOKEN", ""),
        api_url=url if url.endswith("/") else url + "/",
    )


def config_path(env: Mapping[str, str], explicit: str | None = None) -> Path:
    return Path(explicit or env.get("SUPBOT_CONFIG") or "supbot.toml").absolute()


def load_settings(
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: Callable[[], None] | None = None,
) -> Settings:
    """Read `.env` (without overriding the real environment), then the TOML file."""
    if env is None:
        if dotenv is None:
            from dotenv import load_dotenv

            load_dotenv(override=False)
        else:
            dotenv()
        env = os.environ
    source = config_path(env, path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            str(source), ["file not found (set SUPBOT_CONFIG or copy supbot.example.toml)"]
        ) from None
    except OSError as exc:
        raise ConfigError(str(source), [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(source), [f"not valid TOML: {exc}"]) from None
    return parse_settings(data, source, env)
