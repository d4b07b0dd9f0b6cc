-- Customer satisfaction (issue 19): a rating question sent when a conversation is
-- resolved, and the customer's answer (docs/csat.md). Times are milliseconds since the
-- Unix epoch.

ALTER TABLE wa_sessions ADD COLUMN csat_enabled BOOLEAN NOT NULL DEFAULT FALSE;
-- NULL: the default question.
ALTER TABLE wa_sessions ADD COLUMN csat_question TEXT;

CREATE TABLE csat_surveys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    session_id      INTEGER NOT NULL REFERENCES wa_sessions(id),
    -- Who had the conversation when it was resolved (NULL: nobody).
    agent_id        INTEGER REFERENCES users(id),
    message_id      INTEGER REFERENCES messages(id),
    asked_at        INTEGER NOT NULL,
    -- 'pending' | 'answered' | 'cancelled' (the customer wrote something else) | 'expired'
    state           TEXT NOT NULL,
    answered_at     INTEGER,
    score           INTEGER,
    raw_answer      TEXT
);
-- At most one open survey per conversation: the one a reply is read against.
CREATE UNIQUE INDEX csat_surveys_pending ON csat_surveys (conversation_id) WHERE state = 'pending';
CREATE INDEX csat_surveys_answered ON csat_surveys (session_id, answered_at) WHERE state = 'answered';
