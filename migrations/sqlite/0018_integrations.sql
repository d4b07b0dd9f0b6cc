-- Integrations (docs/integrations.md): outbound webhook subscriptions and their durable
-- delivery queue, API keys for server-to-server use, and the hub's encrypted settings.
-- Times are milliseconds since the Unix epoch.

-- Secrets the hub keeps for itself (the WAHA API key, later the SMTP password), each
-- encrypted with TICKHUB_SECRET_KEY (`v1:<key id>:<nonce>:<ciphertext>`).
CREATE TABLE hub_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    url           TEXT NOT NULL,
    -- The subscribed event types, comma-separated (`message.created,conversation.resolved`).
    events        TEXT NOT NULL,
    -- The HMAC key, encrypted like hub_secrets.value.
    secret        TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Only events logged after this one are delivered (the log's last id at creation).
    starts_after  INTEGER NOT NULL,
    created_by    INTEGER REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row per (subscription, event) to deliver, in the order they are sent: a
-- subscription's oldest undelivered row holds back the later ones.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id  INTEGER NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    event            TEXT NOT NULL,
    data             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    -- pending, delivered
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    last_response    TEXT,
    delivered_at     INTEGER
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription_id, status, id);
-- Pruning of the delivery log (docs/integrations.md).
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE status = 'delivered';

-- What the dispatcher last saw of a conversation's or a campaign's status (`c:<id>`,
-- `k:<id>`), so that `conversation.resolved` and `campaign.finished` are sent once per
-- transition rather than on every update of a resolved conversation.
CREATE TABLE webhook_subject_status (
    subject TEXT PRIMARY KEY,
    status  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    -- SHA-256 of the key (hex): the key itself is shown once, at creation.
    key_hash     TEXT NOT NULL UNIQUE,
    -- The key's first characters, to tell keys apart in a list.
    prefix       TEXT NOT NULL,
    -- Comma-separated scopes (`conversations:read,messages:send`).
    scopes       TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
