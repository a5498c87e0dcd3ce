"""Settings: the frozen values supbot runs on, one dataclass per TOML table.

The schema lives here and only here; bot/config_load.py reads `.env` and the TOML file into it
(every problem reported at once, with its key path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.scheduler.sources_config import JobSource

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
ROLES = ("viewer", "operator", "admin")
# What an alerts channel can be told of (`alert_on`): bot/alerts/routing.py maps events to these.
EVENT_KINDS = ("crash", "fatal", "unhealthy", "job_failed", "missed", "node_down")


@dataclass(frozen=True)
class Secrets:
    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_SLACK_API_URL


@dataclass(frozen=True)
class NodeSettings:
    name: str
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 5.0


@dataclass(frozen=True)
class EscalationLevel:
    """Unacked `after` seconds after it opened: the incident's thread mentions `to`."""

    after: float
    to: str


@dataclass(frozen=True)
class PagerDutySettings:
    """Events API v2: `url` is the API's base (a stand-in's in tests)."""

    routing_key: str = field(repr=False)
    url: str = "https://events.pagerduty.com"
    severity: str = "critical"


@dataclass(frozen=True)
class OpsgenieSettings:
    """Alert API: `url` is the API's base (https://api.eu.opsgenie.com for the EU)."""

    api_key: str = field(repr=False)
    url: str = "https://api.opsgenie.com"
    priority: str = "P1"


@dataclass(frozen=True)
class OnCallSettings:
    """Escalation levels and pagers, of [alerts] or of one binding (which overrides)."""

    escalation: tuple[EscalationLevel, ...] = ()
    pagerduty: PagerDutySettings | None = None
    opsgenie: OpsgenieSettings | None = None


@dataclass(frozen=True)
class ChannelBinding:
    id: str
    programs: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    critical: tuple[str, ...] = ()
    alerts_channel: str | None = None
    oncall: OnCallSettings = OnCallSettings()  # its own levels and pagers, if any
    # Alert routing (bot/alerts/routing.py): which programs' alerts this binding takes
    # (default: `programs`), which it leaves to the next binding, which events it posts, and
    # whom the first message mentions (default: [alerts] mention).
    alerts_include: tuple[str, ...] = ()
    alerts_exclude: tuple[str, ...] = ()
    alert_on: tuple[str, ...] = EVENT_KINDS
    mention: str | None = None


@dataclass(frozen=True)
class StorageSettings:
    """`dir`: the SQLite state (the default). `url`: PostgreSQL instead, without its password
    (that is `password`, from `password_env`; a URL from SUPBOT_DATABASE_URL may hold one)."""

    dir: Path
    retention: float = 90 * 86400.0
    url: str | None = None
    password: str | None = field(default=None, repr=False)
    auto_upgrade: bool = True


@dataclass(frozen=True)
class AlertSettings:
    channel: str | None = None
    mention: str | None = None
    digest: str | None = None
    node_down_after: float = 60.0
    send_from_listener: bool = False
    # One escalation level: an incident unacked this long is re-posted mentioning escalate_to.
    escalate_after: float | None = None
    escalate_to: str | None = None
    # Every level ([[alerts.escalation]], or the one above) and the pagers.
    oncall: OnCallSettings = OnCallSettings()
    alert_on: tuple[str, ...] = EVENT_KINDS  # what [alerts] channel posts (routing.py)


@dataclass(frozen=True)
class JobSettings:
    name: str
    schedule: str
    command: tuple[str, ...]
    description: str = ""
    timezone: str = "UTC"
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    overlap: str = "skip"
    notify: str = "failure"
    grace: float = 60.0
    # Where it runs: () = this host (the scheduler's), else [[nodes]] name patterns whose
    # agents run it (bot/agent/); `on`: "one" run per slot across them, or "each" node's own.
    nodes: tuple[str, ...] = ()
    on: str = "one"


@dataclass(frozen=True)
class CommandSettings:
    name: str
    command: tuple[str, ...]
    description: str = ""
    args: str | None = None
    timeout: float = 300.0
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    nodes: tuple[str, ...] = ()  # () = the bot's own host; else node name patterns (agents)


@dataclass(frozen=True)
class CommandSource:
    name: str
    command: tuple[str, ...]
    allow: tuple[str, ...] = ()
    timeout: float = 30.0
    cwd: str | None = None


@dataclass(frozen=True)
class ApiToken:
    name: str
    token: str = field(repr=False)
    role: str = "viewer"
    programs: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckSettings:
    """One `[[checks]]` entry: limits sampled for the processes `programs` names."""

    name: str
    programs: tuple[str, ...]
    memory_max: int | None = None  # bytes of RSS, the process and its children
    cpu_max: float | None = None  # percent of one core
    sustain: float = 0.0  # `for`: how long a limit must be exceeded
    action: str = "alert"  # or "restart"
    cooldown: float = 600.0  # between two restarts of one process
    restarts_per_hour: int = 3  # per process, then only alerts
    http: str | None = None
    timeout: float = 5.0
    fail_after: int = 3  # failed probes in a row
    interval: float = 10.0  # sampling period


@dataclass(frozen=True)
class SilenceWindow:
    """A `[[silences]]` maintenance window: from each `schedule` slot (cron, in `timezone`)
    for `duration`, crashes of what `match` names are counted, not posted."""

    schedule: str
    duration: float
    match: str
    reason: str = ""


@dataclass(frozen=True)
class Settings:
    source: Path
    timezone: str
    storage: StorageSettings
    nodes: tuple[NodeSettings, ...]
    channels: tuple[ChannelBinding, ...] = ()
    alerts: AlertSettings = AlertSettings()
    jobs: tuple[JobSettings, ...] = ()
    commands: tuple[CommandSettings, ...] = ()
    command_sources: tuple[CommandSource, ...] = ()
    job_sources: tuple[JobSource, ...] = ()
    api_tokens: tuple[ApiToken, ...] = ()
    api_listen: str | None = None
    console_user: str | None = None
    console_channel: str | None = None
    allow_dm: bool = False
    usergroup_ttl: float = 300.0
    status_cache_ttl: float = 5.0
    audit_channel: str | None = None
    redaction_patterns: tuple[str, ...] = ()
    secrets: Secrets = Secrets()
    max_output: int = 1024 * 1024  # [scheduler] max_output: bytes of output kept per run
    log_search_bytes: int = 8 * 1024 * 1024  # [logs] search_bytes: how far back --grep reads
    checks: tuple[CheckSettings, ...] = ()
    silences: tuple[SilenceWindow, ...] = ()

    def node(self, name: str) -> NodeSettings | None:
        return next((n for n in self.nodes if n.name == name), None)

    def binding(self, channel_id: str) -> ChannelBinding | None:
        return next((c for c in self.channels if c.id == channel_id), None)
