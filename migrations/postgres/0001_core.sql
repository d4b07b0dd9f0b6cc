-- Core hub: users, WhatsApp sessions, contacts, conversations, messages, the durable
-- webhook inbox, the outbound queue and the event log behind websocket `seq`.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE wa_sessions (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL,
    me_id      TEXT,
    me_name    TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id         BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES wa_sessions(id),
    chat_id    TEXT NOT NULL,
    phone      TEXT,
    name       TEXT,
    push_name  TEXT,
    email      TEXT,
    notes      TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (session_id, chat_id)
);

CREATE TABLE conversations (
    id                   BIGSERIAL PRIMARY KEY,
    session_id           BIGINT NOT NULL REFERENCES wa_sessions(id),
    chat_id              TEXT NOT NULL,
    contact_id           BIGINT REFERENCES contacts(id),
    is_group             BOOLEAN NOT NULL,
    title                TEXT,
    status               TEXT NOT NULL,
    assignee_id          BIGINT REFERENCES users(id),
    unread               BIGINT NOT NULL DEFAULT 0,
    last_message_at      BIGINT,
    last_message_preview TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (session_id, chat_id)
);
CREATE INDEX conversations_activity ON conversations (last_message_at DESC, id DESC);

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    session_id      BIGINT NOT NULL REFERENCES wa_sessions(id),
    waha_id         TEXT,
    raw_id          TEXT,
    direction       TEXT NOT NULL,
    text            TEXT NOT NULL,
    status          TEXT NOT NULL,
    sender          TEXT,
    sender_name     TEXT,
    media_url       TEXT,
    media_mimetype  TEXT,
    media_filename  TEXT,
    client_id       TEXT,
    author_id       BIGINT REFERENCES users(id),
    reactions       TEXT NOT NULL DEFAULT '[]',
    revoked_at      BIGINT,
    wa_timestamp    BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (session_id, waha_id)
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
-- WAHA engines serialize one message id differently; its raw part is the same.
CREATE UNIQUE INDEX messages_by_raw_id ON messages (session_id, raw_id);

-- Acks that arrived before their message (WAHA never promises order).
CREATE TABLE ack_backlog (
    session_id BIGINT NOT NULL,
    raw_id     TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, raw_id)
);

CREATE TABLE inbox (
    id           BIGSERIAL PRIMARY KEY,
    event_key    TEXT NOT NULL UNIQUE,
    session_id   BIGINT NOT NULL REFERENCES wa_sessions(id),
    event        TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX inbox_unprocessed ON inbox (id) WHERE processed_at IS NULL;

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    message_id      BIGINT NOT NULL UNIQUE REFERENCES messages(id),
    session_id      BIGINT NOT NULL REFERENCES wa_sessions(id),
    chat_id         TEXT NOT NULL,
    text            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_open ON outbox (session_id, id) WHERE state IN ('queued', 'sending');

CREATE TABLE events (
    id                BIGSERIAL PRIMARY KEY,
    type              TEXT NOT NULL,
    session_id        BIGINT,
    conversation_id   BIGINT,
    assignee_id       BIGINT,
    user_id           BIGINT,
    supervisors_only  BOOLEAN NOT NULL DEFAULT FALSE,
    data              TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX events_by_time ON events (created_at);

CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
