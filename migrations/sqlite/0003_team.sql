-- The team: members' working profile and session access, presence transitions, private
-- notes, assignment history, the audit log, the per-session reply rule and how long an
-- unassigned conversation has waited. Times are milliseconds since the Unix epoch.

ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
-- Most open conversations at once; NULL: no limit.
ALTER TABLE users ADD COLUMN capacity INTEGER;
-- {"time_zone": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]], ...}} or NULL.
ALTER TABLE users ADD COLUMN working_hours TEXT;
-- JSON array of skill tags used by routing.
ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- The WhatsApp sessions a member works in (admins work in all, whatever is listed here).
CREATE TABLE member_sessions (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    session_id INTEGER NOT NULL REFERENCES wa_sessions(id),
    PRIMARY KEY (user_id, session_id)
);
CREATE INDEX member_sessions_by_session ON member_sessions (session_id);

-- 'anyone' (whoever may see the conversation) or 'assignee' (its assignee and supervisors).
ALTER TABLE wa_sessions ADD COLUMN reply_policy TEXT NOT NULL DEFAULT 'anyone';

-- Set while a conversation waits unassigned and not resolved: since when.
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
UPDATE conversations SET waiting_since = created_at
 WHERE assignee_id IS NULL AND status <> 'resolved';
CREATE INDEX conversations_queue ON conversations (session_id, waiting_since)
 WHERE waiting_since IS NOT NULL;
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, status);

-- Private notes: for the team only, never sent to WhatsApp.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    author_id       INTEGER REFERENCES users(id),
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notes_by_conversation ON notes (conversation_id, id);

-- Every change of a conversation's assignee, with who decided and why.
CREATE TABLE assignments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    from_user_id    INTEGER,
    to_user_id      INTEGER,
    by_user_id      INTEGER,
    reason          TEXT NOT NULL,
    note_id         INTEGER REFERENCES notes(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX assignments_by_conversation ON assignments (conversation_id, id);

-- Every presence transition of a member, with its cause.
CREATE TABLE presence_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    status     TEXT NOT NULL,
    cause      TEXT NOT NULL,
    node       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX presence_log_by_user ON presence_log (user_id, id);

-- Append-only record of every change made through the API or the websocket.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    actor_id    INTEGER,
    actor_email TEXT,
    via         TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT,
    session_id  INTEGER,
    before      TEXT,
    after       TEXT,
    ip          TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (created_at, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, id);
