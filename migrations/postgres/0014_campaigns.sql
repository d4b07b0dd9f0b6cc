-- Campaigns (issue 18): broadcasts to a segment or a list of contacts through a session's
-- paced outbound queue. Times are milliseconds since the Unix epoch.

CREATE TABLE campaigns (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT NOT NULL,
    session_id          BIGINT NOT NULL REFERENCES wa_sessions(id),
    -- The audience: a saved segment, or the contact ids given (a JSON array).
    segment_id          BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    contact_ids         TEXT,
    template            TEXT NOT NULL,
    -- draft | scheduled | running | paused | completed | cancelled
    status              TEXT NOT NULL,
    start_at            BIGINT,
    time_zone           TEXT NOT NULL,
    -- NULL | daily | weekly: a completed run schedules the next one as a new campaign.
    recurrence          TEXT,
    -- "HH:MM" in the recipient's time zone; both NULL: no quiet hours.
    quiet_start         TEXT,
    quiet_end           TEXT,
    rate_per_minute     BIGINT NOT NULL,
    -- Each gap between two sends is randomised by ± this fraction.
    jitter              DOUBLE PRECISION NOT NULL,
    frequency_cap_hours BIGINT,
    pause_reason        TEXT,
    -- The campaign this run repeats (recurring campaigns).
    parent_id           BIGINT REFERENCES campaigns(id) ON DELETE SET NULL,
    created_by          BIGINT REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    started_at          BIGINT,
    completed_at        BIGINT
);
CREATE INDEX campaigns_live ON campaigns (status, start_at) WHERE status IN ('scheduled', 'running', 'paused');

-- One row per contact the campaign reaches, planned when it starts. A recipient is
-- 'queued' in the same transaction that stores its message and outbox row, so a crash
-- never sends it twice nor forgets it; what follows comes from the outbox and WAHA's acks.
CREATE TABLE campaign_recipients (
    id           BIGSERIAL PRIMARY KEY,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id   BIGINT NOT NULL REFERENCES contacts(id),
    chat_id      TEXT NOT NULL,
    -- pending | queued | sent | delivered | read | replied | failed | skipped
    state        TEXT NOT NULL,
    reason       TEXT,
    -- A recipient in its quiet hours waits until then.
    not_before   BIGINT,
    message_id   BIGINT REFERENCES messages(id),
    queued_at    BIGINT,
    sent_at      BIGINT,
    delivered_at BIGINT,
    read_at      BIGINT,
    replied_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_by_state ON campaign_recipients (campaign_id, state, id);
CREATE INDEX campaign_recipients_by_message ON campaign_recipients (message_id) WHERE message_id IS NOT NULL;
-- The frequency cap and reply tracking look a contact's recent campaign messages up.
CREATE INDEX campaign_recipients_by_contact ON campaign_recipients (contact_id, queued_at) WHERE queued_at IS NOT NULL;

-- A campaign's messages wait behind members' and bots' replies in the session's queue.
ALTER TABLE outbox ADD COLUMN bulk BOOLEAN NOT NULL DEFAULT FALSE;

