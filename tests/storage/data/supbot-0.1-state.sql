BEGIN TRANSACTION;
CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    at REAL NOT NULL,
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    state TEXT NOT NULL,
    from_state TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0,
    stop REAL NOT NULL DEFAULT 0,
    exitstatus INTEGER,
    tries INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    processed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE alert_expected (
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    since REAL NOT NULL,
    until REAL NOT NULL
);
INSERT INTO "alert_expected" VALUES('local','web',1.0,2.0);
CREATE TABLE alert_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'process',
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    opened REAL NOT NULL,
    last REAL NOT NULL,
    closed REAL,
    crashes INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    from_state TEXT NOT NULL DEFAULT '',
    exitstatus INTEGER,
    pid INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    recovered_pid INTEGER NOT NULL DEFAULT 0,
    rollup INTEGER,
    snoozed INTEGER NOT NULL DEFAULT 0,
    ts TEXT,
    log TEXT
, acked_by TEXT, acked_at REAL, escalated INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '');
CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    claimed_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    sent REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE alert_pace (
    channel TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0
);
CREATE TABLE alert_rollups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    opened REAL NOT NULL,
    last REAL NOT NULL,
    ts TEXT
);
CREATE TABLE alert_snoozes (
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    until REAL NOT NULL,
    by TEXT NOT NULL,
    created REAL NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node, process)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    surface TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
INSERT INTO "audit" VALUES(1,1.79625805018560028079e+09,'U1','cli','','restart','web','ok',0.0,'');
CREATE TABLE audit_feed (
    channel TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL,
    last_at REAL NOT NULL
);
CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    seen REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
INSERT INTO "heartbeats" VALUES('listener',21468,'vm',1.79625805018784952165e+09,'ok');
CREATE TABLE job_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    slot REAL,
    requested REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    run_id INTEGER,
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    scheduled REAL,
    started REAL NOT NULL,
    ended REAL,
    exit_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL DEFAULT '',
    runner_pid INTEGER NOT NULL DEFAULT 0,
    runner_started REAL NOT NULL DEFAULT 0,
    pgid INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL DEFAULT '',
    log_path TEXT NOT NULL DEFAULT '',
    notify_pending INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "job_runs" VALUES(1,'backup','missed','schedule','',10.0,20.0,20.0,NULL,'missed 3 scheduled runs: the scheduler was not running (or too late) at that time','',0,0.0,0,'','',0);
CREATE TABLE job_state (
    job TEXT PRIMARY KEY,
    last_evaluated REAL NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0,
    last_skipped REAL
);
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE slack_events (
    event_id TEXT PRIMARY KEY,
    at REAL NOT NULL
);
INSERT INTO "slack_events" VALUES('Ev1',1.79625805018778371812e+09);
CREATE INDEX audit_at ON audit(at)
;
CREATE INDEX alert_events_pending ON alert_events(processed, id);
CREATE INDEX alert_events_proc ON alert_events(node, process, at);
CREATE INDEX alert_expected_proc ON alert_expected(node, process)
;
CREATE INDEX alert_incidents_proc ON alert_incidents(node, process, id);
CREATE INDEX alert_incidents_channel ON alert_incidents(channel, opened);
CREATE INDEX alert_outbox_open ON alert_outbox(status, channel, id);
CREATE INDEX alert_outbox_ref ON alert_outbox(kind, ref, status);
CREATE INDEX job_runs_job ON job_runs(job, id);
CREATE INDEX job_runs_status ON job_runs(status);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('audit',1);
INSERT INTO "sqlite_sequence" VALUES('job_runs',1);
COMMIT;
