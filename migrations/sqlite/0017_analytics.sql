-- Analytics (docs/analytics.md): the cycles and responses the reports are made of, and
-- their rollups per UTC day and hour, kept up to date from the event log and rebuilt by
-- `tickhub analytics-rebuild`. No personal data: ids, times and counts only.

-- A customer's request from their first message to its resolve.
CREATE TABLE analytics_cycles (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id        BIGINT NOT NULL,
    session_id             BIGINT NOT NULL,
    started_at             BIGINT NOT NULL,
    waiting_since          BIGINT,
    assignee_id            BIGINT,
    first_response_at      BIGINT,
    first_responder_id     BIGINT,
    bot_replied            BOOLEAN NOT NULL,
    member_replied         BOOLEAN NOT NULL,
    resolved_at            BIGINT,
    handled_by             BIGINT,
    auto_resolved          BOOLEAN NOT NULL,
    resolution_business_ms BIGINT
);
CREATE UNIQUE INDEX analytics_cycles_open ON analytics_cycles (conversation_id) WHERE resolved_at IS NULL;
CREATE INDEX analytics_cycles_resolved ON analytics_cycles (resolved_at) WHERE resolved_at IS NOT NULL;

-- A person answering a customer's wait.
CREATE TABLE analytics_responses (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  BIGINT NOT NULL,
    session_id       BIGINT NOT NULL,
    user_id          BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    wait_ms          BIGINT NOT NULL,
    wait_business_ms BIGINT NOT NULL,
    first            BOOLEAN NOT NULL
);
CREATE INDEX analytics_responses_at ON analytics_responses (at);

-- Per UTC day, session, member (0: none) and metric: a count, a sum and a histogram.
CREATE TABLE analytics_days (
    day_ms     BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    n          BIGINT NOT NULL,
    sum_ms     BIGINT NOT NULL,
    hist       TEXT NOT NULL,
    PRIMARY KEY (day_ms, session_id, user_id, metric)
);

-- A session's traffic per UTC hour.
CREATE TABLE analytics_session_hours (
    hour_ms        BIGINT NOT NULL,
    session_id     BIGINT NOT NULL,
    messages_in    BIGINT NOT NULL,
    messages_out   BIGINT NOT NULL,
    cycles_started BIGINT NOT NULL,
    PRIMARY KEY (hour_ms, session_id)
);

-- Messages each member sent per UTC hour.
CREATE TABLE analytics_member_hours (
    hour_ms       BIGINT NOT NULL,
    session_id    BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    messages_sent BIGINT NOT NULL,
    PRIMARY KEY (hour_ms, session_id, user_id)
);

-- The hours that business-hours figures count (WeeklyHours JSON; NULL: every hour).
ALTER TABLE wa_sessions ADD COLUMN business_hours TEXT;

-- Each conversation's assignee as the analytics last saw it (a cycle starts with it).
CREATE TABLE analytics_assignees (
    conversation_id BIGINT PRIMARY KEY,
    assignee_id     BIGINT
);
