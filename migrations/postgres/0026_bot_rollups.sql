-- The bots report's rollups, written with the `bot_events` they count (in the same
-- transaction): what each bot did per UTC day, and when it first took part in each
-- conversation. A year's report reads these instead of millions of `bot_events`.
CREATE TABLE analytics_bot_days (
    bot_id     BIGINT NOT NULL,
    day_ms     BIGINT NOT NULL,
    -- 0: no trigger.
    trigger_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    -- '': no reason.
    reason     TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (bot_id, day_ms, trigger_id, kind, reason)
);

CREATE TABLE analytics_bot_conversations (
    bot_id          BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    first_at        BIGINT NOT NULL,
    PRIMARY KEY (bot_id, conversation_id)
);
CREATE INDEX analytics_bot_conversations_by_time ON analytics_bot_conversations (bot_id, first_at);

-- What the bots did before these tables existed.
INSERT INTO analytics_bot_days (bot_id, day_ms, trigger_id, kind, reason, n)
SELECT bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind, COALESCE(reason, ''), COUNT(*)
FROM bot_events
GROUP BY bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind, COALESCE(reason, '');

INSERT INTO analytics_bot_conversations (bot_id, conversation_id, first_at)
SELECT bot_id, conversation_id, MIN(created_at)
FROM bot_events
GROUP BY bot_id, conversation_id;
