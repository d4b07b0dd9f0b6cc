-- Notifications (issue 19): SLA alerts on waiting customers and emails to team members
-- (docs/notifications.md). Times are milliseconds since the Unix epoch.

-- How long a customer may wait for a reply in the session's conversations before
-- supervisors are alerted; NULL: no alerts.
ALTER TABLE wa_sessions ADD COLUMN sla_wait_seconds INTEGER;

-- Set by a customer's message when none was waiting, cleared by any message the business
-- sends: since when the customer has waited for an answer.
ALTER TABLE conversations ADD COLUMN awaiting_reply_since INTEGER;
CREATE INDEX conversations_awaiting ON conversations (session_id, awaiting_reply_since)
 WHERE awaiting_reply_since IS NOT NULL;

-- One row per wait that breached its session's threshold (a wait is known by when it
-- began), so a restart or a second look never alerts twice.
CREATE TABLE sla_alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    session_id      INTEGER NOT NULL REFERENCES wa_sessions(id),
    wait_started_at INTEGER NOT NULL,
    threshold_secs  INTEGER NOT NULL,
    alerted_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, wait_started_at)
);
CREATE INDEX sla_alerts_by_session ON sla_alerts (session_id, alerted_at);

-- Each member's choice of emails; a member without a row has the defaults.
CREATE TABLE notification_prefs (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    -- 'off' | 'offline' (when they are not online) | 'always'
    handoff       TEXT NOT NULL,
    sla_breach    BOOLEAN NOT NULL,
    daily_summary BOOLEAN NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Emails to send, each written in the transaction of what causes it and sent by the
-- background sender; `dedupe_key` keeps one email per cause.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    user_id         INTEGER REFERENCES users(id),
    -- The conversation it is about (a GDPR erasure blanks its text).
    conversation_id INTEGER,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    dedupe_key      TEXT UNIQUE,
    -- 'pending' | 'sent' | 'failed'
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at, id) WHERE state = 'pending';
