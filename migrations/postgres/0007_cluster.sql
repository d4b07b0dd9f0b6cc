-- Cluster mode: the fencing token of each WhatsApp session's current owner. A node that
-- takes a session's lease raises it; every write the owner makes for the session checks
-- it under a share lock, so a node that lost its lease (paused, cut off from Redis) can
-- no longer write. Kept here, not in Redis: it must only grow, across Redis restarts.
ALTER TABLE wa_sessions ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;

-- Webhooks stored by a node that does not own their session wait here for the owner.
CREATE INDEX inbox_unprocessed_by_session ON inbox (session_id, id) WHERE processed_at IS NULL;
