"""Every table supbot keeps, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

The only description of the schema: migrations (migrations/versions/) bring a database to it,
and an empty database is created from it (schema_check.py); the queries of every feature are
in this package and use these objects (no SQL text). Changing a table means a new migration
and SCHEMA_VERSION. Times are epoch
seconds (REAL / double precision). Row ids are BIGINT on PostgreSQL and INTEGER on SQLite, where
only `INTEGER PRIMARY KEY AUTOINCREMENT` is a rowid that never reuses a deleted row's id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

metadata = MetaData()

# The newest migration (bot/storage/migrations/versions/): what a process checks at start without
# importing Alembic. tests/storage/test_store.py keeps it equal to the scripts' head.
SCHEMA_VERSION = "0007"

RowId = BigInteger().with_variant(Integer(), "sqlite")
EMPTY, ZERO = text("''"), text("0")


def _id() -> Column[int]:
    return Column("id", RowId, primary_key=True, autoincrement=True)


# --- core (bot/state.py) --------------------------------------------------------------------
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", Text, primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("host", Text, nullable=False),
    Column("seen", Float, nullable=False),
    Column("detail", Text, nullable=False, server_default=EMPTY),
    Column("started", Float, nullable=False, server_default=ZERO),  # 0003: the owner's start
    Column("lease_until", Float, nullable=False, server_default=ZERO),  # 0003: database time
)
kv = Table(
    "kv",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated", Float, nullable=False),
)

# --- audit (bot/audit.py, bot/slack/audit_channel.py) ----------------------------------------
audit = Table(
    "audit",
    metadata,
    _id(),
    Column("at", Float, nullable=False),
    Column("actor", Text, nullable=False),
    Column("surface", Text, nullable=False),
    Column("channel", Text, nullable=False, server_default=EMPTY),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False, server_default=EMPTY),
    Column("outcome", Text, nullable=False),
    Column("duration", Float, nullable=False, server_default=ZERO),
    Column("error", Text, nullable=False, server_default=EMPTY),
    Index("audit_at", "at"),
    sqlite_autoincrement=True,
)
audit_feed = Table(
    "audit_feed",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("last_id", RowId, nullable=False),
    Column("last_at", Float, nullable=False),
)

# --- Slack (bot/slack/event_dedup.py) --------------------------------------------------------
slack_events = Table(
    "slack_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("at", Float, nullable=False),
)

# --- alerts (bot/storage/alerts/) ------------------------------------------------------------
alert_events = Table(
    "alert_events",
    metadata,
    _id(),
    Column("key", Text, nullable=False, unique=True),
    Column("at", Float, nullable=False),
    Column("node", Text, nullable=False),
    Column("process", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("from_state", Text, nullable=False, server_default=EMPTY),
    Column("pid", Integer, nullable=False, server_default=ZERO),
    Column("stop", Float, nullable=False, server_default=ZERO),
    Column("exitstatus", Integer),
    Column("tries", Integer, nullable=False, server_default=ZERO),
    Column("source", Text, nullable=False),
    Column("outcome", Text, nullable=False, server_default=EMPTY),
    Column("processed", Integer, nullable=False, server_default=ZERO),
    Index("alert_events_pending", "processed", "id"),
    Index("alert_events_proc", "node", "process", "at"),
    sqlite_autoincrement=True,
)
alert_expected = Table(
    "alert_expected",
    metadata,
    Column("node", Text, nullable=False),
    Column("process", Text, nullable=False),
    Column("since", Float, nullable=False),
    Column("until", Float, nullable=False),
    Index("alert_expected_proc", "node", "process"),
)
alert_incidents = Table(
    "alert_incidents",
    metadata,
    _id(),
    Column("kind", Text, nullable=False, server_default=text("'process'")),
    Column("node", Text, nullable=False),
    Column("process", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'open'")),
    Column("opened", Float, nullable=False),
    Column("last", Float, nullable=False),
    Column("closed", Float),
    Column("crashes", Integer, nullable=False, server_default=ZERO),
    Column("state", Text, nullable=False),
    Column("from_state", Text, nullable=False, server_default=EMPTY),
    Column("exitstatus", Integer),
    Column("pid", Integer, nullable=False, server_default=ZERO),
    Column("tries", Integer, nullable=False, server_default=ZERO),
    Column("recovered_pid", Integer, nullable=False, server_default=ZERO),
    Column("rollup", RowId),
    Column("snoozed", Integer, nullable=False, server_default=ZERO),
    Column("ts", Text),
    Column("log", Text),
    Column("acked_by", Text),  # 0002: on call
    Column("acked_at", Float),
    Column("escalated", Integer, nullable=False, server_default=ZERO),
    Column("note", Text, nullable=False, server_default=EMPTY),
    Index("alert_incidents_proc", "node", "process", "id"),
    Index("alert_incidents_channel", "channel", "opened"),
    sqlite_autoincrement=True,
)
alert_rollups = Table(
    "alert_rollups",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("opened", Float, nullable=False),
    Column("last", Float, nullable=False),
    Column("ts", Text),
    sqlite_autoincrement=True,
)
alert_outbox = Table(
    "alert_outbox",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("ref", RowId, nullable=False, server_default=ZERO),
    Column("payload", Text, nullable=False, server_default=text("'{}'")),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("claimed_by", Text),
    Column("claimed_at", Float),
    Column("attempts", Integer, nullable=False, server_default=ZERO),
    Column("not_before", Float, nullable=False, server_default=ZERO),
    Column("created", Float, nullable=False),
    Column("sent", Float),
    Column("error", Text, nullable=False, server_default=EMPTY),
    Index("alert_outbox_open", "status", "channel", "id"),
    Index("alert_outbox_ref", "kind", "ref", "status"),
    sqlite_autoincrement=True,
)
alert_pace = Table(
    "alert_pace",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("not_before", Float, nullable=False, server_default=ZERO),
)
alert_snoozes = Table(
    "alert_snoozes",
    metadata,
    Column("node", Text, primary_key=True),
    Column("process", Text, primary_key=True),
    Column("until", Float, nullable=False),
    Column("by", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("suppressed", Integer, nullable=False, server_default=ZERO),
)
# 0004: what each pager was told of each incident (bot/alerts/pagers.py). One row per incident,
# pager and target, moved on in the transaction that queues the call: a trigger is queued once
# per opening of the incident, however many processes handle its events.
alert_pages = Table(
    "alert_pages",
    metadata,
    Column("incident", RowId, primary_key=True),
    Column("provider", Text, primary_key=True),  # pagerduty | opsgenie
    Column("target", Text, primary_key=True),  # "" ([alerts]) or the binding's channel ID
    Column("state", Text, nullable=False),  # triggered | acknowledged | resolved
    Column("round", Integer, nullable=False, server_default=ZERO),  # triggers so far
    Column("updated", Float, nullable=False),
)

# --- scheduler (bot/storage/jobs.py, job_locks.py; a `running` row is the job lock) -----
job_runs = Table(
    "job_runs",
    metadata,
    _id(),
    Column("job", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("actor", Text, nullable=False, server_default=EMPTY),
    Column("scheduled", Float),
    Column("started", Float, nullable=False),
    Column("ended", Float),
    Column("exit_code", Integer),
    Column("error", Text, nullable=False, server_default=EMPTY),
    Column("output", Text, nullable=False, server_default=EMPTY),
    Column("runner_pid", Integer, nullable=False, server_default=ZERO),
    Column("runner_started", Float, nullable=False, server_default=ZERO),
    Column("pgid", Integer, nullable=False, server_default=ZERO),
    Column("host", Text, nullable=False, server_default=EMPTY),
    Column("log_path", Text, nullable=False, server_default=EMPTY),
    Column("notify_pending", Integer, nullable=False, server_default=ZERO),
    # 0003: the job's lock and its scheduled slot as unique keys, so two hosts can never both
    # hold them (NULL once the run ends / for a run that is not a slot's), and the runner's
    # lease in database time, renewed while it runs, by which another host judges it.
    Column("lock_key", Text),
    Column("slot_key", Text),
    Column("lease_until", Float, nullable=False, server_default=ZERO),
    Column("node", Text, nullable=False, server_default=EMPTY),  # 0006: the agent's node
    Index("job_runs_job", "job", "id"),
    Index("job_runs_status", "status"),
    Index("job_runs_lock", "lock_key", unique=True),
    Index("job_runs_slot", "slot_key", unique=True),
    sqlite_autoincrement=True,
)
job_state = Table(
    "job_state",
    metadata,
    Column("job", Text, primary_key=True),
    Column("last_evaluated", Float, nullable=False),
    Column("skipped", Integer, nullable=False, server_default=ZERO),
    Column("last_skipped", Float),
)
job_requests = Table(
    "job_requests",
    metadata,
    _id(),
    Column("job", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("actor", Text, nullable=False, server_default=EMPTY),
    Column("slot", Float),
    Column("requested", Float, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'pending'")),
    Column("run_id", RowId),
    Column("error", Text, nullable=False, server_default=EMPTY),
    Column("node", Text, nullable=False, server_default=EMPTY),  # 0006: '' = the scheduler
    sqlite_autoincrement=True,
)
# --- 0006: allow-listed commands run by the agent of another node (bot/agent/) -------------
# A row is the request, the run and its streamed output: `pending` until an agent takes it,
# `running` with `output` (the redacted tail) updated as it comes and `lease_until` (database
# time) renewed by the agent, then `ok` / `failed` / `refused` / `interrupted`.
command_runs = Table(
    "command_runs",
    metadata,
    _id(),
    Column("node", Text, nullable=False),
    Column("command", Text, nullable=False),
    Column("args", Text, nullable=False, server_default=text("'[]'")),  # JSON list
    Column("actor", Text, nullable=False, server_default=EMPTY),
    Column("state", Text, nullable=False, server_default=text("'pending'")),
    Column("requested", Float, nullable=False),
    Column("started", Float),
    Column("ended", Float),
    Column("exit_code", Integer),
    Column("duration", Float, nullable=False, server_default=ZERO),
    Column("output", Text, nullable=False, server_default=EMPTY),
    Column("error", Text, nullable=False, server_default=EMPTY),
    Column("agent", Text, nullable=False, server_default=EMPTY),  # host:pid of the agent
    Column("lease_until", Float, nullable=False, server_default=ZERO),
    Index("command_runs_pending", "node", "state"),
    sqlite_autoincrement=True,
)

# --- leases (0003): one holder at a time of a named role across every host ------------------
leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),  # host:pid:start of the process holding it
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired", Float, nullable=False),  # database time
    Column("until", Float, nullable=False),  # database time; past it, anyone may take it
)

# --- silences and deploys (0005; bot/storage/silences.py) ----------------------------------
# A silence: crashes of what `match` names are counted, not posted, until `until` (database
# time). Ending one by hand moves `until` to then; `summarized` is set once the summaries are
# queued. `window` is a [[silences]] slot's unique key, so two hosts never open it twice.
silences = Table(
    "silences",
    metadata,
    _id(),
    Column("match", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=EMPTY),
    Column("by", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("ended_by", Text, nullable=False, server_default=EMPTY),
    Column("summarized", Integer, nullable=False, server_default=ZERO),
    Column("window", Text),
    Index("silences_until", "summarized", "until"),
    Index("silences_window", "window", unique=True),
    sqlite_autoincrement=True,
)
# Crashes counted during a silence, per target: what its summary says.
silence_hits = Table(
    "silence_hits",
    metadata,
    Column("silence", RowId, primary_key=True),
    Column("node", Text, primary_key=True),
    Column("process", Text, primary_key=True),
    Column("crashes", Integer, nullable=False, server_default=ZERO),
)
deploys = Table(
    "deploys",
    metadata,
    _id(),
    Column("what", Text, nullable=False),  # a program, group or glob, optionally @node
    Column("version", Text, nullable=False),
    Column("by", Text, nullable=False, server_default=EMPTY),  # who deployed (the body's `by`)
    Column("actor", Text, nullable=False),  # who recorded it (api:<token>, cli:<login>)
    Column("at", Float, nullable=False),  # database time
    Index("deploys_at", "at"),
    sqlite_autoincrement=True,
)
# --- samples (0007): memory and CPU of each node's processes, read on its host -----------
node_samples = Table(
    "node_samples",
    metadata,
    _id(),
    Column("node", Text, nullable=False),
    Column("at", Float, nullable=False),  # database time
    Column("host", Text, nullable=False),
    Column("rss", BigInteger, nullable=False),  # bytes, every sampled process together
    Column("cpu", Float, nullable=False),  # percent of one core, every process together
    Column("count", Integer, nullable=False),
    Column("processes", Text, nullable=False),  # JSON {"group:name": [rss, cpu]}
    Index("node_samples_node", "node", "at"),
    Index("node_samples_at", "at"),
    sqlite_autoincrement=True,
)
