-- The bots report's rollups, written with the `bot_events` they count (in the same
-- transaction): what each bot did per UTC day, and which conversations it took part in
-- each day. A year's report reads these instead of millions of `bot_events`.
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
    day_ms          BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    PRIMARY KEY (bot_id, day_ms, conversation_id)
);

-- What the bots did before these tables existed.
INSERT INTO analytics_bot_days (bot_id, day_ms, trigger_id, kind, reason, n)
SELECT bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind, COALESCE(reason, ''), COUNT(*)
FROM bot_events
GROUP BY bot_id, (created_at / 86400000) * 86400000, COALESCE(trigger_id, 0), kind, COALESCE(reason, '');

INSERT INTO analytics_bot_conversations (bot_id, day_ms, conversation_id)
SELECT DISTINCT bot_id, (created_at / 86400000) * 86400000, conversation_id
FROM bot_events;
