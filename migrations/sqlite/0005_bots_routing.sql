-- Bots and routing: bots attached to WhatsApp sessions with their triggers, the bot's
-- state in each conversation, what the bot did (for its metrics), contacts' tags and
-- custom attributes (set by triggers, read by templates), automatic assignment per
-- session and why each assignment was made. Times are milliseconds since the Unix epoch.

CREATE TABLE bots (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    greeting             TEXT,
    fallback             TEXT,
    -- JSON array of words that hand the conversation to a person.
    handoff_keywords     TEXT NOT NULL DEFAULT '[]',
    handoff_after_misses INTEGER,
    handoff_immediately  BOOLEAN NOT NULL DEFAULT FALSE,
    answer_groups        BOOLEAN NOT NULL DEFAULT FALSE,
    -- {"time_zone", "weekly", "holidays"} or NULL (always open).
    business_hours       TEXT,
    after_hours_message  TEXT,
    -- A conversation the bot handled alone is resolved after this long without a message.
    resolve_after_minutes INTEGER,
    -- Bumped by every change of the bot or its triggers: compiled matchers are cached by it.
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- A session is served by at most one bot.
CREATE TABLE bot_sessions (
    bot_id     INTEGER NOT NULL REFERENCES bots(id),
    session_id INTEGER NOT NULL UNIQUE REFERENCES wa_sessions(id),
    PRIMARY KEY (bot_id, session_id)
);

CREATE TABLE triggers (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id           INTEGER NOT NULL REFERENCES bots(id),
    match_kind       TEXT NOT NULL,
    pattern          TEXT,
    -- JSON array (any_keyword).
    keywords         TEXT NOT NULL DEFAULT '[]',
    case_sensitive   BOOLEAN NOT NULL DEFAULT FALSE,
    accent_sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    priority         INTEGER NOT NULL DEFAULT 0,
    response         TEXT,
    action           TEXT NOT NULL,
    tag              TEXT,
    field            TEXT,
    value            TEXT,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX triggers_by_bot ON triggers (bot_id, id);

-- The bot's state in a conversation it handles (status 'bot').
ALTER TABLE conversations ADD COLUMN bot_id INTEGER;
ALTER TABLE conversations ADD COLUMN bot_misses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN bot_after_hours_sent BOOLEAN NOT NULL DEFAULT FALSE;
-- Why the conversation last left the bot (a handoff reason code).
ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;
-- The assignee when it was last resolved: a customer reopening it goes back to them when
-- they are online and have room.
ALTER TABLE conversations ADD COLUMN previous_assignee_id INTEGER;
CREATE INDEX conversations_in_bot ON conversations (bot_id, last_message_at)
 WHERE status = 'bot';

-- Which bot (and trigger) wrote an outgoing message.
ALTER TABLE messages ADD COLUMN bot_id INTEGER;
ALTER TABLE messages ADD COLUMN trigger_id INTEGER;

-- What the bots did: match, miss, greeting, after_hours, handoff (with its reason),
-- resolved (without a person), failed.
CREATE TABLE bot_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id          INTEGER NOT NULL,
    trigger_id      INTEGER,
    conversation_id INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    reason          TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX bot_events_by_bot ON bot_events (bot_id, created_at);

-- Contacts' tags and custom attributes (a JSON object).
CREATE TABLE contact_tags (
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    tag        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_by_tag ON contact_tags (tag);
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- Automatic assignment, per session (managers may turn it off).
ALTER TABLE wa_sessions ADD COLUMN auto_assign BOOLEAN NOT NULL DEFAULT TRUE;
-- Why an assignment was made: the candidates, their load, the rule that chose (JSON).
ALTER TABLE assignments ADD COLUMN detail TEXT;
-- "Longest idle": when each member was last given a conversation.
CREATE INDEX assignments_by_assignee ON assignments (to_user_id, created_at);
